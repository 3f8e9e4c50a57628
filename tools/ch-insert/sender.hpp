// ch-insert's sending side: the batches the reading thread (run_insert) fills and hands over, and
// the Sender that POSTs them on --parallel threads, splits a batch ClickHouse refused until each bad
// row stands alone, fails over among the endpoints, retries, and writes the acks in batch order.
// Private to ch-insert.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/core/metrics.hpp"
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
  std::vector<std::string> topics;
  Clock::time_point first;
  std::string wire;  // the whole batch's request body, compressed by the reading thread
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

  bool empty() const { return rows.empty() && marks.empty(); }
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
  Histogram& seconds = metrics().histogram("ch_insert_post_seconds", "Duration of INSERT requests",
                                           {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30});
};

// The request body for rows [a, b): the rows themselves (or the seed's VALUES statement), gzip'd
// unless --compression-level 0.
void build_body(const Options& o, const std::string& statement, const Batch& bt, size_t a, size_t b,
                std::string& out);

// Rejected rows: logged, and written to --rejects as JSON lines (with the row's Kafka coordinates
// when it has them). Shared by the reading thread and the sender threads.
class RejectSink {
 public:
  explicit RejectSink(LineWriter* w) : w_(w) {}
  void reject(uint64_t line, std::string_view row, const std::string& error, int code, const Batch* b,
              const RowMeta* m);
  void flush();

 private:
  std::mutex mu_;
  LineWriter* w_;
};

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

  // Blocks while --parallel batches are in flight: this is the backpressure on stdin.
  void submit(std::unique_ptr<Batch> b);
  // Waits for the last batch, stops the threads, rethrows the first failure.
  void finish();

 private:
  struct Done {
    std::vector<std::string> acks;
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
    std::string what;  // "shard N: " in messages, shard-direct only
    Endpoints eps;
    std::vector<EndpointMetrics> m;
  };

  void stop();
  void insert_parts(const std::vector<ClickHouseClient*>& clients, Stats& st, Batch& b);
  void loop(std::vector<ClickHouseClient*> clients);
  void emit_acks_locked();
  std::vector<std::string> ack_lines(const Batch& b);
  void finish_rejects(Stats& st, Batch& bt);
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
  bool closing_ = false;
  std::exception_ptr error_;
  std::map<uint64_t, Done> done_;  // finished batches whose acks wait for earlier ones
  bool acks_failed_ = false;       // the ack output broke: nothing more is written to it
  uint64_t next_ack_ = 1;
};

}  // namespace sp::chi
