// ch-insert --exactly-once (issue 26): the exact statements it sends (the state table, the intents, the
// lookup of stored rows, the wait for an earlier run's inserts), the INSERT's parameters on a server with
// insert_deduplication_token, and the pure resolution rules (which rows are new, which are looked up,
// when a partition's intent is read again).
#include <gtest/gtest.h>

#include "common/http/clickhouse.hpp"
#include "common/rows/schema.hpp"
#include "exactly_once.hpp"
#include "insert.hpp"
#include "sender.hpp"

namespace eo = sp::chi::eo;
using sp::chi::Batch;
using sp::chi::Options;
using sp::chi::ServerCaps;
using Params = std::vector<std::pair<std::string, std::string>>;

TEST(ChInsertExactlyOnce, StateTableStatements) {
  EXPECT_EQ(eo::state_table("sensor_metrics"), "sensor_metrics_kafka_offsets");
  EXPECT_EQ(eo::create_state_sql("default", "sensor_metrics"),
            "CREATE TABLE IF NOT EXISTS `default`.`sensor_metrics_kafka_offsets` (topic String, partition Int32, "
            "intent Int64, run String, updated_at DateTime DEFAULT now()) ENGINE = ReplacingMergeTree(intent) "
            "ORDER BY (topic, partition)");
  EXPECT_EQ(eo::read_state_sql("db", "t", {{"sensor_metrics", 0}, {"sensor_metrics", 7}}),
            "SELECT topic, partition, max(intent), argMax(run, intent) FROM `db`.`t_kafka_offsets` WHERE "
            "(topic = 'sensor_metrics' AND partition = 0) OR (topic = 'sensor_metrics' AND partition = 7) "
            "GROUP BY topic, partition FORMAT TabSeparated");
  EXPECT_EQ(eo::intent_insert_sql("default", "t", {{{"a", 0}, 41}, {{"b.x", 3}, 9000000000}}, "0123456789ab"),
            "INSERT INTO `default`.`t_kafka_offsets` (topic, partition, intent, run) VALUES ('a', 0, 41, "
            "'0123456789ab'), ('b.x', 3, 9000000000, '0123456789ab')");
}

TEST(ChInsertExactlyOnce, LookupAndWaitQueries) {
  EXPECT_EQ(eo::stored_sql("default", "sensor_metrics", {{{"s", 1}, 10, 20}, {{"s", 4}, 0, 0}}),
            "SELECT _topic, _partition, _offset FROM `default`.`sensor_metrics` WHERE (_topic = 's' AND _partition "
            "= 1 AND _offset BETWEEN 10 AND 20) OR (_topic = 's' AND _partition = 4 AND _offset BETWEEN 0 AND 0) "
            "FORMAT TabSeparated");
  EXPECT_EQ(eo::query_id_prefix("0123456789ab"), "sp-eo-0123456789ab-");
  EXPECT_EQ(eo::running_sql("sp-eo-0123456789ab-"),
            "SELECT count() FROM system.processes WHERE substring(query_id, 1, 19) = 'sp-eo-0123456789ab-' "
            "OR substring(initial_query_id, 1, 19) = 'sp-eo-0123456789ab-' FORMAT TabSeparated");
  std::string a = eo::new_run_id(), b = eo::new_run_id();
  EXPECT_EQ(a.size(), 12u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos) << a;
}

// On a cluster (--cluster with a --url per server, --shard): one replicated state for the whole cluster
// (a ZooKeeper path without {shard}, replica names unique across shards), its intents written with a
// quorum of two, and the rows looked up in each server's local table.
TEST(ChInsertExactlyOnce, ClusterStatements) {
  EXPECT_EQ(eo::create_state_sql("db", "sensor_metrics", true),
            "CREATE TABLE IF NOT EXISTS `db`.`sensor_metrics_kafka_offsets` (topic String, partition Int32, "
            "intent Int64, run String, updated_at DateTime DEFAULT now()) ENGINE = ReplicatedReplacingMergeTree("
            "'/clickhouse/tables/sp-eo/db/sensor_metrics_kafka_offsets', '{shard}-{replica}', intent) "
            "ORDER BY (topic, partition)");
  EXPECT_EQ(eo::create_state_sql("", "w's", true),
            "CREATE TABLE IF NOT EXISTS `default`.`w's_kafka_offsets` (topic String, partition Int32, "
            "intent Int64, run String, updated_at DateTime DEFAULT now()) ENGINE = ReplicatedReplacingMergeTree("
            "'/clickhouse/tables/sp-eo/default/w\\'s_kafka_offsets', '{shard}-{replica}', intent) "
            "ORDER BY (topic, partition)");
  Options one;
  one.table = "sensor_metrics";
  EXPECT_FALSE(eo::on_cluster(one));
  EXPECT_EQ(eo::rows_table(one), "sensor_metrics");
  EXPECT_EQ(eo::intent_settings(one, 1), Params{});
  Options dist = one;
  dist.cluster = "sensors";
  EXPECT_TRUE(eo::on_cluster(dist));
  EXPECT_EQ(eo::rows_table(dist), "sensor_metrics_local");
  EXPECT_EQ(eo::intent_settings(dist, 4), (Params{{"insert_quorum", "2"}}));
  EXPECT_EQ(eo::intent_settings(dist, 1), Params{});  // a cluster of one server: no second replica
  Options direct = one;
  direct.shards = {{"http://a:8123", "http://b:8123"}, {"http://c:8123"}};
  direct.local_table = "my_local";
  EXPECT_TRUE(eo::on_cluster(direct));
  EXPECT_EQ(eo::rows_table(direct), "my_local");
  EXPECT_EQ(eo::intent_settings(direct, 3), (Params{{"insert_quorum", "2"}}));
  EXPECT_EQ(eo::stored_sql("default", eo::rows_table(dist), {{{"s", 1}, 10, 20}}),
            "SELECT _topic, _partition, _offset FROM `default`.`sensor_metrics_local` WHERE (_topic = 's' AND "
            "_partition = 1 AND _offset BETWEEN 10 AND 20) FORMAT TabSeparated");
}

// On 26.x the token stays (a retry of an identical body is dropped by the server as well), and the
// POST carries its query_id right after the statement.
TEST(ChInsertExactlyOnce, InsertParamsWithToken) {
  Options o;
  o.exactly_once = true;
  o.keep_coordinates = true;
  const std::string stmt =
      sp::chi::insert_statement(o.format, "default", "sensor_metrics", {"id", "ts"}, o.keep_coordinates);
  EXPECT_EQ(stmt, "INSERT INTO sensor_metrics (id, ts, _topic, _partition, _offset) FORMAT JSONEachRow");
  auto p = sp::chi::insert_params(o, ServerCaps::of(sp::parse_ch_version("26.7.2.1")), stmt, "body", 3,
                                  "sp-eo-0123456789ab-7");
  EXPECT_EQ(p, (Params{{"query", stmt},
                       {"query_id", "sp-eo-0123456789ab-7"},
                       {"date_time_input_format", "best_effort"},
                       {"max_insert_block_size", "1048576"},
                       {"input_format_parallel_parsing", "0"},
                       {"insert_deduplication_token", "b471beaea8f9866b-3"}}));
  // 18.16: no token, the id all the same
  auto old = sp::chi::insert_params(o, ServerCaps::of(sp::parse_ch_version("18.16.1")), stmt, "body", 3, "sp-eo-x-1");
  EXPECT_EQ(old, (Params{{"query", stmt},
                         {"query_id", "sp-eo-x-1"},
                         {"date_time_input_format", "best_effort"},
                         {"max_insert_block_size", "1048576"}}));
}

TEST(ChInsertExactlyOnce, CreateTableStoresCoordinates) {
  Options o;
  o.exactly_once = true;
  auto sql = sp::chi::create_table_statements(o, sp::Schema::default_schema(), "default");
  ASSERT_EQ(sql.size(), 1u);
  EXPECT_NE(sql[0].find("`pressure` Float64,\n    `_topic` String,\n    `_partition` Int32,\n    `_offset` Int64\n)"),
            std::string::npos)
      << sql[0];
  o.exactly_once = false;
  EXPECT_EQ(sp::chi::create_table_statements(o, sp::Schema::default_schema(), "default")[0].find("_offset"), std::string::npos);
}

namespace {
// A batch of rows of topic "t" at the given (partition, offset), and markers.
Batch batch(const std::vector<std::pair<int32_t, int64_t>>& rows, const std::vector<std::pair<int32_t, int64_t>>& marks = {}) {
  Batch b;
  for (const auto& [p, off] : rows) {
    sp::chi::RowMeta m{b.data.size(), 0, off, p, b.topic_index("t")};
    b.data += "row" + std::to_string(p) + "." + std::to_string(off) + "\n";
    b.rows.push_back(m);
  }
  for (const auto& [p, off] : marks) b.marks.push_back({b.topic_index("t"), p, off});
  return b;
}
const eo::Key P0{"t", 0}, P1{"t", 1};
}  // namespace

TEST(ChInsertExactlyOnce, FirstSightLoadsThenContiguousDoesNot) {
  eo::Tracker t;
  auto b1 = eo::batch_offsets(batch({{0, 5}, {1, 0}, {0, 6}}, {{0, 7}}));
  EXPECT_EQ(t.to_load(b1), (std::vector<eo::Key>{P0, P1}));
  t.loaded(P0, -1, "");
  t.loaded(P1, -1, "");
  EXPECT_TRUE(t.to_check(b1).empty());  // nothing was ever sent: every row is new
  auto raised = t.raises(b1);
  // ahead: the top row plus 3 (kIntentAhead) times the partition's span in the batch (5..7 with the
  // marker: 3 offsets; 0..0: 1)
  EXPECT_EQ(raised, (std::vector<std::pair<eo::Key, int64_t>>{{P0, 6 + 3 * 3}, {P1, 0 + 3 * 1}}));
  t.sent(b1, raised, "me");
  EXPECT_EQ(t.part(P0)->intent, 15);
  EXPECT_EQ(t.part(P0)->last, 7);  // the marker counts for contiguity
  // 8, 9 continue 7 and 1 continues 0: nothing read; at or below this run's own reservation, yet
  // not looked up (only the intent read from the state table is), and nothing written
  auto b2 = eo::batch_offsets(batch({{0, 8}, {1, 1}, {0, 9}}));
  EXPECT_TRUE(t.to_load(b2).empty());
  EXPECT_TRUE(t.to_check(b2).empty());
  EXPECT_TRUE(t.raises(b2).empty());
}

// The intent-ahead rule: a raise reserves kIntentAhead batches more per partition, so the batches
// within the reservation write no intent; the first that goes beyond any partition's intent raises
// every partition of the batch with rows (they run out together), each to its top plus 3 spans.
TEST(ChInsertExactlyOnce, IntentsAreWrittenAheadForTheNextBatches) {
  eo::Tracker t;
  auto first = eo::batch_offsets(batch({{0, 0}, {0, 1}, {0, 2}, {0, 3}, {1, 0}, {1, 1}}));
  for (const auto& k : t.to_load(first)) t.loaded(k, -1, "");
  auto raised = t.raises(first);
  EXPECT_EQ(raised, (std::vector<std::pair<eo::Key, int64_t>>{{P0, 3 + 3 * 4}, {P1, 1 + 3 * 2}}));
  // the statement sent before the first batch's rows: the reservations, one INSERT
  EXPECT_EQ(eo::intent_insert_sql("default", "t", raised, "0123456789ab"),
            "INSERT INTO `default`.`t_kafka_offsets` (topic, partition, intent, run) VALUES ('t', 0, 15, "
            "'0123456789ab'), ('t', 1, 7, '0123456789ab')");
  t.sent(first, raised, "me");
  int64_t p0 = 4, p1 = 2;  // the next offsets
  int writes = 0;
  for (int i = 0; i < 3; ++i) {  // 3 more batches alike: within the reservation
    auto b = eo::batch_offsets(batch({{0, p0}, {0, p0 + 1}, {0, p0 + 2}, {0, p0 + 3}, {1, p1}, {1, p1 + 1}}));
    p0 += 4, p1 += 2;
    EXPECT_TRUE(t.to_load(b).empty());
    EXPECT_TRUE(t.to_check(b).empty());
    auto r = t.raises(b);
    writes += !r.empty();
    t.sent(b, r, "me");
  }
  EXPECT_EQ(writes, 0);
  EXPECT_EQ(t.part(P0)->intent, 15);
  EXPECT_EQ(t.part(P1)->intent, 7);
  // the fifth goes beyond both (P0 16 > 15, P1 8 > 7): both raised
  auto fifth = eo::batch_offsets(batch({{0, 16}, {0, 17}, {0, 18}, {0, 19}, {1, 8}, {1, 9}}));
  EXPECT_EQ(t.raises(fifth), (std::vector<std::pair<eo::Key, int64_t>>{{P0, 19 + 3 * 4}, {P1, 9 + 3 * 2}}));
  // one partition beyond its intent raises the others of the batch too, though their rows are within
  // theirs (a raise that would not lift one is left out)
  eo::Tracker u;
  u.loaded(P0, -1, "");
  u.loaded(P1, -1, "");
  u.loaded({"t", 2}, -1, "");
  auto a = eo::batch_offsets(batch({{0, 0}, {1, 0}, {1, 1}, {1, 2}, {1, 3}, {2, 0}, {2, 1}, {2, 2}, {2, 3}}));
  u.sent(a, u.raises(a), "me");  // P0 to 3, P1 and P2 to 15
  auto b = eo::batch_offsets(batch({{0, 1}, {0, 2}, {0, 3}, {0, 4}, {1, 4}, {2, 4}, {2, 5}, {2, 6}, {2, 7}}));
  EXPECT_TRUE(u.to_check(b).empty());
  EXPECT_EQ(u.raises(b), (std::vector<std::pair<eo::Key, int64_t>>{{P0, 4 + 12}, {{"t", 2}, 7 + 12}}));
}

TEST(ChInsertExactlyOnce, GapOrRewindReloadsAndRowsAtOrBelowIntentAreLookedUp) {
  eo::Tracker t;
  auto b1 = eo::batch_offsets(batch({{0, 0}, {0, 1}}));
  t.loaded(P0, -1, "");
  t.sent(b1, t.raises(b1), "me");
  // a jump (a rebalance gave the partition back at another consumer's committed offset)
  auto jump = eo::batch_offsets(batch({{0, 50}, {0, 51}}));
  EXPECT_EQ(t.to_load(jump), (std::vector<eo::Key>{P0}));
  // meanwhile another run sent up to 60: 50..51 may be stored, looked up; nothing raised
  t.loaded(P0, 60, "other");
  auto check = t.to_check(jump);
  ASSERT_EQ(check.size(), 1u);
  EXPECT_EQ(check[0].key, P0);
  EXPECT_EQ(check[0].first, 50);
  EXPECT_EQ(check[0].last, 60);  // on to the intent read (within 6 spans of 2 above 51)
  EXPECT_TRUE(t.raises(jump).empty());
  t.looked_up(check);
  t.sent(jump, {}, "me");
  // the next batch, up to 60, was looked up with it: no lookup again (the rows found stay dropped by
  // the Resolver's record of them)
  auto next = eo::batch_offsets(batch({{0, 52}, {0, 53}}));
  EXPECT_TRUE(t.to_load(next).empty());
  EXPECT_TRUE(t.to_check(next).empty());
  t.sent(next, t.raises(next), "me");
  EXPECT_EQ(t.part(P0)->run, "other");  // who wrote the intent: whose inserts are waited out
  // a rewind (an upstream restart reads from the last commit) straddling the intent: the rows up to
  // it are looked up, those above are new and raise it
  auto rewind = eo::batch_offsets(batch({{0, 59}, {0, 60}, {0, 61}}));
  EXPECT_EQ(t.to_load(rewind), (std::vector<eo::Key>{P0}));
  t.loaded(P0, 60, "other");  // read again: what was looked up is looked up again
  EXPECT_EQ(t.part(P0)->checked, -1);
  check = t.to_check(rewind);
  ASSERT_EQ(check.size(), 1u);
  EXPECT_EQ(check[0].first, 59);
  EXPECT_EQ(check[0].last, 60);
  EXPECT_EQ(t.raises(rewind), (std::vector<std::pair<eo::Key, int64_t>>{{P0, 61 + 3 * 3}}));
  // a gap inside a batch (a message rejected upstream without a marker) reloads too
  t.sent(rewind, t.raises(rewind), "me");
  EXPECT_EQ(t.to_load(eo::batch_offsets(batch({{0, 62}, {0, 64}}))), (std::vector<eo::Key>{P0}));
  EXPECT_TRUE(t.to_load(eo::batch_offsets(batch({{0, 62}, {0, 63}}))).empty());
}

// After a restart the killed run's reservation is looked up in one go: the batch's rows and 6 spans
// above its top (kLookupAhead), capped at the intent read; a range starts above what was looked up.
TEST(ChInsertExactlyOnce, OneLookupCoversTheBatchesAboveUpToALimit) {
  eo::Tracker t;
  t.loaded(P0, 1000, "other");
  auto b1 = eo::batch_offsets(batch({{0, 10}, {0, 11}, {0, 12}, {0, 13}}));
  auto check = t.to_check(b1);
  ASSERT_EQ(check.size(), 1u);
  EXPECT_EQ(check[0].first, 10);
  EXPECT_EQ(check[0].last, 13 + 6 * 4);  // not to 1000: a backfill rerun would fetch the whole topic
  t.looked_up(check);
  t.sent(b1, t.raises(b1), "me");
  // a bigger batch straddling the end of what was looked up: only the rows above it are looked up
  std::vector<std::pair<int32_t, int64_t>> rows;
  for (int64_t off = 14; off < 54; ++off) rows.push_back({0, off});
  check = t.to_check(eo::batch_offsets(batch(rows)));
  ASSERT_EQ(check.size(), 1u);
  EXPECT_EQ(check[0].first, 38);
  EXPECT_EQ(check[0].last, 53 + 6 * 40);
}

TEST(ChInsertExactlyOnce, MarkersOnlyPartitionIsReadWhenRowsCome) {
  eo::Tracker t;
  auto marks = eo::batch_offsets(batch({}, {{1, 0}, {1, 1}}));
  for (const auto& k : t.to_load(marks)) t.loaded(k, 5, "other");
  t.sent(marks, t.raises(marks), "me");
  auto rows = eo::batch_offsets(batch({{1, 2}}));
  EXPECT_TRUE(t.to_load(rows).empty());  // read with the markers: still known
  ASSERT_EQ(t.to_check(rows).size(), 1u);  // 2 <= 5: looked up
}

TEST(ChInsertExactlyOnce, DroppedRowsBecomeMarkers) {
  Batch b = batch({{0, 5}, {0, 6}, {1, 3}});
  eo::drop_rows(b, {1, 0, 1});
  ASSERT_EQ(b.rows.size(), 1u);
  EXPECT_EQ(b.data, "row0.6\n");
  EXPECT_EQ(b.row(0), "row0.6\n");
  EXPECT_EQ(b.rows[0].offset, 6);
  ASSERT_EQ(b.marks.size(), 2u);
  EXPECT_EQ(b.marks[0].offset, 5);
  EXPECT_EQ(b.marks[1].partition, 1);
  EXPECT_EQ(b.marks[1].offset, 3);
  auto offs = eo::batch_offsets(b);
  EXPECT_EQ(offs.at(P0).rows, (std::vector<int64_t>{6}));
  EXPECT_EQ(offs.at(P0).all, (std::vector<int64_t>{5, 6}));
}

TEST(ChInsertExactlyOnce, MessageReadTwiceIntoOneBatchIsSentOnce) {
  Batch b = batch({{0, 5}, {0, 6}, {1, 0}, {0, 5}, {0, 6}, {0, 7}});
  EXPECT_EQ(eo::drop_repeats(b), 2u);
  ASSERT_EQ(b.rows.size(), 4u);
  EXPECT_EQ(b.data, "row0.5\nrow0.6\nrow1.0\nrow0.7\n");
  Batch once = batch({{0, 5}, {1, 5}});
  EXPECT_EQ(eo::drop_repeats(once), 0u);
  EXPECT_EQ(once.rows.size(), 2u);
}
