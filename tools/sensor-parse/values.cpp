// Value checks: one JSON or text value against its column's type, into a Cell ready for RowBuilder.
#include "parser.hpp"

#include <algorithm>
#include <cctype>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "common/core/timeutil.hpp"

namespace sp::parse {

bool RecordParser::Impl::check_string(const Column& c, std::string_view v, Cell& cell) {
  // A required text field that is empty (an id, a sensor_id) identifies nothing.
  if (v.empty() && c.required) return fail(c, "empty string but required");
  if (c.max_length && v.size() > c.max_length)
    return fail(c, "string of " + std::to_string(v.size()) + " bytes is longer than the maximum " +
                       std::to_string(c.max_length));
  // One CSV row must stay one line and ClickHouse's CSV reader has no escape for a line break (in an
  // Array or Map it is written \n, as in a SQL string).
  if (format == RowFormat::csv && !c.is_element && v.find_first_of("\r\n") != std::string_view::npos)
    return fail(c, "contains a line break, which CSV output cannot carry (use --format json, tsv or values)");
  cell.kind = Cell::k_str;
  cell.s = v;
  return true;
}

bool RecordParser::Impl::check_number(const Column& c, const Num& n, Cell& cell) {
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

// Minutes*60+seconds when v has the cacheable shape (any hour prefix), else -1.
int64_t RecordParser::Impl::utc_min_sec(std::string_view v) {
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

bool RecordParser::Impl::iso_time(const Column& c, std::string_view v, Cell& cell) {
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

bool RecordParser::Impl::from_json(const Column& c, element e, Cell& cell) {
  element_type t = e.type();
  if (c.type >= ColType::Date) return typed_json(c, e, cell);
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

bool RecordParser::Impl::from_text(const Column& c, std::string_view v, Cell& cell) {
  if (c.type == ColType::String) return check_string(c, v, cell);
  if (c.is_container()) {
    // The field is the JSON array or object.
    element root;
    simdjson::error_code err;
    parse_into(inner, pad_inner, v, root, err);
    if (err) return fail(c, quoted(v) + " is not a JSON " + (c.type == ColType::Array ? "array" : "object") + " (" +
                                json_error_reason(err, v) + ")");
    set_doc(pad_inner.data(), v.size(), pad_inner.size(), "");
    ptr.clear();
    return container(c, root, cell);
  }
  if (c.type >= ColType::Date) {
    bool integral;
    if ((c.type == ColType::DateTime64 || c.type == ColType::Enum8 || c.type == ColType::Enum16) &&
        json_number_syntax(v, integral) && integral) {
      Num n;
      if (std::from_chars(v.data(), v.data() + v.size(), n.i).ec != std::errc())
        return fail(c, quoted(v) + " is out of range");
      return typed_integer(c, n, cell);
    }
    return typed_text(c, v, cell);
  }
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

namespace {
void put_text(char* buf, uint8_t& n, std::string_view t) {
  std::memcpy(buf, t.data(), t.size());
  n = static_cast<uint8_t>(t.size());
}
}  // namespace

// DateTime64 values are written as epoch seconds with the fraction ("1700000000.123"): ClickHouse
// reads that text as the instant itself in every format, whatever time zone the column or the
// server has, where "2023-11-14 22:13:20.123" would be read in the column's time zone.
bool RecordParser::Impl::typed_integer(const Column& c, const Num& n, Cell& cell) {
  if (c.type == ColType::Enum8 || c.type == ColType::Enum16) {
    for (const auto& e : c.enum_values)
      if (n.kind == Num::i64 && e.second == n.i) {
        cell.kind = Cell::k_str;
        cell.s = e.first;  // the schema's copy outlives the line
        return true;
      }
    return fail(c, shown(n) + " is not a value of " + c.base_type());
  }
  if (c.type == ColType::DateTime64) {
    if (n.kind != Num::i64) return fail(c, "epoch time " + shown(n) + " is out of range");
    int64_t secs = n.i, ns = 0;
    if (std::fabs(static_cast<double>(n.i)) >= kEpochMsThreshold) {
      secs = floor_seconds(n.i);
      ns = (n.i - secs * 1000) * 1000000;
    }
    return datetime64(c, secs, ns, cell, [&] { return shown(n); });
  }
  return fail(c, std::string("expected a string, got a number (column type ") + col_type_name(c.type) + ")");
}

bool RecordParser::Impl::typed_text(const Column& c, std::string_view v, Cell& cell) {
  switch (c.type) {
    case ColType::LowCardinalityString:
      return check_string(c, v, cell);
    case ColType::Date: {
      std::string reason;
      auto ms = parse_iso8601_ms(v, &reason);
      if (!ms) return fail(c, quoted(v) + " is not a date (" + reason + ")");
      int64_t days = floor_seconds(*ms) / 86400 - (floor_seconds(*ms) % 86400 < 0 ? 1 : 0);
      if (days < 0) return fail(c, quoted(v) + " is before 1970-01-01, the start of ClickHouse Date");
      if (days > 65535) return fail(c, quoted(v) + " is after 2149-06-06, the end of ClickHouse Date");
      char full[19];
      format_datetime(days * 86400, full);
      cell.kind = Cell::k_text;
      put_text(cell.buf, cell.n, std::string_view(full, 10));
      return true;
    }
    case ColType::DateTime64: {
      std::string reason;
      auto ms = parse_iso8601_ms(v, &reason);
      if (!ms) return fail(c, quoted(v) + " is not an ISO-8601 time (" + reason + ")");
      int64_t secs = floor_seconds(*ms);
      // The fraction's digits as written (the parser keeps milliseconds).
      int64_t ns = iso_fraction_ns(v);
      return datetime64(c, secs, ns, cell, [&] { return quoted(v); });
    }
    case ColType::UUID: {
      // The canonical 8-4-4-4-12 hex form; written in lower case, as ClickHouse shows it.
      bool ok = v.size() == 36;
      for (size_t k = 0; ok && k < 36; ++k) {
        char ch = v[k];
        ok = (k == 8 || k == 13 || k == 18 || k == 23) ? ch == '-' : std::isxdigit(static_cast<unsigned char>(ch)) != 0;
      }
      if (!ok) return fail(c, quoted(v) + " is not a UUID (8-4-4-4-12 hex digits, like 123e4567-e89b-12d3-a456-426614174000)");
      cell.kind = Cell::k_text;
      for (size_t k = 0; k < 36; ++k) cell.buf[k] = static_cast<char>(std::tolower(static_cast<unsigned char>(v[k])));
      cell.n = 36;
      return true;
    }
    case ColType::Enum8:
    case ColType::Enum16: {
      int i = c.enum_index(v);
      if (i < 0) {
        std::string names;
        for (const auto& e : c.enum_values) names += (names.empty() ? "" : ", ") + sp::parse::quoted(e.first);
        return fail(c, quoted(v) + " is not one of the " + col_type_name(c.type) + " names (" + names + ")");
      }
      cell.kind = Cell::k_str;
      cell.s = c.enum_values[static_cast<size_t>(i)].first;  // the schema's copy outlives the line
      return true;
    }
    case ColType::Decimal:
      return decimal(c, v, true, cell);
    default:
      return fail(c, "unsupported type");
  }
}

bool RecordParser::Impl::decimal(const Column& c, std::string_view v, bool as_string, Cell& cell) {
  DecimalFault fault = DecimalFault::none;
  size_t n = decimal_text(v, c.precision, c.scale, cell.buf, &fault);
  if (n) {
    cell.kind = Cell::k_num;  // unquoted: ClickHouse 18.16 reads no quoted Decimal in CSV or JSONEachRow
    cell.n = static_cast<uint8_t>(n);
    if (c.min || c.max) {  // the bounds are doubles: compared as one (the cell's canonical text)
      double d = 0;
      std::from_chars(cell.buf, cell.buf + n, d);
      std::string t = as_string ? quoted(v) : std::string(v);
      if (c.min && d < *c.min) return fail(c, t + " is below the minimum " + num_text(*c.min));
      if (c.max && d > *c.max) return fail(c, t + " is above the maximum " + num_text(*c.max));
    }
    return true;
  }
  std::string t = as_string ? quoted(v) : std::string(v);
  if (fault == DecimalFault::fraction)
    return fail(c, t + " has more fraction digits than " + c.base_type() + " keeps (" + std::to_string(c.scale) +
                       "): not rounded");
  if (fault == DecimalFault::range)
    return fail(c, t + " is out of range for " + c.base_type() + " (at most " + std::to_string(c.precision - c.scale) +
                       " digits before the point)");
  return fail(c, t + " is not a decimal number");
}

std::string_view RecordParser::Impl::raw_number() {
  if (!doc_buf) return {};
  simdjson::ondemand::document doc;
  if (od.iterate(doc_buf, doc_len, doc_cap).get(doc)) return {};
  simdjson::ondemand::value v;
  if (doc.at_pointer(ptr).get(v)) return {};
  std::string_view t = v.raw_json_token();
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t' || t.back() == '\n' || t.back() == '\r')) t.remove_suffix(1);
  return t;
}

namespace {
// A JSON pointer's escapes of a key: ~ as ~0, / as ~1.
void append_pointer_key(std::string& p, std::string_view key) {
  p += '/';
  for (char ch : key) {
    if (ch == '~')
      p += "~0";
    else if (ch == '/')
      p += "~1";
    else
      p += ch;
  }
}
}  // namespace

// ClickHouse's text of an Array or Map: in JSONEachRow a JSON array or object; in TSV, CSV and VALUES
// the literal [v, ...] or {'key':v, ...} with strings in SQL quotes (\' \\ \t \n escapes, so no
// tab or line break is left), which TSV and VALUES carry as is and CSV quotes as one field.
bool RecordParser::Impl::container(const Column& c, element e, Cell& cell) {
  const bool is_map = c.type == ColType::Map;
  const element_type want = is_map ? element_type::OBJECT : element_type::ARRAY;
  if (e.type() != want)
    return fail(c, std::string("expected ") + (is_map ? "an object" : "an array") + ", got " + type_word(e.type()));
  const Column& el = *c.element;
  const bool json = format == RowFormat::json;
  const size_t col = cur_col, base = ptr.size();
  std::string& o = container_text[col];
  o.clear();
  o += is_map ? '{' : '[';
  size_t k = 0;
  Cell ec;
  const bool find_text = el.type == ColType::Decimal;  // only a Decimal element needs its pointer
  std::vector<std::string_view>& keys = map_keys;
  keys.clear();
  // One element: checked as T; a failure names the column and the element's index or key.
  auto one = [&](element v, std::string_view key) {
    if (k) o += ',';
    if (is_map) {
      if (json)
        append_json_string(o, key);
      else
        append_sql_string(o, key);
      o += ':';
    }
    if (find_text) {
      ptr.resize(base);
      if (is_map) {
        append_pointer_key(ptr, key);
      } else {
        char digits[24];
        ptr += '/';
        ptr.append(digits, static_cast<size_t>(std::to_chars(digits, digits + sizeof digits, k).ptr - digits));
      }
    }
    auto where = [&] { return c.path_text + (is_map ? " key " + quoted(key) : " element " + std::to_string(k)); };
    bool ok;
    if (v.type() == element_type::NULL_VALUE) {
      if (!el.nullable()) {
        why = where() + ": is null, and the elements of " + c.base_type() + " are not Nullable (use Nullable(" +
              el.base_type() + "))";
        return false;
      }
      ec.kind = Cell::k_null;
      ok = true;
    } else {
      ok = from_json(el, v, ec);
    }
    if (!ok) {
      // el's messages start with the column's path: put the element after it
      why = where() + why.substr(std::min(why.size(), c.path_text.size()));
      return false;
    }
    ++k;
    switch (ec.kind) {
      case Cell::k_str:
        json ? append_json_string(o, ec.s) : append_sql_string(o, ec.s);
        break;
      case Cell::k_num:
        o.append(ec.num());
        break;
      case Cell::k_dt: {
        char t[19];
        format_datetime(ec.dt, t);
        json ? append_json_string(o, std::string_view(t, 19)) : append_sql_string(o, std::string_view(t, 19));
        break;
      }
      case Cell::k_text:
        json ? append_json_string(o, ec.num()) : append_sql_string(o, ec.num());
        break;
      case Cell::k_null:
        o += json ? "null" : "NULL";
        break;
      case Cell::k_list:
        break;  // no containers in containers (schema_types.cpp, Column::set_type)
    }
    return true;
  };
  if (is_map) {
    simdjson::dom::object obj = e.get_object().value_unsafe();  // a named object: the loop's range must outlive it
    for (auto field : obj) {
      keys.push_back(field.key);
      if (!one(field.value, field.key)) return false;
    }
    // A key twice would be two values for one key: parsers disagree which one counts.
    std::sort(keys.begin(), keys.end());
    auto dup = std::adjacent_find(keys.begin(), keys.end());
    if (dup != keys.end()) return fail(c, "key " + quoted(*dup) + " appears twice");
  } else {
    simdjson::dom::array arr = e.get_array().value_unsafe();
    for (element v : arr)
      if (!one(v, {})) return false;
  }
  o += is_map ? '}' : ']';
  ptr.resize(base);
  cell.kind = Cell::k_list;
  cell.s = o;
  return true;
}

bool RecordParser::Impl::typed_json(const Column& c, element e, Cell& cell) {
  element_type t = e.type();
  if (c.is_container()) return container(c, e, cell);
  if (t == element_type::STRING) return typed_text(c, e.get_string().value_unsafe(), cell);
  if (c.type == ColType::Decimal) {
    if (t != element_type::INT64 && t != element_type::UINT64 && t != element_type::DOUBLE)
      return fail(c, std::string("expected a number or a string holding one, got ") + type_word(t));
    std::string_view text = raw_number();
    char digits[24];
    if (text.empty() && t != element_type::DOUBLE) {
      // On Demand compares keys as written (a \u escape on the path hides the value); an integer's
      // text is its value anyway.
      auto r = t == element_type::INT64 ? std::to_chars(digits, digits + sizeof digits, e.get_int64().value_unsafe())
                                        : std::to_chars(digits, digits + sizeof digits, e.get_uint64().value_unsafe());
      text = std::string_view(digits, static_cast<size_t>(r.ptr - digits));
    }
    if (text.empty())
      return fail(c, "the number's text is not found again in the line (a key on its path written with \\u escapes): "
                     "write the key plainly, or the number as a string");
    return decimal(c, text, false, cell);
  }
  bool takes_int = c.type == ColType::DateTime64 || c.type == ColType::Enum8 || c.type == ColType::Enum16;
  if (takes_int && t == element_type::INT64) {
    Num n;
    n.i = e.get_int64().value_unsafe();
    return typed_integer(c, n, cell);
  }
  if (takes_int && t == element_type::UINT64) {
    Num n;
    n.kind = Num::u64;
    n.u = e.get_uint64().value_unsafe();
    return typed_integer(c, n, cell);
  }
  const char* want = c.type == ColType::DateTime64 ? "an ISO-8601 string or epoch milliseconds (an integer)"
                     : takes_int                   ? "a string (an Enum name) or an integer (its value)"
                                                   : "a string";
  return fail(c, std::string("expected ") + want + ", got " + type_word(t));
}

bool RecordParser::Impl::missing(size_t i, Cell& cell) {
  const Column& c = schema.columns[i];
  if (c.required) {
    why = "missing required field " + c.path_text;
    return false;
  }
  cell = defaults[i];  // kind null when there is no default: a Nullable column
  return true;
}

std::string RecordParser::Impl::cell_text(size_t col) {
  const Cell& c = cells.at(col);
  switch (c.kind) {
    case Cell::k_str:
      return std::string(c.s);
    case Cell::k_num:
      return std::string(c.num());
    case Cell::k_dt:
      return format_datetime(c.dt);
    case Cell::k_text:
      return std::string(c.num());
    case Cell::k_list:
      return std::string(c.s);
    case Cell::k_null:
      break;
  }
  return "";
}

}  // namespace sp::parse
