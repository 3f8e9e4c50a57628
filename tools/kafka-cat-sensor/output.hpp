// Consume mode's output: each message rendered into a buffer (raw, --envelope or -f's format), the
// buffer written to the output descriptor, and the end of the output (closed by its reader, or
// failed: nothing more is written). Owns the counts of what was written (the summary, the -v stats)
// and the raw mode's skips. What reached the output, per partition, is the Consumer's to record.
#pragma once
#include <cstdint>
#include <string>

#include "common/core/metrics.hpp"
#include "common/kafka/kafka.hpp"
#include "format.hpp"
#include "kcs.hpp"
#include "partitions.hpp"

namespace sp::kcs {

class Output {
 public:
  // Parses -f (UsageError); fd: stdout, its pipe widened.
  Output(const Options& o, int fd);
  // Renders message m of partition s into the buffer (or skips it, counted, in raw mode).
  void append(const rd_kafka_message_t* m, const PartState& s);
  bool full() const { return buf_.size() >= kFull; }
  // The buffer to the output; throws (BrokenPipe when the reader closed it).
  void write();
  // After a failed write: what was written of the buffer is unknown, so nothing more is.
  void drop() {
    broken_ = true;
    buf_.clear();
  }
  bool broken() const { return broken_; }
  // Downstream must see the end of its input to acknowledge its last batch: the descriptor is
  // pointed at /dev/null (kept open: a late write goes nowhere instead of failing).
  void end_input();

  uint64_t messages() const { return messages_; }
  uint64_t bytes() const { return bytes_; }
  std::string summary_extra() const;  // ", 3 null values skipped" and the like

 private:
  static constexpr size_t kFull = 1 << 20;
  void append_raw_value(const rd_kafka_message_t* m, const PartState& s);

  const Options& o_;
  int fd_;
  std::string buf_;
  bool broken_ = false;  // stdout closed by the reader, or failed: nothing more is written
  JsonTool json_;
  Format format_;                // -f
  bool has_format_ = false;
  bool format_headers_ = false;  // -f has %h
  uint64_t messages_ = 0, bytes_ = 0, skipped_newline_ = 0, skipped_null_ = 0, compacted_ = 0;
  Counter* skipped_metric_ = nullptr;
  Counter* null_metric_ = nullptr;
};

}  // namespace sp::kcs
