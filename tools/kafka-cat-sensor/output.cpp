// Consume mode: each message into the output buffer (raw or envelope), the buffer to stdout, the
// lag gauges and the -v stats line.
#include <string>

#include "common/core/errors.hpp"
#include "common/core/line_io.hpp"
#include "common/core/log.hpp"
#include "common/core/progress.hpp"
#include "consumer.hpp"

namespace sp::kcs {

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
  if (o_.envelope || has_format_) {
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
    // parsing the headers costs: only for the envelope and a format with %h
    if ((o_.envelope || format_headers_) && rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs) {
      const char* name;
      const void* val;
      size_t size;
      for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i)
        v.headers.push_back({name, Bytes{static_cast<const char*>(val), size}});
    }
    if (has_format_)
      append_formatted(out_, format_, v);
    else
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
  ++s->unpublished_msgs;
  s->unpublished_bytes += m->len;
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
  for (auto& [k, s] : parts_) s.publish();
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
  } catch (...) {
    // ENOSPC, EIO: the error ends the run; what was written of the buffer is unknown, so nothing is
    // written after it (a rebalance's revoke at close only commits what reached the output)
    broken_ = true;
    out_.clear();
    throw;
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

}  // namespace sp::kcs
