#include "endpoints.hpp"

#include <algorithm>

namespace sp::chi {

Endpoints::Endpoints(std::vector<std::string> urls, bool balance, std::chrono::milliseconds first_rest,
                     std::chrono::milliseconds max_rest)
    : balance_(balance), first_rest_(first_rest), max_rest_(std::max(max_rest, first_rest)) {
  for (auto& u : urls) {
    eps_.emplace_back();
    eps_.back().s.url = std::move(u);
  }
}

size_t Endpoints::pick(Time now) {
  std::lock_guard<std::mutex> lk(mu_);
  const size_t n = eps_.size();
  if (n <= 1) return 0;
  size_t start = balance_ ? next_ : 0;
  for (size_t k = 0; k < n; ++k) {
    size_t i = (start + k) % n;
    if (healthy(eps_[i], now)) {
      if (balance_) next_ = (i + 1) % n;
      return i;
    }
  }
  size_t best = 0;
  for (size_t i = 1; i < n; ++i)
    if (eps_[i].rest_until < eps_[best].rest_until) best = i;
  return best;
}

bool Endpoints::any_healthy(Time now, size_t except) const {
  std::lock_guard<std::mutex> lk(mu_);
  for (size_t i = 0; i < eps_.size(); ++i)
    if (i != except && healthy(eps_[i], now)) return true;
  return false;
}

void Endpoints::failed(size_t i, Time now) {
  std::lock_guard<std::mutex> lk(mu_);
  Ep& e = eps_.at(i);
  ++e.s.failures;
  auto rest = first_rest_;
  for (int k = 0; k < e.streak && rest < max_rest_; ++k) rest *= 2;
  rest = std::min(rest, max_rest_);
  ++e.streak;
  e.rest_until = now + rest;
}

void Endpoints::succeeded(size_t i, uint64_t rows) {
  std::lock_guard<std::mutex> lk(mu_);
  Ep& e = eps_.at(i);
  e.s.rows += rows;
  ++e.s.inserts;
  e.streak = 0;
  e.rest_until = Time{};
}

std::vector<EndpointStats> Endpoints::stats() const {
  std::lock_guard<std::mutex> lk(mu_);
  std::vector<EndpointStats> out;
  for (const auto& e : eps_) out.push_back(e.s);
  return out;
}

}  // namespace sp::chi
