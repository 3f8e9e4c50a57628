#include "offsets.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <vector>

#include "common/core/errors.hpp"
#include "common/core/timeutil.hpp"

namespace sp::kcs {

namespace {
bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::optional<int64_t> to_int(std::string_view s) {
  if (!all_digits(s) || s.size() > 18) return std::nullopt;
  return std::stoll(std::string(s));
}

int64_t parse_time(const std::string& flag, const std::string& text, std::string_view t) {
  if (auto ms = to_int(t)) return *ms;
  std::string why;
  auto ms = parse_iso8601_ms(t, &why);
  if (!ms) throw UsageError(flag + " '" + text + "': not a time (" + why + "); use ISO-8601 like 2025-07-07T00:00:00Z");
  return *ms;
}
}  // namespace

StartOffset parse_offset(const std::string& text) {
  const std::string flag = "-o";
  std::string_view t = text;
  if (t == "beginning" || t == "earliest") return {StartOffset::beginning, 0};
  if (t == "end" || t == "latest") return {StartOffset::end, 0};
  if (t == "stored") return {StartOffset::stored, 0};
  if (auto n = to_int(t)) return {StartOffset::absolute, *n};
  if (t.size() > 1 && t[0] == '-') {
    auto n = to_int(t.substr(1));
    if (!n) throw UsageError("-o '" + text + "': expected -N (N messages before the end)");
    return {StartOffset::tail, *n};
  }
  if (t.starts_with("s@")) return {StartOffset::time, parse_time(flag, text, t.substr(2))};
  if (t.starts_with('@')) return {StartOffset::time, parse_time(flag, text, t.substr(1))};
  if (t.size() >= 10 && std::isdigit(static_cast<unsigned char>(t[0])) && t[4] == '-')
    return {StartOffset::time, parse_time(flag, text, t)};
  throw UsageError("-o '" + text +
                   "': expected beginning, end, stored, an offset N, -N (before the end), or @TIME (ISO-8601)");
}

int64_t parse_until(const std::string& text) {
  std::string_view t = text;
  if (!t.empty() && t[0] == '@') t.remove_prefix(1);
  if (t.empty()) throw UsageError("--until: empty time");
  return parse_time("--until", text, t);
}

void parse_partitions(const std::string& text, std::vector<int32_t>& out) {
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    auto dash = part.find('-');
    auto bad = [&] { return UsageError("-p '" + text + "': expected partitions like 3, 0,1,5 or 0-7"); };
    if (dash == std::string::npos) {
      auto n = to_int(part);
      if (!n || *n > INT32_MAX) throw bad();
      out.push_back(static_cast<int32_t>(*n));
    } else {
      auto a = to_int(std::string_view(part).substr(0, dash));
      auto b = to_int(std::string_view(part).substr(dash + 1));
      if (!a || !b || *a > *b || *b > 100000) throw bad();
      for (int64_t i = *a; i <= *b; ++i) out.push_back(static_cast<int32_t>(i));
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
}

}  // namespace sp::kcs
