// The schema's DDL keys (issue 13): per-column codec, table ttl and settings, each a checked grammar,
// written in ClickHouse's clause order; what a server of a given version cannot take is left out
// (storage only) or refused (it would change the rows kept); an existing table's columns compared.
#include <gtest/gtest.h>

#include "common/core/errors.hpp"
#include "common/rows/schema.hpp"

namespace {
const char* const kTuned = R"j({"table":"tuned","columns":[
    {"name":"id"},
    {"name":"ts","type":"DateTime","path":"timestamp","codec":"DoubleDelta, ZSTD(1)"},
    {"name":"sensor_id","type":"LowCardinality(String)","codec":"ZSTD(3)"},
    {"name":"temperature","type":"Float64","codec":"Gorilla, LZ4"},
    {"name":"n","type":"UInt32","codec":"Delta(4), LZ4HC(9)"},
    {"name":"c","type":"Int64","codec":"T64"}],
  "order_by":["sensor_id","ts","id"],"partition_by":"toYYYYMM(ts)",
  "ttl":"ts + interval 90 day","settings":{"index_granularity":4096,"ttl_only_drop_parts":true}})j";

std::string schema_error(const std::string& json) {
  try {
    sp::Schema::from_json(json, "s.json");
  } catch (const sp::ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}
std::string with_column(const std::string& col) {
  return R"j({"columns":[{"name":"id"},)j" + col + "]}";
}
}  // namespace

TEST(SchemaDdl, CodecTtlSettingsInClauseOrder) {
  auto s = sp::Schema::from_json(kTuned, "s.json");
  EXPECT_EQ(s.create_table_sql("db", "tuned"),
            "CREATE TABLE IF NOT EXISTS `db`.`tuned`\n(\n    `id` String,\n"
            "    `ts` DateTime CODEC(DoubleDelta, ZSTD(1)),\n"
            "    `sensor_id` LowCardinality(String) CODEC(ZSTD(3)),\n"
            "    `temperature` Float64 CODEC(Gorilla, LZ4),\n"
            "    `n` UInt32 CODEC(Delta(4), LZ4HC(9)),\n"
            "    `c` Int64 CODEC(T64)\n)\n"
            "ENGINE = ReplacingMergeTree()\nPARTITION BY toYYYYMM(ts)\nORDER BY (`sensor_id`, `ts`, `id`)\n"
            "TTL ts + INTERVAL 90 DAY\nSETTINGS index_granularity = 4096, ttl_only_drop_parts = 1");
}

TEST(SchemaDdl, ClusterLocalTableCarriesTheKeysDistributedCopiesColumns) {
  auto sql = sp::Schema::from_json(kTuned, "s.json").create_cluster_sql("db", "tuned", "c1");
  ASSERT_EQ(sql.size(), 2u);
  EXPECT_NE(sql[0].find("`ts` DateTime CODEC(DoubleDelta, ZSTD(1)),\n"), std::string::npos) << sql[0];
  EXPECT_NE(sql[0].find("ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/tuned_local', '{replica}')\n"
                        "PARTITION BY toYYYYMM(ts)\nORDER BY (`sensor_id`, `ts`, `id`)\nTTL ts + INTERVAL 90 DAY\n"
                        "SETTINGS index_granularity = 4096, ttl_only_drop_parts = 1"),
            std::string::npos)
      << sql[0];
  // The Distributed table has no TTL or MergeTree settings of its own.
  EXPECT_EQ(sql[1].find("TTL"), std::string::npos) << sql[1];
  EXPECT_EQ(sql[1].find("SETTINGS"), std::string::npos) << sql[1];
}

TEST(SchemaDdl, DefaultSchemaHasNoneOfThem) {
  auto sql = sp::Schema::default_schema().create_table_sql("db", "t");
  EXPECT_EQ(sql.find("CODEC"), std::string::npos);
  EXPECT_EQ(sql.find("TTL"), std::string::npos);
  EXPECT_EQ(sql.find("SETTINGS"), std::string::npos);
}

TEST(SchemaDdl, CodecDefaultComesBeforeCodec) {
  auto s = sp::Schema::from_json(with_column(R"j({"name":"b","type":"Float32","default":100,"codec":"ZSTD"})j"), "s");
  EXPECT_NE(s.create_table_sql("", "t").find("`b` Float32 DEFAULT 100 CODEC(ZSTD)"), std::string::npos);
}

TEST(SchemaDdl, CodecErrorsNameTheColumnAndSayWhy) {
  struct Case {
    const char* col;
    const char* says;
  } cases[] = {
      {R"j({"name":"x","type":"Float64","codec":"zstd(3)"})j", "column 2 (x): codec 'zstd(3)': unknown codec 'zstd' (ClickHouse spells it ZSTD)"},
      {R"j({"name":"x","type":"Float64","codec":"Brotli"})j", "unknown codec 'Brotli'"},
      {R"j({"name":"x","type":"Float64","codec":"ZSTD(23)"})j", "ZSTD(23): level must be 1 to 22"},
      {R"j({"name":"x","type":"Float64","codec":"LZ4HC(13)"})j", "LZ4HC(13): level must be 0 to 12"},
      {R"j({"name":"x","type":"Int32","codec":"Delta(3), LZ4"})j", "Delta(3): bytes must be 1, 2, 4 or 8"},
      {R"j({"name":"x","type":"Int32","codec":"Delta"})j", "Delta does not compress by itself"},
      {R"j({"name":"x","type":"Float64","codec":"ZSTD, LZ4"})j", "more than one general codec"},
      {R"j({"name":"x","type":"Float64","codec":"LZ4, Gorilla"})j", "LZ4 must come last"},
      {R"j({"name":"x","type":"Float64","codec":"NONE, LZ4"})j", "more than one general codec"},
      {R"j({"name":"x","type":"Float64","codec":"Delta, Gorilla"})j", "more than one of Delta, T64, DoubleDelta, Gorilla"},
      {R"j({"name":"x","type":"Int32","codec":"Gorilla"})j", "Gorilla does not apply to Int32 columns (only Float32 and Float64)"},
      {R"j({"name":"x","type":"String","codec":"Delta, ZSTD"})j", "Delta does not apply to String columns"},
      {R"j({"name":"x","type":"Float64","codec":"T64"})j", "T64 does not apply to Float64 columns"},
      {R"j({"name":"x","type":"Float64","codec":"Gorilla(8)"})j", "Gorilla takes no parameter"},
      {R"j({"name":"x","type":"Float64","codec":"ZSTD(1) x"})j", "expected ',' between codecs"},
      {R"j({"name":"x","type":"Float64","codec":""})j", "expected a codec name"},
      {R"j({"name":"x","type":"Float64","codec":3})j", "codec must be a string"},
  };
  for (const auto& c : cases) {
    std::string e = schema_error(with_column(c.col));
    EXPECT_NE(e.find(c.says), std::string::npos) << c.col << " -> " << e;
  }
  // and what ClickHouse takes is taken
  for (const char* ok : {R"j({"name":"x","type":"Nullable(Int32)","codec":"Delta, ZSTD"})j",
                         R"j({"name":"x","type":"DateTime64(3)","codec":"DoubleDelta"})j",
                         R"j({"name":"x","type":"Float32","codec":"Gorilla"})j",
                         R"j({"name":"x","type":"UUID","codec":"NONE"})j",
                         R"j({"name":"x","type":"Float64","codec":"Delta(8),ZSTD(22)"})j"})
    EXPECT_EQ(schema_error(with_column(ok)), "(no error)") << ok;
}

TEST(SchemaDdl, TtlGrammar) {
  auto ttl = [](const std::string& cols, const std::string& t) {
    return sp::Schema::from_json(R"j({"columns":[{"name":"id"},)j" + cols + R"j(],"ttl":")j" + t + "\"}", "s").ttl;
  };
  const std::string ts = R"j({"name":"ts","type":"DateTime"})j";
  EXPECT_EQ(ttl(ts, "ts + INTERVAL 90 DAY"), "ts + INTERVAL 90 DAY");
  EXPECT_EQ(ttl(ts, "  `ts`+interval 1 month "), "ts + INTERVAL 1 MONTH");
  EXPECT_EQ(ttl(ts, "ts"), "ts");
  EXPECT_EQ(ttl(ts, ""), "");
  EXPECT_EQ(ttl(R"j({"name":"t 1","type":"Date"})j", "`t 1` + INTERVAL 2 YEAR"), "`t 1` + INTERVAL 2 YEAR");
  EXPECT_EQ(ttl(R"j({"name":"ts","type":"DateTime64(3)"})j", "ts + INTERVAL 7 DAY"), "toDateTime(ts) + INTERVAL 7 DAY");
  struct Case {
    const char* ttl;
    const char* says;
  } cases[] = {
      {"nope + INTERVAL 1 DAY", "ttl 'nope + INTERVAL 1 DAY': unknown column 'nope'"},
      {"id + INTERVAL 1 DAY", "column 'id' is String, not a date or time"},
      {"ts - INTERVAL 1 DAY", "expected '+ INTERVAL'"},
      {"ts + 1", "expected INTERVAL"},
      {"ts + INTERVAL 0 DAY", "1 to 1000000"},
      {"ts + INTERVAL x DAY", "expected a number"},
      {"ts + INTERVAL 1 FORTNIGHT", "unknown unit 'FORTNIGHT'"},
      {"ts + INTERVAL 1 DAY DELETE", "unexpected text after the unit"},
      {"ts + INTERVAL 1 DAY; DROP TABLE x", "unexpected text after the unit"},
      {"opt", "must not be optional"},
  };
  for (const auto& c : cases) {
    std::string e = schema_error(R"j({"columns":[{"name":"id"},{"name":"ts","type":"DateTime"},
        {"name":"opt","type":"DateTime","required":false}],"ttl":")j" + std::string(c.ttl) + "\"}");
    EXPECT_NE(e.find(c.says), std::string::npos) << c.ttl << " -> " << e;
    EXPECT_NE(e.find("ttl takes a Date, DateTime or DateTime64 column"), std::string::npos) << e;
  }
}

TEST(SchemaDdl, SettingsChecked) {
  auto err = [](const std::string& st) { return schema_error(R"j({"columns":[{"name":"id"}],"settings":)j" + st + "}"); };
  EXPECT_NE(err(R"j({"index_granulrity":1})j").find("settings: unknown setting 'index_granulrity' (one of: index_granularity,"),
            std::string::npos);
  EXPECT_NE(err(R"j({"index_granularity":0})j").find("index_granularity = 0 is outside 1 to 1000000"), std::string::npos);
  EXPECT_NE(err(R"j({"index_granularity":-5})j").find("must be a whole number, not -5"), std::string::npos);
  EXPECT_NE(err(R"j({"index_granularity":"8192"})j").find("must be a whole number"), std::string::npos);
  EXPECT_NE(err(R"j({"index_granularity":1.5})j").find("must be a whole number"), std::string::npos);
  EXPECT_NE(err(R"j({"ttl_only_drop_parts":2})j").find("outside 0 to 1"), std::string::npos);
  EXPECT_NE(err(R"j(["index_granularity"])j").find("settings must be an object"), std::string::npos);
  EXPECT_EQ(err(R"j({"ttl_only_drop_parts":false,"merge_max_block_size":8192})j"), "(no error)");
}

// 18.16: no codecs (19.1) and no TTL (19.6): codecs are left out with a note, TTL refused.
TEST(SchemaDdl, FitServerLeavesOutCodecsRefusesTtl) {
  auto s = sp::Schema::from_json(kTuned, "s.json");
  sp::Schema adapted;
  auto fit = s.fit_server(18, 16, {}, adapted);
  EXPECT_NE(fit.refused.find("ttl (ts + INTERVAL 90 DAY) needs ClickHouse 19.6 or newer"), std::string::npos) << fit.refused;

  s.ttl.clear();
  fit = s.fit_server(18, 16, {}, adapted);
  EXPECT_EQ(fit.refused, "");
  ASSERT_EQ(fit.left_out.size(), 5u);
  EXPECT_EQ(fit.left_out[0],
            "CODEC(DoubleDelta, ZSTD(1)) of column 'ts' (needs ClickHouse 19.11; the default compression stores the same values)");
  std::string sql = adapted.create_table_sql("", "t");
  EXPECT_EQ(sql.find("CODEC"), std::string::npos) << sql;
  EXPECT_NE(sql.find("SETTINGS index_granularity = 4096"), std::string::npos) << sql;

  // 19.10 has T64 and the general codecs and Delta, not DoubleDelta/Gorilla (19.11)
  fit = s.fit_server(19, 10, {}, adapted);
  sql = adapted.create_table_sql("", "t");
  EXPECT_EQ(fit.left_out.size(), 2u);
  EXPECT_NE(sql.find("`c` Int64 CODEC(T64)"), std::string::npos) << sql;
  EXPECT_NE(sql.find("`n` UInt32 CODEC(Delta(4), LZ4HC(9))"), std::string::npos) << sql;
  EXPECT_NE(sql.find("`ts` DateTime,"), std::string::npos) << sql;

  fit = s.fit_server(26, 7, {}, adapted);
  EXPECT_TRUE(fit.left_out.empty());
  EXPECT_EQ(adapted.create_table_sql("", "t"), s.create_table_sql("", "t"));
}

TEST(SchemaDdl, FitServerMissingSettings) {
  auto s = sp::Schema::from_json(R"j({"columns":[{"name":"id"}],"settings":{"index_granularity":4096,
      "merge_max_block_size":100}})j", "s");
  sp::Schema adapted;
  auto fit = s.fit_server(18, 16, {"merge_max_block_size"}, adapted);
  EXPECT_EQ(fit.refused, "");
  ASSERT_EQ(fit.left_out.size(), 1u);
  EXPECT_NE(fit.left_out[0].find("setting merge_max_block_size = 100 (unknown to this server"), std::string::npos);
  EXPECT_NE(adapted.create_table_sql("", "t").find("\nSETTINGS index_granularity = 4096"), std::string::npos);
  EXPECT_EQ(adapted.create_table_sql("", "t").find("merge_max_block_size"), std::string::npos);

  auto d = sp::Schema::from_json(R"j({"columns":[{"name":"id"}],"settings":{"non_replicated_deduplication_window":100}})j", "s");
  fit = d.fit_server(18, 16, {"non_replicated_deduplication_window"}, adapted);
  EXPECT_NE(fit.refused.find("setting non_replicated_deduplication_window is not known to this server"), std::string::npos);
}

TEST(SchemaDdl, ColumnDifferences) {
  auto s = sp::Schema::from_json(R"j({"columns":[{"name":"id"},{"name":"ts","type":"DateTime"},
      {"name":"v","type":"Float64"},{"name":"e","type":"Enum8('a b' = 1, 'c' = 2)"},{"name":"o","type":"Float32","required":false}]})j", "s");
  // the same columns in another order and ClickHouse's spelling: no difference
  EXPECT_TRUE(s.column_differences({{"ts", "DateTime"}, {"id", "String"}, {"o", "Nullable(Float32)"},
                                    {"e", "Enum8('a b' = 1, 'c' = 2)"}, {"v", "Float64"}})
                  .empty());
  auto d = s.column_differences({{"id", "String"}, {"ts", "DateTime"}, {"v", "Float32"}, {"e", "Enum8('a b' = 1, 'c' = 2)"},
                                 {"extra", "UInt8"}, {"_offset", "Int64"}},
                                "_");
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0], "column `v`: the table has Float32, the schema Float64");
  EXPECT_EQ(d[1], "missing column `o` Nullable(Float32) (in the schema, not in the table)");
  EXPECT_EQ(d[2], "extra column `extra` UInt8 (in the table, not in the schema)");
  // ClickHouse lists Enum names by value; Bool is UInt8 there
  auto e = sp::Schema::from_json(R"j({"columns":[{"name":"e","type":"Enum8('z' = 1, 'a' = -2)"},{"name":"b","type":"Bool"},
      {"name":"l","type":"Nullable(LowCardinality(String))"}]})j", "s");
  EXPECT_TRUE(e.column_differences({{"e", "Enum8('a' = -2, 'z' = 1)"}, {"b", "UInt8"}, {"l", "LowCardinality(Nullable(String))"}})
                  .empty());
  EXPECT_EQ(e.column_differences({{"e", "Enum8('a' = -2, 'z' = 2)"}, {"b", "UInt8"}, {"l", "LowCardinality(Nullable(String))"}})
                .size(),
            1u);
  // a blank inside an Enum name counts
  EXPECT_EQ(s.column_differences({{"id", "String"}, {"ts", "DateTime"}, {"v", "Float64"}, {"e", "Enum8('ab' = 1, 'c' = 2)"},
                                  {"o", "Nullable(Float32)"}})
                .size(),
            1u);
}
