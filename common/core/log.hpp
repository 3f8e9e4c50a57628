// Logging to stderr as `tool: level: message`. stdout is for data only.
// Every message passes redact(): secrets registered with add_secret() and the password of every
// user:password@ in a URL (with or without a scheme) are replaced by "***".
#pragma once
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace sp::log {

enum class Level : int { error = 0, warn = 1, info = 2, debug = 3, trace = 4 };

void init(std::string_view tool_name);
const std::string& tool();
void set_level(Level l);
Level level();
inline bool enabled(Level l) { return static_cast<int>(l) <= static_cast<int>(level()); }

// Registers a secret (password, secret key, token) so it never reaches stderr.
void add_secret(const std::string& secret);
// Replaces the registered secrets by `secrets` and returns those it had: unit tests, one process,
// start each test with an empty registry and put the previous one back after it.
std::vector<std::string> swap_secrets(std::vector<std::string> secrets);
// The registered secrets and URL passwords (redact_userinfo) of text replaced by "***".
std::string redact(std::string_view text);
// Replaces the password of every user:password@host in text by "***" ("http://u:***@h:8123/",
// "u:***@h:1"), and the value of URL query parameters named like a secret (password=, ...). It needs no
// registration, so it also covers a URL that is refused before its password could be registered.
// A password containing whitespace or quotes is cut there: such URLs are not valid anyway.
std::string redact_userinfo(std::string_view text);

// Writes one whole line (one write(2), so lines from threads do not interleave).
void write(Level l, std::string_view msg);

// Messages longer than this are cut (a 10 MB bad line must not flood the terminal).
inline constexpr size_t kMaxMessage = 4096;

template <class... A>
std::string cat(A&&... a) {
  std::ostringstream os;
  (os << ... << a);
  return os.str();
}
template <class... A> void error(A&&... a) { write(Level::error, cat(std::forward<A>(a)...)); }
template <class... A> void warn(A&&... a) {
  if (enabled(Level::warn)) write(Level::warn, cat(std::forward<A>(a)...));
}
template <class... A> void info(A&&... a) {
  if (enabled(Level::info)) write(Level::info, cat(std::forward<A>(a)...));
}
template <class... A> void debug(A&&... a) {
  if (enabled(Level::debug)) write(Level::debug, cat(std::forward<A>(a)...));
}
template <class... A> void trace(A&&... a) {
  if (enabled(Level::trace)) write(Level::trace, cat(std::forward<A>(a)...));
}

// Text from input or from a server made safe for a terminal: control bytes (C0, DEL, C1) and invalid
// UTF-8 as \xNN, a backslash doubled, valid UTF-8 as is; cut after about max bytes ("..." appended). Every tool echoes
// foreign bytes through this, so no input can drive the reader's terminal.
std::string printable(std::string_view s, size_t max = 200);

}  // namespace sp::log
