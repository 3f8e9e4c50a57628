#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "common/rows/acks.hpp"
#include "common/core/errors.hpp"
#include "common/core/log.hpp"
#include "common/core/signals.hpp"
#include "kcs.hpp"
#include "offsets.hpp"

namespace sp::kcs {

void AckTracker::assign(const std::string& topic, int32_t partition) {
  std::lock_guard<std::mutex> lk(mu_);
  Window w;
  w.acked.assign(static_cast<size_t>(sources_), -1);
  windows_[{topic, partition}] = std::move(w);
}

void AckTracker::wrote(const std::string& topic, int32_t partition, int64_t first, int64_t next) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = windows_.find({topic, partition});
  if (it == windows_.end()) return;
  it->second.first = first;
  it->second.next = next;
}

void AckTracker::revoke(const std::string& topic, int32_t partition) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = windows_.find({topic, partition});
  if (it == windows_.end()) return;
  if (it->second.next >= 0) given_up_[it->first] = it->second;  // an empty window keeps the one before
  windows_.erase(it);
}

AckTracker::Result AckTracker::ack(const std::string& topic, int32_t partition, int64_t offset, int source) {
  Result r;
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto inside = [offset](const Window& w) { return w.next >= 0 && offset >= w.first && offset < w.next; };
    auto it = windows_.find({topic, partition});
    if (it != windows_.end() && inside(it->second)) {
      auto& a = it->second.acked[static_cast<size_t>(std::clamp(source, 0, sources_ - 1))];
      if (offset + 1 > a) a = offset + 1;
      ++count_;
    } else {
      // refused; one for what was written before the partition was given up (it may be back since)
      // is a late ack, expected in a rebalance: the reader logs it at debug level, not as a warning
      auto gone = given_up_.find({topic, partition});
      const Window* w = it != windows_.end() ? &it->second : nullptr;
      if (gone != given_up_.end() && inside(gone->second)) {
        r.verdict = Verdict::given_up;
        w = &gone->second;
      } else if (w) {
        r.verdict = w->next < 0 ? Verdict::nothing_written : Verdict::outside;
      } else {
        bool known = std::find(topics_.begin(), topics_.end(), topic) != topics_.end();
        auto same = windows_.lower_bound({topic, INT32_MIN});
        if (same != windows_.end() && same->first.first == topic) known = true;
        r.verdict = known ? Verdict::not_assigned : Verdict::other_topic;
      }
      if (w) {
        r.first = w->first;
        r.next = w->next;
      }
      return r;
    }
  }
  cv_.notify_all();
  return r;
}

std::string AckTracker::reason(const Result& r) {
  switch (r.verdict) {
    case Verdict::taken: return "taken";
    case Verdict::outside:
      return "this process wrote offsets " + std::to_string(r.first) + " to " + std::to_string(r.next - 1) + " of it";
    case Verdict::nothing_written: return "this process has written nothing of it yet";
    case Verdict::given_up: return "partition given up in a rebalance (its new owner reads it again)";
    case Verdict::not_assigned: return "partition not assigned to this process";
    case Verdict::other_topic: return "topic not read by this process";
  }
  return "?";
}

int64_t AckTracker::acked(const std::string& topic, int32_t partition) const {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = windows_.find({topic, partition});
  if (it == windows_.end()) return -1;
  return *std::min_element(it->second.acked.begin(), it->second.acked.end());
}

AckReader::AckReader(std::string path, AckTracker& tracker, int source)
    : path_(std::move(path)), tracker_(tracker), source_(source) {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0)
    throw NoInputError("--commit-acks " + path_ + ": " + errno_text(errno) + " (create it first: mkfifo " + path_ + ")");
  // a directory opens read-only, and only read() fails (EISDIR): refused here
  if (S_ISDIR(st.st_mode))
    throw NoInputError("--commit-acks " + path_ + ": is a directory; give the FIFO the acknowledging stage writes to (mkfifo " +
                       path_ + "/acks)");
  fifo_ = S_ISFIFO(st.st_mode);
  // O_RDWR on a FIFO never blocks in open() and never sees EOF when the writer goes away (and
  // needs write permission too: the message says so).
  fd_ = ::open(path_.c_str(), (fifo_ ? O_RDWR : O_RDONLY) | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0)
    throw NoInputError("--commit-acks " + path_ + ": " + errno_text(errno) +
                       (fifo_ ? " (a FIFO is opened for reading and writing: both permissions are needed)" : ""));
  thread_ = start_thread("--commit-acks reader", [this] {
    try {
      loop();
    } catch (const std::exception& e) {
      fail(e.what());
    }
  });
}

AckReader::~AckReader() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) ::close(fd_);
}

std::string AckReader::error() const {
  std::lock_guard<std::mutex> lk(mu_);
  return error_;
}

void AckReader::fail(const std::string& why) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    error_ = "--commit-acks " + path_ + ": " + why;  // the consumer stops with it (exit 74)
  }
  failed_ = true;
}

void AckReader::loop() {
  int& fd = fd_;
  bool fifo = fifo_;
  std::string pending;
  bool skipping = false;  // inside a line over kMaxLine: dropped up to its newline, then one warning
  uint64_t skipped = 0;   // its bytes so far
  char buf[65536];
  uint64_t lineno = 0;
  bool own_writer = fifo;  // fd is O_RDWR: EOF cannot be seen
  while (!stop_) {
    if (own_writer && expect_end_) {
      // A read-only descriptor sees EOF once every writer closed the FIFO; what they wrote stays
      // in the pipe, which the new descriptor keeps open.
      int ro = ::open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
      if (ro >= 0) {
        ::close(fd);
        fd = ro;
      }
      own_writer = false;
    }
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, 100);
    if (r < 0 && errno != EINTR) {
      fail("poll: " + errno_text(errno));
      break;
    }
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      fail("read: " + errno_text(errno));
      break;
    }
    if (n == 0) {
      // A FIFO's writers all left; before the first line one may still be on its way (it opens late).
      if (fifo && lineno > 0) {
        writers_gone_ = true;
        break;
      }
      ::usleep(100000);  // a regular file: follow it as it grows; a FIFO: poll() says POLLHUP at once
      continue;
    }
    pending.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      ++lineno;
      if (skipping) {
        skipping = false;
        ++bad_;
        warn(bad_limit_, bad_, "bad ack lines",
             "line " + std::to_string(lineno) + ": " + std::to_string(skipped + (nl - start)) + " bytes, longer than 1 MiB: skipped");
        continue;
      }
      line(lineno, std::string_view(pending.data() + start, nl - start));
    }
    pending.erase(0, start);
    if (pending.size() > kMaxLine) {
      if (!skipping) skipped = 0;
      skipping = true;
      skipped += pending.size();
      pending.clear();
    }
  }
  summary(bad_limit_, "bad ack lines");
  summary(refused_limit_, "refused acks");
}

void AckReader::line(uint64_t lineno, std::string_view text) {
  if (text.empty()) return;
  Ack a;
  std::string why;
  if (!parse_ack(text, a, &why)) {
    ++bad_;
    warn(bad_limit_, bad_, "bad ack lines", "line " + std::to_string(lineno) + ": " + why + ": " + log::printable(text, 200));
    return;
  }
  auto r = tracker_.ack(a.topic, a.partition, a.offset, source_);
  if (r.verdict == AckTracker::Verdict::taken) return;
  std::string what = "line " + std::to_string(lineno) + ": " + log::printable(a.topic, 200) + " [" + std::to_string(a.partition) +
                     "] offset " + std::to_string(a.offset) + ": refused: " + AckTracker::reason(r);
  if (r.verdict == AckTracker::Verdict::given_up) {
    // expected in a rebalance: ch-insert acknowledges what it got before the partition moved
    log::debug("--commit-acks ", path_, ": ", what);
    return;
  }
  ++refused_;
  warn(refused_limit_, refused_, "refused acks", what + " (not committed)");
}

void AckReader::warn(Limit& limit, uint64_t nth, const std::string& what, const std::string& message) {
  if (nth <= kShown) {
    if (nth == kShown) limit.last = std::chrono::steady_clock::now();
    log::warn("--commit-acks ", path_, ": ", message,
              nth == kShown ? "; more " + what + " are counted once a minute" : std::string());
    return;
  }
  ++limit.unshown;
  if (std::chrono::steady_clock::now() - limit.last >= std::chrono::minutes(1)) summary(limit, what);
}

void AckReader::summary(Limit& limit, const std::string& what) {
  if (limit.unshown == 0) return;
  log::warn("--commit-acks ", path_, ": ", limit.unshown, " more ", what);
  limit.unshown = 0;
  limit.last = std::chrono::steady_clock::now();
}

}  // namespace sp::kcs
