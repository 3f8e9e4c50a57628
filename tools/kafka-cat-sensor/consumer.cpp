// Consume mode: assignment (group or manual), framing to stdout, commits of written or acked offsets.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

#include "common/core/errors.hpp"
#include "common/kafka/kafka.hpp"
#include "common/core/line_io.hpp"
#include "common/core/log.hpp"
#include "common/core/metrics.hpp"
#include "common/core/progress.hpp"
#include "common/core/signals.hpp"
#include "common/core/timeutil.hpp"
#include "format.hpp"
#include "kcs.hpp"
#include "offsets.hpp"

namespace sp::kcs {
namespace {

using Clock = std::chrono::steady_clock;

struct PartState {
  std::string topic;
  int32_t partition = 0;
  int64_t first = -1;      // the first message put in the output buffer in this assignment
  int64_t written = -1;    // next offset after the last message put in the output buffer
  int64_t told = -1;       // `written` as last told to the ack tracker
  int64_t flushed = -1;    // next offset after the last message that reached the output
  int64_t committed = -1;  // last offset committed (or sent for commit)
  bool eof = false;        // at the end of the partition, nothing newer seen since
  bool done = false;       // past --until: paused, finished
  int64_t skip_before = -1;  // -o @TIME found by scanning: skip messages older than this until one is not
  Counter* msgs = nullptr;
  Counter* bytes = nullptr;
  Gauge* lag = nullptr;
};

using Key = std::pair<std::string, int32_t>;

class Consumer {
 public:
  Consumer(const Options& o, int fd) : o_(o), fd_(fd) { widen_pipe(fd); }
  int run();

 private:
  static void rebalance_cb(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                           void* opaque);
  static void commit_cb(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                        void* opaque);
  static void error_cb(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  void on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts);
  void on_commit(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets);

  void setup();
  kafka::PartitionList manual_assignment();
  void apply_start_offsets(rd_kafka_topic_partition_list_t* parts, bool group_assign);
  void warn_deleted_offsets(const rd_kafka_topic_partition_list_t* parts);
  void add_parts(const rd_kafka_topic_partition_list_t* parts);
  std::map<Key, int64_t> last_timestamps(const std::vector<std::pair<Key, int64_t>>& at);
  void remove_parts(const rd_kafka_topic_partition_list_t* parts);
  PartState* state_of(const rd_kafka_message_t* m);
  void handle(rd_kafka_message_t* m);
  void flush();
  bool flush_quietly();  // false when the output is gone
  // Commits what is safe for the given partitions (all when null): acked offsets with --commit-acks,
  // else what reached the output.
  void commit(bool sync, const std::set<Key>* only);
  int64_t safe_offset(const PartState& s) const;
  bool acks_caught_up(const std::set<Key>* only) const;
  bool all_finished() const;
  void update_lag();
  void report_stats(double seconds);

  const Options& o_;
  int fd_;
  kafka::Handle rk_;
  StartOffset start_;
  bool explicit_offset_ = false;
  int64_t until_ms_ = 0;
  bool has_until_ = false;
  bool group_mode_ = false;   // subscribe(): the group assigns partitions
  bool committing_ = false;   // -G given: commits happen
  bool cooperative_ = false;
  std::unique_ptr<AckTracker> acks_;
  std::vector<std::unique_ptr<AckReader>> ack_readers_;

  std::map<Key, PartState> parts_;
  std::unordered_map<const void*, std::vector<PartState*>> index_;  // rkt -> by partition
  std::set<Key> seen_;  // partitions whose start offset was already applied
  std::map<Key, int64_t> scan_from_;  // -o @TIME the broker did not resolve: client-side skip
  std::string out_;
  bool broken_ = false;  // stdout closed by the reader
  bool closing_ = false;  // final commit done: a revoke while closing must not wait for acks again
  JsonTool json_;

  uint64_t messages_ = 0, bytes_ = 0, skipped_newline_ = 0, skipped_null_ = 0, compacted_ = 0;
  uint64_t last_stats_messages_ = 0;
  Counter* skipped_metric_ = nullptr;
  Counter* null_metric_ = nullptr;
  std::string fatal_;
};

void Consumer::error_cb(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* self = static_cast<Consumer*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char buf[512];
    rd_kafka_fatal_error(rk, buf, sizeof buf);
    self->fatal_ = buf;
    return;
  }
  // Broker connection trouble is retried by librdkafka; say so once per event, not as an error.
  kafka::note_client_error(err, reason);
  log::warn("Kafka: ", reason);
}

void Consumer::commit_cb(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                         void* opaque) {
  static_cast<Consumer*>(opaque)->on_commit(err, offsets);
}

void Consumer::on_commit(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets) {
  if (err == RD_KAFKA_RESP_ERR__NO_OFFSET) return;
  if (!err && offsets && log::enabled(log::Level::debug)) {
    std::string what;
    for (int i = 0; i < offsets->cnt; ++i)
      what += std::string(i ? " " : "") + offsets->elems[i].topic + "[" + std::to_string(offsets->elems[i].partition) + "]=" + std::to_string(offsets->elems[i].offset);
    log::debug("committed ", what);
  }
  for (int i = 0; offsets && i < offsets->cnt; ++i) {
    const auto& p = offsets->elems[i];
    auto e = p.err ? p.err : err;
    if (!e) continue;
    log::warn("commit of ", p.topic, " [", p.partition, "] offset ", p.offset, " failed: ", kafka::err_text(e),
              " (will retry)");
    auto it = parts_.find({p.topic, p.partition});
    if (it != parts_.end() && it->second.committed == p.offset) it->second.committed = -1;
  }
}

void Consumer::rebalance_cb(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                            void* opaque) {
  auto* self = static_cast<Consumer*>(opaque);
  try {
    self->on_rebalance(err, parts);
  } catch (const std::exception& e) {
    // never let an exception cross librdkafka's C frames
    self->fatal_ = std::string("rebalance: ") + e.what();
  }
}

void Consumer::on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
  rd_kafka_t* rk = rk_.get();
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    apply_start_offsets(parts, true);
    warn_deleted_offsets(parts);
    std::string names;
    for (int i = 0; i < parts->cnt; ++i)
      names += (i ? " " : "") + std::string(parts->elems[i].topic) + "[" + std::to_string(parts->elems[i].partition) + "]";
    log::debug("assigned ", parts->cnt, " partitions: ", names);
    if (cooperative_) {
      if (auto* e = rd_kafka_incremental_assign(rk, parts)) {
        log::warn("incremental assign: ", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
      }
    } else {
      rd_kafka_assign(rk, parts);
    }
    add_parts(parts);
    return;
  }
  if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    log::debug("giving up ", parts->cnt, " partitions");
    std::set<Key> revoked;
    for (int i = 0; i < parts->cnt; ++i) revoked.insert({parts->elems[i].topic, parts->elems[i].partition});
    if (!rd_kafka_assignment_lost(rk)) {
      flush_quietly();
      if (acks_ && !closing_) {
        // what was written but not yet acknowledged will be read again by the next owner;
        // a short wait for ch-insert's acks avoids most of those duplicates
        if (!acks_caught_up(&revoked))
          acks_->wait_for(o_.revoke_wait_ms, [&] { return stop_requested() || acks_caught_up(&revoked); });
      }
      commit(true, &revoked);
    }
    if (cooperative_) {
      if (auto* e = rd_kafka_incremental_unassign(rk, parts)) rd_kafka_error_destroy(e);
    } else {
      rd_kafka_assign(rk, nullptr);
    }
    remove_parts(parts);
    return;
  }
  log::warn("rebalance error: ", kafka::err_text(err));
  rd_kafka_assign(rk, nullptr);
  if (acks_)
    for (const auto& [k, s] : parts_) acks_->revoke(k.first, k.second);
  parts_.clear();
  index_.clear();
}

// Retention may have deleted what the group committed but never read. librdkafka then starts at
// auto.offset.reset without a word; say how many offsets were skipped. Best effort: a failed lookup
// only costs the warning. (Deletions while a running consumer lags behind are not seen here.)
void Consumer::warn_deleted_offsets(const rd_kafka_topic_partition_list_t* parts) {
  auto q = kafka::make_list(parts->cnt);
  for (int i = 0; i < parts->cnt; ++i)
    if (parts->elems[i].offset == RD_KAFKA_OFFSET_INVALID)  // the committed offset rules
      rd_kafka_topic_partition_list_add(q.get(), parts->elems[i].topic, parts->elems[i].partition);
  if (q->cnt == 0 || rd_kafka_committed(rk_.get(), q.get(), o_.connect_timeout_ms)) return;
  for (int i = 0; i < q->cnt; ++i) {
    const auto& e = q->elems[i];
    int64_t lo = 0, hi = 0;
    if (e.err || e.offset < 0 ||
        rd_kafka_query_watermark_offsets(rk_.get(), e.topic, e.partition, &lo, &hi, o_.connect_timeout_ms) ||
        e.offset >= lo)
      continue;
    bool to_end = start_.kind == StartOffset::end;  // auto.offset.reset=latest
    int64_t from = to_end ? hi : lo;
    log::warn(e.topic, " [", e.partition, "]: the group's committed offset ", e.offset,
              " is gone from the broker (retention kept offsets ", lo, " on): ", from - e.offset,
              " offsets skipped, reading from ", from, to_end ? " (the end)" : " (the earliest kept)");
  }
}

void Consumer::apply_start_offsets(rd_kafka_topic_partition_list_t* parts, bool group_assign) {
  std::vector<int> todo;
  for (int i = 0; i < parts->cnt; ++i) {
    Key k{parts->elems[i].topic, parts->elems[i].partition};
    if (group_assign && (!explicit_offset_ || seen_.count(k))) continue;  // committed offsets rule
    seen_.insert(k);
    todo.push_back(i);
  }
  if (todo.empty()) return;
  auto set_all = [&](int64_t off) {
    for (int i : todo) parts->elems[i].offset = off;
  };
  switch (start_.kind) {
    case StartOffset::beginning: set_all(RD_KAFKA_OFFSET_BEGINNING); break;
    case StartOffset::end: set_all(RD_KAFKA_OFFSET_END); break;
    case StartOffset::stored: set_all(RD_KAFKA_OFFSET_STORED); break;
    case StartOffset::absolute: set_all(start_.value); break;
    case StartOffset::tail: set_all(RD_KAFKA_OFFSET_TAIL(start_.value)); break;
    case StartOffset::time: {
      auto q = kafka::make_list(static_cast<int>(todo.size()));
      for (int i : todo) rd_kafka_topic_partition_list_add(q.get(), parts->elems[i].topic, parts->elems[i].partition)->offset = start_.value;
      auto err = rd_kafka_offsets_for_times(rk_.get(), q.get(), o_.connect_timeout_ms);
      if (err) throw UnavailableError("looking up offsets for time " + format_iso_ms(start_.value) + ": " + kafka::err_text(err));
      std::vector<std::pair<Key, int64_t>> unresolved;  // partition, its last offset
      for (int j = 0; j < q->cnt; ++j) {
        auto& r = q->elems[j];
        auto& dst = parts->elems[todo[static_cast<size_t>(j)]];
        if (r.err) throw UnavailableError(std::string("offset for time in ") + r.topic + " [" + std::to_string(r.partition) + "]: " + kafka::err_text(r.err));
        dst.offset = r.offset < 0 ? RD_KAFKA_OFFSET_END : r.offset;
        if (r.offset >= 0) {
          log::debug(r.topic, " [", r.partition, "] starts at offset ", r.offset, " for ", format_iso_ms(start_.value));
          continue;
        }
        // -1 means "no message at or after that time", or a broker that cannot look times up
        // (librdkafka's mock cluster): the last message's timestamp tells which
        int64_t lo = 0, hi = 0;
        if (rd_kafka_query_watermark_offsets(rk_.get(), r.topic, r.partition, &lo, &hi, o_.connect_timeout_ms) == 0 && hi > lo)
          unresolved.push_back({{r.topic, r.partition}, hi - 1});
      }
      if (unresolved.empty()) break;
      auto last = last_timestamps(unresolved);
      for (int j = 0; j < q->cnt; ++j) {
        auto& dst = parts->elems[todo[static_cast<size_t>(j)]];
        auto it = last.find({dst.topic, dst.partition});
        if (it == last.end() || it->second < start_.value) continue;
        log::debug(dst.topic, " [", dst.partition, "]: the broker did not resolve the time; scanning from the beginning");
        dst.offset = RD_KAFKA_OFFSET_BEGINNING;
        scan_from_[{dst.topic, dst.partition}] = start_.value;
      }
      break;
    }
  }
}

std::map<Key, int64_t> Consumer::last_timestamps(const std::vector<std::pair<Key, int64_t>>& at) {
  // a separate short-lived consumer, so the group's assignment is left alone
  std::vector<std::pair<std::string, std::string>> defaults = {
      {"bootstrap.servers", o_.brokers}, {"group.id", "kafka-cat-sensor-peek"}, {"enable.auto.commit", "false"},
      {"enable.partition.eof", "true"}};
  std::vector<std::string> props;
  for (const auto& x : o_.x_props) {
    auto kv = kafka::split_property(x);
    if (kv.first.rfind("group.", 0) != 0 && kv.first.rfind("partition.assignment", 0) != 0) props.push_back(x);
  }
  auto rk = kafka::make_handle(RD_KAFKA_CONSUMER, kafka::make_conf(defaults, props));
  rd_kafka_poll_set_consumer(rk.get());
  auto list = kafka::make_list();
  for (const auto& [k, off] : at) rd_kafka_topic_partition_list_add(list.get(), k.first.c_str(), k.second)->offset = off;
  rd_kafka_assign(rk.get(), list.get());
  std::map<Key, int64_t> out;
  size_t answered = 0;
  auto deadline = Clock::now() + std::chrono::milliseconds(o_.connect_timeout_ms);
  while (answered < at.size() && Clock::now() < deadline && !stop_requested()) {
    kafka::Message m(rd_kafka_consumer_poll(rk.get(), 100));
    if (!m || !m->rkt) continue;
    Key k{rd_kafka_topic_name(m->rkt), m->partition};
    if (out.count(k)) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      out[k] = -1;
      ++answered;
    } else if (!m->err) {
      rd_kafka_timestamp_type_t tt;
      out[k] = rd_kafka_message_timestamp(m.get(), &tt);
      ++answered;
    }
  }
  rd_kafka_consumer_close(rk.get());
  return out;
}

void Consumer::add_parts(const rd_kafka_topic_partition_list_t* parts) {
  for (int i = 0; i < parts->cnt; ++i) {
    const auto& p = parts->elems[i];
    PartState s;
    s.topic = p.topic;
    s.partition = p.partition;
    std::string labels = label("topic", s.topic) + "," + label("partition", std::to_string(p.partition));
    auto& m = metrics();
    s.msgs = &m.counter("kafka_consumed_messages_total", "Messages consumed and written to stdout", labels);
    s.bytes = &m.counter("kafka_consumed_bytes_total", "Value bytes consumed", labels);
    s.lag = &m.gauge("kafka_consumer_lag", "Messages between the last one written and the partition's high watermark", labels);
    auto scan = scan_from_.find({s.topic, s.partition});
    if (scan != scan_from_.end()) {
      s.skip_before = scan->second;
      scan_from_.erase(scan);
    }
    if (acks_) acks_->assign(s.topic, s.partition);
    parts_[{s.topic, s.partition}] = std::move(s);
  }
  index_.clear();
}

void Consumer::remove_parts(const rd_kafka_topic_partition_list_t* parts) {
  for (int i = 0; i < parts->cnt; ++i) {
    if (acks_) acks_->revoke(parts->elems[i].topic, parts->elems[i].partition);
    parts_.erase({parts->elems[i].topic, parts->elems[i].partition});
  }
  index_.clear();
}

PartState* Consumer::state_of(const rd_kafka_message_t* m) {
  auto& v = index_[m->rkt];
  if (m->partition >= 0 && static_cast<size_t>(m->partition) < v.size() && v[static_cast<size_t>(m->partition)])
    return v[static_cast<size_t>(m->partition)];
  auto it = parts_.find({rd_kafka_topic_name(m->rkt), m->partition});
  if (it == parts_.end() || m->partition < 0) return nullptr;  // a straggler from a revoked partition
  if (v.size() <= static_cast<size_t>(m->partition)) v.resize(static_cast<size_t>(m->partition) + 1, nullptr);
  v[static_cast<size_t>(m->partition)] = &it->second;
  return &it->second;
}

void Consumer::handle(rd_kafka_message_t* m) {
  if (m->err) {
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (m->rkt)
        if (PartState* s = state_of(m)) s->eof = true;
      return;
    }
    std::string where = m->rkt ? std::string(rd_kafka_topic_name(m->rkt)) + " [" + std::to_string(m->partition) + "]: " : "";
    if (m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
        m->err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION) {
      fatal_ = where + rd_kafka_message_errstr(m);
      return;
    }
    log::warn("Kafka: ", where, rd_kafka_message_errstr(m));
    return;
  }
  PartState* s = state_of(m);
  if (!s || s->done) return;
  if (s->skip_before >= 0) {
    rd_kafka_timestamp_type_t tt;
    if (rd_kafka_message_timestamp(m, &tt) < s->skip_before) return;
    s->skip_before = -1;
  }
  if (has_until_) {
    rd_kafka_timestamp_type_t tt;
    int64_t ts = rd_kafka_message_timestamp(m, &tt);
    if (ts > until_ms_) {
      s->done = true;
      auto l = kafka::make_list(1);
      rd_kafka_topic_partition_list_add(l.get(), s->topic.c_str(), s->partition);
      rd_kafka_pause_partitions(rk_.get(), l.get());
      log::debug(s->topic, " [", s->partition, "] reached --until at offset ", m->offset);
      return;
    }
  }
  Bytes value{static_cast<const char*>(m->payload), m->len};
  size_t before = out_.size();
  if (o_.envelope) {
    MessageView v;
    v.topic = s->topic;
    v.partition = s->partition;
    v.offset = m->offset;
    rd_kafka_timestamp_type_t tt;
    int64_t ts = rd_kafka_message_timestamp(m, &tt);
    if (tt != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE && ts >= 0) v.timestamp_ms = ts;
    v.key = Bytes{static_cast<const char*>(m->key), m->key_len};
    v.value = value;
    rd_kafka_headers_t* hdrs = nullptr;
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs) {
      const char* name;
      const void* val;
      size_t size;
      for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i)
        v.headers.push_back({name, Bytes{static_cast<const char*>(val), size}});
    }
    append_envelope(out_, v, json_);
  } else {
    switch (append_raw(out_, value, json_)) {
      case RawResult::written: break;
      case RawResult::compacted: ++compacted_; break;
      case RawResult::null_value:
        ++skipped_null_;
        null_metric_->inc();
        if (skipped_null_ <= 5) log::warn(s->topic, " [", s->partition, "] offset ", m->offset, ": null value (tombstone) skipped in raw mode");
        break;
      case RawResult::breaks_framing:
        ++skipped_newline_;
        skipped_metric_->inc();
        if (skipped_newline_ <= 20)
          log::warn(s->topic, " [", s->partition, "] offset ", m->offset,
                    ": value is not JSON and contains a newline: skipped (it would break the line framing; use --envelope to keep it)");
        break;
    }
  }
  if (s->first < 0) s->first = m->offset;
  s->written = m->offset + 1;
  s->eof = false;
  ++messages_;
  bytes_ += out_.size() - before;
  s->msgs->inc();
  s->bytes->inc(static_cast<double>(m->len));
}

void Consumer::flush() {
  // Acks are taken only for what this process wrote. Told before the write: the next stage may read
  // and acknowledge a message before write() returns. (The window so includes, for that moment, what
  // is still being written, which only a stray writer could acknowledge.)
  if (acks_)
    for (auto& [k, s] : parts_)
      if (s.written != s.told) {
        acks_->wrote(s.topic, s.partition, s.first, s.written);
        s.told = s.written;
      }
  write_all(fd_, out_.data(), out_.size(), "write to stdout");
  out_.clear();
  for (auto& [k, s] : parts_) s.flushed = s.written;
}

bool Consumer::flush_quietly() {
  if (broken_) return false;
  try {
    flush();
    return true;
  } catch (const BrokenPipe&) {
    broken_ = true;
    out_.clear();
    return false;
  }
}

int64_t Consumer::safe_offset(const PartState& s) const {
  if (acks_) {
    int64_t a = acks_->acked(s.topic, s.partition);
    return a;
  }
  return s.flushed;
}

bool Consumer::acks_caught_up(const std::set<Key>* only) const {
  for (const auto& [k, s] : parts_) {
    if (only && !only->count(k)) continue;
    if (s.flushed >= 0 && acks_->acked(s.topic, s.partition) < s.flushed) return false;
  }
  return true;
}

void Consumer::commit(bool sync, const std::set<Key>* only) {
  if (!committing_) return;
  auto list = kafka::make_list();
  std::vector<PartState*> sent;
  for (auto& [k, s] : parts_) {
    if (only && !only->count(k)) continue;
    int64_t off = safe_offset(s);
    if (off < 0 || off == s.committed) continue;
    rd_kafka_topic_partition_list_add(list.get(), s.topic.c_str(), s.partition)->offset = off;
    s.committed = off;
    sent.push_back(&s);
  }
  if (list->cnt == 0) return;
  auto err = rd_kafka_commit(rk_.get(), list.get(), sync ? 0 : 1);
  if (sync) {
    on_commit(err, list.get());
  } else if (err) {
    log::warn("commit: ", kafka::err_text(err));
    for (auto* s : sent) s->committed = -1;
  }
}

bool Consumer::all_finished() const {
  if (parts_.empty()) return false;
  for (const auto& [k, s] : parts_)
    if (!(s.done || (o_.exit_at_end && s.eof))) return false;
  return true;
}

void Consumer::update_lag() {
  for (auto& [k, s] : parts_) {
    int64_t lo = 0, hi = 0;
    if (s.written < 0) continue;
    if (rd_kafka_get_watermark_offsets(rk_.get(), s.topic.c_str(), s.partition, &lo, &hi) == RD_KAFKA_RESP_ERR_NO_ERROR && hi >= 0)
      s.lag->set(static_cast<double>(hi > s.written ? hi - s.written : 0));
  }
}

void Consumer::report_stats(double seconds) {
  double lag = 0;
  for (auto& [k, s] : parts_) lag += s.lag->value();
  log::debug("stats: ", messages_, " messages, ", human_bytes(static_cast<double>(bytes_)), ", ",
             human_count(static_cast<double>(messages_ - last_stats_messages_) / seconds), " msg/s, ", parts_.size(),
             " partitions, lag ", static_cast<uint64_t>(lag), acks_ ? ", acks " + std::to_string(acks_->count()) : "");
  last_stats_messages_ = messages_;
}

kafka::PartitionList Consumer::manual_assignment() {
  auto infos = kafka::fetch_topics(rk_.get(), o_.topics, o_.connect_timeout_ms, o_.brokers);
  auto list = kafka::make_list();
  for (const auto& t : infos) {
    if (t.err) throw NoInputError("topic '" + t.name + "': " + kafka::err_text(t.err) + " (brokers " + o_.brokers + ")");
    if (o_.partitions.empty()) {
      for (int p = 0; p < t.partitions; ++p) rd_kafka_topic_partition_list_add(list.get(), t.name.c_str(), p);
    } else {
      for (int32_t p : o_.partitions) {
        if (p >= t.partitions)
          throw NoInputError("topic '" + t.name + "' has no partition " + std::to_string(p) + " (it has " +
                             std::to_string(t.partitions) + ")");
        rd_kafka_topic_partition_list_add(list.get(), t.name.c_str(), p);
      }
    }
  }
  return list;
}

void Consumer::setup() {
  if (!o_.offset.empty()) {
    start_ = parse_offset(o_.offset);
    explicit_offset_ = start_.kind == StartOffset::absolute || start_.kind == StartOffset::tail ||
                       start_.kind == StartOffset::time;
  } else {
    start_.kind = o_.group.empty() ? StartOffset::beginning : StartOffset::stored;
  }
  if (start_.kind == StartOffset::stored && o_.group.empty()) throw UsageError("-o stored needs a consumer group (-G)");
  if (!o_.until.empty()) {
    until_ms_ = parse_until(o_.until);
    has_until_ = true;
  }
  for (const auto& path : o_.commit_acks) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
      throw NoInputError("--commit-acks " + path + ": " + errno_text(errno) + " (create it first: mkfifo " + path + ")");
    if (std::count(o_.commit_acks.begin(), o_.commit_acks.end(), path) > 1)
      throw UsageError("--commit-acks " + path + " given twice: give each sink its own file");
  }
  if (!o_.commit_acks.empty()) {
    if (o_.group.empty()) throw UsageError("--commit-acks needs a consumer group (-G) to commit to");
    if (!o_.envelope)
      throw UsageError("--commit-acks needs --envelope: ch-insert acknowledges the coordinates the envelope carries");
  }
  group_mode_ = !o_.group.empty() && o_.partitions.empty();
  committing_ = !o_.group.empty();

  std::vector<std::pair<std::string, std::string>> defaults = {
      {"bootstrap.servers", o_.brokers},
      {"client.id", "kafka-cat-sensor"},
      // a group id is needed by the consumer API even for manual assignment; it commits nothing then
      {"group.id", o_.group.empty() ? "kafka-cat-sensor" : o_.group},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "true"},
      {"auto.offset.reset", start_.kind == StartOffset::end ? "latest" : "earliest"},
      // bounded memory: the prefetch queue is what dominates RSS
      {"queued.max.messages.kbytes", "16384"},
      {"fetch.max.bytes", "8388608"},
      {"max.partition.fetch.bytes", "1048576"},
      {"fetch.wait.max.ms", "100"},
      {"socket.keepalive.enable", "true"},
  };
  auto conf = kafka::make_conf(defaults, o_.x_props);
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_error_cb(conf.get(), error_cb);
  rd_kafka_conf_set_offset_commit_cb(conf.get(), commit_cb);
  if (group_mode_) rd_kafka_conf_set_rebalance_cb(conf.get(), rebalance_cb);
  rk_ = kafka::make_handle(RD_KAFKA_CONSUMER, std::move(conf));
  rd_kafka_poll_set_consumer(rk_.get());
  cooperative_ = group_mode_ && std::strcmp(rd_kafka_rebalance_protocol(rk_.get()), "COOPERATIVE") == 0;

  auto& m = metrics();
  skipped_metric_ = &m.counter("kafka_skipped_messages_total", "Messages not written in raw mode", "reason=\"newline\"");
  null_metric_ = &m.counter("kafka_skipped_messages_total", "Messages not written in raw mode", "reason=\"null\"");

  if (acks_ == nullptr && !o_.commit_acks.empty()) {
    // one source per file: an offset is committed once every sink acknowledged it
    acks_ = std::make_unique<AckTracker>(o_.topics, static_cast<int>(o_.commit_acks.size()));
    for (size_t i = 0; i < o_.commit_acks.size(); ++i)
      ack_readers_.push_back(std::make_unique<AckReader>(o_.commit_acks[i], *acks_, static_cast<int>(i)));
  }

  if (group_mode_) {
    // an unknown topic is an error here, where kcat would wait forever
    auto infos = kafka::fetch_topics(rk_.get(), o_.topics, o_.connect_timeout_ms, o_.brokers);
    for (const auto& t : infos)
      if (t.err) throw NoInputError("topic '" + t.name + "': " + kafka::err_text(t.err) + " (brokers " + o_.brokers + ")");
    auto list = kafka::make_list();
    for (const auto& t : o_.topics) rd_kafka_topic_partition_list_add(list.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
    auto err = rd_kafka_subscribe(rk_.get(), list.get());
    if (err) throw UsageError("subscribe: " + kafka::err_text(err));
  } else {
    auto list = manual_assignment();
    apply_start_offsets(list.get(), false);
    auto err = rd_kafka_assign(rk_.get(), list.get());
    if (err) throw UsageError("assign: " + kafka::err_text(err));
    add_parts(list.get());
  }
}

int Consumer::run() {
  setup();
  bool bounded = o_.exit_at_end || o_.count >= 0 || has_until_;
  rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(rk_.get());
  std::unique_ptr<rd_kafka_queue_t, void (*)(rd_kafka_queue_t*)> queue_guard(queue, rd_kafka_queue_destroy);
  constexpr size_t kBatch = 1024;
  rd_kafka_message_t* batch[kBatch];
  Progress progress("messages");
  out_.reserve(1 << 20);
  auto last_flush = Clock::now(), last_commit = last_flush, last_lag = last_flush, last_stats = last_flush;
  auto t0 = last_flush;
  kafka::FetchWaker waker(rk_.get());  // no 1 s fetch pauses when stdout falls behind for a moment
  bool interrupted = false;
  bool finished = o_.count == 0;
  while (!finished) {
    if (stop_requested()) {
      interrupted = true;
      break;
    }
    if (!fatal_.empty()) break;
    ssize_t n = rd_kafka_consume_batch_queue(queue, 100, batch, kBatch);
    if (n < 0) throw UnavailableError("consume: " + kafka::err_text(rd_kafka_last_error()));
    uint64_t payload = 0;
    for (ssize_t i = 0; i < n; ++i) {
      payload += batch[i]->len;
      if (!finished) {
        handle(batch[i]);
        if (o_.count >= 0 && messages_ >= static_cast<uint64_t>(o_.count)) finished = true;
      }
      rd_kafka_message_destroy(batch[i]);
    }
    if (n > 0) waker.consumed(static_cast<uint64_t>(n), payload);
    progress.update(messages_, bytes_);
    if ((o_.exit_at_end || has_until_) && all_finished()) finished = true;
    auto now = Clock::now();
    if (out_.size() >= (1 << 20) || static_cast<size_t>(n) < kBatch || now - last_flush > std::chrono::milliseconds(100)) {
      if (!flush_quietly()) break;
      last_flush = now;
    }
    if (now - last_commit > std::chrono::milliseconds(o_.commit_interval_ms)) {
      commit(false, nullptr);
      last_commit = now;
    }
    if (now - last_lag > std::chrono::seconds(1)) {
      update_lag();
      last_lag = now;
    }
    if (log::enabled(log::Level::debug) && now - last_stats > std::chrono::seconds(o_.stats_interval_s)) {
      report_stats(std::chrono::duration<double>(now - last_stats).count());
      last_stats = now;
    }
  }
  progress.done();
  waker.stop();
  log::debug("woke the brokers' fetchers ", waker.wakes(), " times (the queue had drained after reaching a limit)");
  flush_quietly();
  update_lag();
  if (acks_) {
    // downstream must see the end of its input to insert and acknowledge its last batch
    int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (devnull >= 0) {
      ::dup2(devnull, fd_);
      ::close(devnull);
    }
    if (!acks_caught_up(nullptr)) {
      log::info("waiting up to ", o_.ack_timeout_ms / 1000.0, " s for the last acknowledgements");
      for (auto& r : ack_readers_) r->expect_end();
      // Stages stopped together (systemctl stop) leave what was in the pipes unread: once every
      // acknowledging stage has exited, no ack can come any more and waiting on is pointless.
      auto gone = [&] {
        return std::all_of(ack_readers_.begin(), ack_readers_.end(), [](const auto& r) { return r->writers_gone(); });
      };
      acks_->wait_for(o_.ack_timeout_ms, [&] { return acks_caught_up(nullptr) || gone(); });
      if (!acks_caught_up(nullptr)) {
        uint64_t missing = 0;
        for (auto& [k, s] : parts_)
          if (s.flushed >= 0 && acks_->acked(s.topic, s.partition) < s.flushed) ++missing;
        log::warn(missing, " partitions are not fully acknowledged",
                  gone() ? " (every stage that acknowledges has exited)" : "",
                  ": their unacknowledged messages will be read again");
      }
    }
  }
  commit(true, nullptr);
  closing_ = true;
  if (group_mode_) rd_kafka_consumer_close(rk_.get());
  ack_readers_.clear();
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::string extra;
  if (skipped_newline_) extra += ", " + std::to_string(skipped_newline_) + " skipped (not JSON, with a newline)";
  if (skipped_null_) extra += ", " + std::to_string(skipped_null_) + " null values skipped";
  if (compacted_) extra += ", " + std::to_string(compacted_) + " multi-line JSON compacted";
  log::info(summary_text(messages_, bytes_, secs, "messages"), extra);
  // A backfill window on data replayed with -P finds nothing: Kafka's time is the record
  // timestamp, the produce time unless the producer set it. Say so instead of a silent 0.
  if (messages_ == 0 && fatal_.empty() && !interrupted && (start_.kind == StartOffset::time || has_until_))
    log::warn("the time range selected no message: -o @TIME and --until use Kafka's record timestamps, which are "
              "the time of producing unless the producer set them (kafka-cat-sensor -P --timestamp-field)");
  if (!fatal_.empty()) {
    if (fatal_.find("Unknown topic") != std::string::npos || fatal_.find("nknown partition") != std::string::npos)
      throw NoInputError(fatal_);
    throw UnavailableError(fatal_);
  }
  if (broken_) return 0;
  if (interrupted) return bounded ? code(Exit::interrupted) : 0;
  return 0;
}

}  // namespace

int run_consumer(const Options& o, int out_fd) {
  Consumer c(o, out_fd);
  return c.run();
}

}  // namespace sp::kcs
