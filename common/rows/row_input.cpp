#include "common/rows/row_input.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <cstring>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/log.hpp"
#include "common/rows/rows.hpp"

namespace sp {

namespace {

template <class T>
bool parse_int(std::string_view s, T& v) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

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

bool json_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

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

enum Coord { kTopic, kPartition, kOffset };
constexpr std::string_view kCoordNames[3] = {"_topic", "_partition", "_offset"};

struct Span {
  size_t b, e;
};

// Sensor-parse's exact shape, {"c1":v1,...,"cN":vN[,"_topic":"t","_partition":P,"_offset":O]}
// with no escape in a string, checked with a compare per key and a short loop per value. Measured
// on 1M seed rows with coordinates (dry run, the reading thread alone): 0.21 s with this path,
// 0.55 s with the general walk for every row, 0.18 s without any check. false: not that shape
// (the general walk decides, and words any reject).
bool json_fast(std::string_view line, const RowShape& shape, size_t& cut, RowCoords& c) {
  static const auto scalar = [] {
    std::array<bool, 256> t{};
    for (int ch = 0; ch < 256; ++ch)
      t[static_cast<size_t>(ch)] = std::isalnum(ch) || ch == '-' || ch == '+' || ch == '.';
    return t;
  }();
  const char* d = line.data();
  size_t n = line.size(), p = 1;
  if (n == 0 || d[0] != '{') return false;
  const size_t ncols = shape.columns.size();
  for (size_t i = 0; i < ncols; ++i) {
    const std::string& k = shape.json_keys[i];
    if (n - p < k.size() + 1 || std::memcmp(d + p, k.data(), k.size()) != 0) return false;
    p += k.size();
    size_t vb = p;
    if (d[p] == '"') {
      for (++p;; ++p) {
        if (p >= n || d[p] == '\\') return false;
        if (d[p] == '"') break;
      }
      ++p;
    } else {
      while (p < n && scalar[static_cast<unsigned char>(d[p])]) ++p;
      if (p == vb || (p - vb == 4 && !shape.nullable[i] && std::memcmp(d + vb, "null", 4) == 0)) return false;
    }
    if (p >= n) return false;
    if (i + 1 < ncols) {
      if (d[p] != ',') return false;
      ++p;
    }
  }
  if (p >= n) return false;
  cut = p;
  if (d[p] == '}') {
    c.present = false;
    return trim(line.substr(p + 1)).empty();
  }
  static constexpr std::string_view kTopicKey = ",\"_topic\":";
  if (line.substr(p, kTopicKey.size()) != kTopicKey) return false;
  p += kTopicKey.size();
  int64_t part = 0, off = 0;
  if (!json_string_at(line, p, c.topic)) return false;
  if (!expect(line, p, ",\"_partition\":") || !json_int_at(line, p, part)) return false;
  if (!expect(line, p, ",\"_offset\":") || !json_int_at(line, p, off)) return false;
  if (!expect(line, p, "}") || !trim(line.substr(p)).empty()) return false;
  if (part < 0 || part > INT32_MAX) return false;
  c.partition = static_cast<int32_t>(part);
  c.offset = off;
  c.present = true;
  return true;
}

// What the general walk found among a JSONEachRow line's top-level members. One per thread, reused
// line after line (no allocation per row).
struct JsonMembers {
  std::vector<char> seen;  // per schema column
  std::vector<Span> kept;  // members that are columns (key's quote .. value's end)
  std::string key_buf;     // a key with escapes, unescaped
  Span coord_value[3] = {};
  bool coord_seen[3] = {false, false, false};
  size_t ncoords = 0, nseen = 0, next = 0;  // next: the column expected next (schema order)
  bool coords_last = true;  // no column member after a coordinate (the shape RowBuilder writes)

  void reset(size_t ncols) {
    seen.assign(ncols, 0);
    kept.clear();
    for (int i = 0; i < 3; ++i) coord_seen[i] = false;
    ncoords = nseen = next = 0;
    coords_last = true;
  }

  // One member: a schema column (each once, null only where Nullable) or a coordinate (each once).
  bool take(std::string_view line, std::string_view key, Span member, Span value, const RowShape& shape,
            std::string& why) {
    const size_t ncols = shape.columns.size();
    size_t idx = ncols;
    if (next < ncols && key == shape.columns[next]) {
      idx = next;
    } else {
      for (size_t i = 0; i < ncols; ++i)
        if (key == shape.columns[i]) {
          idx = i;
          break;
        }
    }
    if (idx < ncols) {
      if (seen[idx]) {
        why = "column '" + log::printable(key) + "' twice";
        return false;
      }
      seen[idx] = 1;
      ++nseen;
      next = idx + 1;
      if (line[value.b] == 'n' && line.substr(value.b, value.e - value.b) == "null" && !shape.nullable[idx]) {
        why = "null in column '" + log::printable(key) + "', which is not Nullable";
        return false;
      }
      if (ncoords) coords_last = false;
      kept.push_back(member);
      return true;
    }
    int k = -1;
    for (int i = 0; i < 3; ++i)
      if (key == kCoordNames[i]) k = i;
    if (k < 0) {
      why = "unknown column '" + log::printable(key) + "' (not in the schema)";
      return false;
    }
    if (coord_seen[k]) {
      why = "column '" + std::string(key) + "' twice";
      return false;
    }
    coord_seen[k] = true;
    coord_value[k] = value;
    ++ncoords;
    return true;
  }
};

// The walk itself: one JSON object, each member handed to m.take(), nothing after the object.
RowStatus walk_json_members(std::string_view line, const RowShape& shape, JsonMembers& m, std::string& why) {
  size_t p = 0, n = line.size();
  auto bad_syntax = [&](const char* what) {
    why = std::string("not a JSON object: ") + what + " at byte " + std::to_string(p + 1);
    return RowStatus::invalid;
  };
  skip_ws(line, p);
  if (p >= n || line[p] != '{') return bad_syntax("no '{'");
  ++p;
  skip_ws(line, p);
  if (p < n && line[p] == '}') {
    ++p;
  } else {
    for (;;) {
      skip_ws(line, p);
      if (p >= n || line[p] != '"') return bad_syntax("a key expected");
      size_t kb = p;
      bool kesc = false;
      if (!skip_string(line, p, kesc)) return bad_syntax("unterminated key");
      std::string_view key = line.substr(kb + 1, p - kb - 2);
      if (kesc) {
        size_t q = kb;
        if (!json_string_at(line, q, m.key_buf)) return bad_syntax("bad escape in a key");
        key = m.key_buf;
      }
      skip_ws(line, p);
      if (p >= n || line[p] != ':') return bad_syntax("':' expected");
      ++p;
      skip_ws(line, p);
      size_t vb = p;
      if (!skip_value(line, p)) return bad_syntax("a value expected");
      if (!m.take(line, key, {kb, p}, {vb, p}, shape, why)) return RowStatus::invalid;
      skip_ws(line, p);
      if (p < n && line[p] == ',') {
        ++p;
        continue;
      }
      if (p < n && line[p] == '}') {
        ++p;
        break;
      }
      return bad_syntax("',' or '}' expected");
    }
  }
  skip_ws(line, p);
  if (p < n) {
    why = line[p] == '{' ? "more than one JSON object on the line" : "text after the JSON object at byte " +
                                                                         std::to_string(p + 1);
    return RowStatus::invalid;
  }
  return RowStatus::row;
}

// After the walk: every column there, the coordinates all or none (all with --keep-coordinates)
// and well-formed; they go to c.
RowStatus check_json_members(std::string_view line, const RowShape& shape, bool keep, const JsonMembers& m,
                             RowCoords& c, std::string& why) {
  const size_t ncols = shape.columns.size();
  if (m.nseen < ncols) {
    std::string list;
    size_t missing = 0;
    for (size_t i = 0; i < ncols; ++i)
      if (!m.seen[i]) list += (missing++ ? ", '" : " '") + shape.columns[i] + "'";
    why = std::string("missing column") + (missing > 1 ? "s" : "") + list;
    return RowStatus::invalid;
  }
  if (m.ncoords > 0 && m.ncoords < 3) {
    why = "incomplete Kafka coordinates: _topic, _partition and _offset must come together";
    return RowStatus::invalid;
  }
  if (m.ncoords == 0 && keep) {
    why = "missing columns '_topic', '_partition', '_offset' (sent as columns with --keep-coordinates)";
    return RowStatus::invalid;
  }
  if (m.ncoords == 3) {
    size_t q = m.coord_value[kTopic].b;
    int64_t part = 0, off = 0;
    Span ps = m.coord_value[kPartition], os = m.coord_value[kOffset];
    if (!json_string_at(line, q, c.topic) || !parse_int(line.substr(ps.b, ps.e - ps.b), part) || part < 0 ||
        part > INT32_MAX || !parse_int(line.substr(os.b, os.e - os.b), off)) {
      why = "bad Kafka coordinates: _topic must be a string, _partition and _offset integers";
      return RowStatus::invalid;
    }
    c.partition = static_cast<int32_t>(part);
    c.offset = off;
    c.present = true;
  }
  return RowStatus::row;
}

// The row as ClickHouse gets it: the line as it is, or without its coordinates.
void write_json_row(std::string_view line, bool keep, const JsonMembers& m, std::string& out) {
  if (m.ncoords == 0 || keep) {
    out.append(line.data(), line.size());
  } else if (m.coords_last && !m.kept.empty()) {
    out.append(line.data(), m.kept.back().e);  // {"id":...,"pressure":1013
    out += '}';
  } else {  // coordinates first or in between: the columns' members again, in their order
    out += '{';
    for (size_t i = 0; i < m.kept.size(); ++i) {
      if (i) out += ',';
      out.append(line.data() + m.kept[i].b, m.kept[i].e - m.kept[i].b);
    }
    out += '}';
  }
  out += '\n';
}

// Checks a JSONEachRow line against the shape in one pass over its top-level members (no
// document is built): each schema column exactly once, no other key but the coordinates, one
// object and nothing after it. Members come in schema order from sensor-parse, so each key is
// first compared with the column expected next; any order is accepted.
RowStatus json_row(std::string_view line, const RowShape& shape, bool keep, std::string& out, RowCoords& c,
                   std::string& why) {
  size_t cut = 0;
  if (json_fast(line, shape, cut, c)) {
    if (keep && !c.present) {
      why = "missing columns '_topic', '_partition', '_offset' (sent as columns with --keep-coordinates)";
      return RowStatus::invalid;
    }
    if (keep || !c.present) {
      out.append(line.data(), line.size());
    } else {
      out.append(line.data(), cut);
      out += '}';
    }
    out += '\n';
    return RowStatus::row;
  }
  thread_local JsonMembers m;
  m.reset(shape.columns.size());
  RowStatus st = walk_json_members(line, shape, m, why);
  if (st == RowStatus::row) st = check_json_members(line, shape, keep, m, c, why);
  if (st == RowStatus::row) write_json_row(line, keep, m, out);
  return st;
}

std::string tsv_unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    char e = s[++i];
    switch (e) {
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case '0': out += '\0'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      default: out += e;
    }
  }
  return out;
}

// Field start positions of a CSV line (quotes respected); false when a quote is left open.
bool csv_fields(std::string_view line, std::vector<size_t>& starts) {
  starts.clear();
  size_t p = 0;
  starts.push_back(0);
  while (p < line.size()) {
    if (line[p] == '"' && (p == starts.back())) {
      ++p;
      for (;;) {
        if (p >= line.size()) return false;
        if (line[p] == '"') {
          if (p + 1 < line.size() && line[p + 1] == '"') {
            p += 2;
            continue;
          }
          ++p;
          break;
        }
        ++p;
      }
      continue;
    }
    if (line[p] == ',') starts.push_back(p + 1);
    ++p;
  }
  return true;
}

std::string csv_unquote(std::string_view f) {
  if (f.size() < 2 || f.front() != '"' || f.back() != '"') return std::string(f);
  std::string out;
  for (size_t i = 1; i + 1 < f.size(); ++i) {
    out += f[i];
    if (f[i] == '"' && i + 2 < f.size() && f[i + 1] == '"') ++i;
  }
  return out;
}

// TSV/CSV: the schema's columns, then optionally the 3 coordinates (required with keep).
RowStatus delimited_row(RowFormat f, std::string_view line, size_t ncols, bool keep, std::string& out, RowCoords& c,
                        std::string& why) {
  thread_local std::vector<size_t> starts;
  starts.clear();
  if (f == RowFormat::tsv) {
    // An escaped tab is "\t" (two bytes): every tab byte separates fields.
    starts.push_back(0);
    const char* d = line.data();
    const char* e = d + line.size();
    for (const char* t = d; (t = static_cast<const char*>(std::memchr(t, '\t', static_cast<size_t>(e - t))));)
      starts.push_back(static_cast<size_t>(++t - d));
  } else if (!csv_fields(line, starts)) {
    why = "a quoted field is not closed (an open '\"'): rows are one per line";
    return RowStatus::invalid;
  }
  size_t fields = starts.size();
  if (fields != ncols + 3 && (fields != ncols || keep)) {
    why = std::to_string(fields) + (fields == 1 ? " field" : " fields") + ", want " +
          (keep ? std::to_string(ncols + 3) + " (the schema's " + std::to_string(ncols) +
                      " and _topic, _partition, _offset for --keep-coordinates)"
                : std::to_string(ncols) + " (the schema's columns), or " + std::to_string(ncols + 3) +
                      " with _topic, _partition, _offset");
    return RowStatus::invalid;
  }
  if (fields == ncols + 3) {
    auto field = [&](size_t i) {
      size_t b = starts[i];
      size_t e = i + 1 < starts.size() ? starts[i + 1] - 1 : line.size();
      return line.substr(b, e - b);
    };
    int64_t part = 0, off = 0;
    std::string_view tf = field(ncols), pf = trim(field(ncols + 1)), of = trim(field(ncols + 2));
    if (!parse_int(pf, part) || part < 0 || part > INT32_MAX || !parse_int(of, off)) {
      why = "bad Kafka coordinates in the last 3 fields (_topic, _partition, _offset): '" + log::printable(pf, 40) +
            "', '" + log::printable(of, 40) + "' are not integers";
      return RowStatus::invalid;
    }
    c.topic = f == RowFormat::tsv ? tsv_unescape(tf) : csv_unquote(trim(tf));
    c.partition = static_cast<int32_t>(part);
    c.offset = off;
    c.present = true;
    if (!keep) line = line.substr(0, starts[ncols] - 1);
  }
  out.append(line.data(), line.size());
  out += '\n';
  return RowStatus::row;
}

// One VALUES tuple, "(v1, v2, ...)", possibly followed by ',' or ';'. Commas count values at the
// tuple's own level: not inside strings ('...' with \' or '' escapes), calls, arrays or maps ({'k':v}).
RowStatus values_row(std::string_view t, size_t ncols, std::string& out, std::string& why) {
  // Bytes that matter to the walk; every other one is skipped by one table lookup. The check costs
  // about 0.06 s per 1M seed tuples (0.08 -> 0.14 s, dry run), lost in the insert's own time.
  static const auto special = [] {
    std::array<bool, 256> m{};
    for (unsigned char ch : std::string_view("'()[]{},")) m[ch] = true;
    return m;
  }();
  if (t.empty() || t.front() != '(') {
    why = "not a VALUES tuple '(...)'";
    return RowStatus::invalid;
  }
  const char* d = t.data();
  size_t n = t.size(), values = 1, end = 0;
  int depth = 0;
  for (size_t p = 0; p < n; ++p) {
    char ch = d[p];
    if (!special[static_cast<unsigned char>(ch)]) continue;
    if (ch == '\'') {
      for (++p;; ++p) {
        if (p >= n) {
          why = "a string is not closed (an open ')";
          return RowStatus::invalid;
        }
        if (d[p] == '\\') {
          ++p;
        } else if (d[p] == '\'') {
          if (p + 1 < n && d[p + 1] == '\'') {
            ++p;
          } else {
            break;
          }
        }
      }
    } else if (ch == '(' || ch == '[' || ch == '{') {
      ++depth;
    } else if (ch == ')' || ch == ']' || ch == '}') {
      if (--depth == 0) {
        end = p + 1;
        break;
      }
    } else if (depth == 1) {  // ','
      ++values;
    }
  }
  if (end == 0) {
    why = "the tuple is not closed (an open '(')";
    return RowStatus::invalid;
  }
  std::string_view rest = trim(t.substr(end));
  while (!rest.empty() && (rest.front() == ',' || rest.front() == ';')) rest = trim(rest.substr(1));
  if (!rest.empty()) {
    why = rest.front() == '(' ? "more than one tuple on the line (one row per line)" : "text after the tuple";
    return RowStatus::invalid;
  }
  if (values == 1 && trim(t.substr(1, end - 2)).empty()) values = 0;  // "()"
  if (values != ncols) {
    why = std::to_string(values) + (values == 1 ? " value" : " values") + ", want " + std::to_string(ncols) +
          " (the schema's columns)";
    return RowStatus::invalid;
  }
  out.append(t.data(), end);
  return RowStatus::row;
}

bool starts_with_insert(std::string_view s) {
  static const char kw[] = "insert into";
  if (s.size() < sizeof kw - 1) return false;
  for (size_t i = 0; i + 1 < sizeof kw; ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != kw[i]) return false;
  return true;
}

}  // namespace

RowShape::RowShape(std::vector<std::string> names, std::vector<char> nullable_columns)
    : columns(std::move(names)), nullable(std::move(nullable_columns)) {
  nullable.resize(columns.size(), 0);
  for (const auto& name : columns) {
    std::string k;
    append_json_string(k, name);
    json_keys.push_back(k + ":");
  }
}

RowShape RowShape::of(const Schema& s) {
  std::vector<char> nullable;
  for (const auto& col : s.columns) nullable.push_back(col.nullable() ? 1 : 0);
  return RowShape(s.column_names(), nullable);
}


RowStatus split_row(RowFormat f, std::string_view line, const RowShape& shape, bool keep_coords, std::string& out,
                    RowCoords& c, std::string& why) {
  size_t ncols = shape.columns.size();
  c.present = false;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (trim(line).empty()) return RowStatus::skip;
  RowStatus rs = RowStatus::invalid;
  switch (f) {
    case RowFormat::json: rs = json_row(line, shape, keep_coords, out, c, why); break;
    case RowFormat::tsv:
    case RowFormat::csv: rs = delimited_row(f, line, ncols, keep_coords, out, c, why); break;
    case RowFormat::values: {
      std::string_view t = trim(line);
      if (starts_with_insert(t)) return RowStatus::skip;  // the seed's statement header line
      return values_row(t, ncols, out, why);
    }
  }
  // No row has a marker's shape, so markers (rare) are looked for only in lines that are no row.
  Ack a;
  if (rs == RowStatus::invalid && parse_ack_marker(f, line, ncols, a)) {
    c.present = true;
    c.topic = std::move(a.topic);
    c.partition = a.partition;
    c.offset = a.offset;
    why.clear();
    return RowStatus::marker;
  }
  return rs;
}

namespace {
// sensor-parse's exact shape (the keys in schema order, no escape up to the value): the value found
// with a compare per key and a search per value; anything else goes the general way.
bool json_field_fast(std::string_view row, const RowShape& shape, size_t col, std::string& value) {
  if (row.empty() || row[0] != '{') return false;
  size_t p = 1;
  for (size_t i = 0;; ++i) {
    const std::string& k = shape.json_keys[i];
    if (row.compare(p, k.size(), k) != 0) return false;
    p += k.size();
    if (p < row.size() && row[p] == '"') {
      size_t e = row.find('"', p + 1);
      if (e == std::string_view::npos || std::memchr(row.data() + p + 1, '\\', e - p - 1)) return false;
      if (i == col) {
        value.assign(row.data() + p + 1, e - p - 1);
        return true;
      }
      p = e + 1;
    } else {
      if (i == col) return false;  // no string: the general path says so
      while (p < row.size() && row[p] != ',' && row[p] != '}') {
        if (row[p] == '"' || row[p] == '{' || row[p] == '[') return false;
        ++p;
      }
    }
    if (p >= row.size() || row[p] != ',') return false;
    ++p;
  }
}
}  // namespace

bool row_string_field(RowFormat f, std::string_view row, const RowShape& shape, size_t col, std::string& value) {
  if (col >= shape.columns.size()) return false;
  while (!row.empty() && (row.back() == '\n' || row.back() == '\r')) row.remove_suffix(1);
  if (f == RowFormat::json && json_field_fast(row, shape, col, value)) return true;
  if (f == RowFormat::json) {
    size_t p = 0;
    skip_ws(row, p);
    if (p >= row.size() || row[p] != '{') return false;
    ++p;
    std::string key;
    for (;;) {
      skip_ws(row, p);
      if (!json_string_at(row, p, key)) return false;
      skip_ws(row, p);
      if (p >= row.size() || row[p] != ':') return false;
      ++p;
      skip_ws(row, p);
      if (key == shape.columns[col]) return json_string_at(row, p, value);  // a number or null: no string
      if (!skip_value(row, p)) return false;
      skip_ws(row, p);
      if (p >= row.size() || row[p] != ',') return false;
      ++p;
    }
  }
  if (f == RowFormat::tsv || f == RowFormat::csv) {
    thread_local std::vector<size_t> starts;  // once per row read: no allocation each time
    starts.clear();
    if (f == RowFormat::tsv) {
      starts.push_back(0);
      for (size_t i = 0; i < row.size(); ++i)
        if (row[i] == '\t') starts.push_back(i + 1);
    } else if (!csv_fields(row, starts)) {
      return false;
    }
    if (col >= starts.size()) return false;
    size_t b = starts[col], e = col + 1 < starts.size() ? starts[col + 1] - 1 : row.size();
    std::string_view field = row.substr(b, e - b);
    value = f == RowFormat::tsv ? tsv_unescape(field) : csv_unquote(field);
    return true;
  }
  return false;  // VALUES: not supported
}

bool is_column_mismatch(const std::string& why) {
  // the phrases split_row writes for these cases
  for (const char* p : {"unknown column '", "missing column", " fields, want ", " field, want ", " values, want ",
                        " value, want "})
    if (why.find(p) != std::string::npos) return true;
  return false;
}

// The ack marker's reader beside the rows' (its writer, append_ack_marker, is beside RowBuilder).
bool parse_ack_marker(RowFormat f, std::string_view line, size_t ncols, Ack& out) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (f == RowFormat::json) {
    if (line.empty() || line.front() != '{') return false;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.size() != 3) return false;
    auto t = j.find("_topic"), p = j.find("_partition"), o = j.find("_offset");
    if (t == j.end() || p == j.end() || o == j.end() || !t->is_string() || !p->is_number_integer() ||
        !o->is_number_integer())
      return false;
    int64_t part = p->get<int64_t>();
    if (part < 0 || part > INT32_MAX) return false;
    out.topic = t->get<std::string>();
    out.partition = static_cast<int32_t>(part);
    out.offset = o->get<int64_t>();
    return true;
  }
  if (f != RowFormat::tsv && f != RowFormat::csv) return false;
  char sep = f == RowFormat::tsv ? '\t' : ',';
  if (line.size() <= ncols + 1 || line.substr(0, ncols + 1).find_first_not_of(sep) != std::string_view::npos) return false;
  std::string_view rest = line.substr(ncols + 1);
  // the last two fields are the partition and the offset; the topic is what comes before them
  size_t b = rest.rfind(sep);
  if (b == std::string_view::npos || b == 0) return false;
  size_t a = rest.rfind(sep, b - 1);
  if (a == std::string_view::npos) return false;
  int64_t part = 0, off = 0;
  if (!parse_int(rest.substr(a + 1, b - a - 1), part) || part < 0 || part > INT32_MAX ||
      !parse_int(rest.substr(b + 1), off))
    return false;
  std::string_view topic = rest.substr(0, a);
  if (f == RowFormat::tsv) {
    if (topic.find('\t') != std::string_view::npos) return false;
    out.topic = tsv_unescape(topic);
  } else {
    // one CSV field: "..." with "" for a quote, as append_csv_field writes it
    if (topic.size() < 2 || topic.front() != '"' || topic.back() != '"') return false;
    std::string t;
    for (size_t i = 1; i + 1 < topic.size(); ++i) {
      if (topic[i] == '"') {
        if (i + 2 >= topic.size() || topic[i + 1] != '"') return false;
        ++i;
      }
      t += topic[i];
    }
    out.topic = std::move(t);
  }
  out.partition = static_cast<int32_t>(part);
  out.offset = off;
  return true;
}

}  // namespace sp
