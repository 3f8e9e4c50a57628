// Exponential backoff with full jitter (AWS architecture blog's "full jitter"): delay is uniform in
// [0, min(max, initial * factor^attempt)]. Shared by ch-insert, s3-put/s3-cat and kafka-cat-sensor.
// Retry: the one retry loop's bookkeeping (budget, backoff, the wait and how it ends when stopped).
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <string>

namespace sp {

class Backoff {
 public:
  explicit Backoff(std::chrono::milliseconds initial = std::chrono::milliseconds(200),
                   std::chrono::milliseconds max = std::chrono::seconds(30), double factor = 2.0,
                   uint64_t seed = std::random_device{}());
  // The delay before the next retry; increments the attempt count.
  std::chrono::milliseconds next();
  void reset() { attempt_ = 0; }
  int attempts() const { return attempt_; }
  // Upper bound of the delay for a given attempt (no jitter), for docs and tests.
  std::chrono::milliseconds cap(int attempt) const;

 private:
  std::chrono::milliseconds initial_, max_;
  double factor_;
  int attempt_ = 0;
  std::mt19937_64 rng_;
};

// Sleeps in small steps; returns false early if SIGINT/SIGTERM asked the tool to stop.
bool sleep_unless_stopped(std::chrono::milliseconds d);

// Every retrying caller (the S3 client's requests and resumed reads, ch-insert's inserts and its wait
// for the server) runs the same loop:
//   Retry retry(budget);
//   for (;;) {
//     try { return attempt(); } catch (retriable failure) { if (retry.spent()) throw ...; }
//     auto d = retry.next();  log::warn(problem, "; retry ", retry.retries(), " in ", d.count(), " ms");
//     retry.wait(d, what + ": interrupted while retrying: " + problem);
//   }
// The caller decides what is retriable and says what it logs; Retry keeps the count, the clock and the
// backoff, and ends an interrupted wait the one way the README documents (exit 130).
class Retry {
 public:
  // How long a server that was never reached is retried (Budget::unreached_time's default): what the
  // man pages document ("gives up after 10 s"), and kafka-cat-sensor's --connect-timeout default.
  static constexpr std::chrono::milliseconds kUnreachedTime{10000};
  struct Budget {
    std::chrono::milliseconds initial{200};  // backoff: first delay's cap
    std::chrono::milliseconds max{std::chrono::seconds(30)};  // backoff: largest delay
    int max_retries = -1;                     // retries after the first attempt; -1: no limit
    std::chrono::milliseconds max_time{0};    // since the Retry was made; 0: no limit
    // The budget when the attempts fail without ever having reached their server (see spent()).
    std::chrono::milliseconds unreached_time{kUnreachedTime};
  };
  // false: stop waiting (a stop signal)
  using WaitFn = std::function<bool(std::chrono::milliseconds)>;
  explicit Retry(const Budget& b, WaitFn wait = sleep_unless_stopped);
  // Whether the budget allows no further attempt after the one that just failed. never_reached: that
  // attempt failed without its server ever having answered (HttpTransportError::never_reached: the
  // connection refused or the name not resolved, and no answer from that endpoint since the process
  // started). Then the budget is Budget::unreached_time at most, whatever the configured one: a server
  // never reached is most likely a wrong address or one not started, which minutes of retries do not
  // fix, while one lost mid-stream keeps the configured retries. Also sets which budget next() keeps to.
  bool spent(bool never_reached = false) const;
  // Retries so far (each next() is one).
  int retries() const { return backoff_.attempts(); }
  // The delay before the next attempt; counts the retry. Never longer than what is left of the budget
  // in force (at least 1 ms), so the last attempt starts before the budget ends, not a backoff later.
  std::chrono::milliseconds next();
  // What is left of the time budget in force (max_time, or unreached_time after spent(true));
  // milliseconds::max() without a time limit. For attempts' own timeouts (a request must not
  // outlast the budget).
  std::chrono::milliseconds remaining() const;
  // Waits d; when the wait was stopped throws Error(Exit::interrupted, message).
  void wait(std::chrono::milliseconds d, const std::string& message) const;

 private:
  Budget budget_;
  WaitFn wait_;
  Backoff backoff_;
  std::chrono::steady_clock::time_point start_;
  mutable bool unreached_ = false;  // the last spent() was asked for an attempt that never reached its server
};

}  // namespace sp
