#include "common/core/retry.hpp"

#include <algorithm>
#include <cmath>
#include <thread>

#include "common/core/errors.hpp"
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

Retry::Retry(const Budget& b, WaitFn wait)
    : budget_(b), wait_(std::move(wait)), backoff_(b.initial, b.max), start_(std::chrono::steady_clock::now()) {}

bool Retry::spent(bool never_reached) const {
  unreached_ = never_reached;
  if (budget_.max_retries >= 0 && backoff_.attempts() >= budget_.max_retries) return true;
  return remaining().count() <= 0;
}

std::chrono::milliseconds Retry::remaining() const {
  auto limit = budget_.max_time;
  if (unreached_ && (limit.count() <= 0 || budget_.unreached_time < limit)) limit = budget_.unreached_time;
  if (limit.count() <= 0) return std::chrono::milliseconds::max();
  auto used = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start_);
  return std::max(limit - used, std::chrono::milliseconds(0));
}

std::chrono::milliseconds Retry::next() {
  auto d = backoff_.next();
  return std::max(std::min(d, remaining()), std::chrono::milliseconds(1));
}

void Retry::wait(std::chrono::milliseconds d, const std::string& message) const {
  if (!wait_(d)) throw Error(Exit::interrupted, message);
}

}  // namespace sp
