// A validating lexer for the plain subset of JSON: ASCII only, no escapes in strings. Within that
// subset a string's text is its value, so sensor-parse's fast path (and kafka-cat-sensor's
// --key-field) can read fields straight from the line without building a document. Outside it (an
// escape, a non-ASCII byte, any syntax error, nesting deeper than kMaxDepth) every function returns
// false and the caller parses the line with simdjson instead, which also words the reject. So this lexer never decides that a line is bad:
// it only decides that a line is plain and well-formed.
#pragma once
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sp::parse {

// a == b, inline: keys are short, and a memcmp call costs more than comparing them here.
inline bool same_key(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  const char* x = a.data();
  const char* y = b.data();
  size_t n = a.size(), i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t u, v;
    std::memcpy(&u, x + i, 8);
    std::memcpy(&v, y + i, 8);
    if (u != v) return false;
  }
  for (; i < n; ++i)
    if (x[i] != y[i]) return false;
  return true;
}

class PlainJson {
 public:
  static constexpr int kMaxDepth = 64;

  // readable_past: bytes after s that may be read (their content does not matter); with 16 or
  // more, strings are scanned 16 bytes at a time.
  explicit PlainJson(std::string_view s, size_t readable_past = 0)
      : p_(s.data()), e_(s.data() + s.size()), wide_(readable_past >= 16) {}

  // Skips JSON whitespace and tells whether the next byte is c (not consumed).
  bool at(char c) {
    ws();
    return p_ < e_ && *p_ == c;
  }
  // Skips whitespace, then consumes c if it is next.
  bool eat(char c) {
    if (!at(c)) return false;
    ++p_;
    return true;
  }
  // The next non-whitespace byte, or 0 at the end (a NUL byte is never valid JSON outside strings).
  char peek() {
    ws();
    return p_ < e_ ? *p_ : '\0';
  }
  // Only whitespace is left.
  bool at_end() {
    ws();
    return p_ == e_;
  }

  // At '"' (after whitespace): the string's text, which is its value in the plain subset.
  bool string(std::string_view& out) {
    if (!eat('"')) return false;
    const char* s = p_;
#if defined(__SSE2__)
    if (wide_) {
      // One signed compare flags both control bytes and non-ASCII ones (negative as int8).
      const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(0x20);
      for (;;) {
        __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p_));
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                                   _mm_cmplt_epi8(v, space));
        auto mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
        size_t left = static_cast<size_t>(e_ - p_);
        if (mask) {
          size_t k = static_cast<size_t>(__builtin_ctz(mask));
          if (k >= left || p_[k] != '"') return false;  // unclosed, or an escape/control/non-ASCII byte
          out = std::string_view(s, static_cast<size_t>(p_ + k - s));
          p_ += k + 1;
          return true;
        }
        if (left <= 16) return false;  // unclosed
        p_ += 16;
      }
    }
#endif
    // Eight bytes at a time: a word with no quote, backslash, control or non-ASCII byte is skipped
    // whole. Each test flags its lowest matching byte exactly, so the lowest flag is the real stop.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    constexpr uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    while (e_ - p_ >= 8) {
      uint64_t w;
      std::memcpy(&w, p_, 8);
      uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
      uint64_t flags = ((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w) | w;
      flags &= highs;
      if (flags) {
        p_ += __builtin_ctzll(flags) / 8;
        break;
      }
      p_ += 8;
    }
#endif
    for (; p_ < e_; ++p_) {
      auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        out = std::string_view(s, static_cast<size_t>(p_ - s));
        ++p_;
        return true;
      }
      if (c == '\\' || c < 0x20 || c >= 0x80) return false;
    }
    return false;  // unclosed
  }

  // At a number (after whitespace): its text by RFC 8259's grammar; integral when it has neither
  // a fraction nor an exponent (simdjson types those as integers, the rest as doubles).
  bool number(std::string_view& out, bool& integral) {
    ws();
    const char* s = p_;
    integral = true;
    if (p_ < e_ && *p_ == '-') ++p_;
    if (p_ >= e_) return false;
    if (*p_ == '0') {
      ++p_;
    } else if (digit(*p_)) {
      while (p_ < e_ && digit(*p_)) ++p_;
    } else {
      return false;
    }
    if (p_ < e_ && *p_ == '.') {
      integral = false;
      ++p_;
      if (p_ >= e_ || !digit(*p_)) return false;
      while (p_ < e_ && digit(*p_)) ++p_;
    }
    if (p_ < e_ && (*p_ == 'e' || *p_ == 'E')) {
      integral = false;
      ++p_;
      if (p_ < e_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ >= e_ || !digit(*p_)) return false;
      while (p_ < e_ && digit(*p_)) ++p_;
    }
    out = std::string_view(s, static_cast<size_t>(p_ - s));
    return true;
  }

  // Consumes "k" if those exact bytes come next. k must be plain (printable ASCII without '"' or
  // '\\'): then the bytes are the whole string and its value is k.
  bool quoted(std::string_view k) {
    ws();
    size_t n = k.size();
    if (static_cast<size_t>(e_ - p_) < n + 2 || p_[0] != '"' || p_[n + 1] != '"' ||
        !same_key(std::string_view(p_ + 1, n), k))
      return false;
    p_ += n + 2;
    return true;
  }

  // An integer's text (grammar checked) of at most 18 digits: always in int64's range.
  static bool int64_sure(std::string_view integer) { return integer.size() - (integer[0] == '-') <= 18; }

  // A number's value, when simdjson reads it without a doubt: integers of up to 18 digits (always
  // int64; longer ones may be out of range, which simdjson rejects), other numbers of up to 64
  // characters that are finite doubles (1e400 is an error to simdjson, and ERANGE here).
  static bool number_value(std::string_view text, bool integral, int64_t& i, double& d) {
    const char* b = text.data();
    const char* e = b + text.size();
    if (integral) {
      // The grammar has been checked: an optional '-' and digits.
      if (!int64_sure(text)) return false;
      bool neg = text[0] == '-';
      int64_t v = 0;
      for (const char* c = b + neg; c < e; ++c) v = v * 10 + (*c - '0');
      i = neg ? -v : v;
      return true;
    }
    if (text.size() > 64) return false;
    auto r = std::from_chars(b, e, d);  // correctly rounded, as simdjson's parser is
    return r.ec == std::errc() && r.ptr == e && std::isfinite(d);
  }

  // Consumes the literal word (true, false, null) if it is next.
  bool literal(std::string_view word) {
    ws();
    if (static_cast<size_t>(e_ - p_) < word.size() || std::memcmp(p_, word.data(), word.size()) != 0) return false;
    p_ += word.size();
    return true;
  }

  // At '{' (after whitespace), inside `depth` containers: the object's members, each handed to
  // member(name, depth + 1) with the reader at its value, which member must consume (returning
  // false when it is not plain). Checks the syntax around them.
  template <class Member>
  bool members(int depth, Member member) {
    if (!eat('{') || ++depth > kMaxDepth) return false;
    if (eat('}')) return true;
    for (;;) {
      std::string_view name;
      if (!string(name) || !eat(':') || !member(name, depth)) return false;
      if (eat(',')) continue;
      return eat('}');
    }
  }

  // Consumes any one value, checking its syntax. depth counts the containers around it.
  bool skip_value(int depth) {
    switch (peek()) {
      case '"': {
        std::string_view s;
        return string(s);
      }
      case '{':
        return members(depth, [this](std::string_view, int d) { return skip_value(d); });
      case '[':
        ++p_;
        if (++depth > kMaxDepth) return false;
        if (eat(']')) return true;
        for (;;) {
          if (!skip_value(depth)) return false;
          if (eat(',')) continue;
          return eat(']');
        }
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default: {
        std::string_view n;
        bool integral;
        if (!number(n, integral)) return false;
        if (integral) return int64_sure(n);  // in range, no need to read it
        // Without an exponent and within 64 characters a number is between 1e-63 and 1e64 (or 0):
        // number_value would accept it, so it need not be read either.
        if (n.size() <= 64 && n.find_first_of("eE") == std::string_view::npos) return true;
        int64_t i;
        double d;
        return number_value(n, integral, i, d);
      }
    }
  }

 private:
  static bool digit(char c) { return c >= '0' && c <= '9'; }
  void ws() {
    while (p_ < e_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  const char* p_;
  const char* e_;
  bool wide_;
};

}  // namespace sp::parse
