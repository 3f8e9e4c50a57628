#include "common/schema.hpp"

#include <gtest/gtest.h>

#include "common/errors.hpp"

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
