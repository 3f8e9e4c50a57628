#include "parse.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "common/codec/base64.hpp"
#include "common/rows/envelope.hpp"
#include "common/core/errors.hpp"
#include "common/core/log.hpp"
#include "common/core/metrics.hpp"
#include "common/core/progress.hpp"
#include "common/core/signals.hpp"
#include "common/core/timeutil.hpp"
#include "common/rows/plain_json.hpp"

namespace sp::parse {

using simdjson::dom::element;
using simdjson::dom::element_type;

InputFormat parse_input_format(std::string_view name) {
  if (name == "auto") return InputFormat::auto_detect;
  if (name == "json" || name == "jsonl" || name == "ndjson") return InputFormat::json;
  if (name == "csv") return InputFormat::csv;
  throw UsageError("unknown input format '" + std::string(name) + "' (use auto, json or csv)");
}

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
// ClickHouse DateTime is a UInt32 of epoch seconds: 1970-01-01 00:00:00 .. 2106-02-07 06:28:15.
constexpr int64_t kMaxDateTime = 4294967295LL;
// Epoch numbers at or above this are milliseconds: 1e11 seconds would be past year 5000, far outside
// DateTime anyway, so the two readings never overlap.
constexpr double kEpochMsThreshold = 1e11;

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

const std::string& last_part(const Column& c) { return c.path.empty() ? c.path_text : c.path.back(); }

}  // namespace

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

namespace {

bool is_blank(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\r') return false;
  return true;
}

// The field named key: 0 when there is none, 1 when there is one (in out), 2 when there are more.
// A key that is read may appear once: parsers disagree about duplicates (simdjson's at_key and
// this code once took the first, jq and Python take the last), so such a message is rejected.
inline int find_key(simdjson::dom::object obj, std::string_view key, element& out) {
  int n = 0;
  for (auto field : obj)
    if (same_key(field.key, key)) {
      if (n++) return 2;
      out = field.value;
    }
  return n;
}

// A number as read, before it is checked against a column type.
struct Num {
  enum Kind : uint8_t { i64, u64, dbl } kind = i64;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  double as_double() const { return kind == i64 ? static_cast<double>(i) : kind == u64 ? static_cast<double>(u) : d; }
};

// JSON number grammar (RFC 8259), so that CSV fields pass the same rules as JSON input: the
// whole field is one number, nothing around it.
bool json_number_syntax(std::string_view s, bool& integral) {
  PlainJson j(s);
  std::string_view text;
  return j.number(text, integral) && text.size() == s.size();
}

struct IntRange {
  int64_t lo;
  uint64_t hi;
};
IntRange int_range(ColType t) {
  switch (t) {
    case ColType::Int8:
      return {INT8_MIN, INT8_MAX};
    case ColType::Int16:
      return {INT16_MIN, INT16_MAX};
    case ColType::Int32:
      return {INT32_MIN, INT32_MAX};
    case ColType::Int64:
      return {INT64_MIN, INT64_MAX};
    case ColType::UInt8:
      return {0, UINT8_MAX};
    case ColType::UInt16:
      return {0, UINT16_MAX};
    case ColType::UInt32:
      return {0, UINT32_MAX};
    case ColType::UInt64:
      return {0, UINT64_MAX};
    default:
      return {0, 1};
  }
}

}  // namespace

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

int sensor_column(const Schema& schema) {
  int i = schema.index_of("sensor_id");
  if (i < 0 && !schema.order_by.empty()) i = schema.index_of(schema.order_by.front());
  return i;
}

namespace {
// "name  count  share" rows, counts descending (ties by name), the first `limit` of them.
void stats_table(std::string& out, const std::string& title, const std::map<std::string, uint64_t>& counts,
                 uint64_t total, size_t limit) {
  std::vector<std::pair<std::string, uint64_t>> v(counts.begin(), counts.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  size_t shown = std::min(limit, v.size());
  size_t w = title.size();
  for (size_t i = 0; i < shown; ++i) w = std::max(w, v[i].first.empty() ? 6 : v[i].first.size());
  auto pad = [](std::string s, size_t n) { return s.size() < n ? s + std::string(n - s.size(), ' ') : s; };
  auto rpad = [](std::string s, size_t n) { return s.size() < n ? std::string(n - s.size(), ' ') + s : s; };
  out += pad(title, w) + "  " + rpad("count", 10) + "  " + rpad("%", 6) + "\n";
  for (size_t i = 0; i < shown; ++i) {
    char pct[16];
    std::snprintf(pct, sizeof pct, "%.2f", total ? 100.0 * static_cast<double>(v[i].second) / static_cast<double>(total) : 0.0);
    out += pad(v[i].first.empty() ? "(NULL)" : v[i].first, w) + "  " + rpad(std::to_string(v[i].second), 10) + "  " +
           rpad(pct, 6) + "\n";
  }
  if (v.size() > shown) {
    uint64_t rest = 0;
    for (size_t i = shown; i < v.size(); ++i) rest += v[i].second;
    out += "(" + std::to_string(v.size() - shown) + " more, " + std::to_string(rest) + " in all)\n";
  }
}
}  // namespace

std::string stats_report(const Stats& st, size_t limit) {
  char pct[32];
  std::snprintf(pct, sizeof pct, "%.2f%%",
                st.records ? 100.0 * static_cast<double>(st.rejects) / static_cast<double>(st.records) : 0.0);
  std::string out = "records " + std::to_string(st.records) + ", rows " + std::to_string(st.rows) + ", rejects " +
                    std::to_string(st.rejects) + " (" + pct + ")\n";
  out += "\n";
  if (st.rejects_by_reason.empty())
    out += "no rejects\n";
  else
    stats_table(out, "rejects by reason (% of records)", st.rejects_by_reason, st.records, limit);
  out += "\n";
  if (st.sensor_column.empty())
    out += "rows by sensor: the schema has no sensor_id and no ORDER BY column\n";
  else if (st.rows_by_sensor.empty())
    out += "no rows\n";
  else
    stats_table(out, "rows by " + st.sensor_column + " (% of rows)", st.rows_by_sensor, st.rows, limit);
  return out;
}

// ---------------------------------------------------------------------------------------------

struct RecordParser::Impl {
  // One converted value, ready for RowBuilder. String views point into the simdjson parser's
  // memory, the CSV scratch fields or the owned defaults; they live until the next line.
  struct Cell {
    enum Kind : uint8_t { k_str, k_num, k_dt, k_null } kind = k_null;
    std::string_view s;
    int64_t dt = 0;
    uint8_t n = 0;
    char buf[40];
    std::string_view num() const { return {buf, n}; }
  };

  const Schema schema;  // a copy: callers may pass a temporary
  RowFormat format;
  RowBuilder builder;
  simdjson::dom::parser outer, inner;  // inner: an envelope's value given as a JSON string
  std::string pad_outer, pad_inner;    // input copies with simdjson's required padding
  std::vector<Cell> cells;
  std::vector<Cell> defaults;             // per column; kind null when the column has no default
  std::vector<std::string> default_text;  // owns the defaults' strings
  std::string why;

  // Columns sharing a parent object ("value.*") look it up once per message.
  std::vector<size_t> col_parent;  // column -> parent group
  std::vector<size_t> parent_rep;  // parent group -> a column under it (its path names the parent)
  std::vector<element> parent_elem;
  std::vector<int8_t> parent_state;
  std::vector<std::vector<size_t>> parent_cols;  // parent group -> its columns
  std::vector<std::vector<std::string_view>> parent_keys;  // parent group -> its columns' last path parts
  // False when two columns of the group share a key: then they must be tried in column order.
  std::vector<uint8_t> parent_rotate;
  std::vector<element> col_elem;                 // per column, valid when col_found
  std::vector<uint8_t> col_found;

  // CSV input
  std::vector<int> csv_index;  // column -> field index in the header, -1 if absent
  size_t csv_fields = 0;
  std::vector<std::string> fields;  // scratch, reused
  std::vector<bool> field_quoted;

  Impl(const Schema& s, RowFormat f, bool fast)
      : schema(s),
        format(f),
        builder(f, s.column_names()),
        cells(s.columns.size()),
        defaults(s.columns.size()),
        default_text(s.columns.size()) {
    std::vector<std::string> parent_names;
    for (size_t i = 0; i < s.columns.size(); ++i) {
      const Column& c = s.columns[i];
      if (c.path.empty()) throw ConfigError("column " + c.name + ": empty path");
      std::string parent;
      for (size_t k = 0; k + 1 < c.path.size(); ++k) parent += c.path[k] + '\0';
      auto it = std::find(parent_names.begin(), parent_names.end(), parent);
      if (it == parent_names.end()) {
        parent_names.push_back(parent);
        parent_rep.push_back(i);
        it = parent_names.end() - 1;
      }
      col_parent.push_back(static_cast<size_t>(it - parent_names.begin()));
    }
    parent_elem.resize(parent_names.size());
    parent_state.resize(parent_names.size());
    parent_cols.resize(parent_names.size());
    parent_keys.resize(parent_names.size());
    parent_rotate.assign(parent_names.size(), 1);
    for (size_t i = 0; i < s.columns.size(); ++i) {
      size_t p = col_parent[i];
      std::string_view key = schema.columns[i].path.back();
      for (std::string_view k : parent_keys[p])
        if (k == key) parent_rotate[p] = 0;
      parent_cols[p].push_back(i);
      parent_keys[p].push_back(key);
    }
    col_elem.resize(s.columns.size());
    col_found.resize(s.columns.size());
    if (fast) build_fast_paths();
    for (size_t i = 0; i < s.columns.size(); ++i) {
      const Column& c = s.columns[i];
      if (!c.default_json) continue;
      simdjson::dom::parser p;
      auto doc = p.parse(*c.default_json);
      if (doc.error()) throw ConfigError("column " + c.name + ": default " + *c.default_json + " is not JSON");
      Cell cell;
      if (!from_json(c, doc.value_unsafe(), cell))
        throw ConfigError("column " + c.name + ": the default does not pass its own checks: " + why);
      if (cell.kind == Cell::k_str) {
        default_text[i] = std::string(cell.s);
        cell.s = default_text[i];
      }
      defaults[i] = cell;
    }
  }

  bool fail(const Column& c, const std::string& msg) {
    why = c.path_text + ": " + msg;
    return false;
  }

  bool check_string(const Column& c, std::string_view v, Cell& cell) {
    // A required text field that is empty (an id, a sensor_id) identifies nothing.
    if (v.empty() && c.required) return fail(c, "empty string but required");
    if (c.max_length && v.size() > c.max_length)
      return fail(c, "string of " + std::to_string(v.size()) + " bytes is longer than the maximum " +
                         std::to_string(c.max_length));
    // One CSV row must stay one line and ClickHouse's CSV reader has no escape for a line break.
    if (format == RowFormat::csv && v.find_first_of("\r\n") != std::string_view::npos)
      return fail(c, "contains a line break, which CSV output cannot carry (use --format json, tsv or values)");
    cell.kind = Cell::k_str;
    cell.s = v;
    return true;
  }

  void put_num(Cell& cell, int64_t v) {
    auto r = std::to_chars(cell.buf, cell.buf + sizeof cell.buf, v);
    cell.kind = Cell::k_num;
    cell.n = static_cast<uint8_t>(r.ptr - cell.buf);
  }
  void put_num(Cell& cell, uint64_t v) {
    auto r = std::to_chars(cell.buf, cell.buf + sizeof cell.buf, v);
    cell.kind = Cell::k_num;
    cell.n = static_cast<uint8_t>(r.ptr - cell.buf);
  }
  void put_num(Cell& cell, double v) {
    cell.kind = Cell::k_num;
    // A zero is written 0 whatever its sign: simdjson reads the integer -0 as 0, so -0.0 keeping
    // its sign would make -0 and -0.0 differ; and a sign on zero carries no reading.
    if (v == 0) {
      cell.buf[0] = '0';
      cell.n = 1;
      return;
    }
    // Sensor readings have a few decimals: when v * 10^k is an integer n for a small k and n / 10^k
    // rounds back to v (IEEE division is correctly rounded, as is reading the decimal text), the
    // text "n with k decimals" reads back exactly. It is much cheaper than the general algorithm.
    static const double kPow10[] = {1, 10, 100, 1000, 10000, 100000};
    double a = std::fabs(v);
    if (a >= 1e-5 && a < 1e12) {
      for (int k = 0; k < 6; ++k) {
        double scaled = a * kPow10[k];
        double n = std::nearbyint(scaled);
        // If n / 10^k == a, scaled is within n * 2^-52 of n (two roundings of 2^-53 each); a
        // wider gap settles the test without the division, whose latency dominates this loop.
        if (std::fabs(scaled - n) > n * 0x1p-50 || n / kPow10[k] != a) continue;
        char digits[24];
        auto r = std::to_chars(digits, digits + sizeof digits, static_cast<int64_t>(n));
        size_t nd = static_cast<size_t>(r.ptr - digits);
        char* o = cell.buf;
        if (v < 0) *o++ = '-';
        if (nd <= static_cast<size_t>(k)) {  // 0.00ddd
          *o++ = '0';
          *o++ = '.';
          for (size_t z = nd; z < static_cast<size_t>(k); ++z) *o++ = '0';
          std::memcpy(o, digits, nd);
          o += nd;
        } else {
          size_t ip = nd - static_cast<size_t>(k);
          std::memcpy(o, digits, ip);
          o += ip;
          if (k > 0) {
            *o++ = '.';
            std::memcpy(o, digits + ip, static_cast<size_t>(k));
            o += k;
          }
        }
        cell.n = static_cast<uint8_t>(o - cell.buf);
        return;
      }
    }
    auto r = std::to_chars(cell.buf, cell.buf + sizeof cell.buf, v);  // shortest text that reads back exactly
    cell.n = static_cast<uint8_t>(r.ptr - cell.buf);
  }

  static std::string shown(const Num& n) {
    return n.kind == Num::i64 ? std::to_string(n.i) : n.kind == Num::u64 ? std::to_string(n.u) : num_text(n.d);
  }

  bool check_range(const Column& c, const Num& n) {
    double v = n.as_double();
    if (c.min && v < *c.min) return fail(c, shown(n) + " is below the minimum " + num_text(*c.min));
    if (c.max && v > *c.max) return fail(c, shown(n) + " is above the maximum " + num_text(*c.max));
    return true;
  }

  bool check_number(const Column& c, const Num& n, Cell& cell) {
    if (c.type == ColType::DateTime) {
      double v = n.as_double();
      int64_t secs;
      if (std::fabs(v) >= kEpochMsThreshold) {
        if (n.kind == Num::dbl && std::fabs(v) > 9e18) return fail(c, "epoch time " + num_text(v) + " is out of range");
        int64_t ms = n.kind == Num::i64   ? n.i
                     : n.kind == Num::u64 ? static_cast<int64_t>(std::min<uint64_t>(n.u, INT64_MAX))
                                          : static_cast<int64_t>(std::floor(v));
        secs = floor_seconds(ms);
      } else {
        secs = static_cast<int64_t>(std::floor(v));
      }
      return datetime(c, secs, cell, [&] { return shown(n); });  // as written: a double would round 2^63-1
    }
    if (c.type == ColType::Bool) {
      double v = n.as_double();
      if (v != 0 && v != 1) return fail(c, shown(n) + " is not a boolean (true, false, 0 or 1)");
      put_num(cell, static_cast<int64_t>(v));
      return true;
    }
    if (is_integer(c.type)) {
      IntRange r = int_range(c.type);
      const char* tn = col_type_name(c.type);
      if (n.kind == Num::dbl) {
        // 45.0 or 4.5e1 is an integer written as a float: accept it when it is exact.
        if (n.d != std::floor(n.d) || std::fabs(n.d) > 9007199254740992.0)
          return fail(c, num_text(n.d) + " is not an integer (column type " + tn + ")");
        Num k;
        k.i = static_cast<int64_t>(n.d);
        return check_number(c, k, cell);
      }
      if (n.kind == Num::u64) {
        if (n.u > r.hi) return fail(c, std::to_string(n.u) + " is out of range for " + tn);
        if (!check_range(c, n)) return false;
        put_num(cell, n.u);
        return true;
      }
      if (n.i < r.lo || (n.i > 0 && static_cast<uint64_t>(n.i) > r.hi))
        return fail(c, std::to_string(n.i) + " is out of range for " + tn);
      if (!check_range(c, n)) return false;
      put_num(cell, n.i);
      return true;
    }
    if (is_float(c.type)) {
      double v = n.as_double();
      if (!std::isfinite(v)) return fail(c, "number is not finite");
      if (c.type == ColType::Float32 && std::fabs(v) > FLT_MAX)
        return fail(c, num_text(v) + " is out of range for Float32");
      if (!check_range(c, n)) return false;
      if (n.kind == Num::i64)
        put_num(cell, n.i);
      else if (n.kind == Num::u64)
        put_num(cell, n.u);
      else
        put_num(cell, v);
      return true;
    }
    return fail(c, "expected a string, got a number");
  }

  // `shown` renders the input value, only when there is something wrong with it.
  template <class Shown>
  bool datetime(const Column& c, int64_t secs, Cell& cell, Shown shown) {
    if (secs < 0) return fail(c, shown() + " is before 1970-01-01, the start of ClickHouse DateTime");
    if (secs > kMaxDateTime) return fail(c, shown() + " is after 2106-02-07 06:28:15, the end of ClickHouse DateTime");
    cell.kind = Cell::k_dt;
    cell.dt = secs;
    return true;
  }

  // Messages of a stream mostly share the hour: "YYYY-MM-DDTHH:MM:SS[.fff]Z" with the same first
  // 13 characters as the previous one needs only its minutes and seconds read. Anything else
  // takes the full parser, which also refills this cache.
  struct HourCache {
    char prefix[13];
    bool valid = false;
    int64_t hour_secs = 0;
  } hour_cache;

  // Minutes*60+seconds when v has the cacheable shape (any hour prefix), else -1.
  static int64_t utc_min_sec(std::string_view v) {
    auto dig = [&](size_t i) { return v[i] >= '0' && v[i] <= '9'; };
    if (v.size() < 20 || v[10] != 'T' || v[13] != ':' || v[16] != ':' || !dig(14) || !dig(15) || !dig(17) || !dig(18) ||
        v.back() != 'Z')
      return -1;
    if (v.size() > 20) {
      if (v[19] != '.' || v.size() == 21) return -1;
      for (size_t i = 20; i + 1 < v.size(); ++i)
        if (!dig(i)) return -1;
    }
    int mm = (v[14] - '0') * 10 + (v[15] - '0');
    int ss = (v[17] - '0') * 10 + (v[18] - '0');
    if (mm > 59 || ss > 59) return -1;  // leap seconds and errors: the full parser decides
    return mm * 60 + ss;
  }

  bool iso_time(const Column& c, std::string_view v, Cell& cell) {
    int64_t ms_part = utc_min_sec(v);
    if (ms_part >= 0 && hour_cache.valid && std::memcmp(v.data(), hour_cache.prefix, 13) == 0)
      return datetime(c, hour_cache.hour_secs + ms_part, cell, [&] { return quoted(v); });
    std::string reason;
    auto ms = parse_iso8601_ms(v, &reason);
    if (!ms) return fail(c, quoted(v) + " is not an ISO-8601 time (" + reason + ")");
    int64_t secs = floor_seconds(*ms);
    if (ms_part >= 0) {
      std::memcpy(hour_cache.prefix, v.data(), 13);
      hour_cache.hour_secs = secs - ms_part;
      hour_cache.valid = true;
    }
    return datetime(c, secs, cell, [&] { return quoted(v); });
  }

  bool from_json(const Column& c, element e, Cell& cell) {
    element_type t = e.type();
    if (c.type == ColType::String) {
      if (t != element_type::STRING) return fail(c, std::string("expected a string, got ") + type_word(t));
      return check_string(c, e.get_string().value_unsafe(), cell);
    }
    if (c.type == ColType::DateTime && t == element_type::STRING)
      return iso_time(c, e.get_string().value_unsafe(), cell);
    if (c.type == ColType::Bool && t == element_type::BOOL) {
      put_num(cell, static_cast<int64_t>(e.get_bool().value_unsafe() ? 1 : 0));
      return true;
    }
    Num n;
    switch (t) {
      case element_type::INT64:
        n.kind = Num::i64;
        n.i = e.get_int64().value_unsafe();
        break;
      case element_type::UINT64:
        n.kind = Num::u64;
        n.u = e.get_uint64().value_unsafe();
        break;
      case element_type::DOUBLE:
        n.kind = Num::dbl;
        n.d = e.get_double().value_unsafe();
        break;
      default: {
        const char* want = c.type == ColType::DateTime ? "an ISO-8601 string or epoch number"
                           : c.type == ColType::Bool   ? "a boolean"
                                                       : "a number";
        return fail(c, std::string("expected ") + want + ", got " + type_word(t));
      }
    }
    return check_number(c, n, cell);
  }

  bool from_text(const Column& c, std::string_view v, Cell& cell) {
    if (c.type == ColType::String) return check_string(c, v, cell);
    bool integral;
    bool numeric = json_number_syntax(v, integral);
    if (c.type == ColType::DateTime && !numeric) return iso_time(c, v, cell);
    if (c.type == ColType::Bool && !numeric) {
      if (v == "true" || v == "false") {
        put_num(cell, static_cast<int64_t>(v == "true"));
        return true;
      }
      return fail(c, quoted(v) + " is not a boolean (true, false, 0 or 1)");
    }
    if (!numeric) return fail(c, quoted(v) + " is not a number");
    Num n;
    const char* b = v.data();
    const char* e = v.data() + v.size();
    if (integral) {
      if (std::from_chars(b, e, n.i).ec == std::errc()) {
        n.kind = Num::i64;
        return check_number(c, n, cell);
      }
      if (std::from_chars(b, e, n.u).ec == std::errc()) {
        n.kind = Num::u64;
        return check_number(c, n, cell);
      }
    }
    auto r = std::from_chars(b, e, n.d);
    if (r.ec != std::errc() || !std::isfinite(n.d)) return fail(c, quoted(v) + " is out of range");
    n.kind = Num::dbl;
    return check_number(c, n, cell);
  }

  bool missing(size_t i, Cell& cell) {
    const Column& c = schema.columns[i];
    if (c.required) {
      why = "missing required field " + c.path_text;
      return false;
    }
    cell = defaults[i];  // kind null when there is no default: a Nullable column
    return true;
  }

  std::string cell_text(size_t col) {
    const Cell& c = cells.at(col);
    switch (c.kind) {
      case Cell::k_str:
        return std::string(c.s);
      case Cell::k_num:
        return std::string(c.num());
      case Cell::k_dt:
        return format_datetime(c.dt);
      case Cell::k_null:
        break;
    }
    return "";
  }

  void emit(std::string& out, const Reject* coords) {
    builder.begin(out);
    for (const Cell& c : cells) {
      switch (c.kind) {
        case Cell::k_str:
          builder.string(c.s);
          break;
        case Cell::k_num:
          builder.number(c.num());
          break;
        case Cell::k_dt:
          builder.datetime(c.dt);  // RowBuilder keeps the day's date text cached
          break;
        case Cell::k_null:
          builder.null();
          break;
      }
    }
    if (coords) builder.coords(coords->topic, coords->partition, coords->offset);
    builder.end();
  }

  // Looks up the parent object of parent group p (state 1 = found, 2 = absent or null).
  bool resolve_parent(size_t p, element root, Reject& r) {
    const Column& c = schema.columns[parent_rep[p]];
    element e = root;
    auto parent = [&](size_t k) {
      std::string text;
      for (size_t j = 0; j <= k; ++j) text += (j ? "." : "") + c.path[j];
      return text;
    };
    for (size_t k = 0; k + 1 < c.path.size(); ++k) {
      element next;
      int found = find_key(e.get_object().value_unsafe(), c.path[k], next);
      if (found == 2) {
        r.reason = parent(k) + ": duplicate key";
        return false;
      }
      if (!found || next.type() == element_type::NULL_VALUE) {
        parent_state[p] = 2;
        return true;
      }
      e = next;
      if (e.type() != element_type::OBJECT) {
        r.reason = parent(k) + ": expected an object, got " + type_word(e.type());
        return false;
      }
    }
    parent_elem[p] = e;
    parent_state[p] = 1;
    // One pass over the parent's fields finds all its columns (at_key per column would rescan).
    // It goes to the end: a key read twice rejects the message (see find_key).
    const auto& cols = parent_cols[p];
    const auto& keys = parent_keys[p];
    const size_t nc = cols.size();
    const bool rotate = parent_rotate[p];
    for (size_t ci : cols) col_found[ci] = 0;
    // Fields mostly come in the schema's order: trying the column after the last match first
    // makes that one comparison per field.
    size_t guess = 0;
    simdjson::dom::object obj = e.get_object().value_unsafe();
    for (auto field : obj) {
      for (size_t t = 0; t < nc; ++t) {
        size_t j = guess + t;
        if (j >= nc) j -= nc;
        if (!same_key(field.key, keys[j])) continue;
        size_t ci = cols[j];
        if (col_found[ci]) {
          r.reason = schema.columns[ci].path_text + ": duplicate key";
          return false;
        }
        col_elem[ci] = field.value;
        col_found[ci] = 1;
        // Without rotation two columns may read the same key: every one of them takes it.
        if (!rotate) continue;
        guess = j + 1 == nc ? 0 : j + 1;
        break;
      }
    }
    return true;
  }

  bool message(element root, std::string& out, Reject& r) {
    if (root.type() != element_type::OBJECT) {
      r.reason = std::string("message is ") + type_word(root.type()) + ", not a JSON object";
      return false;
    }
    std::fill(parent_state.begin(), parent_state.end(), 0);
    for (size_t i = 0; i < schema.columns.size(); ++i) {
      const Column& c = schema.columns[i];
      size_t p = col_parent[i];
      if (parent_state[p] == 0 && !resolve_parent(p, root, r)) return false;
      bool found = parent_state[p] == 1 && col_found[i];
      element e = found ? col_elem[i] : element();
      bool ok;
      if (!found || e.type() == element_type::NULL_VALUE) {
        ok = missing(i, cells[i]);
        if (!ok && found) why = c.path_text + ": is null but required";
      } else {
        ok = from_json(c, e, cells[i]);
      }
      if (!ok) {
        r.reason = std::move(why);
        return false;
      }
    }
    emit(out, r.has_coords ? &r : nullptr);
    return true;
  }

  static void parse_into(simdjson::dom::parser& p, std::string& pad, std::string_view text, element& out,
                         simdjson::error_code& err, size_t readable_past = 0) {
    if (readable_past >= simdjson::SIMDJSON_PADDING) {
      err = p.parse(text.data(), text.size(), false).get(out);
      return;
    }
    // simdjson reads up to SIMDJSON_PADDING bytes past the end; their content does not matter.
    if (pad.size() < text.size() + simdjson::SIMDJSON_PADDING) pad.resize(text.size() + simdjson::SIMDJSON_PADDING);
    std::memcpy(pad.data(), text.data(), text.size());
    err = p.parse(pad.data(), text.size(), false).get(out);
  }

  bool read_envelope(const envelope::Keys& env, std::string& out, Reject& r) {
    element value = env.value;
    envelope::Coords c;
    r.reason = envelope::read_coords(env, c, quoted);
    if (!r.reason.empty()) return false;
    r.has_coords = true;
    r.topic = std::string(c.topic);
    r.partition = c.partition;
    r.offset = c.offset;
    if (!env.has_value) return false;  // checked by the caller
    if (env.dup_value) {
      r.reason = "envelope: duplicate key value";
      return false;
    }
    switch (value.type()) {
      case element_type::OBJECT:
        return message(value, out, r);
      case element_type::STRING: {
        // kafka-cat-sensor embeds a value that was not JSON as a string: it may still be the
        // message (e.g. JSON with a trailing byte the producer added); parse it on its own.
        std::string_view text = value.get_string().value_unsafe();
        if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
        if (is_blank(text)) {
          r.reason = "envelope: value is an empty string";
          return false;
        }
        element inner_root;
        simdjson::error_code err;
        parse_into(inner, pad_inner, text, inner_root, err);
        if (err) {
          r.reason = "envelope value: " + json_error_reason(err, text);
          return false;
        }
        return message(inner_root, out, r);
      }
      case element_type::NULL_VALUE:
        r.reason = "envelope: value is null (a tombstone), not a message";
        return false;
      default:
        r.reason = std::string("envelope: value is ") + type_word(value.type()) + ", not a message";
        return false;
    }
  }

  // ---- The fast path: plain lines (see plain_json.hpp) read in one pass, without a document.
  // It produces a row only where the simdjson path above would produce the very same row; for
  // anything else (a reject, an escape, non-ASCII text, an unusual number) it returns false and
  // json_line() takes the simdjson path. tests/fuzz checks the two against each other.

  // The schema's paths as a tree: node 0 is the message; a node is either a parent object (kids)
  // or a leaf read into one or more columns (cols).
  struct FastKid {
    std::string key;
    int node;
    bool plain;  // no byte that a JSON string would have to escape: it can be matched as raw bytes
  };
  struct FastNode {
    std::vector<FastKid> kids;
    std::vector<size_t> cols;
    size_t next = 0;  // the kid expected next (the one after the last matched)
  };
  std::vector<FastNode> fast_nodes;  // empty: no fast path for this schema
  std::vector<uint8_t> fast_seen;    // per node: its key was met in the current object (twice: simdjson path rejects)
  std::vector<uint8_t> col_set;      // per column: read from the current line
  uint64_t fast_rows = 0;
  std::string fast_topic_ok;  // the last envelope topic found to be a valid name
  bool fast_topic_known = false;

  void build_fast_paths() {
    fast_nodes.assign(1, FastNode{});
    for (size_t i = 0; i < schema.columns.size(); ++i) {
      int n = 0;
      for (const std::string& part : schema.columns[i].path) {
        int next = -1;
        for (const FastKid& k : fast_nodes[n].kids)
          if (k.key == part) next = k.node;
        if (next < 0) {
          next = static_cast<int>(fast_nodes.size());
          bool plain = std::all_of(part.begin(), part.end(), [](char c) {
            return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
          });
          fast_nodes[n].kids.push_back({part, next, plain});
          fast_nodes.emplace_back();
        }
        n = next;
      }
      fast_nodes[n].cols.push_back(i);
    }
    // A path that is both a column and the parent of others ("value" and "value.x") has two
    // meanings the simdjson path sorts out; keep such schemas there.
    for (const FastNode& n : fast_nodes)
      if (!n.kids.empty() && !n.cols.empty()) {
        fast_nodes.clear();
        return;
      }
    fast_seen.resize(fast_nodes.size());
    col_set.resize(schema.columns.size());
  }

  // A number as simdjson types it: INT64 for integers (up to 18 digits always fit; longer ones
  // are left to it), DOUBLE for the rest. The integer -0 is 0 here as in simdjson.
  static bool fast_num(std::string_view text, bool integral, Num& n) {
    n.kind = integral ? Num::i64 : Num::dbl;
    return PlainJson::number_value(text, integral, n.i, n.d);
  }

  // A leaf's value into each of its columns, as from_json() converts it.
  bool fast_leaf(PlainJson& j, const FastNode& node) {
    switch (j.peek()) {
      case '"': {
        std::string_view s;
        if (!j.string(s)) return false;
        for (size_t ci : node.cols) {
          const Column& c = schema.columns[ci];
          bool ok = c.type == ColType::String     ? check_string(c, s, cells[ci])
                    : c.type == ColType::DateTime ? iso_time(c, s, cells[ci])
                                                  : false;
          if (!ok) return false;
          col_set[ci] = 1;
        }
        return true;
      }
      case 'n':
        return j.literal("null");  // null is absent: the columns stay unset
      case 't':
      case 'f': {
        bool v = j.peek() == 't';
        if (!j.literal(v ? "true" : "false")) return false;
        for (size_t ci : node.cols) {
          if (schema.columns[ci].type != ColType::Bool) return false;
          put_num(cells[ci], static_cast<int64_t>(v));
          col_set[ci] = 1;
        }
        return true;
      }
      case '{':
      case '[':
        return false;
      default: {
        std::string_view text;
        bool integral;
        Num n;
        if (!j.number(text, integral) || !fast_num(text, integral, n)) return false;
        for (size_t ci : node.cols) {
          const Column& c = schema.columns[ci];
          if (c.type == ColType::String || !check_number(c, n, cells[ci])) return false;
          col_set[ci] = 1;
        }
        return true;
      }
    }
  }

  // The next member's key and its ':'; kid is the schema node it names, or -1. Members mostly
  // come in the schema's order, so the key after the last one matched is tried first, as the
  // bytes "key" (no scan).
  bool fast_key(PlainJson& j, int node, std::string_view& key, int& kid) {
    FastNode& n = fast_nodes[node];
    size_t i = n.next;
    if (i < n.kids.size() && n.kids[i].plain && j.quoted(n.kids[i].key)) {
      key = n.kids[i].key;
    } else {
      if (!j.string(key)) return false;
      for (i = 0; i < n.kids.size() && !same_key(n.kids[i].key, key); ++i) {
      }
      if (i == n.kids.size()) {
        kid = -1;
        return j.eat(':');
      }
    }
    kid = n.kids[i].node;
    n.next = i + 1 == n.kids.size() ? 0 : i + 1;
    return j.eat(':');
  }

  // The members of an object whose '{' was consumed, read against schema node `node`. top: the
  // line's own object, where a "topic" or "offset" key may make the line an envelope.
  bool fast_members(PlainJson& j, int node, int depth, bool top = false) {
    if (++depth > PlainJson::kMaxDepth) return false;
    if (j.eat('}')) return true;
    for (;;) {
      std::string_view key;
      int kid;
      if (!fast_key(j, node, key, kid)) return false;
      if (top && (same_key(key, "topic") || same_key(key, "offset"))) return false;  // simdjson's path decides
      if (kid >= 0) {
        if (fast_seen[kid]) return false;  // a duplicate key: the simdjson path rejects it
        fast_seen[kid] = 1;
        const FastNode& k = fast_nodes[kid];
        if (k.kids.empty()) {
          if (!fast_leaf(j, k)) return false;
        } else if (j.eat('{')) {
          if (!fast_members(j, kid, depth)) return false;
        } else if (!j.literal("null")) {  // a null parent: its columns are absent
          return false;
        }
      } else if (!j.skip_value(depth)) {
        return false;
      }
      if (j.eat(',')) continue;
      return j.eat('}');
    }
  }

  // An int64 field of an envelope (partition, offset), as envelope() requires it.
  static bool fast_int(PlainJson& j, int64_t& v) {
    std::string_view text;
    bool integral;
    Num n;
    if (!j.number(text, integral) || !integral || !fast_num(text, integral, n)) return false;
    v = n.i;
    return true;
  }

  // The fast path for a whole line: raw messages, and envelopes that start with "topic" as
  // kafka-cat-sensor writes them. Any other object with a "topic" or "offset" key is left to the
  // simdjson path, which decides whether it is an envelope.
  bool fast_line(std::string_view line, std::string& out, Reject& r, size_t readable_past) {
    PlainJson j(line, readable_past);
    if (!j.eat('{')) return false;
    std::fill(fast_seen.begin(), fast_seen.end(), 0);
    std::fill(col_set.begin(), col_set.end(), 0);
    std::string_view topic;
    int64_t partition = -1, offset = -1;
    bool is_envelope = j.quoted("topic");
    if (!is_envelope) {
      if (!fast_members(j, 0, 0, true)) return false;
    } else {
      // Each key once (a duplicate is left to the simdjson path, which rejects it); kafka-cat-sensor's
      // order is tried first.
      static constexpr std::string_view kOrder[] = {"topic",        "partition", "offset",  "timestamp",
                                                    "timestamp_ms", "key",       "headers", "value"};
      enum : size_t { kTopic, kPartition, kOffset, kValue = 7, kKeys, kOther = kKeys };
      bool has_topic = false, has_partition = false, has_offset = false, has_value = false;
      size_t id = kTopic;
      for (size_t next = 1;;) {
        if (!j.eat(':')) return false;
        if (id == kTopic) {
          if (has_topic || !j.string(topic)) return false;
          // a stream mostly carries one topic: check its name once
          if (!fast_topic_known || topic != fast_topic_ok) {
            if (!envelope::valid_topic(topic)) return false;
            fast_topic_ok.assign(topic);
            fast_topic_known = true;
          }
          has_topic = true;
        } else if (id == kPartition) {
          if (has_partition || !fast_int(j, partition) || partition < 0 || partition > INT32_MAX) return false;
          has_partition = true;
        } else if (id == kOffset) {
          if (has_offset || !fast_int(j, offset) || offset < 0) return false;
          has_offset = true;
        } else if (id == kValue) {
          if (has_value || !j.eat('{') || !fast_members(j, 0, 1)) return false;  // a string or null value: simdjson path
          has_value = true;
        } else if (!j.skip_value(1)) {
          return false;
        }
        if (!j.eat(',')) {
          if (!j.eat('}')) return false;
          break;
        }
        if (next < kKeys && j.quoted(kOrder[next])) {
          id = next++;
          continue;
        }
        std::string_view key;
        if (!j.string(key)) return false;
        id = kOther;
        for (size_t k : {size_t{kTopic}, size_t{kPartition}, size_t{kOffset}, size_t{kValue}})
          if (same_key(key, kOrder[k])) id = k;
      }
      if (!has_offset || !has_value || !has_partition) return false;
    }
    if (!j.at_end()) return false;
    for (size_t i = 0; i < cells.size(); ++i)
      if (!col_set[i] && !missing(i, cells[i])) return false;
    if (is_envelope) {
      r.has_coords = true;
      r.topic.assign(topic);
      r.partition = static_cast<int32_t>(partition);
      r.offset = offset;
      emit(out, &r);
    } else {
      emit(out, nullptr);
    }
    return true;
  }

  bool json_line(std::string_view line, std::string& out, Reject& r, size_t readable_past) {
    if (!fast_nodes.empty() && fast_line(line, out, r, readable_past)) {
      ++fast_rows;
      return true;
    }
    if (line.substr(0, kBom.size()) == kBom) line.remove_prefix(kBom.size());
    if (is_blank(line)) {
      r.reason = "empty line";
      return false;
    }
    element root;
    simdjson::error_code err;
    parse_into(outer, pad_outer, line, root, err, readable_past);
    if (err) {
      r.reason = json_error_reason(err, line);
      salvage_envelope_coords(line, r);
      return false;
    }
    if (root.type() == element_type::OBJECT) {
      auto obj = root.get_object().value_unsafe();
      // An envelope has all three; the seed's own message has "value" but never "topic"/"offset".
      envelope::Keys env(obj);
      if (env.is_envelope()) return read_envelope(env, out, r);
    }
    return message(root, out, r);
  }

  // Splits one CSV line (RFC 4180 quoting; a record must fit on one line). False + why on bad quoting.
  bool split_csv(std::string_view line) {
    size_t nf = 0;
    size_t i = 0;
    auto field = [&]() -> std::string& {
      if (fields.size() <= nf) {
        fields.emplace_back();
        field_quoted.push_back(false);
      }
      fields[nf].clear();
      field_quoted[nf] = false;
      return fields[nf];
    };
    for (;;) {
      std::string& f = field();
      if (i < line.size() && line[i] == '"') {
        field_quoted[nf] = true;
        ++i;
        for (;;) {
          if (i >= line.size()) {
            why = "CSV: unterminated quoted field " + std::to_string(nf + 1) + " (records must be on one line)";
            return false;
          }
          char c = line[i++];
          if (c == '"') {
            if (i < line.size() && line[i] == '"') {
              f += '"';
              ++i;
            } else {
              break;
            }
          } else {
            f += c;
          }
        }
        if (i < line.size() && line[i] != ',') {
          why = "CSV: text after the closing quote of field " + std::to_string(nf + 1);
          return false;
        }
      } else {
        size_t e = line.find(',', i);
        if (e == std::string_view::npos) e = line.size();
        std::string_view v = line.substr(i, e - i);
        if (v.find('"') != std::string_view::npos) {
          why = "CSV: quote inside unquoted field " + std::to_string(nf + 1);
          return false;
        }
        f.assign(v.data(), v.size());
        i = e;
      }
      ++nf;
      if (i >= line.size()) break;
      ++i;                     // the comma
      if (i == line.size()) {  // trailing comma: one more empty field
        field();
        ++nf;
        break;
      }
    }
    csv_fields = nf;
    return true;
  }

  static std::string_view chomp(std::string_view line) {
    if (line.substr(0, kBom.size()) == kBom) line.remove_prefix(kBom.size());
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  }

  std::vector<std::string> csv_header(std::string_view line) {
    line = chomp(line);
    if (!split_csv(line)) throw DataError("CSV header: " + why);
    std::vector<std::string> names(fields.begin(), fields.begin() + static_cast<long>(csv_fields));
    for (auto& n : names) {
      while (!n.empty() && (n.back() == ' ' || n.back() == '\t')) n.pop_back();
      while (!n.empty() && (n.front() == ' ' || n.front() == '\t')) n.erase(0, 1);
    }
    csv_index.assign(schema.columns.size(), -1);
    std::vector<bool> used(names.size(), false);
    // Name first, then full path, then the path's last part ("timestamp" for ts, "humidity" for value.humidity).
    for (int pass = 0; pass < 3; ++pass) {
      for (size_t ci = 0; ci < schema.columns.size(); ++ci) {
        if (csv_index[ci] >= 0) continue;
        const Column& c = schema.columns[ci];
        const std::string& want = pass == 0 ? c.name : pass == 1 ? c.path_text : last_part(c);
        for (size_t k = 0; k < names.size(); ++k)
          if (!used[k] && names[k] == want) {
            csv_index[ci] = static_cast<int>(k);
            used[k] = true;
            break;
          }
      }
    }
    for (size_t ci = 0; ci < schema.columns.size(); ++ci) {
      const Column& c = schema.columns[ci];
      if (csv_index[ci] < 0 && c.required)
        throw DataError("CSV header has no field for required column '" + c.name + "' (name it " + c.name +
                        (c.path_text != c.name ? " or " + c.path_text : std::string()) + ")");
    }
    header_fields = names.size();
    std::vector<std::string> unknown;
    for (size_t k = 0; k < names.size(); ++k)
      if (!used[k]) unknown.push_back(names[k]);
    header_names = std::move(names);
    return unknown;
  }
  size_t header_fields = 0;
  std::vector<std::string> header_names;

  bool csv_line(std::string_view line, std::string& out, Reject& r) {
    line = chomp(line);
    if (is_blank(line)) {
      r.reason = "empty line";
      return false;
    }
    // JSON input gets this check from simdjson; CSV fields are copied into rows as they are
    if (!simdjson::validate_utf8(line.data(), line.size())) {
      r.reason = "invalid UTF-8";
      return false;
    }
    if (!split_csv(line)) {
      r.reason = std::move(why);
      return false;
    }
    if (csv_fields != header_fields) {
      r.reason = "CSV: " + std::to_string(csv_fields) + " fields, the header has " + std::to_string(header_fields);
      return false;
    }
    for (size_t i = 0; i < schema.columns.size(); ++i) {
      int k = csv_index[i];
      bool ok;
      // An empty unquoted field is an absent value; "" is an empty string.
      if (k < 0 || (fields[k].empty() && !field_quoted[k])) {
        ok = missing(i, cells[i]);
      } else {
        // The checks name the JSON path; for CSV the header's name is what the user wrote.
        ok = from_text(schema.columns[i], fields[k], cells[i]);
        if (!ok && header_names[k] != schema.columns[i].path_text)
          why = header_names[k] + why.substr(schema.columns[i].path_text.size());
      }
      if (!ok) {
        r.reason = std::move(why);
        return false;
      }
    }
    emit(out, nullptr);
    return true;
  }
};

RecordParser::RecordParser(const Schema& schema, RowFormat format, bool fast_path)
    : impl_(std::make_unique<Impl>(schema, format, fast_path)) {}
RecordParser::~RecordParser() = default;
bool RecordParser::json_line(std::string_view line, std::string& out, Reject& r, size_t readable_past) {
  return impl_->json_line(line, out, r, readable_past);
}
std::vector<std::string> RecordParser::csv_header(std::string_view line) { return impl_->csv_header(line); }
uint64_t RecordParser::fast_rows() const { return impl_->fast_rows; }
std::string RecordParser::cell_text(size_t col) const { return impl_->cell_text(col); }
bool RecordParser::csv_line(std::string_view line, std::string& out, Reject& r) {
  return impl_->csv_line(line, out, r);
}

// ---------------------------------------------------------------------------------------------

namespace {

// Auto-detection looks at the first non-blank line: JSON lines start with '{'; anything else that
// names at least one schema column in comma-separated fields is a CSV header.
bool looks_like_csv_header(std::string_view line, const Schema& schema) {
  if (line.substr(0, kBom.size()) == kBom) line.remove_prefix(kBom.size());
  size_t i = line.find_first_not_of(" \t");
  if (i == std::string_view::npos || line[i] == '{' || line[i] == '[') return false;
  if (line.find(',') == std::string_view::npos) return false;
  size_t start = 0;
  for (;;) {
    size_t e = line.find(',', start);
    std::string_view f = line.substr(start, e == std::string_view::npos ? std::string_view::npos : e - start);
    while (!f.empty() && (f.back() == '\r' || f.back() == ' ' || f.back() == '"')) f.remove_suffix(1);
    while (!f.empty() && (f.front() == ' ' || f.front() == '"')) f.remove_prefix(1);
    for (const auto& c : schema.columns)
      if (f == c.name || f == c.path_text || f == last_part(c)) return true;
    if (e == std::string_view::npos) return false;
    start = e + 1;
  }
}

}  // namespace

Stats run(const Options& opt, const Schema& schema, LineReader& in, LineWriter& out, LineWriter* rejects) {
  RecordParser parser(schema, opt.format);
  Stats st;
  InputFormat fmt = opt.input;
  bool need_header = fmt == InputFormat::csv;
  // Rows are built straight into this batch (a reject never leaves a partial row) and handed to
  // the writer in one piece.
  constexpr size_t kBatch = 60 << 10;
  std::string row;
  row.reserve(kBatch + 4096);
  Reject r;
  Line line;
  Progress progress;
  auto& m = metrics();
  Counter& m_records = m.counter("parse_records_total", "Input records read by sensor-parse");
  Counter& m_rows = m.counter("parse_rows_total", "Rows written by sensor-parse");
  // rejects by reason_class(): a counter per class, created when the class first occurs
  std::map<std::string, std::pair<Counter*, uint64_t>> m_rejects;  // class -> (counter, published)
  uint64_t published_records = 0, published_rows = 0;
  auto publish = [&] {
    m_records.inc(static_cast<double>(st.records - published_records));
    m_rows.inc(static_cast<double>(st.rows - published_rows));
    published_records = st.records;
    published_rows = st.rows;
    for (const auto& [cls, n] : st.rejects_by_reason) {
      auto& [counter, published] = m_rejects[cls];
      if (!counter)
        counter = &m.counter("parse_rejects_total", "Input records rejected by sensor-parse, by reason (reasons with the line's values taken out)",
                             label("reason", cls));
      counter->inc(static_cast<double>(n - published));
      published = n;
    }
  };
  int sensor_col = opt.stats ? sensor_column(schema) : -1;
  if (sensor_col >= 0) st.sensor_column = schema.columns[static_cast<size_t>(sensor_col)].name;

  while (in.next(line)) {
    std::string_view text = line.text;
    if (fmt == InputFormat::auto_detect && !line.overlong && !is_blank(text)) {
      fmt = looks_like_csv_header(text, schema) ? InputFormat::csv : InputFormat::json;
      need_header = fmt == InputFormat::csv;
      log::debug("input format: ", fmt == InputFormat::csv ? "CSV with a header" : "JSON lines");
    }
    if (need_header && !line.overlong && !is_blank(text)) {
      for (const auto& u : parser.csv_header(text)) log::warn("CSV header field '", u, "' matches no column; ignored");
      need_header = false;
      continue;
    }
    ++st.records;
    r.clear();
    bool ok;
    if (line.overlong) {
      r.reason = "line of " + std::to_string(line.full_size) + " bytes is longer than the limit of " +
                 std::to_string(opt.max_line) + " (--max-line-bytes)";
      salvage_envelope_coords(text, r);
      ok = false;
    } else if (fmt == InputFormat::csv) {
      ok = parser.csv_line(text, row, r);
    } else {
      ok = parser.json_line(text, row, r, LineReader::kPadding);
    }
    if (ok) {
      ++st.rows;
      if (sensor_col >= 0) ++st.rows_by_sensor[parser.cell_text(static_cast<size_t>(sensor_col))];
    } else {
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
      if (rejects) rejects->line(reject_json(line.number, r, text, line.overlong, line.full_size));
      if (opt.max_rejects >= 0 && st.rejects > static_cast<uint64_t>(opt.max_rejects)) {
        st.threshold = std::to_string(st.rejects) + " rejects exceed --max-rejects " + std::to_string(opt.max_rejects);
        st.stopped_early = true;
        break;
      }
    }
    // Rows must not wait in our buffer while the upstream is quiet (a live Kafka stream):
    // flush whenever the next read could block.
    bool idle = !in.line_buffered();
    if (row.size() >= kBatch || idle) {
      // Rejects reach their file before any later row leaves: once ch-insert acknowledges a later
      // offset, a reject still in our buffer would be lost for good if we were killed now.
      if (rejects) rejects->flush();
      out.write(row);
      row.clear();
    }
    if (idle) {
      out.flush();
      if (rejects) rejects->flush();
      publish();
    }
    progress.update(st.records, in.bytes());
    if ((st.records & 1023) == 0 && stop_requested()) {
      st.stopped_early = true;
      break;
    }
  }
  // LineReader ends the input early on SIGINT/SIGTERM: what was read is written, the exit says so.
  if (stop_requested()) st.stopped_early = true;
  progress.done();
  if (rejects) rejects->flush();
  out.write(row);
  out.flush();
  if (rejects) rejects->flush();
  publish();
  st.bytes_in = in.bytes();
  st.fast_rows = parser.fast_rows();
  if (st.threshold.empty() && opt.max_reject_ratio >= 0 && st.records > 0) {
    double ratio = static_cast<double>(st.rejects) / static_cast<double>(st.records);
    if (ratio > opt.max_reject_ratio)
      st.threshold =
          "reject ratio " + num_text(ratio) + " exceeds --max-reject-ratio " + num_text(opt.max_reject_ratio);
  }
  return st;
}

}  // namespace sp::parse
