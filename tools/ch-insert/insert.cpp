#include "insert.hpp"

#include <poll.h>

#include <chrono>
#include <deque>
#include <condition_variable>
#include <map>
#include <optional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/codec/compress.hpp"
#include "common/rows/acks.hpp"
#include "common/core/log.hpp"
#include "common/core/metrics.hpp"
#include "common/core/progress.hpp"
#include "common/core/retry.hpp"
#include "common/core/signals.hpp"
#include "common/rows/row_input.hpp"
#include "shards.hpp"

namespace sp::chi {

Retry::Budget retry_budget(const Options& o) {
  Retry::Budget b;
  b.initial = std::chrono::milliseconds(static_cast<int64_t>(o.retry_initial_seconds * 1000));
  b.max = std::chrono::milliseconds(static_cast<int64_t>(o.retry_max_delay_seconds * 1000));
  b.max_retries = o.retries;
  return b;
}

namespace {

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

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// The request body for rows [a, b): the rows themselves (or the seed's VALUES statement), gzip'd
// unless --compression-level 0.
void build_body(const Options& o, const std::string& statement, const Batch& bt, size_t a, size_t b,
                std::string& out) {
  std::string raw;
  std::string_view body;
  if (o.format == RowFormat::values) {
    raw.reserve(statement.size() + (b < bt.rows.size() ? bt.rows[b].start : bt.data.size()) - bt.rows[a].start +
                2 * (b - a) + 2);
    raw = statement;
    raw += '\n';
    for (size_t i = a; i < b; ++i) {
      raw += bt.row(i);
      raw += i + 1 < b ? ",\n" : "\n";
    }
    body = raw;
  } else {
    uint64_t s = bt.rows[a].start, e = b < bt.rows.size() ? bt.rows[b].start : bt.data.size();
    body = std::string_view(bt.data).substr(s, e - s);
  }
  out.clear();
  if (o.gzip_level > 0)
    codec::gzip_compress(body, out, o.gzip_level);
  else
    out.assign(body.data(), body.size());
}

class RejectSink {
 public:
  explicit RejectSink(LineWriter* w) : w_(w) {}
  void reject(uint64_t line, std::string_view row, const std::string& error, int code, const Batch* b,
              const RowMeta* m) {
    std::lock_guard<std::mutex> lk(mu_);
    // ClickHouse's message quotes the row's bytes: escaped, so input never drives the terminal
    log::warn("line ", line, ": rejected: ", log::printable(error, 500));
    if (!w_) return;
    std::string s = "{\"line\":" + std::to_string(line) + ",\"error\":";
    append_json_string(s, error);
    if (code) s += ",\"code\":" + std::to_string(code);
    if (b && m && m->topic >= 0) {
      s += ",\"topic\":";
      append_json_string(s, b->topics[static_cast<size_t>(m->topic)]);
      s += ",\"partition\":" + std::to_string(m->partition) + ",\"offset\":" + std::to_string(m->offset);
    }
    s += ",\"row\":";
    while (!row.empty() && row.back() == '\n') row.remove_suffix(1);
    append_json_string(s, row);
    s += '}';
    w_->line(s);
  }
  void flush() {
    std::lock_guard<std::mutex> lk(mu_);
    if (w_) w_->flush();
  }

 private:
  std::mutex mu_;
  LineWriter* w_;
};

// Sends batches on --parallel threads, each with its own connection, while the reading thread
// fills the next batch. Acks are written in batch order: a batch's offsets are acknowledged only
// once it and every batch before it are done, so a failure never acks past unconfirmed rows.
class Sender {
 public:
  Sender(const Options& o, const ServerCaps& caps, const std::string& statement, ClickHouseClient* client, Outputs& out,
         RejectSink& rej, Stats& st, Metrics& m)
      : o_(o), caps_(caps), out_(out), rej_(rej), st_(st), m_(m) {
    // one route (the --url endpoints, into --table), or one per --shard (its replicas, into the local table)
    std::vector<std::vector<std::string>> lists = o.shards;
    if (lists.empty()) lists.push_back(client->connection().urls);
    const auto max_rest = std::chrono::milliseconds(static_cast<int64_t>(std::max(1.0, o.retry_max_delay_seconds) * 1000));
    for (size_t r = 0; r < lists.size(); ++r) {
      auto route = std::make_unique<Route>(lists[r], o.balance, max_rest);
      route->statement = statement;
      if (!o.shards.empty()) route->what = "shard " + std::to_string(r + 1) + ": ";
      for (size_t i = 0; i < route->eps.size(); ++i) {
        std::string l = label("url", url_for_log(route->eps.url(i)));
        if (!o.shards.empty()) l = label("shard", std::to_string(r + 1)) + "," + l;
        route->m.push_back(
            {metrics().counter("ch_insert_endpoint_rows_total", "Rows confirmed, per endpoint (--url, or a --shard's)", l),
             metrics().counter("ch_insert_endpoint_inserts_total", "INSERT requests confirmed, per endpoint (--url, or a --shard's)", l),
             metrics().counter("ch_insert_endpoint_failures_total",
                               "Requests that failed (no answer, 5xx, retriable code), per endpoint (--url, or a --shard's)", l)});
      }
      routes_.push_back(std::move(route));
    }
    int n = std::max(1, o.parallel);
    for (int i = 0; i < n; ++i) {
      std::vector<ClickHouseClient*> clients;
      for (size_t r = 0; r < routes_.size(); ++r) {
        // the first worker uses the caller's client (its failover position is already right)
        if (i == 0 && o.shards.empty()) {
          clients.push_back(client);
          continue;
        }
        ChConnection c = client->connection();
        if (!o.shards.empty()) c.urls = o.shards[r];
        owned_.push_back(std::make_unique<ClickHouseClient>(c));
        clients.push_back(owned_.back().get());
      }
      threads_.emplace_back([this, clients] { loop(clients); });
    }
  }
  ~Sender() {
    stop();
    st_.endpoints.clear();
    for (size_t r = 0; r < routes_.size(); ++r)
      for (auto& e : routes_[r]->eps.stats()) {
        e.shard = o_.shards.empty() ? 0 : r + 1;
        st_.endpoints.push_back(std::move(e));
      }
  }

  // Blocks while --parallel batches are in flight: this is the backpressure on stdin.
  void submit(std::unique_ptr<Batch> b) {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return in_flight_ < std::max(1, o_.parallel) || error_; });
    if (error_) std::rethrow_exception(error_);
    ++in_flight_;
    queue_.push_back(std::move(b));
    cv_.notify_all();
  }
  // Waits for the last batch, stops the threads, rethrows the first failure.
  void finish() {
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return in_flight_ == 0 || error_; });
    }
    stop();
    if (error_) std::rethrow_exception(error_);
  }

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

  void stop() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      closing_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

  // A batch's parts go to their shards at once, one thread each; the batch is done (and acknowledged)
  // only when every part is stored.
  void insert_parts(const std::vector<ClickHouseClient*>& clients, Stats& st, Batch& b) {
    std::vector<Stats> ls(b.parts.size());
    std::vector<std::exception_ptr> errs(b.parts.size());
    auto run = [&](size_t i) {
      Batch& p = b.parts[i];
      if (p.rows.empty()) return;
      try {
        insert_range(clients[i], *routes_[i], ls[i], p, 0, p.rows.size(), 0);
      } catch (...) {
        errs[i] = std::current_exception();
      }
    };
    std::vector<std::thread> th;
    for (size_t i = 1; i < b.parts.size(); ++i)
      if (!b.parts[i].rows.empty()) th.emplace_back(run, i);
    run(0);
    for (auto& t : th) t.join();
    for (const auto& l : ls) {
      st.inserted += l.inserted;
      st.posts += l.posts;
      st.retries += l.retries;
      st.bytes_sent += l.bytes_sent;
    }
    for (auto& e : errs)
      if (e) std::rethrow_exception(e);
    for (auto& p : b.parts) finish_rejects(st, p);
  }

  void loop(std::vector<ClickHouseClient*> clients) {
    for (;;) {
      std::unique_ptr<Batch> b;
      {
        std::unique_lock<std::mutex> lk(mu_);
        // after a failure, batches still queued are dropped unsent (never acknowledged)
        cv_.wait(lk, [&] { return !queue_.empty() || closing_ || error_; });
        if (queue_.empty() || error_) return;
        b = std::move(queue_.front());
        queue_.pop_front();
      }
      Stats local;
      Done done;
      std::exception_ptr err;
      try {
        if (b->parts.empty()) {
          insert_range(clients[0], *routes_[0], local, *b, 0, b->rows.size(), 0);
          finish_rejects(local, *b);
        } else {
          insert_parts(clients, local, *b);
        }
        rej_.flush();  // rejects are on disk before their offsets are acknowledged
        done.acks = ack_lines(*b);
        done.ok = true;
      } catch (...) {
        err = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lk(mu_);
        st_.inserted += local.inserted;
        st_.rejected += local.rejected;
        st_.posts += local.posts;
        st_.retries += local.retries;
        st_.bytes_sent += local.bytes_sent;
        if (err && !error_) error_ = err;
        if (done.ok) {
          ++st_.batches;
          m_.batches.inc();
          done_[b->seq] = std::move(done);
          emit_acks_locked();
        }
        --in_flight_;
      }
      b.reset();
      cv_.notify_all();
    }
  }

  // Writes the acks of every finished batch that has no unfinished batch before it. Runs on a
  // sender thread, so a failed write (the reader closed stdout, the disk is full) must not escape:
  // it becomes the run's error, later acks are dropped, and no batch is sent again.
  void emit_acks_locked() {
    while (!acks_failed_ && !done_.empty() && done_.begin()->first == next_ack_) {
      Done d = std::move(done_.begin()->second);
      done_.erase(done_.begin());
      ++next_ack_;
      if (!out_.acks || d.acks.empty()) continue;
      try {
        for (const auto& l : d.acks) out_.acks->line(l);
        out_.acks->flush();  // a FIFO reader (kafka-cat-sensor) commits as soon as it sees the line
      } catch (const BrokenPipe&) {
        acks_failed_ = true;
        log::info("the acks' reader closed its end: stopping (rows not acknowledged are read again upstream)");
        if (!error_) error_ = std::current_exception();
      } catch (const Error& e) {
        acks_failed_ = true;
        if (!error_) error_ = std::make_exception_ptr(IoError(std::string("cannot write acks: ") + e.what()));
      }
    }
  }

  std::vector<std::string> ack_lines(const Batch& b) {
    std::vector<std::string> lines;
    std::map<std::pair<int32_t, int32_t>, int64_t> hi;
    auto note = [&](int32_t topic, int32_t partition, int64_t offset) {
      auto [it, fresh] = hi.try_emplace({topic, partition}, offset);
      if (!fresh && offset > it->second) it->second = offset;
    };
    for (const auto& r : b.rows)
      if (r.topic >= 0) note(r.topic, r.partition, r.offset);
    for (const auto& k : b.marks) note(k.topic, k.partition, k.offset);
    std::map<std::pair<std::string, int32_t>, int64_t> sorted;
    for (const auto& [k, v] : hi) sorted[{b.topics[static_cast<size_t>(k.first)], k.second}] = v;
    for (const auto& [k, v] : sorted) lines.push_back(ack_line(k.first, k.second, v));
    return lines;
  }

  // Inserts rows [a, b); a refused range is split until each bad row stands alone.
  // Rows of a batch that passed the schema check all refused by ClickHouse: the table does not fit
  // the schema (a column's type, say), and every later row would be refused too. Stop instead of
  // draining the stream into the rejects file; nothing of the batch is acknowledged.
  void finish_rejects(Stats& st, Batch& bt) {
    if (bt.refused.size() >= 2 && bt.refused.size() == bt.rows.size())
      throw DataError("ClickHouse refused every one of the " + std::to_string(bt.rows.size()) +
                      " rows of batch " + std::to_string(bt.seq) + " (first: " +
                      log::printable(bt.refused.front().error, 300) +
                      "): the table's columns do not fit the schema? Nothing of it was acknowledged; "
                      "compare the table with the DDL of --dry-run --create-table");
    for (const auto& r : bt.refused) {
      ++st.rejected;
      m_.rejected.inc();
      rej_.reject(bt.rows[r.row].line, bt.row(r.row), r.error, r.code, &bt, &bt.rows[r.row]);
    }
    bt.refused.clear();
  }

  void insert_range(ClickHouseClient* client, Route& route, Stats& st, Batch& bt, size_t a, size_t b, int depth) {
    while (a < b) {
      try {
        post(client, route, st, bt, a, b);
        st.inserted += b - a;
        m_.inserted.inc(static_cast<double>(b - a));
        return;
      } catch (const ChRequestError& e) {
        if (e.error().kind != ChErrorKind::data) throw;
        if (bt.data.empty() && !bt.rows.empty()) {
          bt.data = codec::gunzip(bt.wire, "a batch");  // the raw rows were dropped after compression; rare path
          bt.wire.clear();
        }
        if (b - a == 1) {
          bt.refused.push_back({a, e.error().detail, e.error().code});
          return;
        }
        log::debug("rows ", a, "..", b, " of batch ", bt.seq, " refused (", log::printable(e.error().message, 200),
                   "): splitting");
        // ClickHouse parses rows in order, so the rows before the one it names were fine: insert
        // them, try the named row alone, go on with the rest. Without a usable hint, bisect.
        auto hint = ch_error_row(e.error().detail);
        if (hint && *hint >= 1 && *hint <= b - a && depth < 32) {
          size_t bad = a + static_cast<size_t>(*hint) - 1;
          if (bad > a) insert_range(client, route, st, bt, a, bad, depth + 1);
          insert_range(client, route, st, bt, bad, bad + 1, depth + 1);
          a = bad + 1;
        } else {
          size_t mid = a + (b - a) / 2;
          insert_range(client, route, st, bt, a, mid, depth + 1);
          a = mid;
        }
      }
    }
  }

  void post(ClickHouseClient* client, Route& route, Stats& st, const Batch& bt, size_t a, size_t b) {
    const std::string& statement_ = route.statement;
    Endpoints& eps_ = route.eps;
    std::string built;
    std::string_view body;
    if (a == 0 && b == bt.rows.size() && !bt.wire.empty()) {
      body = bt.wire;
    } else if (o_.gzip_level == 0 && o_.format != RowFormat::values) {
      uint64_t s = bt.rows[a].start, e = b < bt.rows.size() ? bt.rows[b].start : bt.data.size();
      body = std::string_view(bt.data).substr(s, e - s);  // uncompressed: the rows as they are
    } else {
      build_body(o_, statement_, bt, a, b, built);
      body = built;
    }
    const auto params = insert_params(o_, caps_, statement_, body, b - a);

    Retry retry(retry_budget(o_));
    for (;;) {
      auto t0 = Clock::now();
      const size_t ep = eps_.pick(t0);
      client->use(ep);
      try {
        ++st.posts;
        m_.posts.inc();
        HttpResponse r = client->post(params, body, o_.gzip_level > 0);
        m_.seconds.observe(std::chrono::duration<double>(Clock::now() - t0).count());
        st.bytes_sent += body.size();
        m_.bytes_sent.inc(static_cast<double>(body.size()));
        check_summary(r, b - a);
        eps_.succeeded(ep, b - a);
        route.m[ep].rows.inc(static_cast<double>(b - a));
        route.m[ep].inserts.inc();
        return;
      } catch (const ChRequestError& e) {
        const ChError& err = e.error();
        // A syntax error is about the rows only when they are SQL (VALUES); otherwise it is our
        // statement, and splitting would wrongly reject every row one by one.
        if (err.kind == ChErrorKind::data && err.code == 62 && o_.format != RowFormat::values)
          throw DataError("ClickHouse refused the INSERT statement: " + err.message);
        switch (err.kind) {
          case ChErrorKind::data:
          case ChErrorKind::tls:
          case ChErrorKind::foreign: throw;
          case ChErrorKind::auth:
            throw AuthError("ClickHouse refused user '" + client->connection().user + "': " + err.message +
                            " (check --user, CLICKHOUSE_USER and the password source)");
          case ChErrorKind::missing:
            throw NoInputError(err.message + " (create it with --create-table, or check --database/--table)");
          case ChErrorKind::permanent:
            throw DataError("ClickHouse refused the insert: " + err.message);
          case ChErrorKind::transport:
          case ChErrorKind::retriable: break;
        }
        if (retry.spent())
          throw TempFailError(route.what + "ClickHouse still failing after " + std::to_string(retry.retries()) +
                              " retries: " + err.message);
        {
          std::lock_guard<std::mutex> lk(mu_);
          if (error_) throw Error(Exit::tempfail, "abandoned: another batch failed");
        }
        // This endpoint rests; when another one does not, the retry goes there at once (the same
        // body: a replicated table drops the block if the failed request did store it after all).
        eps_.failed(ep, Clock::now());
        route.m[ep].failures.inc();
        ++st.retries;
        m_.retries.inc();
        if (eps_.any_healthy(Clock::now(), ep)) {
          retry.next();  // counts the attempt against --retries
          log::warn(route.what, err.message, "; retry ", retry.retries(),
                    o_.retries >= 0 ? "/" + std::to_string(o_.retries) : std::string(), " on another endpoint (",
                    url_for_log(eps_.url(ep)), " rests)");
          continue;
        }
        auto d = retry.next();
        log::warn(route.what, err.message, "; retry ", retry.retries(),
                  o_.retries >= 0 ? "/" + std::to_string(o_.retries) : std::string(), " in ", d.count(), " ms");
        retry.wait(d, "interrupted while waiting to retry: " + err.message);
      }
    }
  }

  // Newer servers say how many rows they wrote; 18.x sends no summary.
  void check_summary(const HttpResponse& r, size_t expected) {
    std::string s = r.header("x-clickhouse-summary");
    if (s.empty()) return;
    auto j = nlohmann::json::parse(s, nullptr, false);
    if (j.is_discarded() || !j.contains("written_rows")) return;
    std::string w = j["written_rows"].is_string() ? j["written_rows"].get<std::string>() : j["written_rows"].dump();
    if (w != std::to_string(expected))
      log::warn("ClickHouse reports ", w, " rows written for ", expected, " sent (deduplicated or materialized views?)");
  }

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

// Waits until stdin has data or the deadline passes; false on timeout.
bool wait_readable(int fd, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) return true;  // let read() report the error
    if (stop_requested()) return true;
  }
}

}  // namespace

std::vector<std::pair<std::string, std::string>> insert_params(const Options& o, const ServerCaps& caps,
                                                              const std::string& statement, std::string_view body,
                                                              size_t rows) {
  std::vector<std::pair<std::string, std::string>> params;
  if (o.format != RowFormat::values) params.emplace_back("query", statement);
  if (o.best_effort_dates) params.emplace_back("date_time_input_format", "best_effort");
  // One block per POST, so a refused POST leaves nothing behind (all or nothing).
  params.emplace_back("max_insert_block_size", std::to_string(std::max<uint64_t>(rows, 1048576)));
  if (caps.serial_parsing) params.emplace_back("input_format_parallel_parsing", "0");
  // Into a Distributed table, a 200 would otherwise mean "spooled on the server that took it", to
  // be forwarded later: a crash of that server loses acknowledged rows. Synchronously, the 200 comes
  // once every shard's replicated table has the rows (and a retry of the same block is deduplicated).
  // Shard-direct (--shard) writes into the local tables: nothing to forward.
  if (!o.cluster.empty() && o.shards.empty()) params.emplace_back("insert_distributed_sync", "1");
  if (caps.dedup_token)
    params.emplace_back("insert_deduplication_token", hex64(fnv1a(body)) + "-" + std::to_string(rows));
  return params;
}

std::string insert_statement(RowFormat f, const std::string& database, const std::string& table,
                             const std::vector<std::string>& columns, bool keep_coordinates) {
  std::string target = (database.empty() || database == "default" ? "" : ch_identifier(database) + ".") +
                       ch_identifier(table);
  if (f == RowFormat::values) return "INSERT INTO " + target + " VALUES";
  std::string s = "INSERT INTO " + target + " (";
  for (size_t i = 0; i < columns.size(); ++i) s += (i ? ", " : "") + ch_identifier(columns[i]);
  if (keep_coordinates) s += ", _topic, _partition, _offset";
  s += ") FORMAT ";
  s += clickhouse_format_name(f);
  return s;
}

void run_insert(const Options& o, const Schema& schema, ClickHouseClient* client, LineReader& in, Outputs& out,
                Stats& st, const ServerCaps& caps) {
  Metrics m;
  RejectSink rej(out.rejects);
  const bool sharded = !o.shards.empty();
  const std::string statement = insert_statement(o.format, o.database, sharded ? o.local_table : o.table,
                                                 schema.column_names(), o.keep_coordinates);
  const RowShape shape = RowShape::of(schema);
  std::unique_ptr<ShardRouter> router;
  size_t key_col = 0;
  if (sharded) {
    std::vector<uint32_t> w = caps.shard_weights;
    if (w.empty()) w.assign(o.shards.size(), 1);  // a dry run reads no cluster definition
    router = std::make_unique<ShardRouter>(w);
    while (key_col < shape.columns.size() && shape.columns[key_col] != o.shard_key) ++key_col;
    if (key_col == shape.columns.size()) throw UsageError("--shard-key '" + o.shard_key + "': not a column of the schema");
  }
  std::unique_ptr<Sender> sender;
  if (!o.dry_run) sender = std::make_unique<Sender>(o, caps, statement, client, out, rej, st, m);

  Progress progress("rows");
  uint64_t seq = 0;
  auto new_batch = [&] {
    auto b = std::make_unique<Batch>();
    // Reserved whole (untouched pages cost no memory), so the buffer never reallocates and
    // copies while it fills.
    b->data.reserve(static_cast<size_t>(o.batch_bytes + o.max_line + 2));
    b->rows.reserve(static_cast<size_t>(std::min<uint64_t>(o.batch_rows, 1u << 20)));
    return b;
  };
  auto batch = new_batch();
  // Shard-direct: the batch's rows copied into one part per shard (in input order within each).
  auto split_parts = [&](Batch& b) {
    b.parts.resize(o.shards.size());
    // sized first, so that no part's buffer grows (and copies) while it fills
    std::vector<size_t> bytes(b.parts.size()), rows(b.parts.size());
    for (size_t i = 0; i < b.rows.size(); ++i) {
      bytes[b.rows[i].shard] += b.row(i).size();
      ++rows[b.rows[i].shard];
    }
    for (size_t k = 0; k < b.parts.size(); ++k) {
      Batch& p = b.parts[k];
      p.seq = b.seq;
      p.topics = b.topics;
      p.first = b.first;
      p.data.reserve(bytes[k]);
      p.rows.reserve(rows[k]);
    }
    for (size_t i = 0; i < b.rows.size(); ++i) {
      Batch& p = b.parts[b.rows[i].shard];
      RowMeta m = b.rows[i];
      m.start = p.data.size();
      p.data += b.row(i);
      p.rows.push_back(m);
    }
  };
  auto dry_send = [&](Batch& b) {
    if (sharded) {
      out.dry_run->write("-- batch " + std::to_string(b.seq) + ": " + std::to_string(b.rows.size()) + " rows\n");
      split_parts(b);
      for (size_t k = 0; k < b.parts.size(); ++k) {
        const Batch& p = b.parts[k];
        if (p.rows.empty()) continue;
        std::string urls;
        for (const auto& u : o.shards[k]) urls += (urls.empty() ? "" : ", ") + url_for_log(u);
        out.dry_run->write("-- shard " + std::to_string(k + 1) + " (" + urls + "): " + std::to_string(p.rows.size()) +
                           " rows\n" + statement + "\n");
        out.dry_run->write(p.data);
      }
      st.inserted += b.rows.size();
      ++st.batches;
      return;
    }
    std::string s = "-- batch " + std::to_string(b.seq) + ": " + std::to_string(b.rows.size()) + " rows\n";
    if (o.format != RowFormat::values) s += statement + "\n";
    out.dry_run->write(s);
    if (o.format == RowFormat::values) {
      out.dry_run->line(statement);
      for (size_t i = 0; i < b.rows.size(); ++i) {
        out.dry_run->write(b.row(i));
        out.dry_run->write(i + 1 < b.rows.size() ? ",\n" : ";\n");
      }
    } else {
      out.dry_run->write(b.data);
    }
    st.inserted += b.rows.size();  // "would be inserted"
    ++st.batches;
  };
  auto flush = [&] {
    if (batch->empty()) return;
    if (o.dry_run) {  // nothing is acknowledged: markers only go
      if (!batch->rows.empty()) {
        batch->seq = ++seq;
        dry_send(*batch);
      }
      batch = std::make_unique<Batch>();
      return;
    }
    batch->seq = ++seq;
    if (sharded) {
      // Each part compressed here, as a whole batch is below; the batch keeps its rows' coordinates.
      split_parts(*batch);
      std::string().swap(batch->data);
      for (auto& p : batch->parts) {
        if (p.rows.empty() || o.gzip_level == 0) continue;
        build_body(o, statement, p, 0, p.rows.size(), p.wire);
        std::string().swap(p.data);
      }
      sender->submit(std::move(batch));
      batch = new_batch();
      return;
    }
    // Compressed here, so the sender thread only waits on the network and the next batch's
    // reading overlaps the server's parsing of this one.
    if (!batch->rows.empty() && (o.gzip_level > 0 || o.format == RowFormat::values))
      build_body(o, statement, *batch, 0, batch->rows.size(), batch->wire);
    // The compressed body is all a batch needs in flight; the raw rows are rebuilt from it in the
    // rare case ClickHouse refuses the batch and it must be split. Halves the memory per batch.
    if (o.gzip_level > 0 && o.format != RowFormat::values) std::string().swap(batch->data);
    sender->submit(std::move(batch));
    batch = new_batch();
  };

  Line line;
  RowCoords c;
  std::string why, shard_key;
  uint64_t local_rejects = 0;  // merged into st after the sender threads are joined
  bool seen_row = false;       // a row (accepted or refused) was read before this one
  const auto window = std::chrono::microseconds(static_cast<int64_t>(o.batch_seconds * 1e6));
  try {
    for (;;) {
      if (!batch->empty() && in.fd() >= 0 && !in.line_buffered()) {
        if (!wait_readable(in.fd(), batch->first + window)) {
          flush();
          continue;
        }
      }
      if (stop_requested()) break;
      if (!in.next(line)) break;
      ++st.rows_in;
      st.bytes_in += line.full_size + 1;
      progress.update(st.rows_in, st.bytes_in);
      if (line.overlong) {
        m.rows_in.inc();
        ++local_rejects;
        m.rejected.inc();
        rej.reject(line.number, line.text,
                   "line longer than " + std::to_string(o.max_line) + " bytes (" + std::to_string(line.full_size) +
                       "): not sent",
                   0, nullptr, nullptr);
        continue;
      }
      uint64_t start = batch->data.size();
      RowStatus rs = split_row(o.format, line.text, shape, o.keep_coordinates, batch->data, c, why);
      if (line.unterminated && (o.format == RowFormat::tsv || o.format == RowFormat::csv) && rs == RowStatus::row) {
        rs = RowStatus::invalid;
        why = cut_row_why(o.format == RowFormat::tsv ? "TSV" : "CSV");
      }
      if (rs == RowStatus::skip) {
        --st.rows_in;  // not a row
        continue;
      }
      // A marker cut short by a killed sensor-parse may have lost digits of its offset: a torn line
      // like any other. Its message is read again upstream.
      if (rs == RowStatus::marker && line.unterminated) {
        rs = RowStatus::invalid;
        why = "an ack marker";
      }
      if (rs == RowStatus::marker) {
        // a message rejected upstream and kept in its rejects file: acknowledged with this batch
        // (so never before the rows read before it), nothing sent
        --st.rows_in;
        batch->data.resize(start);
        if (batch->empty()) batch->first = Clock::now();
        batch->marks.push_back({batch->topic_index(c.topic), c.partition, c.offset});
        continue;
      }
      m.rows_in.inc();
      if (rs == RowStatus::invalid) {
        batch->data.resize(start);
        // The first row of the input, refused for its columns: whoever wrote the rows used another
        // schema (sensor-parse --schema vs ch-insert's), and every row would follow it into the
        // rejects. Later rows with wrong columns are rejects like any other bad row.
        // a piece of a row whose writer was killed (a pipeline being restarted) is no schema fault
        if (line.unterminated) why = torn_line_reason(why);
        if (!seen_row && !line.unterminated && is_column_mismatch(why))
          throw ConfigError("line " + std::to_string(line.number) + ": " + why + ": the rows do not have the "
                            "schema's columns (it has " + std::to_string(shape.columns.size()) +
                            "); do sensor-parse and ch-insert use the same schema (--schema, SENSOR_SCHEMA, "
                            "[schema] file)?");
        seen_row = true;
        ++local_rejects;
        m.rejected.inc();
        rej.reject(line.number, line.text, why, 0, nullptr, nullptr);
        continue;
      }
      seen_row = true;
      if (batch->rows.empty()) {
        if (batch->marks.empty()) batch->first = Clock::now();
        log::debug("batch ", seq + 1, " starts at line ", line.number);
      }
      RowMeta meta{start, line.number, 0, 0, -1};
      if (router) {
        if (!row_string_field(o.format, std::string_view(batch->data).substr(start), shape, key_col, shard_key)) {
          // ClickHouse would hash a number or NULL otherwise than the text: no shard to be sure of
          batch->data.resize(start);
          ++local_rejects;
          m.rejected.inc();
          rej.reject(line.number, line.text, "no string in the shard key column '" + o.shard_key + "'", 0, nullptr, nullptr);
          continue;
        }
        meta.shard = static_cast<uint32_t>(router->shard_of(shard_key));
      }
      if (c.present) {
        meta.topic = batch->topic_index(c.topic);
        meta.partition = c.partition;
        meta.offset = c.offset;
      }
      batch->rows.push_back(meta);
      if (batch->rows.size() >= o.batch_rows || batch->data.size() >= o.batch_bytes ||
          ((batch->rows.size() & 63) == 0 && Clock::now() - batch->first >= window))
        flush();
    }
    flush();
    if (sender) sender->finish();
  } catch (...) {
    sender.reset();  // drains the batch in flight; its counts are final after the join
    st.rejected += local_rejects;
    progress.done();
    rej.flush();
    st.unsent = st.rows_in - st.inserted - st.rejected;
    throw;
  }
  sender.reset();
  st.rejected += local_rejects;
  progress.done();
  rej.flush();
  if (o.dry_run) out.dry_run->flush();
  st.unsent = st.rows_in - st.inserted - st.rejected;
}

}  // namespace sp::chi
