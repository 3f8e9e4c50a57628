// Exponential backoff with full jitter (AWS architecture blog's "full jitter"): delay is uniform in
// [0, min(max, initial * factor^attempt)]. Shared by ch-insert, s3-put/s3-cat and kafka-cat-sensor.
#pragma once
#include <chrono>
#include <cstdint>
#include <random>

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

}  // namespace sp
