#include "common/rows/schema.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/core/errors.hpp"

TEST(Schema, DefaultIsTheSeedsSixColumns) {
  auto s = sp::Schema::default_schema();
  EXPECT_EQ(s.column_names(),
            (std::vector<std::string>{"id", "ts", "sensor_id", "temperature", "humidity", "pressure"}));
  EXPECT_EQ(s.columns[2].path, (std::vector<std::string>{"value", "sensor_id"}));
  EXPECT_EQ(s.table, "sensor_metrics");
}

TEST(Schema, CreateTableIsReplacingMergeTreeKeyedForDedup) {
  auto sql = sp::Schema::default_schema().create_table_sql("db", "sensor_metrics");
  EXPECT_EQ(sql,
            "CREATE TABLE IF NOT EXISTS `db`.`sensor_metrics`\n(\n    `id` String,\n    `ts` DateTime,\n"
            "    `sensor_id` String,\n    `temperature` Float64,\n    `humidity` Float64,\n    `pressure` Float64\n)\n"
            "ENGINE = ReplacingMergeTree()\nPARTITION BY toYYYYMM(ts)\nORDER BY (`sensor_id`, `ts`, `id`)");
}

// --create-table --cluster (issue 15): one replicated local table per server, ON CLUSTER, with the
// shard in its ZooKeeper path, and the Distributed table under the name rows are inserted into.
TEST(Schema, ClusterTablesAreReplicatedLocalPlusDistributedBySensorId) {
  auto sql = sp::Schema::default_schema().create_cluster_sql("db", "sensor_metrics", "sensors");
  ASSERT_EQ(sql.size(), 2u);
  EXPECT_EQ(sql[0],
            "CREATE TABLE IF NOT EXISTS `db`.`sensor_metrics_local` ON CLUSTER `sensors`\n(\n    `id` String,\n"
            "    `ts` DateTime,\n    `sensor_id` String,\n    `temperature` Float64,\n    `humidity` Float64,\n"
            "    `pressure` Float64\n)\n"
            "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/sensor_metrics_local', '{replica}')\n"
            "PARTITION BY toYYYYMM(ts)\nORDER BY (`sensor_id`, `ts`, `id`)");
  EXPECT_EQ(sql[1],
            "CREATE TABLE IF NOT EXISTS `db`.`sensor_metrics` ON CLUSTER `sensors` AS `db`.`sensor_metrics_local`\n"
            "ENGINE = Distributed(`sensors`, `db`, `sensor_metrics_local`, cityHash64(`sensor_id`))");
}

TEST(Schema, ClusterShardingKeyWithoutSensorIdIsTheFirstOrderByColumn) {
  auto s = sp::Schema::from_json(R"({"table":"w","columns":[{"name":"id"},{"name":"site"},
      {"name":"ts","type":"DateTime"}],"order_by":["site","ts"]})", "s.json");
  auto sql = s.create_cluster_sql("default", "w's", "c1");
  ASSERT_EQ(sql.size(), 2u);
  EXPECT_NE(sql[0].find("ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/default/w\\'s_local', '{replica}')"),
            std::string::npos) << sql[0];
  EXPECT_NE(sql[1].find("cityHash64(`site`))"), std::string::npos) << sql[1];
}

TEST(Schema, ClusterNameMustBeAPlainName) {
  auto s = sp::Schema::default_schema();
  EXPECT_THROW(s.create_cluster_sql("default", "t", "a b"), sp::UsageError);
  EXPECT_THROW(s.create_cluster_sql("default", "t", ""), sp::UsageError);
}

TEST(Schema, FileWithOptionalDefaultsAndRanges) {
  auto s = sp::Schema::from_json(R"({"table":"t","columns":[
      {"name":"id","type":"String","path":"id"},
      {"name":"battery","type":"Float32","path":"value.battery","default":100},
      {"name":"fw","type":"String","path":"value.fw","required":false},
      {"name":"label","type":"String","path":"value.label","default":"it's"},
      {"name":"level","type":"Int32","path":"value.level","min":0,"max":10}],
      "order_by":["id"]})",
                                 "s.json");
  ASSERT_EQ(s.columns.size(), 5u);
  EXPECT_FALSE(s.columns[1].required);
  EXPECT_EQ(s.columns[1].clickhouse_type(), "Float32 DEFAULT 100");
  EXPECT_EQ(s.columns[2].clickhouse_type(), "Nullable(String)");
  EXPECT_EQ(s.columns[3].clickhouse_type(), "String DEFAULT 'it\\'s'");
  EXPECT_EQ(*s.columns[4].max, 10);
}

TEST(Schema, BadFilesSayWhatIsWrong) {
  auto msg = [](const std::string& text) {
    try {
      sp::Schema::from_json(text, "s.json");
    } catch (const sp::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(msg(R"({"columns":[{"name":"x","type":"Float65"}]})").substr(0, 53),
            "s.json: column 1 (x): unknown type 'Float65' (one of:");
  EXPECT_EQ(msg(R"({"columns":[]})"), "s.json: schema needs a non-empty \"columns\" array");
  EXPECT_EQ(msg(R"({"columns":[{"name":"x","type":"String","default":5}]})"),
            "s.json: column 1 (x): default 5 does not fit type String");
  EXPECT_EQ(msg(R"({"columns":[{"name":"x"}],"order_by":["y"]})"), "s.json: order_by names unknown column 'y'");
  EXPECT_EQ(msg("{not json").substr(0, 33), "s.json: schema is not valid JSON:");
}

namespace {
// The ConfigError text for a schema, or "no error".
std::string schema_error(const std::string& text) {
  try {
    sp::Schema::from_json(text, "s.json");
  } catch (const sp::ConfigError& e) {
    return e.what();
  }
  return "no error";
}
const std::string kCols =
    R"("columns":[{"name":"id"},{"name":"ts","type":"DateTime"},{"name":"site","type":"String"},)"
    R"({"name":"fw","required":false},{"name":"n","type":"Int32"}])";
}  // namespace

// Issue 16 item 9: "order_by": [] passed, and --create-table then failed with ClickHouse's syntax
// error (exit 65) instead of a configuration error at load (exit 78).
TEST(Schema, OrderByMustNameAColumn) {
  EXPECT_EQ(schema_error("{" + kCols + R"(,"order_by":[]})"),
            "s.json: order_by must name at least one column (it is the key that collapses re-delivered rows)");
  EXPECT_EQ(schema_error("{" + kCols + R"(,"order_by":"id"})"),
            "s.json: order_by must be an array of column names");
  EXPECT_EQ(schema_error("{" + kCols + R"(,"order_by":["id","id"]})"), "s.json: order_by names column 'id' twice");
}

// Issue 16 item 9: partition_by was pasted into the DDL unchecked. Only column names and a few
// date functions of a DateTime column are accepted, written out in one canonical form.
TEST(Schema, PartitionByTakesColumnsAndDateFunctionsOnly) {
  auto ddl_partition = [](const std::string& expr) {
    auto s = sp::Schema::from_json("{" + kCols + R"(,"partition_by":)" + nlohmann::json(expr).dump() + "}", "s.json");
    std::string sql = s.create_table_sql("", "t");
    size_t at = sql.find("PARTITION BY ");
    if (at == std::string::npos) return std::string("none");
    return sql.substr(at + 13, sql.find('\n', at) - at - 13);
  };
  EXPECT_EQ(ddl_partition("toYYYYMM(ts)"), "toYYYYMM(ts)");
  EXPECT_EQ(ddl_partition("  toDate( `ts` ) "), "toDate(ts)");
  EXPECT_EQ(ddl_partition("site"), "site");
  EXPECT_EQ(ddl_partition("(site, toYYYYMMDD(ts))"), "(site, toYYYYMMDD(ts))");
  EXPECT_EQ(ddl_partition("site,toYear(ts)"), "(site, toYear(ts))");
  EXPECT_EQ(ddl_partition("toMonday(ts)"), "toMonday(ts)");
  EXPECT_EQ(ddl_partition("toStartOfMonth(ts)"), "toStartOfMonth(ts)");
  EXPECT_EQ(ddl_partition(""), "none");

  const std::string grammar =
      " (partition_by takes column names, or toYYYYMM, toYYYYMMDD, toYear, toMonday, toStartOfMonth or toDate "
      "of a DateTime, DateTime64 or Date column, separated by commas)";
  auto err = [&](const std::string& expr) {
    return schema_error("{" + kCols + R"(,"partition_by":)" + nlohmann::json(expr).dump() + "}");
  };
  EXPECT_EQ(err("toYYYYMM(ts); DROP TABLE x"), "s.json: partition_by: unexpected ';' at byte 13" + grammar);
  EXPECT_EQ(err("intHash32(id) % 10"), "s.json: partition_by: unknown function 'intHash32'" + grammar);
  EXPECT_EQ(err("toYYYYMM(nope)"), "s.json: partition_by: unknown column 'nope'" + grammar);
  EXPECT_EQ(err("toYYYYMM(site)"), "s.json: partition_by: toYYYYMM needs a DateTime, DateTime64 or Date column, 'site' is String" + grammar);
  EXPECT_EQ(err("fw"), "s.json: partition_by: column 'fw' must not be optional without a default" + grammar);
  EXPECT_EQ(err("toYYYYMM(ts"), "s.json: partition_by: expected ')' at the end" + grammar);
  EXPECT_EQ(err("(site,)"), "s.json: partition_by: expected a column or function at byte 7" + grammar);
  EXPECT_EQ(err("toYYYYMM(ts) ts"), "s.json: partition_by: unexpected 't' at byte 14" + grammar);
  EXPECT_EQ(schema_error("{" + kCols + R"(,"partition_by":5})"), "s.json: partition_by must be a string");
}

// Issue 16 item 9: "max_length": -1 wrapped around to a limit of 2^64-1 bytes.
TEST(Schema, MaxLengthIsABytesCount) {
  EXPECT_EQ(schema_error(R"({"columns":[{"name":"x","max_length":-1}]})"),
            "s.json: column 1 (x): max_length must be a whole number of bytes, 0 (no limit) or more");
  EXPECT_EQ(schema_error(R"({"columns":[{"name":"x","max_length":2.5}]})"),
            "s.json: column 1 (x): max_length must be a whole number of bytes, 0 (no limit) or more");
  EXPECT_EQ(schema_error(R"({"columns":[{"name":"x","max_length":"10"}]})"),
            "s.json: column 1 (x): max_length must be a whole number of bytes, 0 (no limit) or more");
  EXPECT_EQ(schema_error(R"({"columns":[{"name":"x","type":"Int32","max_length":3}]})"),
            "s.json: column 1 (x): max_length only applies to String columns");
  EXPECT_EQ(sp::Schema::from_json(R"({"columns":[{"name":"x","max_length":12}]})", "s").columns[0].max_length, 12u);
  EXPECT_EQ(schema_error(R"({"columns":[{"name":"x","type":"Int32","min":5,"max":1}]})"),
            "s.json: column 1 (x): min 5 is above max 1");
}

// The schema's "table" is ch-insert's default table (tools/ch-insert/main.cpp); it must name one.
TEST(Schema, TableIsANonEmptyName) {
  EXPECT_EQ(sp::Schema::from_json(R"({"table":"weather","columns":[{"name":"x"}]})", "s").table, "weather");
  EXPECT_EQ(sp::Schema::from_json(R"({"columns":[{"name":"x"}]})", "s").table, "sensor_metrics");
  EXPECT_EQ(schema_error(R"({"table":"","columns":[{"name":"x"}]})"), "s.json: table must be a non-empty string");
  EXPECT_EQ(schema_error(R"({"table":5,"columns":[{"name":"x"}]})"), "s.json: table must be a non-empty string");
}

// Random token soup: partition_by either fails with a ConfigError or yields a canonical form that
// reads back as itself and holds nothing but names, parentheses, commas and spaces.
TEST(Schema, PartitionByCanonicalFormIsStable) {
  const char* tokens[] = {"ts", "site", "id", "fw", "n", "toYYYYMM", "toDate", "toYear", "(", ")", ",", " ",
                          "`ts`", "`", "x", "1", ";", "--", "'", "\t", "`a b`"};
  uint64_t x = 42;
  auto next = [&] {  // splitmix64
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  auto load = [&](const std::string& expr) {
    return sp::Schema::from_json("{" + kCols + R"(,"partition_by":)" + nlohmann::json(expr).dump() + "}", "s.json");
  };
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string expr;
    for (uint64_t k = next() % 8; k > 0; --k) expr += tokens[next() % (sizeof tokens / sizeof *tokens)];
    std::string canon;
    try {
      canon = load(expr).partition_by;
    } catch (const sp::ConfigError&) {
      continue;
    }
    ++accepted;
    EXPECT_EQ(canon.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_(), "),
              std::string::npos)
        << expr << " -> " << canon;
    EXPECT_EQ(load(canon).partition_by, canon) << expr;
  }
  EXPECT_GT(accepted, 100);
}

// A misspelt key was ignored: "codek" left the column without its codec, "oder_by" left the table
// ordered by the default key, with no word said. Now each is an error naming it and the likely key.
TEST(Schema, UnknownKeysAreErrorsWithTheNearestKnownOne) {
  EXPECT_EQ(schema_error(R"({"columns":[{"name":"id"}],"oder_by":["id"]})"),
            "s.json: unknown key \"oder_by\"; did you mean \"order_by\"?");
  EXPECT_EQ(schema_error(R"j({"columns":[{"name":"id","codek":"ZSTD(1)"}]})j"),
            "s.json: column 1 (id): unknown key \"codek\"; did you mean \"codec\"?");
  EXPECT_EQ(schema_error(R"({"columns":[{"name":"id","colour":"red"}]})"),
            "s.json: column 1 (id): unknown key \"colour\" (known: name, type, path, required, default, min, max, "
            "max_length, codec)");
  const std::string known_only = schema_error(R"({"columns":[{"name":"id"}],"table":"t","partition_by":"id"})");
  EXPECT_EQ(known_only.find("unknown key"), std::string::npos) << known_only;
}

// Issue 27: no way to print the built-in schema as a file to start from (sensor-parse --print-schema).
// to_json is read back by from_json to the same schema: same file text, same DDL.
TEST(Schema, ToJsonReadsBackToTheSameSchema) {
  std::ifstream tuned(std::string(SOURCE_DIR) + "/examples/schema-tuned.json");
  std::stringstream tuned_text;
  tuned_text << tuned.rdbuf();
  std::vector<sp::Schema> schemas = {
      sp::Schema::default_schema(), sp::Schema::from_json(tuned_text.str(), "schema-tuned.json"),
      sp::Schema::from_json(R"j({"table":"t","columns":[{"name":"id"},
        {"name":"ts","type":"DateTime64(3, 'UTC')","path":"timestamp"},
        {"name":"price","type":"Decimal(9, 2)","path":"v.price","default":"1.50","min":0,"max":1000},
        {"name":"fw","path":"v.fw","required":false},{"name":"n","type":"Nullable(Int32)","path":"v.n"},
        {"name":"tags","type":"Array(String)","path":"v.tags","required":false},
        {"name":"state","type":"Enum8('ok' = 1, 'fault' = 2)","path":"v.state","default":"ok"}],
        "order_by":["id","ts"],"partition_by":"toYYYYMMDD(ts)"})j", "s.json")};
  for (const auto& s : schemas) {
    std::string text = s.to_json();
    sp::Schema back = sp::Schema::from_json(text, "printed.json");
    EXPECT_EQ(back.to_json(), text);
    EXPECT_EQ(back.create_table_sql("db", back.table), s.create_table_sql("db", s.table)) << text;
  }
  std::string seed = sp::Schema::default_schema().to_json();
  EXPECT_NE(seed.find("\"partition_by\": \"toYYYYMM(ts)\""), std::string::npos) << seed;
  EXPECT_NE(seed.find("\"min\": -100.0"), std::string::npos) << seed;
}

// Issue 27: a schema file without keys got ORDER BY its first column and no partitions, unlike the
// built-in schema; now it gets the built-in's shape. A file that gives order_by keeps its own choice.
TEST(Schema, FileWithoutKeysGetsTheBuiltInShape) {
  const std::string cols = R"j("columns":[{"name":"id"},{"name":"at","type":"DateTime64(3)","path":"timestamp"},
      {"name":"sensor_id","path":"value.sensor_id"},{"name":"v","type":"Float64"}])j";
  auto s = sp::Schema::from_json("{" + cols + "}", "s.json");
  EXPECT_EQ(s.order_by, (std::vector<std::string>{"sensor_id", "at", "id"}));
  EXPECT_EQ(s.partition_by, "toYYYYMM(at)");
  // the seed's columns written as a file without keys: the built-in schema's DDL
  auto seed = sp::Schema::from_json(R"j({"columns":[{"name":"id","max_length":256},
      {"name":"ts","type":"DateTime","path":"timestamp"},{"name":"sensor_id","path":"value.sensor_id","max_length":256},
      {"name":"temperature","type":"Float64","path":"value.temperature","min":-100,"max":150},
      {"name":"humidity","type":"Float64","path":"value.humidity","min":0,"max":100},
      {"name":"pressure","type":"Float64","path":"value.pressure","min":300,"max":1200}]})j", "seed.json");
  EXPECT_EQ(seed.create_table_sql("db", "t"), sp::Schema::default_schema().create_table_sql("db", "t"));
  // no time column, no sensor_id: the first column; an optional time column is no key
  auto plain = sp::Schema::from_json(R"j({"columns":[{"name":"k"},{"name":"t","type":"Date","required":false}]})j", "p");
  EXPECT_EQ(plain.order_by, (std::vector<std::string>{"k"}));
  EXPECT_EQ(plain.partition_by, "");
  // order_by given: no partitions added
  auto chosen = sp::Schema::from_json("{" + cols + R"j(,"order_by":["id"]})j", "c");
  EXPECT_EQ(chosen.order_by, (std::vector<std::string>{"id"}));
  EXPECT_EQ(chosen.partition_by, "");
}
