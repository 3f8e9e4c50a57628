// SIGINT/SIGTERM set a flag; loops check stop_requested(), drain what is pending and exit.
// A second signal (request_stop does not count) ends the process at once (exit 130), for a user who
// really means it, unless the tool asked for second_signal_abandons(): then the second signal sets
// abandon_requested(), the tool gives up its pending work and cleans up in bounded time (s3-put aborts
// its multipart upload, which _exit would leave behind, billed), and a third ends the process at once.
#pragma once
#include <exception>
#include <thread>
#include <utility>

#include <csignal>

namespace sp {
void install_stop_signals();
bool stop_requested();
int stop_signal();          // the signal number that asked to stop, 0 if none
void request_stop(int sig);  // for tests and for tools that stop themselves (e.g. on SIGPIPE)
void second_signal_abandons();
bool abandon_requested();

// Blocks SIGINT and SIGTERM in the calling thread for its lifetime, then restores the mask. Threads
// started meanwhile inherit the mask: the tools' design (a blocking read returns EINTR on a signal,
// the loop sees the flag) holds only when the main thread takes the signal, and a process-directed
// signal goes to any thread that does not block it. Wrap the creation of every helper thread,
// including a C library's own (rd_kafka_new starts librdkafka's), in one.
class StopSignalsBlocked {
 public:
  StopSignalsBlocked();
  ~StopSignalsBlocked();
  StopSignalsBlocked(const StopSignalsBlocked&) = delete;
  StopSignalsBlocked& operator=(const StopSignalsBlocked&) = delete;

 private:
  sigset_t old_;
};

// A failure where no exception may pass: a C library's callback (librdkafka's, libcurl's) or a
// helper thread's body, where it would terminate the process. The first one is kept and a stop
// is requested, so the tool's loop ends as on a signal and finishes cleanly; tool_main then throws
// it again (rethrow_kept_failure) and the tool exits with its code (an sp::Error's, else 70).
void keep_failure(const char* where, const std::exception_ptr& e) noexcept;
bool failure_kept();
// Throws the kept failure, if any, once (the main thread, after the tool's loop has ended).
void rethrow_kept_failure();

// Runs f(); an exception is kept (keep_failure) instead of passing. Returns whether f() returned.
template <class F>
bool guarded(const char* where, F&& f) noexcept {
  try {
    std::forward<F>(f)();
    return true;
  } catch (...) {
    keep_failure(where, std::current_exception());
    return false;
  }
}

// A helper thread: started with SIGINT/SIGTERM blocked, its body guarded as above.
template <class F>
std::thread start_thread(const char* name, F&& body) {
  StopSignalsBlocked blocked;
  return std::thread([name, body = std::forward<F>(body)]() mutable { guarded(name, body); });
}
}  // namespace sp
