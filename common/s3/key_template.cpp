#include "common/s3/key_template.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/core/errors.hpp"
#include "common/core/timeutil.hpp"
#include "common/s3/s3.hpp"

namespace sp::s3 {

namespace {

// One piece of a template: literal text, a strftime conversion ("%Y", "%-H", "%%"), or a {field}.
struct Token {
  enum Kind { literal, conversion, field } kind;
  size_t begin, end;   // [begin, end) in the template
  char conv = 0;       // conversion: its letter ('%' for "%%")
  bool plain = true;   // conversion: no flag, width or E/O modifier (those change its width)
  std::string name;    // field: the text between the braces
};

// Calls fn(token) for each piece in order; fn returning false stops.
template <class Fn>
void scan(const std::string& t, Fn fn) {
  for (size_t i = 0; i < t.size();) {
    if (t[i] == '{') {
      size_t close = t.find('}', i);
      if (close != std::string::npos) {
        if (!fn(Token{Token::field, i, close + 1, 0, true, t.substr(i + 1, close - i - 1)})) return;
        i = close + 1;
        continue;
      }
    }
    if (t[i] == '%' && i + 1 < t.size()) {
      size_t j = i + 1;
      while (j < t.size() && std::strchr("_-0^#", t[j])) ++j;
      while (j < t.size() && t[j] >= '0' && t[j] <= '9') ++j;
      if (j < t.size() && (t[j] == 'E' || t[j] == 'O')) ++j;
      if (j < t.size()) {
        if (!fn(Token{Token::conversion, i, j + 1, t[j], j == i + 1, {}})) return;
        i = j + 1;
        continue;
      }
    }
    if (!fn(Token{Token::literal, i, i + 1, 0, true, {}})) return;
    ++i;
  }
}

int seq_width(const std::string& field) {
  if (field == "seq") return 6;
  char* end = nullptr;
  long w = std::strtol(field.c_str() + 4, &end, 10);
  if (field.size() == 4 || *end || w < 1 || w > 20)
    throw UsageError("key template: bad field {" + field + "} (want {seq:N}, N in 1..20)");
  return static_cast<int>(w);
}

bool is_seq(const std::string& field) { return field == "seq" || field.rfind("seq:", 0) == 0; }

std::string escape_percent(const std::string& v) {
  std::string out;
  for (char c : v) out += c == '%' ? std::string("%%") : std::string(1, c);
  return out;
}

std::string escaped(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7f) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

void check_no_control(const std::string& what, const std::string& text) {
  for (unsigned char c : text)
    if (c < 0x20 || c == 0x7f)
      throw UsageError(what + " '" + escaped(text) + "' holds a control character: S3 keys with them split log lines "
                       "and s3-cat --list output, so none are allowed (%n and %t in a template are such characters)");
}

std::string render_key(const std::string& tmpl, const KeyValues& v, const std::string& ext) {
  std::string pre;
  scan(tmpl, [&](const Token& t) {
    if (t.kind != Token::field) {
      pre.append(tmpl, t.begin, t.end - t.begin);
    } else if (t.name == "host") {
      pre += escape_percent(v.host);  // values are not formats
    } else if (t.name == "run") {
      pre += escape_percent(v.run);
    } else if (is_seq(t.name)) {
      size_t width = static_cast<size_t>(seq_width(t.name));
      std::string digits = std::to_string(v.seq);
      if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
      pre += digits;
    } else {
      throw UsageError("key template: unknown field {" + t.name + "} (known: {host}, {run}, {seq}, {seq:N})");
    }
    return true;
  });
  std::string key = pre.find('%') == std::string::npos ? pre : strftime_utc(pre, static_cast<int64_t>(v.time));
  if (key.empty()) throw UsageError("key template '" + tmpl + "' renders to an empty key (or one over 1 KiB)");
  check_no_control("key template '" + escaped(tmpl) + "': the key", key);
  if (!ext.empty() && (key.size() < ext.size() || key.compare(key.size() - ext.size(), ext.size(), ext) != 0)) key += ext;
  check_key_length(key);
  return key;
}

bool has_field(const std::string& tmpl, const std::string& name) {
  bool found = false;
  scan(tmpl, [&](const Token& t) {
    found = t.kind == Token::field && (t.name == name || (name == "seq" && is_seq(t.name)));
    return !found;
  });
  return found;
}

std::string hour_prefix(const std::string& tmpl, std::time_t hour_start) {
  // The start of the template that the hour alone determines, and of fixed width, so that the
  // rendered prefix matches the keys of that hour and of no other (hour 2 must not match hour 22).
  size_t stop = tmpl.size();
  std::string stopped_at;
  bool year = false, month = false, mday = false, yday = false, hour = false;
  scan(tmpl, [&](const Token& t) {
    if (t.kind == Token::literal) return true;
    if (t.kind == Token::conversion && t.plain && std::strchr("%YmdjFeHk", t.conv)) {
      year |= t.conv == 'Y' || t.conv == 'F';
      month |= t.conv == 'm';
      mday |= t.conv == 'd' || t.conv == 'e';
      yday |= t.conv == 'j' || t.conv == 'F';
      hour |= t.conv == 'H' || t.conv == 'k';
      return true;
    }
    stop = t.begin;
    stopped_at = tmpl.substr(t.begin, t.end - t.begin);
    return false;
  });
  if (!(year && (yday || (month && mday)) && hour)) {
    std::string fixed = tmpl.substr(0, stop);
    throw UsageError("key template '" + tmpl + "' cannot select an hour: its start up to the first field the hour does "
                     "not fix" + (stopped_at.empty() ? "" : " (" + stopped_at + ")") + ", '" + fixed +
                     "', must hold the year, the day and the hour (%Y, %m and %d or %j, or %F; %H), with no "
                     "flag or width; put them first, like s3://raw/sensors/%Y/%m/%d/%H%M%S-{host}-{run}-{seq}.jsonl");
  }
  return strftime_utc(tmpl.substr(0, stop), static_cast<int64_t>(hour_start));
}

std::time_t parse_hour(const std::string& text) {
  std::string t = text;
  if (!t.empty() && (t.back() == 'Z' || t.back() == 'z')) t.pop_back();
  for (const char* tail : {":00:00", ":00"}) {
    size_t n = std::strlen(tail);
    if (t.size() == 13 + n && t.compare(13, n, tail) == 0) t.resize(13);
  }
  std::string why;
  auto ms = t.size() == 13 && t[10] == 'T' ? parse_iso8601_ms(t + ":00:00Z", &why) : std::nullopt;
  if (!ms) throw UsageError("--hour '" + text + "' is not an hour like 2025-07-07T22 (UTC)" + (why.empty() ? "" : ": " + why));
  return static_cast<std::time_t>(floor_seconds(*ms));
}

}  // namespace sp::s3
