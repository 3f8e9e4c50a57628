// s3-put --acks FILE: the ack lines of each completed object, for kafka-cat-sensor --commit-acks.
#pragma once
#include <string>

namespace sp::s3put {

// A FIFO is opened read-write and written without blocking: open() never waits for
// kafka-cat-sensor, and if nobody reads (it is gone), whole ack lines are dropped with a warning
// rather than holding up the archive; an ack not seen is only a message read again. A line is never
// left half written: the next ack would be glued to it and both would be lost to the reader.
class AckOut {
 public:
  explicit AckOut(const std::string& path);
  ~AckOut();
  AckOut(const AckOut&) = delete;
  AckOut& operator=(const AckOut&) = delete;

  // Writes whole lines (each ending in '\n'). Throws IoError on a write error, or when a line that
  // was partly written cannot be finished.
  void write(const std::string& lines);

 private:
  // Writes [p, p + n) whole; false when nobody read for the drop timeout (nothing was written).
  bool write_chunk(const char* p, size_t n);

  std::string path_;
  bool fifo_ = false;
  int fd_ = -1;
};

}  // namespace sp::s3put
