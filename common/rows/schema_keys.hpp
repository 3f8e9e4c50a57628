// Private to common/rows: the grammars of the schema's table keys (partition_by, a column's codec list,
// ttl, MergeTree settings), which are pasted into CREATE TABLE and so are checked and made canonical
// here. The loader (schema.cpp) reads them from a schema file; the DDL (schema_ddl.cpp) asks which
// versions take them.
#pragma once
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/rows/schema.hpp"

namespace sp::schema_detail {

// partition_by's canonical text ("" for none); ConfigError naming `origin` when it is outside the grammar.
std::string parse_partition_by(const std::string& text, const Schema& s, const std::string& origin);
// Parses and checks a column's codec list; returns the canonical text ("Delta(4), ZSTD(1)").
std::string parse_codec(const std::string& text, const Column& col, const std::string& where);
// The newest version any codec of a canonical list needs, as {major, minor}.
std::pair<int, int> codec_needs(const std::string& canonical);
// The canonical TTL expression ("`ts` + INTERVAL 90 DAY"), "" for a blank text.
std::string parse_ttl(const std::string& text, const Schema& s, const std::string& origin);
// The schema's "settings" object, checked against the settings a schema may set, in its order.
std::vector<std::pair<std::string, uint64_t>> parse_settings(const nlohmann::json& st, const std::string& origin);

// UsageError when `cluster` is not a plain remote_servers name (letters, digits, _-.).
void check_cluster_name(const std::string& cluster);
// The ZooKeeper path of a replicated table, as a string literal: '/clickhouse/tables/{shard}/db/table'.
std::string replicated_path(const std::string& db, const std::string& table);
// The schema's "rollups" array, checked against the schema's columns (s has them, and its table).
std::vector<Rollup> parse_rollups(const nlohmann::json& rj, const Schema& s, const std::string& origin);
// A rollup as the schema file writes it (to_json).
nlohmann::ordered_json rollup_json(const Rollup& r);

}  // namespace sp::schema_detail
