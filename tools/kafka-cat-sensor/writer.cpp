#include "writer.hpp"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "common/errors.hpp"

namespace sp::kcs {

BackgroundWriter::BackgroundWriter(int fd) : fd_(fd) {
  // Stop signals go to the main thread, which sees the flag; this one only writes.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  thread_ = std::thread([this] { loop(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

BackgroundWriter::~BackgroundWriter() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

bool BackgroundWriter::idle() {
  std::lock_guard<std::mutex> lk(mu_);
  return !busy_;
}

void BackgroundWriter::wait_locked(std::unique_lock<std::mutex>& lk) {
  cv_.wait(lk, [&] { return !busy_; });
  if (error_) {
    auto e = error_;
    error_ = nullptr;
    std::rethrow_exception(e);
  }
}

void BackgroundWriter::submit(std::string& buf) {
  std::unique_lock<std::mutex> lk(mu_);
  wait_locked(lk);
  if (buf.empty()) return;
  pending_.swap(buf);
  buf.clear();
  busy_ = true;
  lk.unlock();
  cv_.notify_all();
}

void BackgroundWriter::wait() {
  std::unique_lock<std::mutex> lk(mu_);
  wait_locked(lk);
}

void BackgroundWriter::loop() {
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    cv_.wait(lk, [&] { return busy_ || stop_; });
    if (!busy_) return;  // stopping, nothing left to write
    lk.unlock();
    std::exception_ptr err;
    const char* p = pending_.data();
    size_t left = pending_.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        err = errno == EPIPE ? std::make_exception_ptr(BrokenPipe())
                             : std::make_exception_ptr(IoError("write to stdout: " + errno_text(errno)));
        break;
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    lk.lock();
    pending_.clear();
    error_ = err;
    busy_ = false;
    cv_.notify_all();
  }
}

}  // namespace sp::kcs
