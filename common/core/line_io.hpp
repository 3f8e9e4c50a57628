// Buffered line I/O for stdin/stdout: one read(2)/write(2) per buffer, never per line.
#pragma once
#include <cstdint>
#include <functional>
#include <istream>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace sp {

struct Line {
  std::string_view text;  // without the '\n'; valid until the next call to next()
  uint64_t number = 0;    // 1-based line number
  bool overlong = false;  // longer than max_line: text holds the first max_line bytes, the rest was skipped
  size_t full_size = 0;   // the line's real length in bytes (>= text.size() when overlong)
  // When overlong: the line's last bytes (up to LineReader::kTailBytes), where a row keeps its
  // Kafka coordinates, so a reject of the cut line can still name its message.
  std::string_view tail;
  // The input ended inside this line (no '\n' after it): a stage upstream stopped while writing it,
  // like a SIGKILLed kafka-cat-sensor; a reader can say so rather than blame the line's content.
  bool unterminated = false;
};

// The reason for a rejected line that was `unterminated`: what happened first, then why the piece
// did not parse (sensor-parse and ch-insert say it alike).
std::string torn_line_reason(const std::string& why);

// Why an `unterminated` TSV or CSV line is refused although it may parse: a cut inside its last field
// leaves a shorter, valid-looking value (pressure 1013.25 read as 1013.2). A JSON object or a Values
// tuple cut short does not parse, so those formats need no such rule.
std::string cut_row_why(std::string_view format);

// A pipe between two stages holds 64 KiB by default, so a fast writer and a fast reader take
// turns sleeping every 64 KiB, and each wakeup costs more than the work done in between
// (kafka-cat-sensor | cat took 1.2 s for 1M messages, 0.5 s with 1 MiB). Widens a pipe fd
// to 1 MiB (the kernel's default limit for unprivileged users); any other fd, or a refusal, is
// left as it is. The fd-based LineReader and LineWriter call it.
void widen_pipe(int fd);

// Reads lines from a file descriptor or a std::istream. Memory is bounded by max_line + buffer size:
// a line longer than max_line is returned cut with overlong=true, never buffered whole.
class LineReader {
 public:
  using Source = std::function<size_t(char* buf, size_t cap)>;  // returns 0 at EOF, throws IoError
  explicit LineReader(int fd, size_t max_line = kDefaultMaxLine);
  explicit LineReader(std::istream& in, size_t max_line = kDefaultMaxLine);
  LineReader(Source src, size_t max_line);

  static constexpr size_t kDefaultMaxLine = 1 << 20;
  // At least this many bytes after the end of every returned line's text are readable (their
  // content is unspecified), so a parser that reads ahead (simdjson) can work in place.
  static constexpr size_t kPadding = 64;
  static constexpr size_t kTailBytes = 512;

  // Next line; false at end of input. A last line without '\n' is still returned.
  bool next(Line& out);
  // True when a whole line is already buffered, so next() will not block.
  bool line_buffered() const;
  uint64_t lines() const { return lineno_; }
  uint64_t bytes() const { return bytes_; }
  int fd() const { return fd_; }

 private:
  bool fill();  // reads more; false at EOF
  void keep_tail(const char* p, size_t n);  // the last kTailBytes of an overlong line, piece by piece
  std::string tail_;
  size_t cap() const { return buf_.size() - kPadding; }
  void resize(size_t n) { buf_.resize(n + kPadding); }
  Source src_;
  int fd_ = -1;
  size_t max_line_;
  std::vector<char> buf_;
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  uint64_t lineno_ = 0;
  uint64_t bytes_ = 0;
  // A '\n' at or after begin_ that line_buffered() found, so next() need not search again.
  mutable size_t known_nl_ = 0;
  mutable bool nl_known_ = false;
};

// Writes all of p[0,n) to fd, short writes and EINTR retried: the one write-everything loop. A closed
// pipe (EPIPE) throws BrokenPipe, which tool_main ends quietly with exit 0 (README, Operations); a tool
// that has more to do then (s3-put --tee stores what it read) catches it. Any other failure throws
// IoError("<what>: <reason>").
void write_all(int fd, const char* p, size_t n, const char* what);

// Opens a file of lines (a rejects file) for appending, created 0644 if missing; the fd is the
// caller's. A regular file that does not end in '\n' (its last record torn by a full disk or a crash
// in an earlier run) first gets one, so the next record starts on a line of its own and stays
// parseable. IoError "cannot open <what> file PATH: reason" (or "cannot write", for that newline).
int open_lines_for_append(const std::string& path, const char* what);

// Buffered writer. A write to a closed pipe (EPIPE) throws BrokenPipe; any other failure IoError.
class LineWriter {
 public:
  explicit LineWriter(int fd, size_t buffer = 1 << 16);
  explicit LineWriter(std::ostream& out, size_t buffer = 1 << 16);
  // A file of lines (a rejects or acks file) this writer opens with open_lines_for_append, owns and
  // follows: when the path no longer names the open file (logrotate renamed or removed it), the next
  // write that starts a line reopens the path, creating a new file. Lines go whole into one file or
  // the other, never split, and none is lost: a line written between the rename and that check lands
  // in the renamed file (logrotate's delaycompress leaves it uncompressed until the next rotation).
  // A pipe or /dev/stderr is written as it is.
  LineWriter(const std::string& path, const char* what, size_t buffer = 1 << 16);
  ~LineWriter();  // flushes, swallowing errors: call flush() to see them (and closes an owned file)
  void close();   // flushes and closes an owned file; IoError when either fails
  LineWriter(const LineWriter&) = delete;
  LineWriter& operator=(const LineWriter&) = delete;

  void write(std::string_view s) {
    // A large piece with nothing buffered before it goes out as is: copying it first gains nothing.
    if (buf_.empty() && s.size() >= cap_ / 2) {
      write_out(s.data(), s.size());
      return;
    }
    if (buf_.size() + s.size() > cap_) {
      flush_buffer();
      if (s.size() >= cap_) {
        write_out(s.data(), s.size());
        return;
      }
    }
    buf_.append(s.data(), s.size());
  }
  void put(char c) {
    if (buf_.size() + 1 > cap_) flush_buffer();
    buf_.push_back(c);
  }
  // Writes a line and its '\n'.
  void line(std::string_view s) {
    write(s);
    put('\n');
  }
  void flush();  // buffer out to the fd/stream (and std::ostream::flush)
  uint64_t bytes() const { return bytes_; }

 private:
  void flush_buffer();
  void write_out(const char* p, size_t n);
  void follow();  // reopens an owned file whose path now names another file or none
  int fd_ = -1;
  std::ostream* os_ = nullptr;
  size_t cap_;
  std::string buf_;
  uint64_t bytes_ = 0;
  // an owned file (the path constructor): its path, what it is (for errors), the inode it has open
  std::string path_;
  const char* what_ = nullptr;
  bool owned_ = false, regular_ = false, line_start_ = true;
  uint64_t dev_ = 0, ino_ = 0;
};

}  // namespace sp
