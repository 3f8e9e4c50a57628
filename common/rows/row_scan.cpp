// The small scanners of JSON text behind ch-insert's row checks (row_detail.hpp).
#include <cctype>
#include <cstring>

#include "common/rows/row_detail.hpp"

namespace sp::row_detail {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Parses a JSON string starting at s[p] == '"'; sets p past the closing quote. Only the escapes a
// topic name can need; \u escapes are decoded to UTF-8.
bool json_string_at(std::string_view s, size_t& p, std::string& out) {
  if (p >= s.size() || s[p] != '"') return false;
  ++p;
  out.clear();
  while (p < s.size()) {
    char c = s[p++];
    if (c == '"') return true;
    if (c != '\\') {
      out += c;
      continue;
    }
    if (p >= s.size()) return false;
    char e = s[p++];
    switch (e) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'u': {
        if (p + 4 > s.size()) return false;
        unsigned cp = 0;
        auto r = std::from_chars(s.data() + p, s.data() + p + 4, cp, 16);
        if (r.ptr != s.data() + p + 4) return false;
        p += 4;
        // a pair of UTF-16 surrogates (\ud83d\ude00) is one character beyond U+FFFF: 4 UTF-8 bytes
        if (cp >= 0xD800 && cp < 0xDC00 && p + 6 <= s.size() && s[p] == '\\' && s[p + 1] == 'u') {
          unsigned lo = 0;
          auto r2 = std::from_chars(s.data() + p + 2, s.data() + p + 6, lo, 16);
          if (r2.ptr == s.data() + p + 6 && lo >= 0xDC00 && lo < 0xE000) {
            p += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
            break;
          }
        }
        if (cp < 0x80) {
          out += static_cast<char>(cp);
        } else if (cp < 0x800) {
          out += static_cast<char>(0xC0 | (cp >> 6));
          out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
          out += static_cast<char>(0xE0 | (cp >> 12));
          out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
          out += static_cast<char>(0x80 | (cp & 0x3F));
        }
        break;
      }
      default: return false;
    }
  }
  return false;
}

bool expect(std::string_view s, size_t& p, std::string_view lit) {
  if (s.substr(p, lit.size()) != lit) return false;
  p += lit.size();
  return true;
}

bool json_int_at(std::string_view s, size_t& p, int64_t& v) {
  size_t b = p;
  if (p < s.size() && s[p] == '-') ++p;
  while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p]))) ++p;
  return parse_int(s.substr(b, p - b), v);
}

namespace {
bool json_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

void skip_ws(std::string_view s, size_t& p) {
  while (p < s.size() && json_ws(s[p])) ++p;
}

// Past the JSON string whose opening quote is at s[p]; `escaped` is set when it holds a backslash.
bool skip_string(std::string_view s, size_t& p, bool& escaped) {
  const char* d = s.data();
  size_t n = s.size();
  for (++p; p < n;) {
    char c = d[p];
    if (c == '"') {
      ++p;
      return true;
    }
    if (c == '\\') {
      escaped = true;
      p += 2;
    } else {
      ++p;
    }
  }
  return false;
}

// Past one JSON value. Containers are only balanced (strings inside them respected), scalars only
// delimited: the values themselves are ClickHouse's to judge; what matters here is where they end.
bool skip_value(std::string_view s, size_t& p) {
  size_t n = s.size();
  if (p >= n) return false;
  char c = s[p];
  bool esc = false;
  if (c == '"') return skip_string(s, p, esc);
  if (c == '{' || c == '[') {
    int depth = 0;
    while (p < n) {
      c = s[p];
      if (c == '"') {
        if (!skip_string(s, p, esc)) return false;
        continue;
      }
      if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) {
          ++p;
          return true;
        }
      }
      ++p;
    }
    return false;
  }
  size_t b = p;
  while (p < n && (std::isalnum(static_cast<unsigned char>(s[p])) || s[p] == '-' || s[p] == '+' || s[p] == '.')) ++p;
  return p > b;
}

}  // namespace sp::row_detail
