#include "common/core/signals.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>

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

}  // namespace sp
