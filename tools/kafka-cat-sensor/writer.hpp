// The consumer's stdout, written by a thread of its own. While a slower stage downstream keeps
// write(2) blocked, the consumer goes on draining librdkafka's queue into the next buffer: once that
// queue reaches queued.min.messages, librdkafka 2.0.2 stops fetching until its broker thread's next
// 1-second wakeup.
#pragma once
#include <condition_variable>
#include <exception>
#include <mutex>
#include <string>
#include <thread>

namespace sp::kcs {

class BackgroundWriter {
 public:
  explicit BackgroundWriter(int fd);
  ~BackgroundWriter();  // waits for the write in progress
  BackgroundWriter(const BackgroundWriter&) = delete;
  BackgroundWriter& operator=(const BackgroundWriter&) = delete;

  // True when nothing is being written.
  bool idle();
  // Hands buf over to be written (buf is left empty); waits for the previous one first. Throws
  // what that write failed with: BrokenPipe when the reader has gone, IoError otherwise.
  void submit(std::string& buf);
  // Waits until everything handed over is written; throws as submit().
  void wait();

 private:
  void loop();
  void wait_locked(std::unique_lock<std::mutex>& lk);
  int fd_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string pending_;  // being written, owned by the thread while busy_
  bool busy_ = false;
  bool stop_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace sp::kcs
