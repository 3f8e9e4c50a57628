// ch-insert's sending side: the batches the reading thread (run_insert) fills and hands over, and
// the Sender that POSTs them on --parallel threads, splits a batch ClickHouse refused until each bad
// row stands alone, fails over among the endpoints, retries, and writes the acks in batch order.
// Private to ch-insert.
#pragma once
#include <chrono>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/core/metrics.hpp"
#include "common/rows/acks.hpp"
#include "insert.hpp"

namespace sp::chi {

using Clock = std::chrono::steady_clock;

struct RowMeta {
  uint64_t start;  // offset of the row in Batch::data
  uint64_t line;   // input line number
  int64_t offset;
  int32_t partition;
  int32_t topic;  // index in Batch::topics, -1 without coordinates
  uint32_t shard = 0;  // shard-direct: the row's shard (0-based)
};

struct Batch {
  uint64_t seq = 0;
  std::string data;
  std::vector<RowMeta> rows;
  // Ack markers read with the rows (messages rejected upstream): acknowledged with the batch, never sent.
  struct Mark {
    int32_t topic;  // index in topics
    int32_t partition;
    int64_t offset;
  };
  std::vector<Mark> marks;
  // Rows read with the batch that are stored nowhere: refused (by ClickHouse or here) without a
  // rejects file to keep them. Their partition is acknowledged up to the row before the first one
  // and no further (note_not_stored). topic -1: a row whose coordinates could not be read.
  struct Lost {
    int32_t topic;
    int32_t partition;
    int64_t offset;
    bool in_rows;  // one of `rows` (refused by ClickHouse), counted there too
  };
  std::vector<Lost> lost;
  std::vector<std::string> topics;
  Clock::time_point first;
  std::string wire;  // the whole batch's request body, compressed by the sender thread that took it
  bool wire_binary = false;  // wire holds RowBinary (the text stays in data: a refused batch is split as text)
  bool prepared = false;  // wire (or parts) made already: by the reading thread when --parallel is 1
  // Rows ClickHouse refused, held until the batch is done: when it refused every row, the fault is
  // the table's, not the rows' (see Sender::finish_rejects).
  struct Refused {
    size_t row;
    std::string error;
    int code;
  };
  std::vector<Refused> refused;
  // Shard-direct: the batch's rows split by shard, one part per shard (some maybe empty), each
  // sent to its shard; the batch itself keeps only what its acks need (rows' coordinates, marks).
  std::vector<Batch> parts;

  bool empty() const { return rows.empty() && marks.empty() && lost.empty(); }
  std::string_view row(size_t i) const {
    uint64_t e = i + 1 < rows.size() ? rows[i + 1].start : data.size();
    return std::string_view(data).substr(rows[i].start, e - rows[i].start);
  }
  int32_t topic_index(const std::string& t) {
    if (!topics.empty() && topics.back() == t) return static_cast<int32_t>(topics.size() - 1);
    for (size_t i = 0; i < topics.size(); ++i)
      if (topics[i] == t) return static_cast<int32_t>(i);
    topics.push_back(t);
    return static_cast<int32_t>(topics.size() - 1);
  }
};

struct Metrics {
  Counter& rows_in = metrics().counter("ch_insert_rows_read_total", "Rows read from stdin");
  Counter& inserted = metrics().counter("ch_insert_rows_inserted_total", "Rows confirmed by ClickHouse");
  Counter& rejected = metrics().counter("ch_insert_rows_rejected_total", "Rows refused (by ClickHouse or locally)");
  Counter& batches = metrics().counter("ch_insert_batches_total", "Batches completed");
  Counter& posts = metrics().counter("ch_insert_posts_total", "INSERT requests sent (incl. retries and splits)");
  Counter& retries = metrics().counter("ch_insert_retries_total", "Requests retried after a temporary failure");
  Counter& bytes_sent = metrics().counter("ch_insert_bytes_sent_total", "Request bytes sent (compressed)");
  Counter& already = metrics().counter("ch_insert_rows_already_stored_total",
                                       "--exactly-once: rows found stored by an earlier run, acknowledged and not sent");
  Counter& text_batches = metrics().counter("ch_insert_text_batches_total",
                                             "Batches (shard parts) sent as TSV text, not RowBinary: a row did not encode");
  Histogram& seconds = metrics().histogram("ch_insert_post_seconds", "Duration of INSERT requests",
                                           {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30});
};

// An empty batch's buffers reserved for --batch-bytes and --batch-rows.
void reserve_batch(const Options& o, Batch& b);
// Shard-direct: the batch's rows copied into one part per shard (in input order within each).
void split_parts(Batch& b, size_t shards);
// The input's last batch cut into `pieces` batches of consecutive rows (in order; the others from
// make()), so that their INSERTs run at once: marks go with the last piece, rows stored nowhere
// stay with the first (the acks of the pieces, taken in order, are then those of the one batch).
std::vector<std::unique_ptr<Batch>> cut_last(std::unique_ptr<Batch> b, size_t pieces,
                                             const std::function<std::unique_ptr<Batch>()>& make);

// The request body for rows [a, b): the rows themselves (or the seed's VALUES statement), gzip'd
// unless --compression-level 0. binary (with Options::row_binary): the rows encoded as RowBinary,
// returning true; a row that does not encode leaves the body text (false) and says why in *why.
bool build_body(const Options& o, const std::string& statement, const Batch& bt, size_t a, size_t b,
                std::string& out, bool binary = false, std::string* why = nullptr);

// Rejected rows: logged, and written to --rejects as JSON lines (with the row's Kafka coordinates
// when it has them). Shared by the reading thread and the sender threads.
class RejectSink {
 public:
  explicit RejectSink(LineWriter* w) : w_(w) {}
  // at: the row's Kafka coordinates, null when it has none (or they could not be read)
  void reject(uint64_t line, std::string_view row, const std::string& error, int code, const Ack* at);
  void flush();
  bool keeps() const { return w_ != nullptr; }  // rejects go to a file (--rejects)

 private:
  std::mutex mu_;
  LineWriter* w_;
};

// The one rule for a row that is not stored, whoever refused it (ClickHouse, or the checks of the
// reading thread): in the rejects file (kept) it is delivered, so its offset is acknowledged like a
// stored row's; kept nowhere, its partition is held back from its offset on (b.lost), for the rest of
// the run, so kafka-cat-sensor never commits past it. `at` null: the row's coordinates are unknown,
// so every partition is held back (when kept, there is nothing to acknowledge). row_in_batch: the
// row is one of b.rows (refused by ClickHouse), acknowledged as such when kept.
void note_not_stored(Batch& b, bool kept, const Ack* at, bool row_in_batch = false);

// Sends batches on --parallel threads, each with its own connection, while the reading thread
// fills the next batch. Acks are written in batch order: a batch's offsets are acknowledged only
// once it and every batch before it are done, so a failure never acks past unconfirmed rows.
class Sender {
 public:
  Sender(const Options& o, const ServerCaps& caps, const std::string& statement, ClickHouseClient* client,
         Outputs& out, RejectSink& rej, Stats& st, Metrics& m);
  // Stops the threads once the batches submitted are done (after a failure, those still queued are
  // dropped unsent) and leaves the endpoints' stats in st.
  ~Sender();

  // An empty batch for the reading thread to fill, with the buffers of a batch already sent when
  // there is one: ~17 MiB reserved per batch are reused, not mapped and faulted in again each time.
  std::unique_ptr<Batch> new_batch();
  // Blocks while --parallel batches are in flight: this is the backpressure on stdin. The sender
  // thread that takes the batch compresses it.
  void submit(std::unique_ptr<Batch> b);
  // Waits for the last batch, stops the threads, rethrows the first failure.
  void finish();
  // Waits until every batch submitted is done (stored or failed); rethrows the first failure.
  // --exactly-once looks up stored rows only once this run's own are.
  void drain();

 private:
  // What a finished batch acknowledges, per topic/partition: the highest offset below its first row
  // stored nowhere (-1: none), that row's offset (-1: none), and how many offsets it held back.
  struct PartAck {
    std::string topic;
    int32_t partition = 0;
    int64_t ack = -1, first_lost = -1;
    uint64_t offsets = 0, held = 0;
  };
  struct Done {
    std::vector<PartAck> parts;
    bool unknown_lost = false;  // a row stored nowhere whose partition is unknown
    uint64_t lost = 0;          // rows stored nowhere
    bool ok = false;
  };
  struct EndpointMetrics {
    Counter &rows, &inserts, &failures;
  };
  // Where a batch (or a shard's part of it) goes: the statement and the endpoints that can take it.
  struct Route {
    Route(std::vector<std::string> urls, bool balance, std::chrono::milliseconds max_rest)
        : eps(std::move(urls), balance, std::chrono::seconds(1), max_rest) {}
    std::string statement;
    std::string statement_rb;  // for a RowBinary body (Options::row_binary)
    std::string what;  // "shard N: " in messages, shard-direct only
    Endpoints eps;
    std::vector<EndpointMetrics> m;
  };

  void stop();
  void prepare(Batch& b);
  void make_wire(Batch& b);
  void recycle(std::unique_ptr<Batch> b);
  void recycle_data(std::string& data);
  void insert_parts(const std::vector<ClickHouseClient*>& clients, Stats& st, Batch& b);
  void loop(std::vector<ClickHouseClient*> clients);
  void queue_acks_locked();
  void write_acks();
  static Done ack_plan(const Batch& b);
  void finish_rejects(Stats& st, Batch& bt, Batch& owner);
  void insert_range(ClickHouseClient* client, Route& route, Stats& st, Batch& bt, size_t a, size_t b, int depth);
  void post(ClickHouseClient* client, Route& route, Stats& st, const Batch& bt, size_t a, size_t b);

  const Options& o_;
  const ServerCaps caps_;
  Outputs& out_;
  RejectSink& rej_;
  Stats& st_;
  Metrics& m_;
  std::vector<std::unique_ptr<Route>> routes_;
  std::vector<std::unique_ptr<ClickHouseClient>> owned_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Batch>> queue_;
  int in_flight_ = 0;  // queued + being sent
  std::atomic<uint64_t> posts_seq_{0};  // --exactly-once: numbers each POST's query_id
  bool closing_ = false;
  std::exception_ptr error_;
  std::map<uint64_t, Done> done_;  // finished batches whose acks wait for earlier ones
  uint64_t next_ack_ = 1;
  std::unique_ptr<AckWriter> acks_;  // null without an ack output
  // Partitions held back (by topic, partition: the offset of the first row stored nowhere), or all
  // of them after a row stored nowhere whose coordinates are unknown.
  std::map<std::pair<std::string, int32_t>, int64_t> held_;
  bool held_all_ = false;
  bool held_all_said_ = false;
  // Buffers for new_batch(): batches done, and the raw rows of batches compressed (kept apart: a
  // batch in flight holds only its compressed body). At most --parallel + 1 of each.
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Batch>> spare_batches_;
  std::vector<std::string> spare_data_;
};

}  // namespace sp::chi
