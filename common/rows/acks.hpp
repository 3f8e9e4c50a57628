// Ack lines: the pipe contract between the stages that store messages (ch-insert, s3-put --acks)
// and kafka-cat-sensor --commit-acks, which commits only what they acknowledged.
// One JSON object per line: {"topic":"t","partition":3,"offset":42} meaning "offset 42 of t[3] and
// every offset before it that this writer received are stored".
#pragma once
#include <cstdint>
#include <exception>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sp {

enum class RowFormat;  // rows.hpp
class LineWriter;      // common/core/line_io.hpp

struct Ack {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
};

// The line, without its '\n'.
std::string ack_line(std::string_view topic, int32_t partition, int64_t offset);
// False with *why set when the line is not such an object (other fields are ignored).
bool parse_ack(std::string_view line, Ack& out, std::string* why);

// The Kafka coordinates of one envelope line (kafka-cat-sensor --envelope), which starts with them:
// {"topic":"..","partition":N,"offset":N,... . Reads just that prefix (envelope::read_coords_prefix,
// common/rows/envelope.hpp); a line in another shape
// (fields reordered, an escaped topic) is parsed whole. False when the line carries none.
bool envelope_coordinates(std::string_view line, Ack& out);

// The Kafka coordinates (_topic, _partition, _offset) of a row line that split_row (row_input.hpp)
// refused, read as sensor-parse writes them (RowBuilder::coords): the last three members of a JSON
// object, the last three fields of a TSV or CSV line; `line` may be just the end of a row (the tail of
// an overlong one). False when they are not there in that shape (VALUES rows carry none).
bool row_line_coordinates(RowFormat f, std::string_view line, Ack& out);

// The highest offset seen per topic/partition, for acknowledging a set of lines at once. Cheap
// per line: topics are few (a vector), partitions index a vector.
class AckHighWater {
 public:
  void add(std::string_view topic, int32_t partition, int64_t offset);
  bool empty() const { return count_ == 0; }
  // One ack line (with '\n') per topic/partition seen, in topic then partition order.
  std::string lines() const;
  void clear();

 private:
  struct Topic {
    std::string name;
    std::vector<int64_t> high;  // by partition; -1 = none
  };
  std::vector<Topic> topics_;
  uint64_t count_ = 0;
};

// One writer of ack lines for several threads: acks are queued (callers queue under their own lock,
// each partition's in rising order) and written by whichever thread calls write_queued() first,
// outside every lock but the writer's own, so a reader that stops draining blocks only the thread
// writing, never the callers' state. Queued acks of one partition collapse into the highest (an ack
// covers every offset before it), so what waits for a stalled reader is bounded by the partitions, not
// by the time it stalls. Lines leave whole (a chunk is written to its end or the output is given up),
// and after a failure nothing more is written: error() holds it (BrokenPipe when the reader closed
// its end).
class AckWriter {
 public:
  explicit AckWriter(LineWriter* out) : out_(out) {}
  void queue(std::string_view topic, int32_t partition, int64_t offset);
  // Writes everything queued, including what other threads queue meanwhile; returns at once when
  // another thread is writing (it writes this thread's lines too). The output is flushed after each
  // chunk: a FIFO reader (kafka-cat-sensor --commit-acks) commits as soon as it sees a line.
  void write_queued();
  bool failed() const;
  std::exception_ptr error() const;

 private:
  LineWriter* out_;
  mutable std::mutex q_mu_;  // pending_, failed_, error_: never held during I/O
  std::mutex write_mu_;      // the one thread writing
  AckHighWater pending_;
  bool failed_ = false;
  std::exception_ptr error_;
};

}  // namespace sp
