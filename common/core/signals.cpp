#include "common/core/signals.hpp"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <mutex>
#include <stdexcept>
#include <string>

#include "common/core/log.hpp"

namespace sp {
namespace {
std::atomic<int> g_signal{0};
std::atomic<int> g_received{0};  // SIGINT/SIGTERM only: a tool's own request_stop is not the user insisting
std::atomic<bool> g_abandon_mode{false}, g_abandon{false};

extern "C" void on_stop(int sig) {
  g_signal.store(sig);
  int n = g_received.fetch_add(1) + 1;
  if (n == 1) return;
  if (n == 2 && g_abandon_mode.load()) {
    g_abandon.store(true);
    return;
  }
  _exit(130);
}
}  // namespace

void install_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking read returns EINTR and the loop sees the flag
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool stop_requested() { return g_signal.load(std::memory_order_relaxed) != 0; }
int stop_signal() { return g_signal.load(); }
void request_stop(int sig) { g_signal.store(sig); }
void second_signal_abandons() { g_abandon_mode.store(true); }
bool abandon_requested() { return g_abandon.load(std::memory_order_relaxed); }

StopSignalsBlocked::StopSignalsBlocked() {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, &old_);
}

StopSignalsBlocked::~StopSignalsBlocked() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }

namespace {
std::mutex g_failure_mu;
std::exception_ptr g_failure;
std::atomic<bool> g_failed{false};
}  // namespace

void keep_failure(const char* where, const std::exception_ptr& e) noexcept {
  try {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      what = x.what();
    } catch (...) {
    }
    {
      std::lock_guard<std::mutex> lk(g_failure_mu);
      if (!g_failure) g_failure = e;
    }
    log::debug(where, ": ", what);
  } catch (...) {
    // out of memory while recording: the flag below still stops the tool
  }
  g_failed.store(true);
  if (!stop_requested()) request_stop(SIGTERM);
}

bool failure_kept() { return g_failed.load(); }

void rethrow_kept_failure() {
  std::exception_ptr e;
  {
    std::lock_guard<std::mutex> lk(g_failure_mu);
    std::swap(e, g_failure);
  }
  if (e) std::rethrow_exception(e);
  if (g_failed.exchange(false)) throw std::runtime_error("a helper thread failed (see above)");
}

}  // namespace sp
