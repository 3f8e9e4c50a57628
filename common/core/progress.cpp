#include "common/core/progress.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "common/core/log.hpp"

namespace sp {

bool progress_wanted(bool stderr_is_tty, bool stdout_is_pipe) { return stderr_is_tty && !stdout_is_pipe; }

bool is_anonymous_pipe(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) return false;
  char link[64];
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = ::readlink(path.c_str(), link, sizeof link - 1);
  if (n <= 0) return true;
  return std::string_view(link, static_cast<size_t>(n)).starts_with("pipe:");
}

Progress::Progress(std::string unit)
    : unit_(std::move(unit)),
      tty_(progress_wanted(::isatty(2) == 1, is_anonymous_pipe(1))),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

Progress::~Progress() { done(); }

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::redraw(uint64_t records, uint64_t bytes) {
  auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(500)) return;
  last_ = now;
  double secs = std::chrono::duration<double>(now - start_).count();
  std::string line = "\r" + log::tool() + ": " + summary_text(records, bytes, secs, unit_) + "\x1b[K";
  if (::write(2, line.data(), line.size()) > 0) drawn_ = true;
}

void Progress::done() {
  if (drawn_) {
    const char clear[] = "\r\x1b[K";
    if (::write(2, clear, sizeof clear - 1) < 0) {
    }
    drawn_ = false;
  }
}

std::string human_count(double n) {
  char buf[32];
  if (n >= 1e9)
    std::snprintf(buf, sizeof buf, "%.1fG", n / 1e9);
  else if (n >= 1e6)
    std::snprintf(buf, sizeof buf, "%.1fM", n / 1e6);
  else if (n >= 1e4)
    std::snprintf(buf, sizeof buf, "%.1fk", n / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.0f", n);
  return buf;
}

std::string human_bytes(double n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (n >= 1024 && u < 4) {
    n /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", n, units[u]);
  return buf;
}

std::string human_seconds(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", seconds);
  return buf;
}

std::string summary_text(uint64_t records, uint64_t bytes, double seconds, const std::string& unit) {
  char buf[256];
  double rate = seconds > 0 ? static_cast<double>(records) / seconds : 0;
  std::snprintf(buf, sizeof buf, "%llu %s, %s in %.2f s (%s %s/s)", static_cast<unsigned long long>(records),
                unit.c_str(), human_bytes(static_cast<double>(bytes)).c_str(), seconds, human_count(rate).c_str(),
                unit.c_str());
  return buf;
}

}  // namespace sp
