#include "common/log.hpp"

#include <unistd.h>

#include <atomic>
#include <mutex>
#include <vector>

namespace sp::log {
namespace {
std::string g_tool = "sensor";
std::atomic<int> g_level{static_cast<int>(Level::info)};
std::mutex g_mu;
std::vector<std::string> g_secrets;

const char* level_name(Level l) {
  switch (l) {
    case Level::error: return "error";
    case Level::warn: return "warning";
    case Level::info: return "info";
    case Level::debug: return "debug";
    case Level::trace: return "trace";
  }
  return "?";
}
}  // namespace

void init(std::string_view tool_name) { g_tool = std::string(tool_name); }
const std::string& tool() { return g_tool; }
void set_level(Level l) { g_level = static_cast<int>(l); }
Level level() { return static_cast<Level>(g_level.load(std::memory_order_relaxed)); }

void add_secret(const std::string& secret) {
  if (secret.empty()) return;
  std::lock_guard<std::mutex> lk(g_mu);
  g_secrets.push_back(secret);
}

std::string redact(std::string_view text) {
  std::string out(text);
  std::lock_guard<std::mutex> lk(g_mu);
  for (const auto& s : g_secrets) {
    for (size_t pos = out.find(s); pos != std::string::npos; pos = out.find(s, pos + 3)) out.replace(pos, s.size(), "***");
  }
  return out;
}

void write(Level l, std::string_view msg) {
  std::string line;
  line.reserve(g_tool.size() + msg.size() + 16);
  line += g_tool;
  line += ": ";
  line += level_name(l);
  line += ": ";
  if (msg.size() > kMaxMessage) {
    line += redact(msg.substr(0, kMaxMessage));
    line += "... (cut)";
  } else {
    line += redact(msg);
  }
  line += '\n';
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(2, p, left);
    if (n <= 0) break;  // stderr gone: nothing sensible left to do
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace sp::log
