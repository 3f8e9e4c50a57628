// The column type grammar: type names, Column::set_type (the schema's type texts), and the texts a
// column's type and default take in ClickHouse's DDL (base_type, table_type, default_sql, decimal_text).
#include <algorithm>
#include <cctype>
#include <cstring>
#include <nlohmann/json.hpp>

#include "common/core/errors.hpp"
#include "common/core/timeutil.hpp"
#include "common/rows/schema.hpp"
#include "common/rows/schema_types.hpp"

namespace sp {

using schema_detail::TypeText;

namespace {
struct TypeName {
  ColType t;
  const char* name;
};
const TypeName kTypes[] = {
    {ColType::String, "String"}, {ColType::DateTime, "DateTime"}, {ColType::Float32, "Float32"},
    {ColType::Float64, "Float64"}, {ColType::Int8, "Int8"},       {ColType::Int16, "Int16"},
    {ColType::Int32, "Int32"},   {ColType::Int64, "Int64"},       {ColType::UInt8, "UInt8"},
    {ColType::UInt16, "UInt16"}, {ColType::UInt32, "UInt32"},     {ColType::UInt64, "UInt64"},
    {ColType::Bool, "Bool"},     {ColType::Date, "Date"},         {ColType::UUID, "UUID"},
    {ColType::DateTime64, "DateTime64"}, {ColType::LowCardinalityString, "LowCardinality(String)"},
    {ColType::Enum8, "Enum8"},   {ColType::Enum16, "Enum16"},     {ColType::Decimal, "Decimal"},
    {ColType::Array, "Array"},   {ColType::Map, "Map"},
};
// Written only with parameters (set_type): a bare "DateTime64" or "Enum8" is not a type.
bool needs_parameters(ColType t) { return t == ColType::DateTime64 || t >= ColType::Enum8; }
}  // namespace

ColType parse_col_type(const std::string& name, const std::string& where) {
  for (const auto& t : kTypes)
    if (name == t.name && !needs_parameters(t.t)) return t.t;
  std::string all;
  for (const auto& t : kTypes) all += std::string(all.empty() ? "" : ", ") + t.name + (needs_parameters(t.t) ? "(...)" : "");
  throw ConfigError(where + ": unknown type '" + name + "' (one of: " + all + ", Nullable(T))");
}

bool is_text(ColType t) {
  switch (t) {
    case ColType::String: case ColType::DateTime: case ColType::Date: case ColType::DateTime64:
    case ColType::LowCardinalityString: case ColType::UUID: case ColType::Enum8: case ColType::Enum16:
      return true;
    default:
      return false;
  }
}

void Column::set_type(const std::string& text, const std::string& where) {
  TypeText tt(text, where);
  std::string w = tt.word();
  if (w == "Nullable") {
    tt.expect('(');
    std::string inner = text.substr(text.find('(') + 1);
    size_t close = inner.rfind(')');
    if (close == std::string::npos || !TypeText(inner.substr(close + 1), where).done()) tt.fail("expected ')' at the end");
    inner.resize(close);
    set_type(inner, where);
    if (explicit_nullable) tt.fail("Nullable(Nullable(...)) is not a type");
    if (is_container())
      tt.fail("ClickHouse has no Nullable Array or Map (an absent or null one is written empty: make it \"required\": false)");
    explicit_nullable = true;
    return;
  }
  if (w == "LowCardinality") {
    // ClickHouse spells the nullable form LowCardinality(Nullable(String)), not the other way round.
    tt.expect('(');
    std::string inner = tt.word();
    if (inner == "Nullable") {
      tt.expect('(');
      inner = tt.word();
      tt.expect(')');
      explicit_nullable = true;
    }
    if (inner != "String") tt.fail("only LowCardinality(String) is supported");
    tt.expect(')');
    if (!tt.done()) tt.fail("unexpected text after the type");
    type = ColType::LowCardinalityString;
    return;
  }
  if (w == "DateTime64") {
    type = ColType::DateTime64;
    tt.expect('(');
    long p = tt.integer();
    if (p < 0 || p > 9) tt.fail("precision must be 0 to 9 (digits of the fraction of a second)");
    precision = static_cast<int>(p);
    if (tt.eat(',')) {
      time_zone = tt.quoted();
      // Pasted into the DDL: keep to the characters of IANA names.
      bool ok = !time_zone.empty() && std::all_of(time_zone.begin(), time_zone.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' || c == '+';
      });
      if (!ok) tt.fail("time zone must be a name like 'UTC' or 'Europe/Berlin'");
    }
    tt.expect(')');
    if (!tt.done()) tt.fail("unexpected text after the type");
    return;
  }
  if (w == "Decimal" || w == "Decimal32" || w == "Decimal64" || w == "Decimal128") {
    type = ColType::Decimal;
    tt.expect('(');
    long p = w == "Decimal32" ? 9 : w == "Decimal64" ? 18 : 38;
    if (w == "Decimal") {
      p = tt.integer();
      if (p < 1 || p > 38) tt.fail("precision must be 1 to 38 (digits in all; Decimal256 is not supported)");
      tt.expect(',');
    }
    long sc = tt.integer();
    if (sc < 0 || sc > p) tt.fail("scale must be 0 to the precision (" + std::to_string(p) + "), the digits after the point");
    precision = static_cast<int>(p);
    scale = static_cast<int>(sc);
    tt.expect(')');
    if (!tt.done()) tt.fail("unexpected text after the type");
    return;
  }
  if (w == "Array" || w == "Map") {
    tt.expect('(');
    if (w == "Map") {
      if (tt.word() != "String") tt.fail("only Map(String, T) is supported (its keys are a JSON object's keys)");
      tt.expect(',');
    }
    auto e = std::make_shared<Column>();
    e->name = name;
    e->path = path;
    e->path_text = path_text;
    e->is_element = true;
    e->required = false;
    e->set_type(tt.to_last_paren(), where);
    if (e->is_container()) tt.fail("an Array or Map inside an Array or Map is not supported");
    element = std::move(e);
    type = w == "Array" ? ColType::Array : ColType::Map;
    return;
  }
  if (w == "Enum8" || w == "Enum16") {
    type = w == "Enum8" ? ColType::Enum8 : ColType::Enum16;
    long lo = w == "Enum8" ? -128 : -32768, hi = w == "Enum8" ? 127 : 32767;
    tt.expect('(');
    do {
      std::string name = tt.quoted();
      // A name is written as a value in every row format: CSV has no escape for a line break.
      if (name.find_first_of("\r\n") != std::string::npos) tt.fail("an Enum name must not contain a line break");
      tt.expect('=');
      long v = tt.integer();
      if (v < lo || v > hi)
        tt.fail("value " + std::to_string(v) + " of '" + name + "' is outside " + w + " (" + std::to_string(lo) +
                " to " + std::to_string(hi) + ")");
      for (const auto& e : enum_values) {
        if (e.first == name) tt.fail("name '" + name + "' is listed twice");
        if (e.second == v) tt.fail("value " + std::to_string(v) + " is listed twice");
      }
      enum_values.emplace_back(name, static_cast<int>(v));
    } while (tt.eat(','));
    tt.expect(')');
    if (!tt.done()) tt.fail("unexpected text after the type");
    return;
  }
  std::string plain = text;
  while (!plain.empty() && (plain.back() == ' ' || plain.back() == '\t')) plain.pop_back();
  while (!plain.empty() && (plain.front() == ' ' || plain.front() == '\t')) plain.erase(0, 1);
  type = parse_col_type(plain, where);
}

int64_t Column::datetime64_max() const {
  int64_t scale = 1;
  for (int k = 0; k < precision; ++k) scale *= 10;
  return std::min<int64_t>(9999999999LL, INT64_MAX / scale - 1);
}

std::string Column::default_sql() const {
  if (!default_json) return "";
  std::string lit = *default_json;
  if (type == ColType::Bool) return lit == "true" ? "1" : (lit == "false" ? "0" : lit);
  if (lit.empty() || lit.front() != '"') return lit;
  std::string v = nlohmann::json::parse(lit).get<std::string>();
  auto bad = [&](const std::string& why) {
    return ConfigError("column " + name + ": default " + lit + " is not a " + base_type() + " value (" + why + ")");
  };
  if (type == ColType::Date || type == ColType::DateTime64) {
    std::string why;
    auto ms = parse_iso8601_ms(v, &why);
    if (!ms) throw bad(why);
    int64_t secs = floor_seconds(*ms);
    char buf[24];
    if (type == ColType::Date) {
      if (secs < 0 || secs / 86400 > 65535) throw bad("outside 1970-01-01 to 2149-06-06");
      format_datetime(secs / 86400 * 86400, buf);
      v.assign(buf, 10);
    } else {
      if (secs < 0 || secs > datetime64_max()) throw bad("outside 1970-01-01 to " + format_datetime(datetime64_max()));
      v.assign(buf, format_epoch_fraction(secs, iso_fraction_ns(v), precision, buf));
    }
  } else if (type == ColType::Decimal) {
    char buf[48];
    DecimalFault fault = DecimalFault::none;
    size_t n = decimal_text(v, precision, scale, buf, &fault);
    if (!n)
      throw bad(fault == DecimalFault::range      ? "out of range"
                : fault == DecimalFault::fraction ? "more fraction digits than the scale"
                                                  : "not a number");
    v.assign(buf, n);
  } else if (type == ColType::UUID) {
    std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
  return sql_literal(v);
}

int Column::enum_index(std::string_view name) const {
  for (size_t i = 0; i < enum_values.size(); ++i)
    if (enum_values[i].first == name) return static_cast<int>(i);
  return -1;
}

std::string Column::base_type() const {
  switch (type) {
    case ColType::Bool:
      // Stored as UInt8: ClickHouse 18.16 has no Bool type, newer ones alias it anyway.
      return "UInt8";
    case ColType::DateTime64:
      return "DateTime64(" + std::to_string(precision) + (time_zone.empty() ? "" : ", " + sql_literal(time_zone)) + ")";
    case ColType::Enum8:
    case ColType::Enum16: {
      std::string t = col_type_name(type);
      t += '(';
      for (size_t i = 0; i < enum_values.size(); ++i)
        t += (i ? ", " : "") + sql_literal(enum_values[i].first) + " = " + std::to_string(enum_values[i].second);
      return t + ")";
    }
    case ColType::Decimal:
      return "Decimal(" + std::to_string(precision) + ", " + std::to_string(scale) + ")";
    case ColType::Array:
      return "Array(" + element->clickhouse_type() + ")";
    case ColType::Map:
      return "Map(String, " + element->clickhouse_type() + ")";
    default:
      return col_type_name(type);
  }
}

const char* col_type_name(ColType t) {
  for (const auto& n : kTypes)
    if (n.t == t) return n.name;
  return "String";
}

bool is_integer(ColType t) {
  switch (t) {
    case ColType::Int8: case ColType::Int16: case ColType::Int32: case ColType::Int64:
    case ColType::UInt8: case ColType::UInt16: case ColType::UInt32: case ColType::UInt64:
      return true;
    default:
      return false;
  }
}
bool is_float(ColType t) { return t == ColType::Float32 || t == ColType::Float64; }

std::string Column::table_type() const {
  std::string base = base_type();
  return !nullable()                               ? base
         : type == ColType::LowCardinalityString ? "LowCardinality(Nullable(String))"
                                                 : "Nullable(" + base + ")";
}

std::string Column::clickhouse_type() const {
  std::string t = table_type();
  if (default_json && !required) {
    std::string lit = default_sql();
    t += " DEFAULT " + lit;
  }
  return t;
}

size_t decimal_text(std::string_view in, int precision, int scale, char* out, DecimalFault* fault) {
  size_t i = 0, n = in.size();
  auto digit = [&](size_t k) { return k < n && in[k] >= '0' && in[k] <= '9'; };
  bool neg = i < n && in[i] == '-';
  if (neg) ++i;
  // The digits without the point, and where the point goes: value = digits * 10^exp10.
  size_t ib = i;
  while (digit(i)) ++i;
  size_t ie = i, fb = i, fe = i;
  if (i < n && in[i] == '.') {
    fb = ++i;
    while (digit(i)) ++i;
    fe = i;
    if (fe == fb) return *fault = DecimalFault::syntax, 0;
  }
  if (ie == ib) return *fault = DecimalFault::syntax, 0;
  int64_t exp10 = 0;
  if (i < n && (in[i] == 'e' || in[i] == 'E')) {
    ++i;
    bool eneg = i < n && in[i] == '-';
    if (i < n && (in[i] == '-' || in[i] == '+')) ++i;
    if (!digit(i)) return *fault = DecimalFault::syntax, 0;
    for (; digit(i); ++i) exp10 = std::min<int64_t>(exp10 * 10 + (in[i] - '0'), 1000000000);  // saturates: far past any precision
    if (eneg) exp10 = -exp10;
  }
  if (i != n) return *fault = DecimalFault::syntax, 0;
  exp10 -= static_cast<int64_t>(fe - fb);
  // The digits, leading zeros dropped; trailing ones cut while the point would be past the scale.
  std::string d(in.substr(ib, ie - ib));
  d.append(in.substr(fb, fe - fb));
  size_t lead = d.find_first_not_of('0');
  d.erase(0, lead == std::string::npos ? d.size() : lead);
  int64_t shift = exp10 + scale;  // value * 10^scale = d * 10^shift, which must be an integer
  if (d.empty()) {
    shift = 0;
  } else if (shift < 0) {
    if (static_cast<uint64_t>(-shift) > d.size() || d.find_first_not_of('0', d.size() - static_cast<size_t>(-shift)) != std::string::npos)
      return *fault = DecimalFault::fraction, 0;
    d.resize(d.size() - static_cast<size_t>(-shift));
    shift = 0;
  }
  if (static_cast<int64_t>(d.size()) + shift > precision) return *fault = DecimalFault::range, 0;
  d.append(static_cast<size_t>(shift), '0');
  if (d.size() < static_cast<size_t>(scale) + 1) d.insert(0, static_cast<size_t>(scale) + 1 - d.size(), '0');
  char* o = out;
  if (neg && d.find_first_not_of('0') != std::string::npos) *o++ = '-';
  size_t ip = d.size() - static_cast<size_t>(scale);
  std::memcpy(o, d.data(), ip);
  o += ip;
  if (scale > 0) {
    *o++ = '.';
    std::memcpy(o, d.data() + ip, static_cast<size_t>(scale));
    o += scale;
  }
  return static_cast<size_t>(o - out);
}

}  // namespace sp
