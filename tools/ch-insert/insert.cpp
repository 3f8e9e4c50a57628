#include "insert.hpp"

#include <poll.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/progress.hpp"
#include "common/retry.hpp"
#include "common/signals.hpp"
#include "row_input.hpp"

namespace sp::chi {

namespace {

using Clock = std::chrono::steady_clock;

struct RowMeta {
  uint64_t start;  // offset of the row in Batch::data
  uint64_t line;   // input line number
  int64_t offset;
  int32_t partition;
  int32_t topic;  // index in Batch::topics, -1 without coordinates
};

struct Batch {
  uint64_t seq = 0;
  std::string data;
  std::vector<RowMeta> rows;
  std::vector<std::string> topics;
  Clock::time_point first;

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

class RejectSink {
 public:
  explicit RejectSink(LineWriter* w) : w_(w) {}
  void reject(uint64_t line, std::string_view row, const std::string& error, int code, const Batch* b,
              const RowMeta* m) {
    std::lock_guard<std::mutex> lk(mu_);
    log::warn("line ", line, ": rejected: ", error.substr(0, 500));
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

// Sends batches, one at a time, on its own thread (so the next batch fills meanwhile).
class Sender {
 public:
  Sender(const Options& o, const std::string& statement, ClickHouseClient* client, Outputs& out, RejectSink& rej,
         Stats& st, Metrics& m, bool dedup_token)
      : o_(o), statement_(statement), client_(client), out_(out), rej_(rej), st_(st), m_(m),
        dedup_token_(dedup_token) {
    thread_ = std::thread([this] { loop(); });
  }
  ~Sender() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      closing_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  // Blocks while the previous batch is still being sent: this is the backpressure on stdin.
  void submit(std::unique_ptr<Batch> b) {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return (!slot_ && !busy_) || error_; });
    if (error_) std::rethrow_exception(error_);
    slot_ = std::move(b);
    cv_.notify_all();
  }
  // Waits for the last batch, stops the thread, rethrows its failure.
  void finish() {
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return (!slot_ && !busy_) || error_; });
      closing_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (error_) std::rethrow_exception(error_);
  }
  bool failed() {
    std::lock_guard<std::mutex> lk(mu_);
    return error_ != nullptr;
  }

 private:
  void loop() {
    for (;;) {
      std::unique_ptr<Batch> b;
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return slot_ || closing_; });
        if (!slot_) return;
        b = std::move(slot_);
        busy_ = true;
      }
      try {
        process(*b);
      } catch (...) {
        std::lock_guard<std::mutex> lk(mu_);
        error_ = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lk(mu_);
        busy_ = false;
      }
      cv_.notify_all();
      if (failed()) return;
    }
  }

  void process(Batch& b) {
    insert_range(b, 0, b.rows.size(), 0);
    rej_.flush();  // rejects are on disk before their offsets are acknowledged
    write_acks(b);
    ++st_.batches;
    m_.batches.inc();
  }

  void write_acks(const Batch& b) {
    if (!out_.acks) return;
    std::map<std::pair<int32_t, int32_t>, int64_t> hi;
    for (const auto& r : b.rows) {
      if (r.topic < 0) continue;
      auto [it, fresh] = hi.try_emplace({r.topic, r.partition}, r.offset);
      if (!fresh && r.offset > it->second) it->second = r.offset;
    }
    if (hi.empty()) return;
    std::map<std::pair<std::string, int32_t>, int64_t> sorted;
    for (const auto& [k, v] : hi) sorted[{b.topics[static_cast<size_t>(k.first)], k.second}] = v;
    for (const auto& [k, v] : sorted) out_.acks->line(ack_line(k.first, k.second, v));
    out_.acks->flush();  // a FIFO reader (kafka-cat-sensor) commits as soon as it sees the line
  }

  // Inserts rows [a, b); a refused range is split until each bad row stands alone.
  void insert_range(Batch& bt, size_t a, size_t b, int depth) {
    while (a < b) {
      try {
        post(bt, a, b);
        st_.inserted += b - a;
        m_.inserted.inc(static_cast<double>(b - a));
        return;
      } catch (const ChRequestError& e) {
        if (e.error().kind != ChErrorKind::data) throw;
        if (b - a == 1) {
          ++st_.rejected;
          m_.rejected.inc();
          rej_.reject(bt.rows[a].line, bt.row(a), e.error().detail, e.error().code, &bt, &bt.rows[a]);
          return;
        }
        log::debug("rows ", a, "..", b, " of batch ", bt.seq, " refused (", e.error().message.substr(0, 200),
                   "): splitting");
        // ClickHouse parses rows in order, so the rows before the one it names were fine: insert
        // them, try the named row alone, go on with the rest. Without a usable hint, bisect.
        auto hint = ch_error_row(e.error().detail);
        if (hint && *hint >= 1 && *hint <= b - a && depth < 32) {
          size_t bad = a + static_cast<size_t>(*hint) - 1;
          if (bad > a) insert_range(bt, a, bad, depth + 1);
          insert_range(bt, bad, bad + 1, depth + 1);
          a = bad + 1;
        } else {
          size_t mid = a + (b - a) / 2;
          insert_range(bt, a, mid, depth + 1);
          a = mid;
        }
      }
    }
  }

  void post(const Batch& bt, size_t a, size_t b) {
    std::string raw;
    std::string_view body;
    if (o_.format == RowFormat::values) {
      raw.reserve(statement_.size() + (b < bt.rows.size() ? bt.rows[b].start : bt.data.size()) - bt.rows[a].start +
                  2 * (b - a) + 2);
      raw = statement_;
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
    std::string gz;
    if (o_.gzip_level > 0) {
      gzip_compress(body, gz, o_.gzip_level);
    }
    std::vector<std::pair<std::string, std::string>> params;
    if (o_.format != RowFormat::values) params.emplace_back("query", statement_);
    if (o_.best_effort_dates) params.emplace_back("date_time_input_format", "best_effort");
    // One block per POST, so a refused POST leaves nothing behind (all or nothing).
    params.emplace_back("max_insert_block_size", std::to_string(std::max<uint64_t>(b - a, 1048576)));
    if (dedup_token_) params.emplace_back("insert_deduplication_token", hex64(fnv1a(body)) + "-" + std::to_string(b - a));
    std::string_view wire = o_.gzip_level > 0 ? std::string_view(gz) : body;

    Backoff backoff(std::chrono::milliseconds(static_cast<int64_t>(o_.retry_initial_seconds * 1000)),
                    std::chrono::milliseconds(static_cast<int64_t>(o_.retry_max_delay_seconds * 1000)));
    for (;;) {
      auto t0 = Clock::now();
      try {
        ++st_.posts;
        m_.posts.inc();
        HttpResponse r = client_->post(params, wire, o_.gzip_level > 0);
        m_.seconds.observe(std::chrono::duration<double>(Clock::now() - t0).count());
        st_.bytes_sent += wire.size();
        m_.bytes_sent.inc(static_cast<double>(wire.size()));
        check_summary(r, b - a);
        return;
      } catch (const ChRequestError& e) {
        const ChError& err = e.error();
        switch (err.kind) {
          case ChErrorKind::data: throw;
          case ChErrorKind::auth:
            throw AuthError("ClickHouse refused user '" + client_->connection().user + "': " + err.message +
                            " (check --user, CLICKHOUSE_USER and the password source)");
          case ChErrorKind::missing:
            throw NoInputError(err.message + " (create it with --create-table, or check --database/--table)");
          case ChErrorKind::permanent:
            throw DataError("ClickHouse refused the insert: " + err.message);
          case ChErrorKind::transport:
          case ChErrorKind::retriable: break;
        }
        if (o_.retries >= 0 && backoff.attempts() >= o_.retries)
          throw TempFailError("ClickHouse still failing after " + std::to_string(backoff.attempts()) +
                              " retries: " + err.message);
        auto d = backoff.next();
        ++st_.retries;
        m_.retries.inc();
        log::warn(err.message, "; retry ", backoff.attempts(),
                  o_.retries >= 0 ? "/" + std::to_string(o_.retries) : std::string(), " in ", d.count(), " ms");
        if (err.kind == ChErrorKind::transport) client_->failover();
        if (!sleep_unless_stopped(d))
          throw Error(Exit::interrupted, "interrupted while waiting to retry: " + err.message);
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
  std::string statement_;
  ClickHouseClient* client_;
  Outputs& out_;
  RejectSink& rej_;
  Stats& st_;
  Metrics& m_;
  bool dedup_token_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::unique_ptr<Batch> slot_;
  bool busy_ = false, closing_ = false;
  std::exception_ptr error_;
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

void prepare_server(Options& o, const Schema& schema, ClickHouseClient& client) {
  Backoff backoff(std::chrono::milliseconds(static_cast<int64_t>(o.retry_initial_seconds * 1000)),
                  std::chrono::milliseconds(static_cast<int64_t>(o.retry_max_delay_seconds * 1000)));
  ChVersion v;
  for (;;) {
    try {
      v = client.server_version();
      break;
    } catch (const ChRequestError& e) {
      const ChError& err = e.error();
      if (err.kind == ChErrorKind::auth)
        throw AuthError("ClickHouse refused user '" + client.connection().user + "': " + err.message +
                        " (check --user, CLICKHOUSE_USER and the password source)");
      if (err.kind != ChErrorKind::transport && err.kind != ChErrorKind::retriable) throw;
      if (o.retries >= 0 && backoff.attempts() >= o.retries)
        throw UnavailableError(err.message + " (gave up after " + std::to_string(backoff.attempts()) +
                               " retries; is the server running? check --url)");
      auto d = backoff.next();
      log::warn(err.message, "; retry ", backoff.attempts(), " in ", d.count(), " ms");
      if (err.kind == ChErrorKind::transport) client.failover();
      if (!sleep_unless_stopped(d)) throw Error(Exit::interrupted, "interrupted while waiting for ClickHouse");
    }
  }
  // insert_deduplication_token appeared in 22.2; older servers refuse unknown settings.
  o.dedup_token = v.at_least(22, 2);
  log::debug("ClickHouse ", v.text, " at ", url_for_log(client.current_url()),
             o.dedup_token ? " (using insert_deduplication_token)" : "");
  const std::string& db = client.connection().database;
  std::string target = quote_identifier(db) + "." + quote_identifier(o.table);
  try {
    if (o.create_table) {
      if (db != "default") client.query("CREATE DATABASE IF NOT EXISTS " + quote_identifier(db));
      client.query(schema.create_table_sql(db, o.table));
      log::info("table ", db, ".", o.table, " is ready (created if it was missing)");
    } else if (client.query("EXISTS TABLE " + target).substr(0, 1) != "1") {
      throw NoInputError("table " + db + "." + o.table + " does not exist on " + url_for_log(client.current_url()) +
                         " (run with --create-table to create it from the schema)");
    }
  } catch (const ChRequestError& e) {
    if (e.error().kind == ChErrorKind::auth)
      throw AuthError("ClickHouse refused user '" + client.connection().user + "': " + e.error().message);
    if (e.error().kind == ChErrorKind::missing)
      throw NoInputError(e.error().message + " (check --database, or use --create-table)");
    throw Error(e.code(), "preparing table " + db + "." + o.table + ": " + e.error().message);
  }
}

std::string ack_line(const std::string& topic, int32_t partition, int64_t offset) {
  std::string s = "{\"topic\":";
  append_json_string(s, topic);
  s += ",\"partition\":" + std::to_string(partition) + ",\"offset\":" + std::to_string(offset) + "}";
  return s;
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
                Stats& st) {
  Metrics m;
  RejectSink rej(out.rejects);
  const std::string statement =
      insert_statement(o.format, o.database, o.table, schema.column_names(), o.keep_coordinates);
  const size_t ncols = schema.columns.size();
  std::unique_ptr<Sender> sender;
  if (!o.dry_run) sender = std::make_unique<Sender>(o, statement, client, out, rej, st, m, o.dedup_token);

  Progress progress("rows");
  uint64_t seq = 0;
  auto batch = std::make_unique<Batch>();
  auto dry_send = [&](Batch& b) {
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
    if (batch->rows.empty()) return;
    batch->seq = ++seq;
    if (o.dry_run) {
      dry_send(*batch);
      batch = std::make_unique<Batch>();
      return;
    }
    sender->submit(std::move(batch));
    batch = std::make_unique<Batch>();
    batch->data.reserve(static_cast<size_t>(std::min<uint64_t>(o.batch_bytes, 64ull << 20)) / 4);
  };

  Line line;
  Coords c;
  std::string why;
  const auto window = std::chrono::microseconds(static_cast<int64_t>(o.batch_seconds * 1e6));
  try {
    for (;;) {
      if (!batch->rows.empty() && in.fd() >= 0 && !in.line_buffered()) {
        if (!wait_readable(in.fd(), batch->first + window)) {
          flush();
          continue;
        }
      }
      if (stop_requested()) break;
      if (!in.next(line)) break;
      ++st.rows_in;
      st.bytes_in += line.full_size + 1;
      m.rows_in.inc();
      progress.update(st.rows_in, st.bytes_in);
      if (line.overlong) {
        ++st.rejected;
        m.rejected.inc();
        rej.reject(line.number, line.text,
                   "line longer than " + std::to_string(o.max_line) + " bytes (" + std::to_string(line.full_size) +
                       "): not sent",
                   0, nullptr, nullptr);
        continue;
      }
      uint64_t start = batch->data.size();
      RowStatus rs = split_row(o.format, line.text, ncols, o.keep_coordinates, batch->data, c, why);
      if (rs == RowStatus::skip) {
        --st.rows_in;  // not a row
        continue;
      }
      if (rs == RowStatus::invalid) {
        batch->data.resize(start);
        ++st.rejected;
        m.rejected.inc();
        rej.reject(line.number, line.text, why, 0, nullptr, nullptr);
        continue;
      }
      if (batch->rows.empty()) batch->first = Clock::now();
      RowMeta meta{start, line.number, 0, 0, -1};
      if (c.present) {
        meta.topic = batch->topic_index(c.topic);
        meta.partition = c.partition;
        meta.offset = c.offset;
      }
      batch->rows.push_back(meta);
      if (batch->rows.size() >= o.batch_rows || batch->data.size() >= o.batch_bytes ||
          Clock::now() - batch->first >= window)
        flush();
    }
    flush();
    if (sender) sender->finish();
  } catch (...) {
    sender.reset();  // drains the batch in flight; its counts are final after the join
    progress.done();
    rej.flush();
    st.unsent = st.rows_in - st.inserted - st.rejected;
    throw;
  }
  progress.done();
  rej.flush();
  if (o.dry_run) out.dry_run->flush();
  st.unsent = st.rows_in - st.inserted - st.rejected;
}

}  // namespace sp::chi
