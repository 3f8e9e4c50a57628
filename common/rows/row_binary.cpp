#include "common/rows/row_binary.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <cctype>
#include <limits>
#include <type_traits>

#include "common/core/timeutil.hpp"
#include "common/rows/rows.hpp"

namespace sp {

namespace {

template <class T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));  // little-endian hosts only (x86-64, aarch64), as RowBinary is
  out.append(b, sizeof(T));
}

// A LEB128 varint (RowBinary's String length) into v; returns its length (at most 10 bytes).
size_t varint(uint64_t n, char* v) {
  size_t k = 0;
  do {
    v[k++] = static_cast<char>((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>= 7;
  } while (n);
  return k;
}

// A String field: its length, then its bytes TabSeparated-unescaped, strictly (only the escapes
// sensor-parse writes, append_tsv_field; any other backslash sequence is left to ClickHouse: false).
bool unescape_into(std::string_view f, std::string& out, std::string& why) {
  char v[10];
  if (std::memchr(f.data(), '\\', f.size()) == nullptr) {  // most values: the bytes as they are
    out.append(v, varint(f.size(), v));
    out.append(f.data(), f.size());
    return true;
  }
  size_t len_at = out.size();
  out.append(9, '\0');  // room for the longest varint; the length is written once known
  size_t start = out.size();
  if (!append_tsv_unescaped(out, f, TsvUnescape::strict, &why)) return false;
  // the varint length moved in front of the bytes
  size_t k = varint(out.size() - start, v);
  std::memmove(&out[len_at + k], &out[start], out.size() - start);
  std::memcpy(&out[len_at], v, k);
  out.resize(out.size() - (9 - k));
  return true;
}

// Each encoder appends one field's value (String: why it is not encoded, else why stays empty).
template <class T>
bool put_int(std::string_view f, std::string& out, std::string&) {
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
bool put_float(std::string_view f, std::string& out, std::string&) {
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

bool put_date(std::string_view f, std::string& out, std::string&) {
  int64_t days;
  if (f.size() != 10 || !date_days(f, days) || days < 0 || days > 65535) return false;
  put(out, static_cast<uint16_t>(days));
  return true;
}

// "YYYY-MM-DD hh:mm:ss", UTC (RowBuilder::datetime); the epoch as ClickHouse stores it
bool put_datetime(std::string_view f, std::string& out, std::string&) {
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

using Encoder = bool (*)(std::string_view f, std::string& out, std::string& why);

// The one mapping from a column type to its RowBinary encoding, used by the plan (nullptr: the type
// is not encoded) and per field. LowCardinality(String) is written as its String, Bool as its UInt8.
Encoder encoder_of(ColType t) {
  switch (t) {
    case ColType::String:
    case ColType::LowCardinalityString: return unescape_into;
    case ColType::Float32: return put_float<float>;
    case ColType::Float64: return put_float<double>;
    case ColType::Int8: return put_int<int8_t>;
    case ColType::Int16: return put_int<int16_t>;
    case ColType::Int32: return put_int<int32_t>;
    case ColType::Int64: return put_int<int64_t>;
    case ColType::Bool:
    case ColType::UInt8: return put_int<uint8_t>;
    case ColType::UInt16: return put_int<uint16_t>;
    case ColType::UInt32: return put_int<uint32_t>;
    case ColType::UInt64: return put_int<uint64_t>;
    case ColType::DateTime: return put_datetime;
    case ColType::Date: return put_date;
    default: return nullptr;
  }
}

}  // namespace

RowBinaryPlan row_binary_plan(const Schema& schema, bool coordinates) {
  RowBinaryPlan p;
  for (const auto& c : schema.columns) {
    RbColumn rc;
    rc.type = c.type;
    // LowCardinality(Nullable(String)): left as text (its RowBinary is not checked here)
    if (!encoder_of(c.type) || (c.type == ColType::LowCardinalityString && c.nullable())) {
      p.unsupported = "column " + c.name + " is " + c.table_type();
      p.columns.clear();
      return p;
    }
    rc.nullable = c.nullable();
    if (rc.type == ColType::DateTime) p.has_datetime = true;
    p.columns.push_back(rc);
  }
  if (coordinates) {
    p.columns.push_back({ColType::String, false});
    p.columns.push_back({ColType::Int32, false});
    p.columns.push_back({ColType::Int64, false});
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
    Encoder put_value = encoder_of(c.type);
    if (!put_value || !put_value(f, out, w)) {
      why = "field " + std::to_string(i + 1) + " (" + col_type_name(c.type) + "): " +
            (w.empty() ? "not the text of a value" : w);
      out.resize(was);
      return false;
    }
  }
  return true;
}

}  // namespace sp
