#include "sender.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <tuple>

#include "common/codec/compress.hpp"
#include "common/core/log.hpp"
#include "common/core/signals.hpp"
#include "common/rows/acks.hpp"
#include "common/rows/row_binary.hpp"
#include "exactly_once.hpp"

namespace sp::chi {

namespace {

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

}  // namespace

std::string failed_at(const std::string& what, const std::string& url, const ChError& err) {
  const std::string u = url_for_log(url);
  // a transport error or a proxy's answer names the server already; ClickHouse's own error text does not
  return what + (err.message.find(u) == std::string::npos ? " at " + u : std::string()) + " failed: " + err.message;
}

bool build_body(const Options& o, const std::string& statement, const Batch& bt, size_t a, size_t b,
                std::string& out, bool binary, std::string* why) {
  std::string raw;
  std::string_view body;
  // one encoding buffer per thread, kept: a batch's RowBinary is about the size of its text
  thread_local std::string encoded;
  bool is_binary = false;
  if (binary && o.format == RowFormat::tsv && !o.row_binary.empty()) {
    encoded.clear();
    std::string w;
    is_binary = true;
    for (size_t i = a; i < b && is_binary; ++i)
      if (!append_row_binary(bt.row(i), o.row_binary, encoded, w)) {
        is_binary = false;
        if (why) *why = "line " + std::to_string(bt.rows[i].line) + ": " + w;
      }
  }
  if (is_binary) {
    body = encoded;
  } else if (o.format == RowFormat::values) {
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
  else if (is_binary)
    out.swap(encoded);  // the body as encoded, not a copy; encoded gets out's emptied buffer for the next batch
  else if (!raw.empty())
    out.swap(raw);
  else
    out.assign(body.data(), body.size());
  return is_binary;
}

void RejectSink::reject(uint64_t line, std::string_view row, const std::string& error, int code, const Ack* at) {
  std::lock_guard<std::mutex> lk(mu_);
  // ClickHouse's message quotes the row's bytes: escaped, so input never drives the terminal
  log::warn("line ", line, ": rejected: ", log::printable(error, 500));
  if (!w_) return;
  std::string s = "{\"line\":" + std::to_string(line) + ",\"error\":";
  append_json_string(s, error);
  if (code) s += ",\"code\":" + std::to_string(code);
  if (at) {
    s += ",\"topic\":";
    append_json_string(s, at->topic);
    s += ",\"partition\":" + std::to_string(at->partition) + ",\"offset\":" + std::to_string(at->offset);
  }
  s += ",\"row\":";
  while (!row.empty() && row.back() == '\n') row.remove_suffix(1);
  append_json_string(s, row);
  s += '}';
  w_->line(s);
}

void note_not_stored(Batch& b, bool kept, const Ack* at, bool row_in_batch) {
  if (kept) {
    // a row of the batch (refused by ClickHouse) is acknowledged as one of its rows already
    if (at && !row_in_batch) b.marks.push_back({b.topic_index(at->topic), at->partition, at->offset});
    return;
  }
  if (at)
    b.lost.push_back({b.topic_index(at->topic), at->partition, at->offset, row_in_batch});
  else
    b.lost.push_back({-1, 0, 0, row_in_batch});
}

void RejectSink::flush() {
  std::lock_guard<std::mutex> lk(mu_);
  if (w_) w_->flush();
}

Sender::Sender(const Options& o, const ServerCaps& caps, const std::string& statement, ClickHouseClient* client,
               Outputs& out, RejectSink& rej, Stats& st, Metrics& m)
    : o_(o), caps_(caps), out_(out), rej_(rej), st_(st), m_(m) {
  if (out.acks) acks_ = std::make_unique<AckWriter>(out.acks);
  // one route (the --url endpoints, into --table), or one per --shard (its replicas, into the local table)
  std::vector<std::vector<std::string>> lists = o.shards;
  if (lists.empty()) lists.push_back(client->connection().urls);
  const auto max_rest = std::chrono::milliseconds(static_cast<int64_t>(std::max(1.0, o.retry_max_delay_seconds) * 1000));
  for (size_t r = 0; r < lists.size(); ++r) {
    auto route = std::make_unique<Route>(lists[r], o.balance, max_rest);
    route->statement = statement;
    if (!o.row_binary.empty()) route->statement_rb = row_binary_statement(statement);
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
    // stop signals blocked: SIGTERM must reach the main thread blocked in read() (common/core/signals.hpp)
    threads_.push_back(start_thread("ch-insert sender", [this, clients] { loop(clients); }));
  }
}

Sender::~Sender() {
  stop();
  st_.endpoints.clear();
  for (size_t r = 0; r < routes_.size(); ++r)
    for (auto& e : routes_[r]->eps.stats()) {
      e.shard = o_.shards.empty() ? 0 : r + 1;
      st_.endpoints.push_back(std::move(e));
    }
}

std::unique_ptr<Batch> Sender::new_batch() {
  std::unique_ptr<Batch> b;
  {
    std::lock_guard<std::mutex> lk(pool_mu_);
    if (!spare_batches_.empty()) {
      b = std::move(spare_batches_.back());
      spare_batches_.pop_back();
    } else {
      b = std::make_unique<Batch>();
    }
    if (!spare_data_.empty() && b->data.capacity() < spare_data_.back().capacity()) {
      b->data.swap(spare_data_.back());
      spare_data_.pop_back();
    }
  }
  reserve_batch(o_, *b);
  return b;
}

// A batch done: emptied (a new Batch, so no field is missed), its three big buffers kept for new_batch().
void Sender::recycle(std::unique_ptr<Batch> b) {
  std::string data = std::move(b->data), wire = std::move(b->wire);
  std::vector<RowMeta> rows = std::move(b->rows);
  *b = Batch();
  data.clear();
  wire.clear();
  rows.clear();
  b->data = std::move(data);
  b->wire = std::move(wire);
  b->rows = std::move(rows);
  std::lock_guard<std::mutex> lk(pool_mu_);
  if (spare_batches_.size() <= static_cast<size_t>(std::max(1, o_.parallel))) spare_batches_.push_back(std::move(b));
}

// Raw rows no longer needed by a batch in flight (compressed): kept for new_batch(), or freed.
void Sender::recycle_data(std::string& data) {
  std::string d;
  d.swap(data);
  d.clear();
  std::lock_guard<std::mutex> lk(pool_mu_);
  if (d.capacity() > 0 && spare_data_.size() <= static_cast<size_t>(std::max(1, o_.parallel)))
    spare_data_.push_back(std::move(d));
}

// A batch made ready for sending, by the sender thread that took it (the reading thread goes on
// reading meanwhile): compressed whole, or split by shard and each part compressed.
void Sender::prepare(Batch& b) {
  if (!o_.shards.empty()) {
    // the batch keeps its rows' coordinates (for its acks); each part its rows
    split_parts(b, o_.shards.size());
    recycle_data(b.data);
    for (auto& p : b.parts) {
      if (p.rows.empty() || (o_.gzip_level == 0 && o_.row_binary.empty())) continue;
      make_wire(p);
      if (o_.gzip_level > 0 && !p.wire_binary) std::string().swap(p.data);
    }
    return;
  }
  if (!b.rows.empty() && (o_.gzip_level > 0 || o_.format == RowFormat::values || !o_.row_binary.empty())) make_wire(b);
  // The compressed text is all a batch needs in flight; the raw rows are rebuilt from it in the
  // rare case ClickHouse refuses the batch and it must be split. A RowBinary body keeps them.
  if (o_.gzip_level > 0 && o_.format != RowFormat::values && !b.wire_binary) recycle_data(b.data);
}

// The body of a whole batch (or shard part): RowBinary when the run sends it (Options::row_binary)
// and every row encodes, else the text as before (counted; ClickHouse judges the row that did not
// encode, and the isolation of refused rows applies).
void Sender::make_wire(Batch& b) {
  std::string why;
  b.wire_binary = build_body(o_, routes_[0]->statement, b, 0, b.rows.size(), b.wire, !o_.row_binary.empty(), &why);
  if (b.wire_binary || o_.row_binary.empty()) return;
  m_.text_batches.inc();
  log::debug("batch ", b.seq, " sent as TSV text, not RowBinary: ", log::printable(why, 200));
  // uncompressed text is sent from data itself (post)
  if (o_.gzip_level == 0 && o_.format != RowFormat::values) std::string().swap(b.wire);
}

void Sender::submit(std::unique_ptr<Batch> b) {
  // With one sender, compressing on it would serialize compression with the server's answer; here,
  // on the reading thread, batch N+1 is compressed while batch N is in flight (bench, 1M rows,
  // --parallel 1: 1.30 s with its sender compressing, 0.94 s so).
  if (o_.parallel <= 1) {
    prepare(*b);
    b->prepared = true;
  }
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait(lk, [&] { return in_flight_ < std::max(1, o_.parallel) || error_; });
  if (error_) std::rethrow_exception(error_);
  ++in_flight_;
  queue_.push_back(std::move(b));
  cv_.notify_all();
}

void Sender::finish() {
  {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return in_flight_ == 0 || error_; });
  }
  stop();
  if (error_) std::rethrow_exception(error_);
}

void Sender::drain() {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait(lk, [&] { return in_flight_ == 0 || error_; });
  if (error_) std::rethrow_exception(error_);
}

void Sender::stop() {
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
void Sender::insert_parts(const std::vector<ClickHouseClient*>& clients, Stats& st, Batch& b) {
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
    if (!b.parts[i].rows.empty()) th.push_back(start_thread("ch-insert shard sender", [&run, i] { run(i); }));
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
  for (auto& p : b.parts) finish_rejects(st, p, b);
}

void Sender::loop(std::vector<ClickHouseClient*> clients) {
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
      if (!b->prepared) prepare(*b);
      if (b->parts.empty()) {
        insert_range(clients[0], *routes_[0], local, *b, 0, b->rows.size(), 0);
        finish_rejects(local, *b, *b);
      } else {
        insert_parts(clients, local, *b);
      }
      rej_.flush();  // rejects are on disk before their offsets are acknowledged
      done = ack_plan(*b);
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
        queue_acks_locked();
      }
      --in_flight_;
    }
    recycle(std::move(b));
    write_acks();  // outside mu_: a reader that stops draining holds up this thread only
    cv_.notify_all();
  }
}

// Queues the acks of every finished batch that has no unfinished batch before it, in batch order,
// holding back partitions after a row stored nowhere (note_not_stored). Under mu_; written by
// write_acks() outside it.
void Sender::queue_acks_locked() {
  while (!done_.empty() && done_.begin()->first == next_ack_) {
    Done d = std::move(done_.begin()->second);
    done_.erase(done_.begin());
    ++next_ack_;
    st_.lost += d.lost;
    uint64_t offsets = 0;
    for (const auto& p : d.parts) offsets += p.offsets;
    if (held_all_ || d.unknown_lost) {
      held_all_ = true;
      // said when it first withholds an ack (a stream without coordinates has none to withhold)
      if (offsets && !held_all_said_) {
        held_all_said_ = true;
        log::warn("a rejected row stored nowhere had no readable Kafka coordinates: nothing read from it on is "
                  "acknowledged (give --rejects to keep rejected rows)");
      }
      st_.held_back += offsets;
      continue;
    }
    for (const auto& p : d.parts) {
      auto key = std::make_pair(p.topic, p.partition);
      if (held_.count(key)) {
        st_.held_back += p.offsets;
        continue;
      }
      if (p.ack >= 0 && acks_) acks_->queue(p.topic, p.partition, p.ack);
      if (p.first_lost >= 0) {
        held_[key] = p.first_lost;
        st_.held_back += p.held;
        st_.held_from.push_back(p.topic + "[" + std::to_string(p.partition) + "] offset " +
                                std::to_string(p.first_lost));
        log::warn("topic ", p.topic, " partition ", p.partition, ": the row of offset ", p.first_lost,
                  " was refused and is kept nowhere (no --rejects): no offset from it on is acknowledged, so it "
                  "is read again after a restart");
      }
    }
  }
}

// Writes the acks queued, on a sender thread without mu_, so a failed write (the reader closed
// its end, the disk is full) must not escape: it becomes the run's error, later acks are dropped,
// and no batch is sent again.
void Sender::write_acks() {
  if (!acks_) return;
  acks_->write_queued();
  if (!acks_->failed()) return;
  std::lock_guard<std::mutex> lk(mu_);
  if (error_) return;
  try {
    std::rethrow_exception(acks_->error());
  } catch (const BrokenPipe&) {
    log::info("the acks' reader closed its end: stopping (rows not acknowledged are read again upstream)");
    error_ = std::current_exception();
  } catch (const Error& e) {
    error_ = std::make_exception_ptr(IoError(std::string("cannot write acks: ") + e.what()));
  } catch (...) {
    error_ = std::current_exception();
  }
}

// Per topic/partition of a finished batch: what it acknowledges. Its rows (stored, or refused and
// kept in the rejects file) and ack markers count up to the first row stored nowhere.
Sender::Done Sender::ack_plan(const Batch& b) {
  Done d;
  std::map<std::pair<int32_t, int32_t>, PartAck> by;
  for (const auto& l : b.lost) {
    ++d.lost;
    if (l.topic < 0) {
      d.unknown_lost = true;
      continue;
    }
    PartAck& p = by[{l.topic, l.partition}];
    if (p.first_lost < 0 || l.offset < p.first_lost) p.first_lost = l.offset;
    if (!l.in_rows) {  // rows are counted below
      ++p.offsets;
      ++p.held;
    }
  }
  auto note = [&](int32_t topic, int32_t partition, int64_t offset) {
    PartAck& p = by[{topic, partition}];
    ++p.offsets;
    if (p.first_lost >= 0 && offset >= p.first_lost)
      ++p.held;
    else if (offset > p.ack)
      p.ack = offset;
  };
  for (const auto& r : b.rows)
    if (r.topic >= 0) note(r.topic, r.partition, r.offset);
  for (const auto& k : b.marks) note(k.topic, k.partition, k.offset);
  for (auto& [k, p] : by) {
    p.topic = b.topics[static_cast<size_t>(k.first)];
    p.partition = k.second;
    d.parts.push_back(std::move(p));
  }
  std::sort(d.parts.begin(), d.parts.end(), [](const PartAck& x, const PartAck& y) {
    return std::tie(x.topic, x.partition) < std::tie(y.topic, y.partition);
  });
  return d;
}

// Rows of a batch that passed the schema check all refused by ClickHouse: the table does not fit
// the schema (a column's type, say), and every later row would be refused too. Stop instead of
// draining the stream into the rejects file; nothing of the batch is acknowledged.
void Sender::finish_rejects(Stats& st, Batch& bt, Batch& owner) {
  if (bt.refused.size() >= 2 && bt.refused.size() == bt.rows.size())
    throw DataError("ClickHouse refused every one of the " + std::to_string(bt.rows.size()) +
                    " rows of batch " + std::to_string(bt.seq) + " (first: " +
                    log::printable(bt.refused.front().error, 300) +
                    "): the table's columns do not fit the schema? Nothing of it was acknowledged; "
                    "compare the table with the DDL of --dry-run --create-table");
  for (const auto& r : bt.refused) {
    ++st.rejected;
    m_.rejected.inc();
    const RowMeta& meta = bt.rows[r.row];
    Ack at;
    if (meta.topic >= 0) at = Ack{bt.topics[static_cast<size_t>(meta.topic)], meta.partition, meta.offset};
    rej_.reject(meta.line, bt.row(r.row), r.error, r.code, meta.topic >= 0 ? &at : nullptr);
    // a row without coordinates (no Kafka message behind it) holds nothing back
    if (meta.topic >= 0) note_not_stored(owner, rej_.keeps(), &at, true);
  }
  bt.refused.clear();
}

// Inserts rows [a, b); a refused range is split until each bad row stands alone.
void Sender::insert_range(ClickHouseClient* client, Route& route, Stats& st, Batch& bt, size_t a, size_t b, int depth) {
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

void Sender::post(ClickHouseClient* client, Route& route, Stats& st, const Batch& bt, size_t a, size_t b) {
  Endpoints& eps_ = route.eps;
  std::string built;
  std::string_view body;
  // Only a whole batch goes as RowBinary: the parts of a refused one go as text, whose errors name
  // the row and the value (RowBinary's name byte counts)
  bool binary = false;
  if (a == 0 && b == bt.rows.size() && !bt.wire.empty()) {
    body = bt.wire;
    binary = bt.wire_binary;
  } else if (o_.gzip_level == 0 && o_.format != RowFormat::values) {
    uint64_t s = bt.rows[a].start, e = b < bt.rows.size() ? bt.rows[b].start : bt.data.size();
    body = std::string_view(bt.data).substr(s, e - s);  // uncompressed: the rows as they are
  } else {
    build_body(o_, route.statement, bt, a, b, built);
    body = built;
  }
  const std::string& statement_ = binary ? route.statement_rb : route.statement;
  // --exactly-once: each POST its own id (a retry's too: the server refuses an id still running)
  auto query_id = [&] { return o_.exactly_once ? eo::query_id_prefix(o_.eo_run) + std::to_string(++posts_seq_) : ""; };
  auto params = insert_params(o_, caps_, statement_, body, b - a, query_id());
  int attempt = 0;
  bool unsure = false;  // --exactly-once: the attempt before failed and may have stored the rows

  Retry retry(retry_budget(o_));
  for (;;) {
    auto t0 = Clock::now();
    const size_t ep = eps_.pick(t0);
    client->use(ep);
    try {
      if (unsure) {
        // Sent again only when none of them is stored; all stored is success. Some stored (a table
        // partitioned so that the INSERT became several parts, committed one by one): the run stops
        // (75), and the restart's resolution sends exactly the missing rows.
        std::string failed;
        for (const auto& [name, value] : params)
          if (name == "query_id") failed = value;
        size_t n = eo::stored_rows(*client, o_, bt, a, b, failed);
        unsure = false;
        if (n == b - a) {
          // The table kept them; views (rollups) are fed after it, so a server that stopped in the middle
          // of this INSERT may have left them short (ClickHouse 18.16 has no way to re-feed them alone).
          log::warn(route.what, "the ", b - a, " rows of the failed insert ", failed,
                    " were stored after all: not sent again; materialized views fed by the table (rollups) lack them"
                    " if ClickHouse stopped in the middle of that insert: rebuild their buckets from the table (README, Rollups)");
          eps_.succeeded(ep, b - a);
          return;
        }
        if (n > 0)
          throw TempFailError(route.what + "the failed insert " + failed + " stored " + std::to_string(n) + " of its " +
                              std::to_string(b - a) + " rows: stopping (they are acknowledged by the next run, which "
                              "sends only the missing ones)");
      }
      ++st.posts;
      m_.posts.inc();
      if (o_.exactly_once && attempt++ > 0)
        for (auto& [name, value] : params)
          if (name == "query_id") value = query_id();
      // -v: when each INSERT went out and how long the server took (profile.sh's timeline reads them)
      log::debug(route.what, "batch ", bt.seq, ": INSERT of ", b - a, " rows sent (", body.size(), " bytes)");
      HttpResponse r = client->post(params, body, o_.gzip_level > 0);
      const double took = std::chrono::duration<double>(Clock::now() - t0).count();
      m_.seconds.observe(took);
      log::debug(route.what, "batch ", bt.seq, ": INSERT of ", b - a, " rows stored in ", took, " s");
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
          // A column of the schema the table lacks (NO_SUCH_COLUMN_IN_TABLE) is the configuration's
          // fault, as --create-table reports it (78): the same mismatch, the same exit status.
          if (err.code == 16)
            throw ConfigError("the table lacks a column of the schema: " + err.message +
                              " (use the schema the table was made with (--schema, SENSOR_SCHEMA), another --table, "
                              "or add the column)");
          throw DataError("ClickHouse refused the insert: " + err.message);
        case ChErrorKind::transport:
        case ChErrorKind::retriable: unsure = o_.exactly_once; break;
      }
      const std::string failure = failed_at("INSERT of " + std::to_string(b - a) + " rows", eps_.url(ep), err);
      if (retry.spent())
        throw TempFailError(route.what + "ClickHouse still failing after " + std::to_string(retry.retries()) +
                            " retries: " + failure);
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
        log::warn(route.what, failure, "; retry ", retry.retries(),
                  o_.retries >= 0 ? "/" + std::to_string(o_.retries) : std::string(), " now on another server (",
                  url_for_log(eps_.url(ep)), " rests)");
        continue;
      }
      auto d = retry.next();
      log::warn(route.what, failure, "; retry ", retry.retries(),
                o_.retries >= 0 ? "/" + std::to_string(o_.retries) : std::string(), " in ", d.count(), " ms");
      retry.wait(d, "interrupted while waiting to retry: " + err.message);
    }
  }
}

}  // namespace sp::chi
