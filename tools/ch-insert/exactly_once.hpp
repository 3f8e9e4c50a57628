// ch-insert --exactly-once on one ClickHouse server, 18.16 and up (no KeeperMap, no token needed): the
// state lives in ClickHouse, a small table TABLE_kafka_offsets holding per topic/partition the highest
// offset ch-insert has sent or may send (its "intent"), written before the rows are, and ahead: a raise
// reserves the offsets of the next few batches too (kIntentAhead), so most batches write none; rows at
// or below a partition's intent may be stored already (a run died before its ack, a backfill rerun),
// and are looked up by their coordinates in the data table: those found are acknowledged, not sent.
// Pure parts (the statements, the Tracker) are unit-tested; Resolver does the talking.
// On a cluster (--cluster with a --url per server, or --shard): the state table is one replicated table
// with a replica on every server (one ZooKeeper path for all), its intents written with insert_quorum=2
// and read from every server (the highest wins; all but one must answer); stored rows are looked up in
// every server's local table (all must answer); an earlier run's inserts are waited out on every server.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/http/clickhouse.hpp"
#include "insert.hpp"

namespace sp::chi {
struct Batch;
}

namespace sp::chi::eo {

using Key = std::pair<std::string, int32_t>;  // topic, partition

// The state table of `table`: TABLE_kafka_offsets in the same database.
std::string state_table(const std::string& table);
// replicated: a ReplicatedReplacingMergeTree whose ZooKeeper path has no {shard}: every server of the
// cluster is a replica of the one state, named '{shard}-{replica}' (unique across the cluster even
// where replica names repeat from shard to shard). Run on each server (no ON CLUSTER: --shard needs no
// cluster name, and a server down meanwhile gets it from the next run).
std::string create_state_sql(const std::string& db, const std::string& table, bool replicated = false);
// The mode spans several servers (--cluster, --shard): the state is replicated, lookups ask them all.
bool on_cluster(const Options& o);
// Where the rows are looked up: the table itself on one server; on a cluster each server's local table
// (--local-table with --shard; TABLE_local, as --create-table --cluster makes it, with --cluster).
std::string rows_table(const Options& o);
// The settings of the intent INSERT: on a cluster insert_quorum=2 (two replicas have the intent before
// the rows go, so every server but one, asked together, still shows it).
std::vector<std::pair<std::string, std::string>> intent_settings(const Options& o, size_t servers);
// max(intent) and the run that wrote it, per partition asked for (18.16: no FINAL needed, argMax is there).
std::string read_state_sql(const std::string& db, const std::string& table, const std::vector<Key>& parts);
// One INSERT of the raised intents of a batch, tagged with the run that wrote them.
std::string intent_insert_sql(const std::string& db, const std::string& table,
                              const std::vector<std::pair<Key, int64_t>>& intents, const std::string& run);
struct Range {
  Key key;
  int64_t first = 0, last = 0;
};
// The coordinates of the rows of the data table within the ranges.
std::string stored_sql(const std::string& db, const std::string& table, const std::vector<Range>& ranges);
// Every query_id of a run's inserts starts with this ("sp-eo-RUN-").
std::string query_id_prefix(const std::string& run);
// How many queries of a run (by query_id prefix) the server is still running, its own and those a
// Distributed insert of it started there (initial_query_id).
std::string running_sql(const std::string& prefix);
std::string new_run_id();  // 12 hex digits, random

// The offsets of one partition in a batch: of its rows (sent) and of every message it accounts for
// (rows, ack markers, rows rejected here), the latter sorted.
struct PartOffsets {
  std::vector<int64_t> rows;
  std::vector<int64_t> all;
};
using BatchOffsets = std::map<Key, PartOffsets>;
BatchOffsets batch_offsets(const Batch& b);

// A raise of a partition's intent reserves this many batches more of its offsets (the span of its
// offsets in the batch that raises it, each): with batches alike, one intent INSERT in kIntentAhead + 1
// batches instead of one per batch (the intent's round trip is in series with the batch). An intent
// above what was sent costs only lookups after a restart (rows up to it are looked up, none found).
constexpr int64_t kIntentAhead = 3;
// A lookup covers the batch's rows and this many spans above its top (up to the intent read), so that
// after a restart one lookup covers the batches of the killed run's reservation, not one each; the
// offsets found above the batch are kept for the batches to come (at most these spans of rows).
constexpr int64_t kLookupAhead = 2 * kIntentAhead;

// What ch-insert knows of each partition in this run. Pure: the resolution rules, unit-tested.
class Tracker {
 public:
  struct Part {
    int64_t intent = -1;  // highest offset sent or reserved by anyone, as far as this run knows (-1: none)
    int64_t read = -1;    // the intent as last read from the state table: rows at or below it may be
                          // stored (this run's own reservations above it are not: it sends them first)
    int64_t checked = -1;  // rows up to it were looked up since the intent was read (-1: none)
    std::string run;      // the run that wrote it ("" none, or this run)
    int64_t last = -1;    // the last offset this run saw of it
    bool known = false;   // intent read from the state table in this run
    bool seen = false;    // last is set
  };
  // Partitions whose intent is to be read before the batch is judged: first seen in this run, or
  // whose offsets do not continue the last one seen without a gap (a rebalance, an upstream restart,
  // a rewind: someone else may have sent them meanwhile).
  std::vector<Key> to_load(const BatchOffsets& b) const;
  void loaded(const Key& k, int64_t intent, const std::string& run);
  // Rows above the intent read are new; those at or below it may be stored: unless looked up already
  // (at or below `checked`), their range is, to the intent read or kLookupAhead spans above the batch.
  std::vector<Range> to_check(const BatchOffsets& b) const;
  // The ranges were looked up: rows up to their ends need no lookup again until the intent is read again.
  void looked_up(const std::vector<Range>& ranges);
  // The intents to write before the batch goes: none while every row is within the intents; else,
  // for every partition of the batch with rows, its highest row offset plus kIntentAhead times the
  // span of its offsets in the batch (all partitions at once: they run out of reserve together).
  std::vector<std::pair<Key, int64_t>> raises(const BatchOffsets& b) const;
  // The batch is handed on: its offsets are the last seen, its raises the intents (written by `run`).
  void sent(const BatchOffsets& b, const std::vector<std::pair<Key, int64_t>>& raised, const std::string& run);
  const Part* part(const Key& k) const;

 private:
  std::map<Key, Part> parts_;
};

// The same query to every server of `c` (its URLs, in turn), once each: the answers of those that
// answered. More than `may_miss` failing (no answer, a retriable error, the table missing there on a
// cluster): the last failure is thrown (ChRequestError) for the caller to retry.
std::vector<std::string> ask_every_server(ClickHouseClient& c, const std::string& sql, size_t may_miss,
                                          const std::vector<std::pair<std::string, std::string>>& params = {});

// Runs the mode for ch-insert's reading thread: each batch, before it is handed to the senders, is
// resolved (prepare). Its own connection (clients are one per thread).
class Resolver {
 public:
  Resolver(const Options& o, const ChConnection& c, std::string run);
  // Reads the intents it needs, looks up the rows at or below them (after `drain`: the batches
  // in flight are stored first; and after another run's inserts left the server), drops the rows
  // found (acknowledged with the batch like markers) and writes the batch's raised intents. Returns
  // the rows dropped as already stored.
  uint64_t prepare(Batch& b, const std::function<void()>& drain);
  const std::string& run() const { return run_; }

 private:
  std::string query(const std::string& sql, const char* what,
                    const std::vector<std::pair<std::string, std::string>>& params = {});
  // ask_every_server, retried like query(); the answers' lines together.
  std::string ask_all(const std::string& sql, const char* what, size_t may_miss);
  void wait_run_gone(const std::string& run);
  uint64_t drop_found(Batch& b, const BatchOffsets& offs);
  const Options& o_;
  ClickHouseClient client_;
  std::string run_;
  Tracker t_;
  // per partition, offsets found stored by a lookup and not yet passed by a batch (sorted): the rows
  // of later batches at or below the partition's `checked` are dropped by them, without a lookup
  std::map<Key, std::vector<int64_t>> found_;
  std::set<std::string> waited_;  // runs whose inserts were waited out
};

// Rows [a, e) of a batch whose INSERT failed with no certain outcome (no answer, a 5xx): how many of
// them the server stored, asked once the failed query (query_id) no longer runs there (waited for at
// most the connection's timeout), on every server of `c` (a cluster: the shard's replicas with --shard,
// every server with --cluster). ChRequestError when a server does not answer: the caller retries.
size_t stored_rows(ClickHouseClient& c, const Options& o, const Batch& b, size_t a, size_t e,
                   const std::string& query_id);

// A message read twice into one batch (upstream went back within it): its later rows are dropped (as
// markers), so it is sent once. Returns how many. `offs`: the batch's batch_offsets, if at hand.
uint64_t drop_repeats(Batch& b, const BatchOffsets* offs = nullptr);

// Drops rows of `b` (drop[i] for row i), keeping their offsets acknowledged as markers.
void drop_rows(Batch& b, const std::vector<char>& drop);

}  // namespace sp::chi::eo
