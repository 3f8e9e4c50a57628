#include "common/signals.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>

namespace sp {
namespace {
std::atomic<int> g_signal{0};

extern "C" void on_stop(int sig) {
  if (g_signal.exchange(sig) != 0) _exit(130);
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

}  // namespace sp
