// Which of several --url endpoints a request goes to. One that failed (no answer, 5xx, a retriable
// ClickHouse code) rests for a while, 1 s doubling per consecutive failure up to a cap, so the next
// requests go elsewhere at once instead of waiting on it; after its rest it is tried again. Without
// --balance requests go to the first endpoint (in --url order) that is not resting; with it,
// round-robin over those not resting. Shared by the sender threads (thread-safe); times are passed
// in so that tests need no sleeping.
#pragma once
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace sp::chi {

struct EndpointStats {
  std::string url;
  uint64_t rows = 0, inserts = 0, failures = 0;
  size_t shard = 0;  // shard-direct: the endpoint's shard, 1-based; 0 otherwise
};

class Endpoints {
 public:
  using Time = std::chrono::steady_clock::time_point;
  Endpoints(std::vector<std::string> urls, bool balance, std::chrono::milliseconds first_rest,
            std::chrono::milliseconds max_rest);

  // The endpoint for the next request; when all rest, the one whose rest ends first.
  size_t pick(Time now);
  // Another endpoint than `except` is not resting (a retry can go there without waiting).
  bool any_healthy(Time now, size_t except = SIZE_MAX) const;
  void failed(size_t i, Time now);
  void succeeded(size_t i, uint64_t rows);
  std::vector<EndpointStats> stats() const;
  size_t size() const { return eps_.size(); }
  const std::string& url(size_t i) const { return eps_[i].s.url; }

 private:
  struct Ep {
    EndpointStats s;
    Time rest_until{};
    int streak = 0;  // consecutive failures
  };
  bool healthy(const Ep& e, Time now) const { return e.rest_until <= now; }
  mutable std::mutex mu_;
  std::vector<Ep> eps_;
  bool balance_;
  std::chrono::milliseconds first_rest_, max_rest_;
  size_t next_ = 0;  // --balance: where the round-robin goes on
};

}  // namespace sp::chi
