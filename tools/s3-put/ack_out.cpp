#include "ack_out.hpp"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "common/core/errors.hpp"
#include "common/core/log.hpp"

namespace sp::s3put {

namespace {
// How long a reader may not read before whole lines are dropped.
constexpr int kDropAfterMs = 5000;
// How long s3-put waits to finish a line it started before it fails: only a line longer than
// PIPE_BUF (a topic name of thousands of bytes) can be started and not finished.
constexpr int kFinishLineMs = 60000;
}  // namespace

AckOut::AckOut(const std::string& path) : path_(path) {
  struct stat st {};
  fifo_ = ::stat(path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
  fd_ = ::open(path.c_str(), fifo_ ? O_RDWR | O_NONBLOCK | O_CLOEXEC : O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw IoError("--acks " + path + ": " + errno_text(errno));
}

AckOut::~AckOut() { ::close(fd_); }

void AckOut::write(const std::string& lines) {
  // In chunks of whole lines of at most PIPE_BUF bytes: a pipe takes such a write whole or not at
  // all (EAGAIN), so a reader that stops reading makes s3-put drop whole lines, never half of one.
  size_t pos = 0;
  while (pos < lines.size()) {
    size_t end = pos;
    while (end < lines.size()) {
      size_t nl = lines.find('\n', end);
      size_t next = nl == std::string::npos ? lines.size() : nl + 1;
      if (end > pos && next - pos > PIPE_BUF) break;
      end = next;
    }
    if (!write_chunk(lines.data() + pos, end - pos)) {
      log::warn("--acks ", path_, ": nobody reads the acks (is kafka-cat-sensor running?); ", lines.size() - pos,
                " bytes of whole ack lines dropped (those messages are read again, not lost)");
      return;
    }
    pos = end;
  }
}

bool AckOut::write_chunk(const char* p, size_t n) {
  size_t written = 0;
  auto started = std::chrono::steady_clock::now();
  while (written < n) {
    ssize_t w = ::write(fd_, p + written, n - written);
    if (w >= 0) {
      written += static_cast<size_t>(w);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) throw IoError("--acks " + path_ + ": write: " + errno_text(errno));
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    int limit = written == 0 ? kDropAfterMs : kFinishLineMs;
    if (waited.count() >= limit) {
      if (written == 0) return false;
      // a torn line glues the next ack to it: the reader loses both (and says the FIFO is corrupt)
      throw IoError("--acks " + path_ + ": nobody reads the acks and an ack line of " + std::to_string(n) +
                    " bytes is half written (" + std::to_string(written) + " bytes); stopping rather than "
                    "leaving a torn line in the FIFO");
    }
    pollfd pfd{fd_, POLLOUT, 0};
    ::poll(&pfd, 1, static_cast<int>(limit - waited.count()));
  }
  return true;
}

}  // namespace sp::s3put
