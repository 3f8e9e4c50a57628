#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/errors.hpp"
#include "common/log.hpp"
#include "kcs.hpp"
#include "offsets.hpp"

namespace sp::kcs {

void AckTracker::ack(const std::string& topic, int32_t partition, int64_t offset) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto& v = next_.try_emplace({topic, partition}, -1).first->second;
    if (offset + 1 > v) v = offset + 1;
    ++count_;
  }
  cv_.notify_all();
}

int64_t AckTracker::acked(const std::string& topic, int32_t partition) const {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = next_.find({topic, partition});
  return it == next_.end() ? -1 : it->second;
}

AckReader::AckReader(std::string path, AckTracker& tracker) : path_(std::move(path)), tracker_(tracker) {
  thread_ = std::thread([this] { loop(); });
}

AckReader::~AckReader() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::string AckReader::error() const {
  std::lock_guard<std::mutex> lk(mu_);
  return error_;
}

void AckReader::loop() {
  struct stat st {};
  bool fifo = ::stat(path_.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
  // O_RDWR on a FIFO never blocks in open() and never sees EOF when the writer goes away.
  int fd = ::open(path_.c_str(), (fifo ? O_RDWR : O_RDONLY) | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    std::lock_guard<std::mutex> lk(mu_);
    error_ = "--commit-acks " + path_ + ": " + errno_text(errno);
    log::error(error_, "; nothing will be committed");
    return;
  }
  std::string pending;
  char buf[65536];
  uint64_t lineno = 0;
  while (!stop_) {
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, 100);
    if (r < 0 && errno != EINTR) break;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      log::error("--commit-acks ", path_, ": read: ", errno_text(errno));
      break;
    }
    if (n == 0) {
      if (!fifo) ::usleep(100000);  // a regular file: follow it as it grows
      continue;
    }
    pending.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::string_view line(pending.data() + start, nl - start);
      ++lineno;
      if (line.empty()) continue;
      Ack a;
      std::string why;
      if (parse_ack(line, a, &why)) {
        tracker_.ack(a.topic, a.partition, a.offset);
      } else if (++bad_ <= 5) {
        log::warn("--commit-acks ", path_, ": line ", lineno, ": ", why, ": ", line.substr(0, 200));
      }
    }
    pending.erase(0, start);
    if (pending.size() > (1 << 20)) {
      ++bad_;
      log::warn("--commit-acks ", path_, ": line ", lineno + 1, " longer than 1 MiB, skipped");
      pending.clear();
    }
  }
  ::close(fd);
}

}  // namespace sp::kcs
