#include "common/core/log.hpp"

#include <unistd.h>

#include <atomic>
#include <cctype>
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

std::vector<std::string> swap_secrets(std::vector<std::string> secrets) {
  std::lock_guard<std::mutex> lk(g_mu);
  g_secrets.swap(secrets);
  return secrets;
}

namespace {
// Characters that end a URL in a message: URLs are quoted or stand between spaces.
bool ends_token(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\'' || c == '"' || c == '`' || c == '<' || c == '>';
}
bool secret_name(std::string_view name) {
  std::string n(name);
  for (auto& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // S3 listing parameters: a count and a position in the key space, not credentials
  if (n == "max-keys" || n == "key-marker" || n == "start-after") return false;
  for (const char* w : {"pass", "secret", "token", "key"})
    if (n.find(w) != std::string::npos) return true;
  return false;
}
// One token (no delimiters inside): user:password@ and secret query values redacted.
void redact_token(std::string_view tok, std::string& out) {
  size_t auth = tok.find("://");
  auth = auth == std::string_view::npos ? 0 : auth + 3;
  // the last '@': a password may hold an unencoded '@' ("u:p@ss@host")
  size_t at = tok.rfind('@');
  size_t colon = at == std::string_view::npos || at < auth ? std::string_view::npos : tok.find(':', auth);
  std::string t;
  // userinfo comes before any '/' ("s3://bucket/a:b@c" is a key, not a password)
  if (colon != std::string_view::npos && colon < at &&
      tok.substr(auth, colon - auth).find('/') == std::string_view::npos) {
    t.append(tok.substr(0, colon + 1));
    t += "***";
    t.append(tok.substr(at));
  } else {
    t.assign(tok);
  }
  // ?password=...&key=...: ClickHouse takes user and password as query parameters too
  size_t q = t.find('?');
  if (q == std::string::npos) {
    out += t;
    return;
  }
  out.append(t, 0, q + 1);
  size_t pos = q + 1;
  while (pos <= t.size()) {
    size_t amp = t.find('&', pos);
    if (amp == std::string::npos) amp = t.size();
    std::string_view param(t.data() + pos, amp - pos);
    size_t eq = param.find('=');
    if (eq != std::string_view::npos && secret_name(param.substr(0, eq))) {
      out.append(param.substr(0, eq + 1));
      out += "***";
    } else {
      out.append(param);
    }
    if (amp < t.size()) out += '&';
    pos = amp + 1;
  }
}
}  // namespace

std::string redact_userinfo(std::string_view text) {
  if (text.find('@') == std::string_view::npos && text.find('?') == std::string_view::npos) return std::string(text);
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (ends_token(text[i])) {
      out += text[i++];
      continue;
    }
    size_t j = i;
    while (j < text.size() && !ends_token(text[j])) ++j;
    redact_token(text.substr(i, j - i), out);
    i = j;
  }
  return out;
}

std::string redact(std::string_view text) {
  std::string out = redact_userinfo(text);
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
  // redacted before it is cut: a cut through a secret would leave its first part unredacted
  std::string text = redact(msg);
  if (text.size() > kMaxMessage) {
    line.append(text, 0, kMaxMessage);
    line += "... (cut)";
  } else {
    line += text;
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

std::string printable(std::string_view s, size_t max) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    unsigned char ch = static_cast<unsigned char>(s[i]);
    size_t len = ch < 0x80 ? 1 : (ch >> 5) == 6 ? 2 : (ch >> 4) == 14 ? 3 : (ch >> 3) == 30 ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size() && !(len == 1 && (ch < 0x20 || ch == 0x7f));
    for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    // C1 controls (U+0080..U+009F, "\xc2\x80".."\xc2\x9f") steer some terminals too
    if (ok && len == 2 && ch == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0) ok = false;
    if (ok && ch == '\\') {
      out += "\\\\";  // doubled, so that a literal "\x1b" in the input cannot pass for an escaped byte
      ++i;
    } else if (ok) {
      out.append(s.data() + i, len);
      i += len;
    } else {
      out += "\\x";
      out += hex[ch >> 4];
      out += hex[ch & 15];
      ++i;
    }
  }
  return out;
}

}  // namespace sp::log
