// The exact request ch-insert sends for each server version it detects (issue 13): the INSERT's URL
// parameters and the DDL of --create-table, for 18.16 (the live server here), 20.1, 22.2 and 26.7
// (chDB). The newer request paths have no live server here: these pin them without one.
#include <gtest/gtest.h>

#include <cstdio>

#include "common/http/clickhouse.hpp"
#include "common/rows/schema.hpp"
#include "insert.hpp"

using sp::chi::insert_params;
using sp::chi::Options;
using sp::chi::ServerCaps;
using Params = std::vector<std::pair<std::string, std::string>>;

namespace {
ServerCaps caps(const char* version) { return ServerCaps::of(sp::parse_ch_version(version)); }
const std::string kStmt = "INSERT INTO sensor_metrics (id, ts) FORMAT JSONEachRow";

const char* const kTuned = R"j({"table":"tuned","columns":[
    {"name":"id"},
    {"name":"ts","type":"DateTime","path":"timestamp","codec":"DoubleDelta, ZSTD(1)"},
    {"name":"v","type":"Float64","codec":"ZSTD(1)"}],
  "order_by":["id"],"settings":{"index_granularity":4096}})j";
}  // namespace

TEST(ChInsertRequest, Version18_16) {
  Options o;
  EXPECT_EQ(insert_params(o, caps("18.16.1"), kStmt, "body", 3),
            (Params{{"query", kStmt}, {"date_time_input_format", "best_effort"}, {"max_insert_block_size", "1048576"}}));
}

TEST(ChInsertRequest, Version20_1SerialParsing) {
  Options o;
  EXPECT_EQ(insert_params(o, caps("20.1.2.4"), kStmt, "body", 3),
            (Params{{"query", kStmt},
                    {"date_time_input_format", "best_effort"},
                    {"max_insert_block_size", "1048576"},
                    {"input_format_parallel_parsing", "0"}}));
  // 19.x: still none of the newer settings
  EXPECT_EQ(insert_params(o, caps("19.17.9.60"), kStmt, "body", 3).size(), 3u);
}

TEST(ChInsertRequest, Version22_2DedupToken) {
  Options o;
  auto p = insert_params(o, caps("22.2.2.1"), kStmt, "body", 3);
  ASSERT_EQ(p.size(), 5u);
  EXPECT_EQ(p[3], (std::pair<std::string, std::string>{"input_format_parallel_parsing", "0"}));
  EXPECT_EQ(p[4].first, "insert_deduplication_token");
  // content hash (CityHash64 v1.0.2 of the body as sent: ClickHouse's SELECT hex(cityHash64('body'))) and
  // row count: a retry of the same body has the same token
  EXPECT_EQ(p[4].second, "b471beaea8f9866b-3") << p[4].second;
  EXPECT_EQ(insert_params(o, caps("22.1.3.7"), kStmt, "body", 3).size(), 4u);
  EXPECT_NE(insert_params(o, caps("22.2.2.1"), kStmt, "other", 3)[4].second, p[4].second);
  EXPECT_EQ(insert_params(o, caps("22.2.2.1"), kStmt, "body", 4)[4].second, "b471beaea8f9866b-4");
}

TEST(ChInsertRequest, Version26_7ClusterValuesNoBestEffort) {
  Options o;
  o.cluster = "sensors";
  o.format = sp::RowFormat::values;
  o.best_effort_dates = false;
  // VALUES: the statement is the body; a batch over 1M rows gets a block that holds it whole
  auto p = insert_params(o, caps("26.7.2.1"), "INSERT INTO t VALUES", "body", 2000000);
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0], (std::pair<std::string, std::string>{"max_insert_block_size", "2000000"}));
  EXPECT_EQ(p[1], (std::pair<std::string, std::string>{"input_format_parallel_parsing", "0"}));
  EXPECT_EQ(p[2], (std::pair<std::string, std::string>{"insert_distributed_sync", "1"}));
  EXPECT_EQ(p[3].first, "insert_deduplication_token");
}

// --setting (issue 27): the user's settings follow ch-insert's own, on every version, and none of the
// names ch-insert sends itself can be given (a second value of the same parameter would decide which
// of them the server takes, and ch-insert's guarantees rest on its own).
TEST(ChInsertRequest, UserSettingsAfterOwnNeverReplacingThem) {
  Options o;
  o.settings = sp::chi::parse_settings({"insert_quorum=2", "async_insert=1", "input_format_skip_unknown_fields=0"});
  auto p = insert_params(o, caps("18.16.1"), kStmt, "body", 3);
  ASSERT_EQ(p.size(), 6u);
  EXPECT_EQ(p[3], (std::pair<std::string, std::string>{"insert_quorum", "2"}));
  EXPECT_EQ(p[5], (std::pair<std::string, std::string>{"input_format_skip_unknown_fields", "0"}));
  Options all;
  all.cluster = "sensors";
  for (const char* v : {"18.16.1", "20.1.2.4", "22.2.2.1", "26.7.2.1"})
    for (const auto& [name, value] : insert_params(all, caps(v), kStmt, "body", 3))
      EXPECT_THROW(sp::chi::parse_settings({name + "=" + value}), sp::UsageError) << name << " on " << v;
  EXPECT_THROW(sp::chi::parse_settings({"database=x"}), sp::UsageError);
  EXPECT_THROW(sp::chi::parse_settings({"password=x"}), sp::UsageError);
  EXPECT_THROW(sp::chi::parse_settings({"wait_for_async_insert=0"}), sp::UsageError);
  EXPECT_NO_THROW(sp::chi::parse_settings({"wait_for_async_insert=1"}));
  EXPECT_THROW(sp::chi::parse_settings({"insert_quorum"}), sp::UsageError);
  EXPECT_THROW(sp::chi::parse_settings({"=2"}), sp::UsageError);
  EXPECT_THROW(sp::chi::parse_settings({"insert-quorum=2"}), sp::UsageError);
  EXPECT_THROW(sp::chi::parse_settings({"insert_quorum=2", "insert_quorum=3"}), sp::UsageError);
  // a value may hold '=' and be empty: the server judges values (once, at start)
  EXPECT_EQ(sp::chi::parse_settings({"format_csv_delimiter==", "x="}),
            (Params{{"format_csv_delimiter", "="}, {"x", ""}}));
}

TEST(ChInsertRequest, DdlPerVersion) {
  Options o;
  o.table = "tuned";
  auto schema = sp::Schema::from_json(kTuned, "s.json");
  auto old = sp::chi::server_ddl(o, schema, "default", caps("18.16.1"), {});
  EXPECT_EQ(old.refused, "");
  ASSERT_EQ(old.statements.size(), 1u);
  EXPECT_EQ(old.statements[0],
            "CREATE TABLE IF NOT EXISTS `default`.`tuned`\n(\n    `id` String,\n    `ts` DateTime,\n    `v` Float64\n)\n"
            "ENGINE = ReplacingMergeTree()\nORDER BY (`id`)\nSETTINGS index_granularity = 4096");
  ASSERT_EQ(old.left_out.size(), 2u);
  EXPECT_NE(old.left_out[1].find("CODEC(ZSTD(1)) of column 'v' (needs ClickHouse 19.1;"), std::string::npos);

  auto mid = sp::chi::server_ddl(o, schema, "default", caps("19.1.6"), {});
  ASSERT_EQ(mid.left_out.size(), 1u);  // DoubleDelta needs 19.11
  EXPECT_NE(mid.statements[0].find("`v` Float64 CODEC(ZSTD(1))"), std::string::npos);

  for (const char* v : {"20.1.2.4", "22.2.2.1", "26.7.2.1"}) {
    auto d = sp::chi::server_ddl(o, schema, "default", caps(v), {});
    EXPECT_TRUE(d.left_out.empty()) << v;
    EXPECT_EQ(d.statements, sp::chi::create_table_statements(o, schema, "default")) << v;
  }

  // TTL: refused before 19.6, nothing to run
  schema.ttl = "ts + INTERVAL 90 DAY";
  auto refused = sp::chi::server_ddl(o, schema, "default", caps("18.16.1"), {});
  EXPECT_TRUE(refused.statements.empty());
  EXPECT_NE(refused.refused.find("needs ClickHouse 19.6"), std::string::npos) << refused.refused;
  EXPECT_EQ(sp::chi::server_ddl(o, schema, "default", caps("19.6.2.11"), {}).refused, "");

  // a type the server lacks is refused the same way (DateTime64 came in 20.1)
  auto typed = sp::Schema::from_json(R"j({"columns":[{"name":"id"},{"name":"t","type":"DateTime64(3)"}]})j", "s");
  EXPECT_NE(sp::chi::server_ddl(o, typed, "default", caps("19.17.9.60"), {}).refused.find("needs ClickHouse 20.1"),
            std::string::npos);
}

TEST(ChInsertRequest, ClusterDdlAdaptedOnEveryStatement) {
  Options o;
  o.table = "tuned";
  o.cluster = "sensors";
  auto schema = sp::Schema::from_json(kTuned, "s.json");
  auto d = sp::chi::server_ddl(o, schema, "db", caps("18.16.1"), {});
  ASSERT_EQ(d.statements.size(), 3u);  // database, local tables, Distributed
  for (const auto& s : d.statements) EXPECT_EQ(s.find("CODEC"), std::string::npos) << s;
  EXPECT_NE(d.statements[1].find("SETTINGS index_granularity = 4096"), std::string::npos) << d.statements[1];
  auto n = sp::chi::server_ddl(o, schema, "db", caps("26.7.2.1"), {});
  EXPECT_NE(n.statements[1].find("`ts` DateTime CODEC(DoubleDelta, ZSTD(1))"), std::string::npos) << n.statements[1];
}

// 18.16's answer when an ON CLUSTER statement outwaits distributed_ddl_task_timeout (seen with a
// member SIGKILLed); any other message is no such answer.
TEST(ChInsertRequest, DdlTimeoutNamesUnfinishedAndActiveMembers) {
  auto u = sp::chi::ddl_unfinished(
      "Code: 159, e.displayText() = DB::Exception: Watching task /clickhouse/task_queue/ddl/query-0000000001 is "
      "executing longer than distributed_ddl_task_timeout (=3) seconds. There are 1 unfinished hosts (0 of them are "
      "currently active), they are going to execute the query in background, e.what() = DB::Exception");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->hosts, 1);
  EXPECT_EQ(u->active, 0);
  u = sp::chi::ddl_unfinished("... There are 3 unfinished hosts (2 of them are currently active), they ...");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->hosts, 3);
  EXPECT_EQ(u->active, 2);
  EXPECT_FALSE(sp::chi::ddl_unfinished("Code: 60, e.displayText() = DB::Exception: Table default.x doesn't exist").has_value());
}

// Issue 28 item 3: Date and DateTime end with 2105-12-31 on 18.16 (checked there by inserting); later
// servers store what sensor-parse lets through; a dry run (no version) checks nothing.
TEST(ChInsertRequest, DatesBeyondTheServer) {
  sp::Column dt, d, s;
  dt.name = "ts";
  dt.type = sp::ColType::DateTime;
  d.name = "day";
  d.type = sp::ColType::Date;
  s.name = "sensor_id";
  auto old = caps("18.16.1");
  EXPECT_EQ(sp::chi::date_beyond_server(old, dt, "2105-12-31 23:59:59"), "");
  EXPECT_EQ(sp::chi::date_beyond_server(old, dt, "2105-12-31T23:59:59Z"), "");
  EXPECT_EQ(sp::chi::date_beyond_server(old, d, "2105-12-31"), "");
  EXPECT_EQ(sp::chi::date_beyond_server(old, dt, "2106-01-01 00:00:00"),
            "ts: \"2106-01-01 00:00:00\" is after 2105-12-31 23:59:59, the last DateTime ClickHouse 18.16.1 stores "
            "(it would store a wrong date without an error)");
  EXPECT_NE(sp::chi::date_beyond_server(old, dt, "2106-02-07T06:28:15Z"), "");
  EXPECT_NE(sp::chi::date_beyond_server(old, d, "2149-06-06"), "");
  EXPECT_EQ(sp::chi::date_beyond_server(old, s, "2149-06-06"), "");      // not a date column
  EXPECT_EQ(sp::chi::date_beyond_server(old, dt, "1700000000"), "");      // not a date text this check knows
  EXPECT_NE(sp::chi::date_beyond_server(caps("21.12.1"), d, "2106-01-01"), "");  // unverified: the older bound
  EXPECT_EQ(sp::chi::date_beyond_server(caps("22.1.3"), dt, "2106-02-07 06:28:15"), "");
  EXPECT_EQ(sp::chi::date_beyond_server(caps("26.7.2.1"), d, "2149-06-06"), "");
  EXPECT_EQ(sp::chi::date_beyond_server(ServerCaps{}, dt, "2106-01-01 00:00:00"), "");
}

// The cost of the deduplication token over a batch's body (issue 30 item 14), not run by ctest:
//   valgrind --tool=callgrind --toggle-collect='sp::chi::insert_params*' (then 'fnv1a_byte_at_a_time*')
//     build/tests/unit_tests --gtest_also_run_disabled_tests --gtest_filter='ChInsertRequest.DISABLED_*'
// Ir / 8 MiB is instructions per body byte; FNV-1a (the token's hash before) is measured alongside.
namespace {
__attribute__((noinline)) uint64_t fnv1a_byte_at_a_time(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}
}  // namespace

TEST(ChInsertRequest, DISABLED_TokenOfAnEightMiBBody) {
  Options o;
  std::string body(8u << 20, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 2654435761u >> 13);
  auto p = insert_params(o, caps("22.2.2.1"), kStmt, body, 100000);
  uint64_t old = fnv1a_byte_at_a_time(body);
  std::printf("%s (FNV-1a %016llx)\n", p.back().second.c_str(), static_cast<unsigned long long>(old));
}

// Smaller first batches (ClickHouse parses while the first full batch would still be filling):
// a sixteenth of --batch-rows, doubling up to it; a --batch-rows under 16384 is kept from the start.
TEST(ChInsertRequest, FirstBatchesRampUpToBatchRows) {
  using sp::chi::next_batch_rows;
  std::vector<uint64_t> got;
  uint64_t limit = 0;
  for (int i = 0; i < 7; ++i) got.push_back(limit = next_batch_rows(100000, limit));
  EXPECT_EQ(got, (std::vector<uint64_t>{6250, 12500, 25000, 50000, 100000, 100000, 100000}));
  EXPECT_EQ(next_batch_rows(16384, 0), 1024u);
  EXPECT_EQ(next_batch_rows(16383, 0), 16383u);
  EXPECT_EQ(next_batch_rows(500, 0), 500u);
  EXPECT_EQ(next_batch_rows(500, 500), 500u);
  EXPECT_EQ(next_batch_rows(1000000, 500000), 1000000u);
}

// --first-batch-rows: the first batch's size, doubling from it; equal to --batch-rows, no ramp.
TEST(ChInsertRequest, FirstBatchRowsGiven) {
  using sp::chi::next_batch_rows;
  EXPECT_EQ(next_batch_rows(100000, 0, 100000), 100000u);
  EXPECT_EQ(next_batch_rows(100000, 0, 30000), 30000u);
  EXPECT_EQ(next_batch_rows(100000, 30000, 30000), 60000u);
  EXPECT_EQ(next_batch_rows(100000, 60000, 30000), 100000u);
  EXPECT_EQ(next_batch_rows(500, 0, 100), 100u);  // a ramp below 16384 only when asked for
  EXPECT_EQ(next_batch_rows(500, 0, 1000), 500u);
}
