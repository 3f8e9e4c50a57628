// --create-table's rollups per server version (issue 26): server_ddl runs them after the table, on
// 18.16 (the live server here) as on 26.7 (chDB), and refuses an interval the server cannot bucket
// (toStartOfInterval came in 19.3) before any DDL runs.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/http/clickhouse.hpp"
#include "common/rows/schema.hpp"
#include "insert.hpp"

using sp::chi::Options;
using sp::chi::ServerCaps;

namespace {
ServerCaps caps(const char* version) { return ServerCaps::of(sp::parse_ch_version(version)); }

sp::Schema example() {
  std::ifstream in(std::string(SOURCE_DIR) + "/examples/schema-rollups.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return sp::Schema::from_json(ss.str(), "schema-rollups.json");
}
}  // namespace

TEST(ChInsertRollups, AfterTheTableOnEveryVersion) {
  Options o;
  auto schema = example();
  for (const char* v : {"18.16.1", "19.3.3", "26.7.2.1"}) {
    auto d = sp::chi::server_ddl(o, schema, "default", caps(v), {});
    EXPECT_EQ(d.refused, "") << v;
    ASSERT_EQ(d.statements.size(), 5u) << v;  // table, then per rollup its table and its view
    EXPECT_EQ(d.statements[0], schema.create_table_sql("default", "sensor_metrics"));
    EXPECT_EQ(d.statements[1].substr(0, d.statements[1].find('\n')),
              "CREATE TABLE IF NOT EXISTS `default`.`sensor_metrics_1m`");
    EXPECT_NE(d.statements[2].find("toStartOfMinute(`ts`) AS `ts`"), std::string::npos) << d.statements[2];
    EXPECT_NE(d.statements[4].find("toStartOfHour(`ts`) AS `ts`"), std::string::npos) << d.statements[4];
  }
  o.cluster = "sensors";
  auto c = sp::chi::server_ddl(o, schema, "db", caps("18.16.1"), {});
  ASSERT_EQ(c.statements.size(), 9u);  // database, local + Distributed, per rollup local + view + Distributed
  EXPECT_EQ(c.statements[3].substr(0, c.statements[3].find('\n')),
            "CREATE TABLE IF NOT EXISTS `db`.`sensor_metrics_1m_local` ON CLUSTER `sensors`");
}

TEST(ChInsertRollups, IntervalWithoutItsFunctionIsRefusedBefore19_3) {
  Options o;
  auto schema = example();
  schema.rollups[1].every = 10;  // 10 minutes: toStartOfInterval
  schema.rollups[1].unit = "minute";
  auto old = sp::chi::server_ddl(o, schema, "default", caps("18.16.1"), {});
  EXPECT_TRUE(old.statements.empty());
  EXPECT_EQ(old.refused, "rollup 'sensor_metrics_1h': interval 10 minutes needs toStartOfInterval (ClickHouse 19.3 or "
                         "newer; older servers bucket 1 second, 1, 5 or 15 minutes, 1 hour or 1 day)");
  for (const char* v : {"19.3.3", "26.7.2.1"}) {
    auto d = sp::chi::server_ddl(o, schema, "default", caps(v), {});
    EXPECT_EQ(d.refused, "") << v;
    ASSERT_EQ(d.statements.size(), 5u);
    EXPECT_NE(d.statements[4].find("toStartOfInterval(`ts`, INTERVAL 10 MINUTE) AS `ts`"), std::string::npos);
  }
  // 5 and 15 minutes have their own functions on 18.16
  schema.rollups[1].every = 15;
  auto fifteen = sp::chi::server_ddl(o, schema, "default", caps("18.16.1"), {});
  EXPECT_EQ(fifteen.refused, "");
  EXPECT_NE(fifteen.statements[4].find("toStartOfFifteenMinutes(`ts`) AS `ts`"), std::string::npos);
}
