// Reject reporting: reasons in words, the rejects file's lines, coordinates salvaged from broken lines.
#include "parser.hpp"

#include <algorithm>
#include <cctype>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "common/codec/base64.hpp"
#include "common/core/line_io.hpp"
#include "common/core/log.hpp"

namespace sp::parse {

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 if the bytes there are not one (overlongs,
// surrogates and code points above U+10FFFF are invalid, as in RFC 3629).
size_t utf8_seq(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n = s.size() - i;
  auto cont = [&](size_t k) { return (b(k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return n >= 2 && cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (n < 3 || !cont(i + 1) || !cont(i + 2)) return 0;
    if (c == 0xE0 && b(i + 1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(i + 1) >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (n < 4 || !cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    if (c == 0xF0 && b(i + 1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(i + 1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

// Feeds a scan of JSON text byte by byte: outside() is true for a byte outside strings (structure,
// numbers, literals), false for a string's bytes and its quotes.
class StringTracker {
 public:
  bool outside(char c) {
    if (in_str_) {
      if (esc_)
        esc_ = false;
      else if (c == '\\')
        esc_ = true;
      else if (c == '"')
        in_str_ = false;
      return false;
    }
    if (c == '"') {
      in_str_ = true;
      return false;
    }
    return true;
  }
  bool in_string() const { return in_str_; }

 private:
  bool in_str_ = false, esc_ = false;
};

// The first number in s (outside strings) that has JSON's syntax but fits neither a 64-bit integer
// nor a double (1e400, 2^64), which simdjson reports as a NUMBER_ERROR like a malformed one; empty
// if there is none. 1e-400 is not one: it reads as 0, in simdjson too.
std::string_view out_of_range_number(std::string_view s) {
  StringTracker strings;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (!strings.outside(c)) continue;
    if (!(c == '-' || (c >= '0' && c <= '9'))) continue;
    if (i > 0 && !std::memchr(":,[ \t\r\n", s[i - 1], 7)) continue;  // inside some other token
    PlainJson j(s.substr(i));
    std::string_view text;
    bool integral;
    if (!j.number(text, integral)) continue;
    size_t end = i + text.size();
    i = end - 1;
    if (end < s.size() && !std::memchr(",]} \t\r\n", s[end], 7)) continue;  // malformed: 01, 1x
    const char* b = text.data();
    const char* e = b + text.size();
    if (integral) {
      int64_t iv;
      uint64_t uv;
      if (std::from_chars(b, e, iv).ec == std::errc() || std::from_chars(b, e, uv).ec == std::errc()) continue;
      return text;
    }
    double d;
    auto r = std::from_chars(b, e, d);
    if (r.ec == std::errc()) {
      if (!std::isfinite(d)) return text;
      continue;
    }
    // ERANGE: overflow or underflow. The decimal exponent of the first significant digit tells.
    std::string_view t = text.substr(text[0] == '-');
    size_t epos = t.find_first_of("eE");
    std::string_view mant = t.substr(0, epos);
    long long exp10 = 0;
    if (epos != std::string_view::npos) {
      std::string_view ex = t.substr(epos + 1);
      bool neg = !ex.empty() && ex[0] == '-';
      if (!ex.empty() && (ex[0] == '-' || ex[0] == '+')) ex.remove_prefix(1);
      for (char x : ex) exp10 = std::min<long long>(exp10 * 10 + (x - '0'), 1000000000LL);
      if (neg) exp10 = -exp10;
    }
    size_t dot = mant.find('.');
    std::string_view ip = mant.substr(0, dot);
    size_t nz = ip.find_first_not_of('0');
    long long lead;  // power of ten of the first nonzero digit
    if (nz != std::string_view::npos) {
      lead = static_cast<long long>(ip.size() - nz) - 1;
    } else {
      std::string_view fp = dot == std::string_view::npos ? std::string_view() : mant.substr(dot + 1);
      size_t fz = fp.find_first_not_of('0');
      if (fz == std::string_view::npos) continue;  // zero
      lead = -static_cast<long long>(fz) - 1;
    }
    if (lead + exp10 >= 0) return text;
  }
  return {};
}

}  // namespace

// A value from the input quoted for a message: JSON-escaped (so no control byte reaches the
// terminal), cut to a readable length.
std::string quoted(std::string_view v) {
  constexpr size_t kMax = 48;
  std::string out;
  bool cut = v.size() > kMax;
  if (cut) {
    size_t n = kMax;
    while (n > 0 && (static_cast<unsigned char>(v[n]) & 0xC0) == 0x80) --n;  // whole characters only
    v = v.substr(0, n);
  }
  append_json_string_lossy(out, v);
  if (cut) out.insert(out.size() - 1, "...");
  return out;
}

std::string num_text(double v) {
  char buf[40];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

const char* type_word(element_type t) {
  switch (t) {
    case element_type::ARRAY:
      return "an array";
    case element_type::OBJECT:
      return "an object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
      return "a number";
    case element_type::STRING:
      return "a string";
    case element_type::BOOL:
      return "a boolean";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "something else";
}

// simdjson says "TAPE_ERROR" for most structural problems; a user wants to know the line was cut
// short, or that it holds NaN, which JSON has no syntax for. One pass outside strings tells.
std::string json_error_reason(simdjson::error_code err, std::string_view s) {
  int depth = 0;
  StringTracker strings;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (!strings.outside(c)) continue;
    if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      --depth;
    } else if (c == 'N' && s.substr(i, 3) == "NaN") {
      return "invalid JSON: NaN is not a JSON number";
    } else if (c == 'I' && s.substr(i, 8) == "Infinity") {
      return "invalid JSON: Infinity is not a JSON number";
    }
  }
  using namespace simdjson;
  switch (err) {
    case UTF8_ERROR:
      return "invalid UTF-8";
    case DEPTH_ERROR:
      return "invalid JSON: nested deeper than " + std::to_string(DEFAULT_MAX_DEPTH) + " levels";
    case EMPTY:
      return "empty line";
    case UNESCAPED_CHARS:
      return "invalid JSON: unescaped control character in a string";
    case STRING_ERROR:
      return "invalid JSON: bad escape sequence in a string";
    case NUMBER_ERROR:
    case NUMBER_OUT_OF_RANGE: {
      // Valid JSON that no 64-bit number holds is not "invalid JSON" (RFC 8259 lets a reader limit
      // the range): name the number.
      std::string_view big = out_of_range_number(s);
      if (big.empty()) return "invalid JSON: malformed number";
      constexpr size_t kMax = 48;
      return "number out of range: " + (big.size() > kMax ? std::string(big.substr(0, kMax)) + "..." : std::string(big));
    }
    case CAPACITY:
    case MEMALLOC:
      return "line too large to parse";
    default:
      break;
  }
  if (strings.in_string() || err == UNCLOSED_STRING) return "invalid JSON: truncated (unclosed string)";
  if (depth > 0 || err == INCOMPLETE_ARRAY_OR_OBJECT) return "invalid JSON: truncated (unclosed object or array)";
  size_t first = s.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos) {
    std::string_view rest = s.substr(first);
    bool literal = rest.substr(0, 4) == "true" || rest.substr(0, 5) == "false" || rest.substr(0, 4) == "null";
    if ((rest[0] == 0 || !std::strchr("{[\"-0123456789", rest[0])) && !literal)
      return "not JSON: starts with " + quoted(rest.substr(0, 1));
  }
  if (err == T_ATOM_ERROR || err == F_ATOM_ERROR || err == N_ATOM_ERROR)
    return "invalid JSON: bad literal (expected true, false or null)";
  if (err == TAPE_ERROR) return "invalid JSON: missing or extra comma, colon, brace or bracket";
  return std::string("invalid JSON: ") + error_message(err);
}

// The coordinates of a line that is not valid JSON as a whole, read as the envelope module reads them,
// so that the rejects file accounts for that offset too.
bool salvage_envelope_coords(std::string_view s, Reject& r) {
  auto c = envelope::read_coords_prefix(s);
  if (!c) return false;
  r.has_coords = true;
  r.topic = std::string(c->topic);
  r.partition = c->partition;
  r.offset = c->offset;
  return true;
}

bool append_json_string_lossy(std::string& out, std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t n = utf8_seq(s, i);
    if (n == 0) break;
    i += n;
  }
  if (i == s.size()) {
    append_json_string(out, s);
    return true;
  }
  std::string clean;
  clean.reserve(s.size() + 16);
  for (i = 0; i < s.size();) {
    size_t n = utf8_seq(s, i);
    if (n == 0) {
      clean += "\xEF\xBF\xBD";
      ++i;
    } else {
      clean.append(s.data() + i, n);
      i += n;
    }
  }
  append_json_string(out, clean);
  return false;
}

std::string reject_json(uint64_t line, const Reject& r, std::string_view input, bool overlong, size_t full_size) {
  std::string out = "{\"line\":" + std::to_string(line) + ",\"reason\":";
  append_json_string_lossy(out, r.reason);
  if (r.has_coords) {
    out += ",\"topic\":";
    append_json_string_lossy(out, r.topic);
    out += ",\"partition\":" + std::to_string(r.partition) + ",\"offset\":" + std::to_string(r.offset);
  }
  out += ",\"input\":";
  if (!append_json_string_lossy(out, input)) {
    // "input" had bytes replaced: keep the exact original too, so nothing is lost.
    out += ",\"input_base64\":\"";
    codec::append_base64(out, input);
    out += '"';
  }
  if (overlong) out += ",\"input_truncated\":true,\"input_bytes\":" + std::to_string(full_size);
  out += '}';
  return out;
}

std::string reason_class(std::string_view reason) {
  constexpr size_t kMax = 160;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  std::string out;
  size_t i = 0;
  while (i < reason.size() && out.size() < kMax) {
    char c = reason[i];
    bool at_start = i == 0 || reason[i - 1] == ' ' || reason[i - 1] == '(';
    if (c == '"') {  // quoted(): a value from the line, with \" escapes
      size_t j = i + 1;
      while (j < reason.size() && reason[j] != '"') j += reason[j] == '\\' ? 2 : 1;
      out += "\"...\"";
      i = std::min(j + 1, reason.size());
      continue;
    }
    size_t j = i + (c == '-' ? 1 : 0);
    if (at_start && j < reason.size() && digit(reason[j])) {
      while (j < reason.size() && (digit(reason[j]) || reason[j] == '.' || reason[j] == 'e' || reason[j] == 'E' ||
                                   ((reason[j] == '+' || reason[j] == '-') && (reason[j - 1] == 'e' || reason[j - 1] == 'E'))))
        ++j;
      if (j == reason.size() || reason[j] == ' ' || reason[j] == ',' || reason[j] == ')') {
        out += 'N';
        i = j;
        continue;
      }
    }
    out += c;
    ++i;
  }
  if (out.size() > kMax) out.resize(kMax);
  // a character cut by the limit goes whole (label values must be valid UTF-8)
  size_t lead = out.size();
  while (lead > 0 && (static_cast<unsigned char>(out[lead - 1]) & 0xC0) == 0x80) --lead;
  if (lead > 0) {
    auto b = static_cast<unsigned char>(out[lead - 1]);
    size_t need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
    if (out.size() - (lead - 1) < need) out.resize(lead - 1);
  }
  return out;
}



bool report_reject(const Options& opt, const Line& line, Reject& r, LineWriter* rejects, Stats& st, std::string& row,
                   size_t ncols) {
  // a line torn by a stage killed upstream is no producer's fault: say what happened first
  if (line.unterminated) r.reason = torn_line_reason(r.reason);
  ++st.rejects;
  ++st.rejects_by_reason[reason_class(r.reason)];
  if (st.rejects <= opt.max_warnings) {
    if (r.has_coords)
      log::warn("line ", line.number, ": ", r.reason, " (topic ", quoted(r.topic), " partition ", r.partition,
                " offset ", r.offset, ")");
    else
      log::warn("line ", line.number, ": ", r.reason);
    if (st.rejects == opt.max_warnings && opt.max_warnings > 0)
      log::warn("further rejects are only counted here", rejects ? " (all go to the rejects file)" : "");
  } else {
    ++st.warnings_suppressed;
  }
  if (rejects) {
    rejects->line(reject_json(line.number, r, line.text, line.overlong, line.full_size));
    // The reject is kept, so its message is delivered: an ack marker lets ch-insert acknowledge
    // it (rejects are flushed before `row` leaves, so the file has it first). Not for a line torn
    // by a stage killed upstream: that message comes again whole and must not be acknowledged.
    if (r.has_coords && !line.unterminated)
      append_ack_marker(row, opt.format, ncols, r.topic, r.partition, r.offset);
  }
  if (opt.max_rejects >= 0 && st.rejects > static_cast<uint64_t>(opt.max_rejects)) {
    st.threshold = std::to_string(st.rejects) + " rejects exceed --max-rejects " + std::to_string(opt.max_rejects);
    st.stopped_early = true;
    return false;
  }
  return true;
}

}  // namespace sp::parse
