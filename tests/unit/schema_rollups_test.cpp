// The schema's "rollups" (issue 26): every mistake named with the file and the field, the columns and
// DDL of a rollup, and the round trip through to_json. Per server version: ch_insert_rollups_test.cpp.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/core/errors.hpp"
#include "common/rows/schema.hpp"

namespace {
const std::string kCols = R"j("columns":[{"name":"id"},{"name":"ts","type":"DateTime","path":"timestamp"},
  {"name":"sensor_id","path":"value.sensor_id"},{"name":"temperature","type":"Float64"},
  {"name":"seq","type":"UInt32","default":0},{"name":"note","required":false},
  {"name":"p","type":"Nullable(Float32)"},{"name":"tags","type":"Array(String)","required":false},
  {"name":"price","type":"Decimal(9, 2)","default":"0"}])j";

sp::Schema with_rollup(const std::string& rollup) {
  return sp::Schema::from_json("{" + kCols + R"j(,"rollups":[)j" + rollup + "]}", "r.json");
}

std::string rollup_error(const std::string& rollup) {
  try {
    with_rollup(rollup);
  } catch (const sp::ConfigError& e) {
    return e.what();
  }
  return "(accepted)";
}

std::string example(const char* name) {
  std::ifstream in(std::string(SOURCE_DIR) + "/examples/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

TEST(SchemaRollups, ErrorsNameTheFileTheRollupAndTheField) {
  const std::string ok = R"j("interval":"1 minute","by":["sensor_id"],"aggregates":{"temperature":["avg"]})j";
  EXPECT_EQ(rollup_error(R"j({"name":"r","by":["sensr_id"],"interval":"1 minute","aggregates":{"temperature":["avg"]}})j"),
            "r.json: rollup 1 (r): by names unknown column 'sensr_id'");
  EXPECT_EQ(rollup_error(R"j({"name":"r","interval":"1 minute","aggregates":{"temprature":["avg"]}})j"),
            "r.json: rollup 1 (r): aggregates names unknown column 'temprature'");
  EXPECT_EQ(rollup_error(R"j({"name":"r","interval":"1 minute","aggregates":{"sensor_id":["avg"]}})j"),
            "r.json: rollup 1 (r): aggregates \"sensor_id\": avg needs a numeric column (integers, Float32, Float64), "
            "and 'sensor_id' is String");
  EXPECT_EQ(rollup_error(R"j({"name":"r","interval":"1 minute","aggregates":{"price":["sum"]}})j"),
            "r.json: rollup 1 (r): aggregates \"price\": sum needs a numeric column (integers, Float32, Float64), "
            "and 'price' is Decimal(9, 2)");
  EXPECT_EQ(rollup_error(R"j({"name":"r","interval":"1 minute","aggregates":{"temperature":["median"]}})j"),
            "r.json: rollup 1 (r): aggregates \"temperature\": unknown function 'median' (min, max, avg, sum, uniq; "
            "count under \"*\")");
  EXPECT_EQ(rollup_error(R"j({"name":"r","interval":"1 minute","aggregates":{"temperature":["count"]}})j"),
            "r.json: rollup 1 (r): aggregates \"temperature\": count is written \"*\": [\"count\"] (the rows of each "
            "bucket), not per column");
  EXPECT_EQ(rollup_error(R"j({"name":"r","interval":"1 minute","aggregates":{"*":["avg"]}})j"),
            "r.json: rollup 1 (r): aggregates \"*\": \"*\" takes count only (the rows of each bucket)");
  EXPECT_EQ(rollup_error(R"j({"name":"r","interval":"1 minute","aggregates":{"tags":["uniq"]}})j"),
            "r.json: rollup 1 (r): aggregates \"tags\": an Array or Map column cannot be aggregated in a rollup");
  const std::string grammar =
      " (a count and a unit: second, minute, hour or day, e.g. \"1 minute\", \"5 minutes\", \"1 hour\"; the count "
      "divides a minute (seconds), an hour (minutes) or a day (hours); days: 1)";
  EXPECT_EQ(rollup_error(R"j({"name":"r","interval":"1 minit","aggregates":{"*":["count"]}})j"),
            "r.json: rollup 1 (r): interval '1 minit': unknown unit 'minit'" + grammar);
  EXPECT_EQ(rollup_error(R"j({"name":"r","interval":"7 minutes","aggregates":{"*":["count"]}})j"),
            "r.json: rollup 1 (r): interval '7 minutes': 7 minutes do not divide an hour" + grammar);
  EXPECT_EQ(rollup_error(R"j({"name":"r","interval":"2 days","aggregates":{"*":["count"]}})j"),
            "r.json: rollup 1 (r): interval '2 days': 2 days do not divide a day" + grammar);
  EXPECT_EQ(rollup_error(R"j({"name":"r","interval":"0 hours","aggregates":{"*":["count"]}})j"),
            "r.json: rollup 1 (r): interval '0 hours': 0 hours do not divide a day" + grammar);
  EXPECT_EQ(rollup_error(R"j({"name":"r","interval":"","aggregates":{"*":["count"]}})j"),
            "r.json: rollup 1 (r): interval '': empty" + grammar);
  EXPECT_EQ(rollup_error(R"j({"name":"r","aggregates":{"*":["count"]}})j"),
            "r.json: rollup 1 (r): needs an \"interval\" string like \"1 minute\"");
  EXPECT_EQ(rollup_error(R"j({"name":"r","interval":"1 hour","time":"id","aggregates":{"*":["count"]}})j"),
            "r.json: rollup 1 (r): time column 'id' must be a DateTime or DateTime64 that is never null");
  EXPECT_EQ(rollup_error(R"j({"name":"r","interval":"1 hour","by":["note"],"aggregates":{"*":["count"]}})j"),
            "r.json: rollup 1 (r): by column 'note' must not be optional without a default, an Array or a Map");
  EXPECT_EQ(rollup_error(R"j({"name":"r","interval":"1 hour","aggregates":{}})j"),
            "r.json: rollup 1 (r): needs \"aggregates\", e.g. {\"temperature\": [\"min\", \"avg\", \"max\"], \"*\": "
            "[\"count\"]}");
  EXPECT_EQ(rollup_error(R"j({"name":"r","interval":"1 hour","aggregates":{"temperature":["min","min"]}})j"),
            "r.json: rollup 1 (r): aggregates \"temperature\": min given twice");
  EXPECT_EQ(rollup_error(R"j({"name":"r-1",)j" + ok + "}"),
            "r.json: rollup 1 (r-1): the name must be letters, digits and '_', not starting with a digit");
  EXPECT_EQ(rollup_error(R"j({"name":"sensor_metrics",)j" + ok + "}"), "r.json: rollup 1 (sensor_metrics): the name is the table's");
  EXPECT_EQ(rollup_error(R"j({"name":"r",)j" + ok + R"j(},{"name":"r",)j" + ok + "}"),
            "r.json: rollup 2 (r): two rollups have this name");
  EXPECT_EQ(rollup_error(R"j({"name":"r","intervall":"1 hour"})j"),
            "r.json: rollup 1 (r): unknown key \"intervall\" (known: name, interval, by, time, aggregates)");
  EXPECT_EQ(rollup_error(R"j({"interval":"1 hour"})j"), "r.json: rollup 1: needs a \"name\" (the rollup table)");
}

TEST(SchemaRollups, RollupsMustBeAnArray) {
  try {
    sp::Schema::from_json("{" + kCols + R"j(,"rollups":{}})j", "r.json");
    FAIL() << "accepted";
  } catch (const sp::ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "r.json: rollups must be an array of objects like {\"name\": ..., \"interval\": ...}");
  }
}

TEST(SchemaRollups, IntervalsAndDefaults) {
  auto s = with_rollup(R"j({"name":"r","interval":" 5 Minutes ","aggregates":{"*":["count"],"temperature":["max"]}})j");
  ASSERT_EQ(s.rollups.size(), 1u);
  const auto& r = s.rollups[0];
  EXPECT_EQ(r.every, 5);
  EXPECT_EQ(r.unit, "minute");
  EXPECT_EQ(r.interval_text(), "5 minutes");
  EXPECT_EQ(r.time, "ts");  // the first DateTime column
  EXPECT_TRUE(r.by.empty());
  // the schema's column order, count last, whatever the object's order
  EXPECT_EQ(s.rollup_columns(r), (std::vector<std::pair<std::string, std::string>>{
                                     {"ts", "DateTime"},
                                     {"temperature_max", "AggregateFunction(max, Float64)"},
                                     {"count", "AggregateFunction(count)"}}));
  EXPECT_EQ(with_rollup(R"j({"name":"r","interval":"hour","aggregates":{"*":["count"]}})j").rollups[0].interval_text(),
            "1 hour");
}

// The DDL of one rollup on one server: the table and the view from the ingest table. A Nullable column
// is aggregated over its non-null values with -If (one state type on 18.16 and 26), LowCardinality
// left out of the state's type (which both servers drop).
TEST(SchemaRollups, TableAndViewDdl) {
  auto s = with_rollup(R"j({"name":"m10","interval":"10 minutes","by":["sensor_id"],"time":"ts",
      "aggregates":{"p":["min","avg"],"seq":["sum"],"note":["uniq"],"*":["count"]}})j");
  auto sql = s.create_rollups_sql("db", "raw");
  ASSERT_EQ(sql.size(), 2u);
  EXPECT_EQ(sql[0],
            "CREATE TABLE IF NOT EXISTS `db`.`m10`\n(\n    `sensor_id` String,\n    `ts` DateTime,\n"
            "    `seq_sum` AggregateFunction(sum, UInt32),\n    `note_uniq` AggregateFunction(uniq, String),\n"
            "    `p_min` AggregateFunction(min, Float32),\n    `p_avg` AggregateFunction(avg, Float32),\n"
            "    `count` AggregateFunction(count)\n)\n"
            "ENGINE = AggregatingMergeTree()\nPARTITION BY toYYYYMM(`ts`)\nORDER BY (`sensor_id`, `ts`)");
  EXPECT_EQ(sql[1],
            "CREATE MATERIALIZED VIEW IF NOT EXISTS `db`.`m10_mv`\nTO `db`.`m10`\nAS SELECT\n    `sensor_id`,\n"
            "    toStartOfInterval(`ts`, INTERVAL 10 MINUTE) AS `ts`,\n    sumState(`seq`) AS `seq_sum`,\n"
            "    uniqStateIf(assumeNotNull(`note`), isNotNull(`note`)) AS `note_uniq`,\n"
            "    minStateIf(assumeNotNull(`p`), isNotNull(`p`)) AS `p_min`,\n"
            "    avgStateIf(assumeNotNull(`p`), isNotNull(`p`)) AS `p_avg`,\n    countState() AS `count`\n"
            "FROM `db`.`raw`\nGROUP BY `sensor_id`, `ts`");
  auto dt64 = sp::Schema::from_json(R"j({"columns":[{"name":"id"},{"name":"at","type":"DateTime64(3)"},
      {"name":"s","type":"LowCardinality(String)"}],"rollups":[{"name":"d","interval":"1 day","by":["s"],
      "aggregates":{"s":["min"]}}]})j", "d.json");
  auto d = dt64.create_rollups_sql("db", "raw");
  EXPECT_NE(d[0].find("`s` LowCardinality(String),\n    `at` DateTime,\n    `s_min` AggregateFunction(min, String)"),
            std::string::npos) << d[0];
  EXPECT_NE(d[1].find("toStartOfDay(toDateTime(`at`)) AS `at`"), std::string::npos) << d[1];
}

// --cluster: the rollup's replicated locals and its view on TABLE_local on every server, and the
// Distributed table over the locals (read only: no sharding key), each ON CLUSTER.
TEST(SchemaRollups, ClusterDdl) {
  auto s = sp::Schema::from_json(example("schema-rollups.json"), "schema-rollups.json");
  auto sql = s.create_rollups_sql("db", "sensor_metrics", "sensors");
  ASSERT_EQ(sql.size(), 6u);
  EXPECT_EQ(sql[0].substr(0, sql[0].find('\n')),
            "CREATE TABLE IF NOT EXISTS `db`.`sensor_metrics_1m_local` ON CLUSTER `sensors`");
  EXPECT_NE(sql[0].find("ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/db/sensor_metrics_1m_local', "
                        "'{replica}')\nPARTITION BY toYYYYMM(`ts`)\nORDER BY (`sensor_id`, `ts`)"),
            std::string::npos) << sql[0];
  EXPECT_EQ(sql[1].substr(0, sql[1].find("AS SELECT")),
            "CREATE MATERIALIZED VIEW IF NOT EXISTS `db`.`sensor_metrics_1m_mv` ON CLUSTER `sensors`\n"
            "TO `db`.`sensor_metrics_1m_local`\n");
  EXPECT_NE(sql[1].find("FROM `db`.`sensor_metrics_local`\n"), std::string::npos) << sql[1];
  EXPECT_EQ(sql[2], "CREATE TABLE IF NOT EXISTS `db`.`sensor_metrics_1m` ON CLUSTER `sensors` AS "
                    "`db`.`sensor_metrics_1m_local`\nENGINE = Distributed(`sensors`, `db`, `sensor_metrics_1m_local`)");
  EXPECT_THROW(s.create_rollups_sql("db", "t", "bad name"), sp::UsageError);
}

TEST(SchemaRollups, ExistingRollupDifferences) {
  auto s = sp::Schema::from_json(example("schema-rollups.json"), "schema-rollups.json");
  const auto& r = s.rollups[1];  // sensor_metrics_1h
  auto same = s.rollup_columns(r);
  EXPECT_TRUE(s.rollup_differences(r, same).empty());
  auto other = same;
  other[2].second = "AggregateFunction(min,Float32)";
  other.pop_back();
  other.emplace_back("extra", "UInt8");
  EXPECT_EQ(s.rollup_differences(r, other),
            (std::vector<std::string>{
                "column `temperature_min`: the rollup has AggregateFunction(min,Float32), the schema "
                "AggregateFunction(min, Float64)",
                "missing column `count` AggregateFunction(count) (in the schema, not in the rollup)",
                "extra column `extra` UInt8 (in the rollup, not in the schema)"}));
}

TEST(SchemaRollups, ToJsonReadsBack) {
  auto s = sp::Schema::from_json(example("schema-rollups.json"), "schema-rollups.json");
  ASSERT_EQ(s.rollups.size(), 2u);
  std::string text = s.to_json();
  auto back = sp::Schema::from_json(text, "printed.json");
  EXPECT_EQ(back.to_json(), text);
  EXPECT_EQ(back.create_rollups_sql("db", "t"), s.create_rollups_sql("db", "t"));
  EXPECT_NE(text.find("\"interval\": \"1 minute\""), std::string::npos) << text;
}
