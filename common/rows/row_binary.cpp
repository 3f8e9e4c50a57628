#include "common/rows/row_binary.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <cctype>
#include <limits>
#include <type_traits>

#include "common/core/timeutil.hpp"

namespace sp {

namespace {

bool kind_of(ColType t, RbKind& k) {
  switch (t) {
    case ColType::String:
    case ColType::LowCardinalityString: k = RbKind::String; return true;
    case ColType::Float32: k = RbKind::Float32; return true;
    case ColType::Float64: k = RbKind::Float64; return true;
    case ColType::Int8: k = RbKind::Int8; return true;
    case ColType::Int16: k = RbKind::Int16; return true;
    case ColType::Int32: k = RbKind::Int32; return true;
    case ColType::Int64: k = RbKind::Int64; return true;
    case ColType::Bool:
    case ColType::UInt8: k = RbKind::UInt8; return true;
    case ColType::UInt16: k = RbKind::UInt16; return true;
    case ColType::UInt32: k = RbKind::UInt32; return true;
    case ColType::UInt64: k = RbKind::UInt64; return true;
    case ColType::DateTime: k = RbKind::DateTime; return true;
    case ColType::Date: k = RbKind::Date; return true;
    default: return false;
  }
}

template <class T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));  // little-endian hosts only (x86-64, aarch64), as RowBinary is
  out.append(b, sizeof(T));
}

// ClickHouse's TabSeparated unescaping of a String field, limited to the escapes sensor-parse
// writes (append_tsv_field); any other backslash sequence is left to ClickHouse (false).
void put_varint(std::string& out, uint64_t n) {
  char v[10];
  size_t k = 0;
  do {
    v[k++] = static_cast<char>((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>= 7;
  } while (n);
  out.append(v, k);
}

bool unescape_into(std::string_view f, std::string& out, std::string& why) {
  if (std::memchr(f.data(), '\\', f.size()) == nullptr) {  // most values: the bytes as they are
    put_varint(out, f.size());
    out.append(f.data(), f.size());
    return true;
  }
  size_t len_at = out.size();
  out.append(9, '\0');  // room for the longest varint; the length is written once known
  size_t start = out.size();
  for (size_t i = 0; i < f.size();) {
    size_t bs = f.find('\\', i);
    if (bs == std::string_view::npos) {
      out.append(f.data() + i, f.size() - i);
      break;
    }
    out.append(f.data() + i, bs - i);
    if (bs + 1 == f.size()) {
      why = "a lone '\\' at the end";
      return false;
    }
    char c = f[bs + 1];
    switch (c) {
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case '0': out += '\0'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case '\\': out += '\\'; break;
      default:
        why = std::string("the escape '\\") + c + "'";
        return false;
    }
    i = bs + 2;
  }
  // the varint length moved in front of the bytes
  uint64_t n = out.size() - start;
  char v[10];
  size_t k = 0;
  do {
    v[k++] = static_cast<char>((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>= 7;
  } while (n);
  std::memmove(&out[len_at + k], &out[start], out.size() - start);
  std::memcpy(&out[len_at], v, k);
  out.resize(out.size() - (9 - k));
  return true;
}

template <class T>
bool put_int(std::string_view f, std::string& out) {
  if (!f.empty() && f[0] == '+') f.remove_prefix(1);
  if (f.empty() || f[0] == '+') return false;
  if (std::is_unsigned<T>::value && f[0] == '-') return false;
  T v;
  auto r = std::from_chars(f.data(), f.data() + f.size(), v);
  if (r.ec != std::errc() || r.ptr != f.data() + f.size()) return false;
  put(out, v);
  return true;
}

// ClickHouse reads "nan", "inf" and "-inf" (as sensor-parse never writes them, only hand-made rows
// have them); numbers as from_chars does, exactly.
template <class T>
bool put_float(std::string_view f, std::string& out) {
  bool neg = !f.empty() && f[0] == '-';
  std::string_view m = f.substr(!f.empty() && (f[0] == '-' || f[0] == '+') ? 1 : 0);
  if (m == "nan" || m == "inf") {
    T v = m == "nan" ? std::numeric_limits<T>::quiet_NaN() : std::numeric_limits<T>::infinity();
    put(out, neg ? -v : v);
    return true;
  }
  if (m.empty() || !(std::isdigit(static_cast<unsigned char>(m[0])) || m[0] == '.')) return false;
  T v;
  auto r = std::from_chars(m.data(), m.data() + m.size(), v, std::chars_format::general);
  if (r.ec != std::errc() || r.ptr != m.data() + m.size()) return false;
  put(out, neg ? -v : v);
  return true;
}

bool digits(std::string_view f, size_t at, size_t n, unsigned& v) {
  v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (f[i] < '0' || f[i] > '9') return false;
    v = v * 10 + static_cast<unsigned>(f[i] - '0');
  }
  return true;
}

// "YYYY-MM-DD": days since 1970-01-01; false when not that text or not a real date.
bool date_days(std::string_view f, int64_t& days) {
  unsigned y, m, d;
  if (f.size() < 10 || f[4] != '-' || f[7] != '-' || !digits(f, 0, 4, y) || !digits(f, 5, 2, m) ||
      !digits(f, 8, 2, d) || m < 1 || m > 12 || d < 1)
    return false;
  static const unsigned kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > kDays[m - 1] || (m == 2 && d == 29 && !leap)) return false;
  days = days_from_civil(y, m, d);
  return true;
}

bool put_value(RbKind k, std::string_view f, std::string& out, std::string& why) {
  switch (k) {
    case RbKind::String: return unescape_into(f, out, why);
    case RbKind::Float32: return put_float<float>(f, out);
    case RbKind::Float64: return put_float<double>(f, out);
    case RbKind::Int8: return put_int<int8_t>(f, out);
    case RbKind::Int16: return put_int<int16_t>(f, out);
    case RbKind::Int32: return put_int<int32_t>(f, out);
    case RbKind::Int64: return put_int<int64_t>(f, out);
    case RbKind::UInt8: return put_int<uint8_t>(f, out);
    case RbKind::UInt16: return put_int<uint16_t>(f, out);
    case RbKind::UInt32: return put_int<uint32_t>(f, out);
    case RbKind::UInt64: return put_int<uint64_t>(f, out);
    case RbKind::Date: {
      int64_t days;
      if (f.size() != 10 || !date_days(f, days) || days < 0 || days > 65535) return false;
      put(out, static_cast<uint16_t>(days));
      return true;
    }
    case RbKind::DateTime: {
      // "YYYY-MM-DD hh:mm:ss", UTC (RowBuilder::datetime); the epoch as ClickHouse stores it
      int64_t days;
      unsigned h, mi, s;
      if (f.size() != 19 || f[10] != ' ' || f[13] != ':' || f[16] != ':' || !date_days(f, days) ||
          !digits(f, 11, 2, h) || !digits(f, 14, 2, mi) || !digits(f, 17, 2, s) || h > 23 || mi > 59 || s > 59)
        return false;
      int64_t t = days * 86400 + h * 3600 + mi * 60 + s;
      if (t < 0 || t > 0xffffffffLL) return false;
      put(out, static_cast<uint32_t>(t));
      return true;
    }
  }
  return false;
}

const char* kind_name(RbKind k) {
  static const char* const names[] = {"String", "Float32", "Float64", "Int8",   "Int16",    "Int32", "Int64",
                                      "UInt8",  "UInt16",  "UInt32",  "UInt64", "DateTime", "Date"};
  return names[static_cast<size_t>(k)];
}

}  // namespace

RowBinaryPlan row_binary_plan(const Schema& schema, bool coordinates) {
  RowBinaryPlan p;
  for (const auto& c : schema.columns) {
    RbColumn rc;
    // LowCardinality(Nullable(String)): left as text (its RowBinary is not checked here)
    if (!kind_of(c.type, rc.kind) || (c.type == ColType::LowCardinalityString && c.nullable())) {
      p.unsupported = "column " + c.name + " is " + c.table_type();
      p.columns.clear();
      return p;
    }
    rc.nullable = c.nullable();
    if (rc.kind == RbKind::DateTime) p.has_datetime = true;
    p.columns.push_back(rc);
  }
  if (coordinates) {
    p.columns.push_back({RbKind::String, false});
    p.columns.push_back({RbKind::Int32, false});
    p.columns.push_back({RbKind::Int64, false});
  }
  return p;
}

bool append_row_binary(std::string_view row, const std::vector<RbColumn>& cols, std::string& out, std::string& why) {
  if (!row.empty() && row.back() == '\n') row.remove_suffix(1);
  const size_t was = out.size();
  size_t pos = 0;
  for (size_t i = 0; i < cols.size(); ++i) {
    size_t tab = i + 1 < cols.size() ? row.find('\t', pos) : row.size();
    if (tab == std::string_view::npos) {
      why = "fewer fields than the schema's " + std::to_string(cols.size());
      out.resize(was);
      return false;
    }
    std::string_view f = row.substr(pos, tab - pos);
    pos = tab + 1;
    if (i + 1 == cols.size() && f.find('\t') != std::string_view::npos) {
      why = "more fields than the schema's " + std::to_string(cols.size());
      out.resize(was);
      return false;
    }
    const RbColumn& c = cols[i];
    if (c.nullable) {
      if (f == "\\N") {
        out += '\1';
        continue;
      }
      out += '\0';
    }
    std::string w;
    if (!put_value(c.kind, f, out, w)) {
      why = "field " + std::to_string(i + 1) + " (" + kind_name(c.kind) + "): " +
            (w.empty() ? "not the text of a value" : w);
      out.resize(was);
      return false;
    }
  }
  return true;
}

}  // namespace sp
