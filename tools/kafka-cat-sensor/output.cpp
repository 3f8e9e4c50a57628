// Consume mode: each message into the output buffer (raw, envelope or format), the buffer to stdout.
#include "output.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <optional>
#include <string>

#include "common/core/errors.hpp"
#include "common/core/line_io.hpp"
#include "common/core/log.hpp"

namespace sp::kcs {

Output::Output(const Options& o, int fd) : o_(o), fd_(fd) {
  widen_pipe(fd);
  if (!o_.format.empty()) {
    format_ = parse_format(o_.format);
    has_format_ = true;
    format_headers_ = needs_headers(format_);
  }
  buf_.reserve(kFull);
  auto& m = metrics();
  skipped_metric_ = &m.counter("kafka_skipped_messages_total", "Messages not written in raw mode", "reason=\"newline\"");
  null_metric_ = &m.counter("kafka_skipped_messages_total", "Messages not written in raw mode", "reason=\"null\"");
}

void Output::append(const rd_kafka_message_t* m, const PartState& s) {
  size_t before = buf_.size();
  if (o_.envelope || has_format_) {
    rd_kafka_timestamp_type_t tt;
    int64_t ts = rd_kafka_message_timestamp(m, &tt);
    MessageView v{
        .topic = s.topic,
        .partition = s.partition,
        .offset = m->offset,
        .timestamp_ms = tt != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE && ts >= 0 ? std::optional<int64_t>(ts) : std::nullopt,
        .key = Bytes{static_cast<const char*>(m->key), m->key_len},
        .value = Bytes{static_cast<const char*>(m->payload), m->len},
        .headers = {},  // below, when needed
    };
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
      append_formatted(buf_, format_, v);
    else
      append_envelope(buf_, v, json_);
  } else {
    append_raw_value(m, s);
  }
  ++messages_;
  bytes_ += buf_.size() - before;
}

void Output::append_raw_value(const rd_kafka_message_t* m, const PartState& s) {
  switch (append_raw(buf_, Bytes{static_cast<const char*>(m->payload), m->len}, json_)) {
    case RawResult::written: break;
    case RawResult::compacted: ++compacted_; break;
    case RawResult::null_value:
      ++skipped_null_;
      null_metric_->inc();
      if (skipped_null_ <= 5) log::warn(s.topic, " [", s.partition, "] offset ", m->offset, ": null value (tombstone) skipped in raw mode");
      break;
    case RawResult::breaks_framing:
      ++skipped_newline_;
      skipped_metric_->inc();
      if (skipped_newline_ <= 20)
        log::warn(s.topic, " [", s.partition, "] offset ", m->offset,
                  ": value is not JSON and contains a newline: skipped (it would break the line framing; use --envelope to keep it)");
      break;
  }
}

void Output::write() {
  write_all(fd_, buf_.data(), buf_.size(), "write to stdout");
  buf_.clear();
}

void Output::end_input() {
  int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (devnull >= 0) {
    ::dup2(devnull, fd_);
    ::close(devnull);
  }
}

std::string Output::summary_extra() const {
  std::string extra;
  if (skipped_newline_) extra += ", " + std::to_string(skipped_newline_) + " skipped (not JSON, with a newline)";
  if (skipped_null_) extra += ", " + std::to_string(skipped_null_) + " null values skipped";
  if (compacted_) extra += ", " + std::to_string(compacted_) + " multi-line JSON compacted";
  return extra;
}

}  // namespace sp::kcs
