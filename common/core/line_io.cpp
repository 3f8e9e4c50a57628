#include "common/core/line_io.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "common/core/errors.hpp"
#include "common/core/signals.hpp"

namespace sp {

namespace {
constexpr size_t kReadChunk = 1 << 16;
}

std::string torn_line_reason(const std::string& why) {
  return "input ended mid-line (no newline after it: the upstream stage stopped while writing it; after a "
         "restart the message is read again whole): " + why;
}

std::string cut_row_why(std::string_view format) {
  return "a " + std::string(format) + " row without its line end may be cut short and still parse, so it is not used "
         "(a file that only lacks its final newline: add one)";
}

void widen_pipe(int fd) {
#ifdef F_SETPIPE_SZ
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) return;
  int size = ::fcntl(fd, F_GETPIPE_SZ);
  if (size >= 0 && size < (1 << 20)) (void)::fcntl(fd, F_SETPIPE_SZ, 1 << 20);  // EPERM past the limit: keep it
#else
  (void)fd;
#endif
}

LineReader::LineReader(int fd, size_t max_line)
    : LineReader(
          [fd](char* b, size_t cap) -> size_t {
            for (;;) {
              ssize_t n = ::read(fd, b, cap);
              if (n >= 0) return static_cast<size_t>(n);
              if (errno == EINTR) {
                if (stop_requested()) return 0;  // SIGINT/SIGTERM: end of input, the tool drains and exits
                continue;
              }
              throw IoError("read error: " + errno_text(errno));
            }
          },
          max_line) {
  fd_ = fd;
  widen_pipe(fd);
}

LineReader::LineReader(std::istream& in, size_t max_line)
    : LineReader(
          [&in](char* b, size_t cap) -> size_t {
            in.read(b, static_cast<std::streamsize>(cap));
            if (in.bad()) throw IoError("read error on input stream");
            return static_cast<size_t>(in.gcount());
          },
          max_line) {}

LineReader::LineReader(Source src, size_t max_line) : src_(std::move(src)), max_line_(max_line) {
  resize(std::max<size_t>(kReadChunk * 4, 1024));
}

bool LineReader::line_buffered() const {
  if (nl_known_ && known_nl_ >= begin_ && known_nl_ < end_) return true;
  const void* nl = begin_ < end_ ? std::memchr(buf_.data() + begin_, '\n', end_ - begin_) : nullptr;
  if (!nl) return false;
  known_nl_ = static_cast<size_t>(static_cast<const char*>(nl) - buf_.data());
  nl_known_ = true;
  return true;
}

bool LineReader::fill() {
  if (eof_) return false;
  nl_known_ = false;
  if (begin_ > 0) {  // compact so the partial line starts the buffer
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (cap() - end_ < kReadChunk / 4) {
    // Grow only while the partial line is shorter than the line limit (+ one chunk to see its end).
    resize(cap() * 2);
  }
  size_t n = src_(buf_.data() + end_, cap() - end_);
  if (n == 0) {
    eof_ = true;
    return false;
  }
  end_ += n;
  bytes_ += n;
  return true;
}

int open_lines_for_append(const std::string& path, const char* what) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw IoError(std::string("cannot open ") + what + " file " + path + ": " + errno_text(errno));
  struct stat sb {};
  if (::fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size == 0) return fd;  // a pipe, /dev/stderr: as it is
  // the last byte, read through a second descriptor (this one may only write)
  char last = '\n';
  int rfd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (rfd >= 0) {
    if (::pread(rfd, &last, 1, sb.st_size - 1) != 1) last = '\n';
    ::close(rfd);
  }
  if (last != '\n') {
    try {
      write_all(fd, "\n", 1, (std::string("cannot write ") + what + " file " + path).c_str());
    } catch (...) {
      ::close(fd);
      throw;
    }
  }
  return fd;
}

void LineReader::keep_tail(const char* p, size_t n) {
  if (n >= kTailBytes) {
    tail_.assign(p + n - kTailBytes, kTailBytes);
    return;
  }
  tail_.append(p, n);
  if (tail_.size() > kTailBytes) tail_.erase(0, tail_.size() - kTailBytes);
}

bool LineReader::next(Line& out) {
  out.tail = {};
  out.overlong = false;
  out.unterminated = false;
  size_t scanned = 0;  // bytes of the current partial line already searched for '\n'
  for (;;) {
    const char* start = buf_.data() + begin_;
    size_t avail = end_ - begin_;
    const void* nl;
    if (scanned == 0 && nl_known_ && known_nl_ >= begin_ && known_nl_ < end_) {
      nl = buf_.data() + known_nl_;  // the first '\n' after begin_, as memchr would find it
    } else {
      nl = std::memchr(start + scanned, '\n', avail - scanned);
    }
    nl_known_ = false;
    if (nl) {
      size_t len = static_cast<const char*>(nl) - start;
      ++lineno_;
      out.number = lineno_;
      out.full_size = len;
      // A line found whole in the buffer is still held to the limit, so callers see one rule.
      out.overlong = len > max_line_;
      out.text = std::string_view(start, out.overlong ? max_line_ : len);
      if (out.overlong) out.tail = std::string_view(start, len).substr(len - std::min(len, kTailBytes));
      begin_ += len + 1;
      return true;
    }
    scanned = avail;
    if (avail > max_line_) {
      // Overlong: keep the first max_line bytes, then drop input up to the next '\n'.
      // The kept prefix stays at the front of the buffer; we read the rest into the space after it.
      size_t keep = max_line_;
      size_t total = avail;
      size_t tail_begin = begin_ + keep;
      tail_.clear();
      keep_tail(buf_.data() + tail_begin, avail - keep);
      if (cap() - tail_begin < kReadChunk) resize(tail_begin + kReadChunk);
      bool found = false;
      for (;;) {
        // discard everything after the kept prefix that has no '\n'
        end_ = tail_begin;
        size_t n = eof_ ? 0 : src_(buf_.data() + end_, std::min(cap() - end_, kReadChunk * 4));
        if (n == 0) {
          eof_ = true;
          break;
        }
        bytes_ += n;
        const void* p = std::memchr(buf_.data() + end_, '\n', n);
        if (p) {
          size_t upto = static_cast<const char*>(p) - (buf_.data() + end_);
          total += upto;
          keep_tail(buf_.data() + end_, upto);
          // move what follows the '\n' right after the prefix; it becomes the next line's start
          size_t rest = n - upto - 1;
          std::memmove(buf_.data() + tail_begin, static_cast<const char*>(p) + 1, rest);
          end_ = tail_begin + rest;
          found = true;
          break;
        }
        total += n;
        keep_tail(buf_.data() + end_, n);
      }
      if (!found) end_ = tail_begin;
      ++lineno_;
      out.number = lineno_;
      out.overlong = true;
      out.unterminated = !found;
      out.full_size = total;
      out.text = std::string_view(buf_.data() + begin_, keep);
      out.tail = tail_;
      begin_ = tail_begin;
      return true;
    }
    if (!fill()) {
      if (begin_ < end_) {  // last line without '\n'
        size_t len = end_ - begin_;
        ++lineno_;
        out.number = lineno_;
        out.full_size = len;
        out.overlong = len > max_line_;
        out.unterminated = true;
        out.text = std::string_view(buf_.data() + begin_, out.overlong ? max_line_ : len);
        if (out.overlong) out.tail = std::string_view(buf_.data() + begin_, len).substr(len - std::min(len, kTailBytes));
        begin_ = end_;
        return true;
      }
      return false;
    }
  }
}

LineWriter::LineWriter(int fd, size_t buffer) : fd_(fd), cap_(buffer) {
  buf_.reserve(cap_);
  widen_pipe(fd);
}
LineWriter::LineWriter(std::ostream& out, size_t buffer) : os_(&out), cap_(buffer) { buf_.reserve(cap_); }

LineWriter::LineWriter(const std::string& path, const char* what, size_t buffer)
    : fd_(open_lines_for_append(path, what)), cap_(buffer), path_(path), what_(what), owned_(true) {
  buf_.reserve(cap_);
  struct stat sb {};
  if (::fstat(fd_, &sb) == 0 && S_ISREG(sb.st_mode)) {
    regular_ = true;
    dev_ = sb.st_dev;
    ino_ = sb.st_ino;
  }
}

LineWriter::~LineWriter() {
  try {
    flush_buffer();
  } catch (...) {
  }
  if (owned_ && fd_ >= 0) ::close(fd_);
}

void LineWriter::close() {
  if (!owned_ || fd_ < 0) return flush();
  flush_buffer();
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) throw IoError(std::string("cannot write ") + what_ + " file " + path_ + ": " + errno_text(errno));
}

void LineWriter::follow() {
  // One stat per write of a file that is written rarely (rejects) or in batches (acks): cheap.
  struct stat sb {};
  if (::stat(path_.c_str(), &sb) == 0 && sb.st_dev == dev_ && sb.st_ino == ino_) return;
  int fd = open_lines_for_append(path_, what_);  // created anew: logrotate's nocreate leaves that to us
  ::close(fd_);  // the renamed file got every byte already (write_all returned)
  fd_ = fd;
  if (::fstat(fd_, &sb) == 0) dev_ = sb.st_dev, ino_ = sb.st_ino;
}

void LineWriter::flush() {
  flush_buffer();
  if (os_) {
    os_->flush();
    if (!*os_) throw IoError("write error on output stream");
  }
}

void LineWriter::flush_buffer() {
  if (buf_.empty()) return;
  // clear first: if the write throws, the destructor must not retry the same bytes
  std::string pending;
  pending.swap(buf_);
  buf_.reserve(cap_);
  write_out(pending.data(), pending.size());
}

void LineWriter::write_out(const char* p, size_t n) {
  bytes_ += n;
  if (os_) {
    os_->write(p, static_cast<std::streamsize>(n));
    if (!*os_) throw IoError("write error on output stream");
    return;
  }
  if (fd_ < 0) throw IoError(std::string(what_ ? what_ : "output") + " file written after close()");
  if (regular_ && line_start_) follow();  // only between lines: a line is never split over two files
  write_all(fd_, p, n, "write error");
  if (n > 0) line_start_ = p[n - 1] == '\n';
}

void write_all(int fd, const char* p, size_t n, const char* what) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE) throw BrokenPipe();
      throw IoError(std::string(what) + ": " + errno_text(errno));
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace sp
