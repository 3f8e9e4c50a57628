// The sensor schema shared by sensor-parse (validation, output columns) and ch-insert (CREATE TABLE).
// Default = the seed's six columns. A schema file (JSON) describes other sensor shapes:
// {
//   "table": "sensor_metrics",
//   "columns": [
//     {"name": "id",          "type": "String",   "path": "id"},
//     {"name": "ts",          "type": "DateTime", "path": "timestamp"},
//     {"name": "temperature", "type": "Float64",  "path": "value.temperature", "min": -100, "max": 150},
//     {"name": "battery",     "type": "Float32",  "path": "value.battery", "required": false, "default": 100},
//     {"name": "firmware",    "type": "String",   "path": "value.fw", "required": false}   -> Nullable(String)
//   ],
//   "order_by": ["sensor_id", "ts", "id"],
//   "partition_by": "toYYYYMM(ts)",
//   "ttl": "ts + INTERVAL 90 DAY",              table TTL (rows deleted after it)
//   "settings": {"index_granularity": 8192},    MergeTree table settings
//   "rollups": [{"name": "sensor_metrics_1m", "interval": "1 minute", "by": ["sensor_id"], "time": "ts",
//                "aggregates": {"temperature": ["min", "avg", "max"], "*": ["count"]}}]
// }                                            rollups: schema_rollups.cpp
// A column may carry "codec": "DoubleDelta, ZSTD(1)" (its CODEC(...) in the DDL).
// "table" is ch-insert's table when --table is not given. order_by must name at least one column;
// partition_by takes column names and a few date functions only (grammar in schema_keys.cpp and
// man/sensor-parse.1.scd), so nothing unchecked reaches the DDL; so do codec, ttl and settings. Every rule is checked by
// from_json (ConfigError, exit 78).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sp {

enum class ColType {
  String, DateTime, Float32, Float64, Int8, Int16, Int32, Int64, UInt8, UInt16, UInt32, UInt64, Bool,
  // Written as text in every format (like String); each has its own check (sensor-parse values.cpp).
  Date, DateTime64, LowCardinalityString, UUID, Enum8, Enum16,
  // Written from the number's text, never through a double (values.cpp).
  Decimal,
  // Containers of one of the types above (Column::element): JSON arrays, JSON objects with their keys.
  Array, Map
};

// "Float64" -> ColType (plain names only; parameterised types go through Column::set_type);
// throws ConfigError naming `where` for unknown types.
ColType parse_col_type(const std::string& name, const std::string& where);
const char* col_type_name(ColType t);
bool is_integer(ColType t);
bool is_float(ColType t);
// Types whose values are JSON strings and whose defaults are strings.
bool is_text(ColType t);

struct Column {
  std::string name;               // ClickHouse column name
  ColType type = ColType::String;
  std::vector<std::string> path;  // JSON path in the message, split at '.': {"value","sensor_id"}
  std::string path_text;          // "value.sensor_id", for messages
  bool required = true;
  std::optional<std::string> default_json;  // default value as JSON text (e.g. "100", "\"unknown\"")
  std::optional<double> min, max;           // inclusive range for numeric columns
  size_t max_length = 0;                    // String: max bytes (0 = no limit)
  int precision = 0;                        // DateTime64: digits of the fraction, 0..9; Decimal: digits in all
  int scale = 0;                            // Decimal: digits after the point, 0..precision
  std::string time_zone;                    // DateTime64: 'tz' as given ("" = none)
  std::vector<std::pair<std::string, int>> enum_values;  // Enum8/Enum16: name = value, as listed
  bool explicit_nullable = false;           // type written as Nullable(T)
  std::string codec;                        // canonical codec list "Delta, ZSTD(1)"; "" = the server's default
  // Array(T), Map(String, T): T, with the column's name and path (its checks name the column).
  std::shared_ptr<const Column> element;
  bool is_element = false;  // the T of an Array or Map: no Nullable but Nullable(T), empty strings allowed
  // Optional without default, or Nullable(T) -> Nullable in ClickHouse, null when absent. Never an
  // Array or Map (ClickHouse has no Nullable of them): absent, they are written empty.
  bool nullable() const {
    return explicit_nullable || (!required && !default_json && !is_element && !is_container());
  }
  bool is_container() const { return type == ColType::Array || type == ColType::Map; }
  // The type as ClickHouse spells it, without Nullable and DEFAULT: "DateTime64(3, 'UTC')".
  std::string base_type() const;
  // The column's type as system.columns shows it: "Nullable(String)", "LowCardinality(Nullable(String))".
  std::string table_type() const;
  std::string clickhouse_type() const;  // table_type() [DEFAULT x]
  // Parses a schema type text: "String", "DateTime64(3, 'UTC')", "Enum8('ok' = 1, 'fault' = 2)",
  // "Nullable(Date)", "LowCardinality(String)"; ConfigError naming `where` says what is wrong.
  void set_type(const std::string& text, const std::string& where);
  // DateTime64: the last epoch second sensor-parse writes (the last 10-digit one, 2286-11-20
  // 17:46:39; sooner with 9 digits, where an Int64 of nanoseconds ends).
  int64_t datetime64_max() const;
  // The default as ClickHouse reads it in the DDL, the same value sensor-parse writes: Date and
  // DateTime64 defaults may be any ISO-8601 text, a UUID either case. ConfigError when it is not a value.
  std::string default_sql() const;
  // Index into enum_values of a name, -1 if absent.
  int enum_index(std::string_view name) const;
};

// A rollup (schema "rollups", checked by from_json): an AggregatingMergeTree table `name` fed at insert
// time by the materialized view `name`_mv from the ingest table, one row per `by` values and time
// bucket, with a column `col`_`fn` (AggregateFunction(fn, T)) per aggregate and `count` for "*".
struct Rollup {
  struct Aggregate {
    std::string column;    // schema column; "" for "*" (fn is count)
    std::string function;  // min, max, avg, sum, uniq, count
  };
  std::string name;
  int every = 1;        // interval count
  std::string unit;     // second, minute, hour, day
  std::vector<std::string> by;
  std::string time;     // the schema's time column; the bucket column has its name
  std::vector<Aggregate> aggregates;  // in the file's order, column by column
  std::string interval_text() const;  // "1 minute", "5 minutes"
};

struct Schema {
  std::string table = "sensor_metrics";
  std::vector<Column> columns;
  std::vector<std::string> order_by;
  std::string partition_by;  // canonical text, as written into the DDL; "" = none
  std::string ttl;           // canonical TTL expression ("`ts` + INTERVAL 90 DAY"); "" = none
  std::vector<std::pair<std::string, uint64_t>> settings;  // checked MergeTree settings, by name
  std::vector<Rollup> rollups;  // made by ch-insert --create-table after the table

  static Schema default_schema();
  // Parses the JSON schema text; ConfigError says which column/field is wrong.
  static Schema from_json(const std::string& text, const std::string& origin);
  // The schema as a schema file (pretty JSON, newline-terminated) that from_json reads back to the same
  // schema: sensor-parse --print-schema, a file to start from.
  std::string to_json() const;
  // Empty path -> default_schema(); otherwise reads and parses the file.
  static Schema load(const std::string& path);
  // The schema every tool uses: --schema flag > $SENSOR_SCHEMA > config "schema.file" > the seed's
  // columns. One function, so that sensor-parse and ch-insert cannot disagree on the columns.
  static Schema resolve(const std::string& flag);

  std::vector<std::string> column_names() const;
  int index_of(const std::string& name) const;  // -1 if absent
  // CREATE TABLE IF NOT EXISTS `db`.`table` (...) ENGINE = ReplacingMergeTree ORDER BY (...):
  // rows re-delivered (at-least-once) have the same key and collapse on merge / FINAL.
  std::string create_table_sql(const std::string& database, const std::string& table) const;
  // For a cluster (remote_servers name `cluster`, macros {shard} and {replica} on every server), both
  // ON CLUSTER: [0] `table`_local, ReplicatedReplacingMergeTree in ZooKeeper at
  // /clickhouse/tables/{shard}/db/table_local (replicas of a shard share it, so a retried identical
  // block is stored once); [1] `table`, Distributed over them by cityHash64 of the sharding column.
  // UsageError when the cluster name is not a plain name.
  std::vector<std::string> create_cluster_sql(const std::string& database, const std::string& table,
                                              const std::string& cluster) const;
  // The Distributed table's sharding column: sensor_id when the schema has it (one sensor's rows stay
  // on one shard, where ReplacingMergeTree can collapse its re-deliveries), else the first of order_by.
  const std::string& sharding_column() const;
  // The first column type a server of this version lacks, as "column 'x': DateTime64(3) needs
  // ClickHouse 20.1 or newer"; "" when the server has them all.
  std::string type_unsupported_by(int major, int minor) const;
  // Table settings whose absence would change what the table keeps or deduplicates (refused on a
  // server without them); the others only tune storage and are left out there with a warning.
  static bool setting_changes_meaning(const std::string& name);
  // What of the DDL keys a server of this version (and with these MergeTree settings missing, from its
  // system.merge_tree_settings) cannot take. refused: the first it lacks that would change meaning if
  // left out (TTL: rows kept past retention), "" when none; left_out: one line per codec list or
  // setting left out (storage only, same rows), and `adapted` the schema without them.
  struct ServerFit {
    std::string refused;
    std::vector<std::string> left_out;
  };
  ServerFit fit_server(int major, int minor, const std::vector<std::string>& missing_settings, Schema& adapted) const;
  // The first rollup whose interval a server of this version cannot bucket, as "rollup 'x': interval
  // 10 minutes needs toStartOfInterval (ClickHouse 19.3 or newer)"; "" when it can bucket them all.
  std::string rollup_unsupported_by(int major, int minor) const;
  // Per rollup, after the table: CREATE TABLE IF NOT EXISTS `db`.`name` (AggregatingMergeTree) and
  // CREATE MATERIALIZED VIEW IF NOT EXISTS `db`.`name_mv` TO it from `db`.`table`. With a cluster
  // (checked by create_cluster_sql), all ON CLUSTER: `name`_local ReplicatedAggregatingMergeTree, the
  // view from `table`_local into it on every server, and `name` Distributed over the locals.
  std::vector<std::string> create_rollups_sql(const std::string& database, const std::string& table,
                                              const std::string& cluster = "") const;
  // A rollup's columns (name, type as system.columns shows them), in the DDL's order.
  std::vector<std::pair<std::string, std::string>> rollup_columns(const Rollup& r) const;
  // An existing rollup table's columns against rollup_columns, one line per difference (as
  // column_differences); empty when they match.
  std::vector<std::string> rollup_differences(const Rollup& r,
                                              const std::vector<std::pair<std::string, std::string>>& table_columns) const;
  // The differences between the schema's columns and a table's (name, type as system.columns gives
  // them), one line each: "missing column `x` Float64", "extra column `y` String", "column `z`: table
  // has Float32, schema Float64". Empty when they match (order does not matter); `ignore_extra_prefix`
  // skips table columns whose names start with it ("_" with --keep-coordinates).
  std::vector<std::string> column_differences(const std::vector<std::pair<std::string, std::string>>& table_columns,
                                              const std::string& ignore_extra_prefix = "") const;
};

// The Decimal(precision, scale) text of a number written in JSON's grammar (-?digits[.digits][e[+-]digits],
// as in the line, or in a JSON string): "[-]int.frac" with exactly `scale` fraction digits, no '-' on
// zero, into out (room for precision + 3 bytes); its length, or 0 when it is not one and *fault says
// why. Exponents shift the point exactly.
enum class DecimalFault : uint8_t {
  none,
  syntax,    // not a number
  fraction,  // non-zero digits past the scale: never rounded
  range,     // more than precision - scale digits before the point
};
size_t decimal_text(std::string_view in, int precision, int scale, char* out, DecimalFault* fault);

// Backquoted ClickHouse identifier (`a``b` style escaping of backquotes and backslashes).
std::string quote_identifier(const std::string& name);
// Single-quoted ClickHouse string literal ('it\'s', backslashes escaped).
std::string sql_literal(const std::string& s);

}  // namespace sp
