#include "common/core/retry.hpp"

#include <algorithm>
#include <cmath>
#include <thread>

#include "common/core/signals.hpp"

namespace sp {

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, double factor, uint64_t seed)
    : initial_(initial), max_(max), factor_(factor), rng_(seed) {}

std::chrono::milliseconds Backoff::cap(int attempt) const {
  double c = static_cast<double>(initial_.count()) * std::pow(factor_, std::min(attempt, 60));
  return std::chrono::milliseconds(static_cast<int64_t>(std::min(c, static_cast<double>(max_.count()))));
}

std::chrono::milliseconds Backoff::next() {
  auto c = cap(attempt_++);
  // never zero: a tight retry loop against a down server helps nobody
  std::uniform_int_distribution<int64_t> d(std::max<int64_t>(1, c.count() / 10), std::max<int64_t>(1, c.count()));
  return std::chrono::milliseconds(d(rng_));
}

bool sleep_unless_stopped(std::chrono::milliseconds d) {
  auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
    if (stop_requested()) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(50)));
  }
  return !stop_requested();
}

}  // namespace sp
