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
  // f(topic, partition, offset) for each topic/partition seen, in the order of lines().
  template <class F>
  void each(F f) const {
    for (const auto& t : topics_)
      for (size_t p = 0; p < t.high.size(); ++p)
        if (t.high[p] >= 0) f(std::string_view(t.name), static_cast<int32_t>(p), t.high[p]);
  }
  void clear();

 private:
  struct Topic {
    std::string name;
    std::vector<int64_t> high;  // by partition; -1 = none
  };
  std::vector<Topic> topics_;
  uint64_t count_ = 0;
};

// The one writer of ack lines (ch-insert's sender threads, s3-put --acks), for several threads: acks
// are queued (callers queue under their own lock, each partition's in rising order) and written by
// whichever thread calls write_queued() first, outside every lock but the writer's own, so a reader
// that stops draining blocks only the thread writing, never the callers' state. Queued acks of one
// partition collapse into the highest (an ack covers every offset before it), so what waits for a
// stalled reader is bounded by the partitions, not by the time it stalls. Lines leave whole, never
// glued to a torn one, and after a failure nothing more is written: error() holds it (BrokenPipe
// when the reader closed its end).
//
// What a reader that stops reading does to the writer is the tool's choice (README, Delivery
// guarantee): ch-insert's acks are its output, so its write waits (the pipe is the pipeline's
// backpressure); s3-put's are a side channel that must never hold up the archive (Unblocked).
class AckWriter {
 public:
  // Writes to out, blocking while the reader does not read; a chunk is written to its end or the
  // output is given up.
  explicit AckWriter(LineWriter* out) : out_(out) {}

  // s3-put --acks: never waits long for the reader. A FIFO is opened read-write and non-blocking
  // (open never waits for kafka-cat-sensor); a regular file is appended to. Lines go in chunks of whole
  // lines of at most PIPE_BUF bytes, which a pipe takes whole or not at all: when nobody reads for
  // drop_after_ms, the lines queued are dropped whole with a warning (a message not acknowledged is
  // read again, not lost) and later acks are written again. Only a line longer than PIPE_BUF (a topic
  // name of thousands of bytes) can be started and not finished: when it is not finished within
  // finish_line_ms the writer fails rather than leave a torn line the next ack would be glued to.
  struct Unblocked {
    int drop_after_ms = 5000;
    int finish_line_ms = 60000;
  };
  // IoError "--acks PATH: reason" when it cannot be opened.
  AckWriter(const std::string& path, Unblocked policy);
  ~AckWriter();
  AckWriter(const AckWriter&) = delete;
  AckWriter& operator=(const AckWriter&) = delete;

  void queue(std::string_view topic, int32_t partition, int64_t offset);
  // Every topic/partition of hw (s3-put: the lines of an object just completed).
  void queue(const AckHighWater& hw);
  // Writes everything queued, including what other threads queue meanwhile; returns at once when
  // another thread is writing (it writes this thread's lines too). The output is flushed after each
  // chunk: a FIFO reader (kafka-cat-sensor --commit-acks) commits as soon as it sees a line.
  void write_queued();
  bool failed() const;
  std::exception_ptr error() const;
  // Ack bytes dropped whole because nobody read (Unblocked only).
  uint64_t dropped_bytes() const;

 private:
  void emit(const std::string& chunk);  // throws on a failure
  void emit_unblocked(const std::string& lines);
  bool write_whole(const char* p, size_t n);  // false: nobody read for drop_after_ms, nothing written

  LineWriter* out_ = nullptr;
  // Unblocked:
  std::string path_;
  int fd_ = -1;
  Unblocked policy_;
  uint64_t dropped_ = 0;  // under q_mu_

  mutable std::mutex q_mu_;  // pending_, failed_, error_, dropped_: never held during I/O
  std::mutex write_mu_;      // the one thread writing
  AckHighWater pending_;
  bool failed_ = false;
  std::exception_ptr error_;
};

}  // namespace sp
