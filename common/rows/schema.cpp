#include "common/rows/schema.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/core/config.hpp"
#include "common/core/errors.hpp"
#include "common/rows/schema_types.hpp"

namespace sp {

namespace {
using schema_detail::TypeText;

Column make(const std::string& name, ColType t, const std::string& path, std::optional<double> min = std::nullopt,
            std::optional<double> max = std::nullopt) {
  Column c;
  c.name = name;
  c.type = t;
  c.path_text = path;
  std::string part;
  std::istringstream ss(path);
  while (std::getline(ss, part, '.')) c.path.push_back(part);
  c.min = min;
  c.max = max;
  return c;
}
// partition_by is pasted into the DDL, so only what can be checked here is taken (a free SQL
// expression would fail, or do something else, only at --create-table):
//   partition_by = "" | items | "(" items ")"      items = item {"," item}
//   item         = column | function "(" column ")"
//   column       = a schema column, bare (letters, digits, '_') or `backquoted`; not Nullable
//   function     = one of kPartitionFunctions, of a DateTime column
// man/sensor-parse.1.scd documents it. Returns the canonical text ("" for none).
const char* const kPartitionFunctions[] = {"toYYYYMM", "toYYYYMMDD", "toYear", "toMonday", "toStartOfMonth", "toDate"};
const char* const kPartitionGrammar =
    " (partition_by takes column names, or toYYYYMM, toYYYYMMDD, toYear, toMonday, toStartOfMonth or toDate "
    "of a DateTime, DateTime64 or Date column, separated by commas)";

bool bare_identifier(const std::string& n) {
  if (n.empty() || std::isdigit(static_cast<unsigned char>(n[0]))) return false;
  for (char c : n)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

class PartitionBy {
 public:
  PartitionBy(const std::string& text, const Schema& s, const std::string& origin)
      : t_(text), s_(s), origin_(origin) {}

  std::string canonical() {
    ws();
    if (i_ == t_.size()) return "";
    bool paren = t_[i_] == '(';
    if (paren) ++i_;
    std::vector<std::string> items;
    for (;;) {
      items.push_back(item());
      ws();
      if (i_ < t_.size() && t_[i_] == ',') {
        ++i_;
        continue;
      }
      break;
    }
    if (paren) expect(')');
    ws();
    if (i_ < t_.size()) fail("unexpected " + shown(t_[i_]) + at());
    if (items.size() == 1) return items[0];
    std::string out = "(";
    for (size_t k = 0; k < items.size(); ++k) out += (k ? ", " : "") + items[k];
    return out + ")";
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw ConfigError(origin_ + ": partition_by: " + why + kPartitionGrammar);
  }
  std::string at() const { return i_ < t_.size() ? " at byte " + std::to_string(i_ + 1) : " at the end"; }
  static std::string shown(char c) {
    if (c >= 0x20 && c < 0x7f) return std::string("'") + c + "'";
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02X", static_cast<unsigned char>(c));
    return buf;
  }
  void ws() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\r' || t_[i_] == '\n')) ++i_;
  }
  void expect(char c) {
    ws();
    if (i_ >= t_.size() || t_[i_] != c) fail(std::string("expected '") + c + "'" + at());
    ++i_;
  }
  // A bare or backquoted name; empty when there is none here.
  std::string word() {
    ws();
    size_t b = i_;
    if (i_ < t_.size() && t_[i_] == '`') {
      size_t e = t_.find_first_of("`\\", i_ + 1);
      if (e == std::string::npos || t_[e] != '`' || e == i_ + 1) return "";
      i_ = e + 1;
      return t_.substr(b + 1, e - b - 1);
    }
    while (i_ < t_.size() && (std::isalnum(static_cast<unsigned char>(t_[i_])) || t_[i_] == '_')) ++i_;
    if (i_ > b && std::isdigit(static_cast<unsigned char>(t_[b]))) i_ = b;
    return t_.substr(b, i_ - b);
  }
  const Column& column(const std::string& name) const {
    int idx = s_.index_of(name);
    if (idx < 0) fail("unknown column '" + name + "'");
    const Column& c = s_.columns[static_cast<size_t>(idx)];
    if (c.nullable()) fail("column '" + name + "' must not be optional without a default");
    return c;
  }
  static std::string name_text(const std::string& n) { return bare_identifier(n) ? n : quote_identifier(n); }
  std::string item() {
    std::string name = word();
    if (name.empty()) fail("expected a column or function" + at());
    ws();
    if (i_ >= t_.size() || t_[i_] != '(') return name_text(column(name).name);
    bool known = false;
    for (const char* f : kPartitionFunctions) known = known || name == f;
    if (!known) fail("unknown function '" + name + "'");
    ++i_;
    std::string arg = word();
    if (arg.empty()) fail("expected a column" + at());
    const Column& c = column(arg);
    if (c.type != ColType::DateTime && c.type != ColType::DateTime64 && c.type != ColType::Date)
      fail(name + " needs a DateTime, DateTime64 or Date column, '" + arg + "' is " + col_type_name(c.type));
    expect(')');
    return name + "(" + name_text(arg) + ")";
  }

  const std::string& t_;
  const Schema& s_;
  const std::string& origin_;
  size_t i_ = 0;
};


// The DDL keys below are pasted into CREATE TABLE like partition_by, so each has a small checked
// grammar (man/sensor-parse.1.scd "Table keys"); versions from ClickHouse's changelog.
//   codec = name ["(" integer ")"] {"," name ["(" integer ")"]}
// At most one general codec (NONE, LZ4, LZ4HC, ZSTD), last; at most one specialised one before it;
// NONE alone; Delta (which does not compress) followed by a general one. ClickHouse 20+ refuses the
// other combinations as meaningless (allow_suspicious_codecs), and codec names are case-sensitive.
enum class CodecFits { any, fixed_numeric, integer_time, floats };
struct CodecInfo {
  const char* name;
  bool general;
  int min_param, max_param;  // 0, 0: takes no parameter
  int since_major, since_minor;
  CodecFits fits;
};
const CodecInfo kCodecs[] = {
    {"NONE", true, 0, 0, 19, 1, CodecFits::any},          {"LZ4", true, 0, 0, 19, 1, CodecFits::any},
    {"LZ4HC", true, 0, 12, 19, 1, CodecFits::any},        {"ZSTD", true, 1, 22, 19, 1, CodecFits::any},
    {"Delta", false, 1, 8, 19, 1, CodecFits::fixed_numeric},  // 1, 2, 4 or 8 bytes
    {"T64", false, 0, 0, 19, 10, CodecFits::integer_time},
    {"DoubleDelta", false, 0, 0, 19, 11, CodecFits::fixed_numeric},
    {"Gorilla", false, 0, 0, 19, 11, CodecFits::floats},
};
const char* const kCodecNames = "NONE, LZ4, LZ4HC(0-12), ZSTD(1-22), Delta(1|2|4|8), T64, DoubleDelta, Gorilla";

const CodecInfo* find_codec(const std::string& name) {
  for (const auto& c : kCodecs)
    if (name == c.name) return &c;
  return nullptr;
}

bool codec_fits(CodecFits f, ColType t) {
  switch (f) {
    case CodecFits::any: return true;
    case CodecFits::floats: return is_float(t);
    case CodecFits::integer_time:
      return is_integer(t) || t == ColType::Bool || t == ColType::Date || t == ColType::DateTime ||
             t == ColType::Enum8 || t == ColType::Enum16;
    case CodecFits::fixed_numeric:
      return is_integer(t) || is_float(t) || t == ColType::Bool || t == ColType::Date || t == ColType::DateTime ||
             t == ColType::DateTime64 || t == ColType::Enum8 || t == ColType::Enum16;
  }
  return false;
}

// Parses and checks a column's codec list; returns the canonical text ("Delta(4), ZSTD(1)").
std::string parse_codec(const std::string& text, const Column& col, const std::string& where) {
  TypeText tt(text, where, "codec");
  auto err = [&](const std::string& why) {
    return ConfigError(where + ": codec '" + text + "': " + why + " (codecs: " + kCodecNames + "; e.g. \"DoubleDelta, ZSTD(1)\")");
  };
  std::vector<const CodecInfo*> list;
  std::string out;
  do {
    std::string name = tt.word();
    if (name.empty()) throw err("expected a codec name");
    const CodecInfo* c = find_codec(name);
    if (!c) {
      for (const auto& k : kCodecs) {
        std::string a = name, b = k.name;
        for (auto& ch : a) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        for (auto& ch : b) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        if (a == b) throw err("unknown codec '" + name + "' (ClickHouse spells it " + k.name + ")");
      }
      throw err("unknown codec '" + name + "'");
    }
    out += (out.empty() ? "" : ", ") + name;
    if (tt.eat('(')) {
      if (c->max_param == 0) throw err(name + " takes no parameter");
      long v = tt.integer();
      bool ok = v >= c->min_param && v <= c->max_param;
      if (std::string(c->name) == "Delta") ok = v == 1 || v == 2 || v == 4 || v == 8;
      if (!ok)
        throw err(name + "(" + std::to_string(v) + "): " +
             (std::string(c->name) == "Delta" ? std::string("bytes must be 1, 2, 4 or 8")
                                               : "level must be " + std::to_string(c->min_param) + " to " +
                                                     std::to_string(c->max_param)));
      tt.expect(')');
      out += "(" + std::to_string(v) + ")";
    }
    if (!codec_fits(c->fits, col.type))
      throw err(name + " does not apply to " + col.base_type() + " columns" +
           (c->fits == CodecFits::floats ? " (only Float32 and Float64)"
                                         : c->fits == CodecFits::integer_time ? " (only integers, Date, DateTime and Enum)"
                                                                              : " (only numbers, dates and times)"));
    list.push_back(c);
  } while (tt.eat(','));
  if (!tt.done()) throw err("expected ',' between codecs");
  int general = 0, special = 0;
  for (const CodecInfo* c : list) (c->general ? general : special)++;
  if (general > 1) throw err("more than one general codec (NONE, LZ4, LZ4HC, ZSTD)");
  if (special > 1) throw err("more than one of Delta, T64, DoubleDelta, Gorilla");
  for (size_t i = 0; i + 1 < list.size(); ++i)
    if (list[i]->general) throw err(std::string(list[i]->name) + " must come last (nothing applies after a general codec)");
  if (std::string(list[0]->name) == "NONE" && list.size() > 1) throw err("NONE must be alone");
  if (std::string(list.back()->name) == "Delta") throw err("Delta does not compress by itself: add a general codec after it, e.g. \"Delta, ZSTD(1)\"");
  return out;
}

// The newest version any codec of a canonical list needs, as {major, minor}.
std::pair<int, int> codec_needs(const std::string& canonical) {
  std::pair<int, int> need{0, 0};
  std::string name;
  auto take = [&] {
    if (const CodecInfo* c = find_codec(name)) need = std::max(need, std::make_pair(c->since_major, c->since_minor));
    name.clear();
  };
  bool in_paren = false;
  for (char ch : canonical) {
    if (ch == '(') in_paren = true;
    else if (ch == ')') in_paren = false;
    else if (ch == ',') take();
    else if (!in_paren && ch != ' ') name += ch;
  }
  take();
  return need;
}

//   ttl  = column ["+" "INTERVAL" count unit]      count = 1..1000000
//   unit = SECOND | MINUTE | HOUR | DAY | WEEK | MONTH | QUARTER | YEAR  (any case)
// column: a Date, DateTime or DateTime64 column of the schema, not Nullable. One row TTL (DELETE);
// a DateTime64 column is written as toDateTime(col), which every server with DateTime64 takes.
const char* const kTtlGrammar =
    " (ttl takes a Date, DateTime or DateTime64 column, optionally + INTERVAL N SECOND|MINUTE|HOUR|DAY|WEEK|"
    "MONTH|QUARTER|YEAR, e.g. \"ts + INTERVAL 90 DAY\")";
std::string parse_ttl(const std::string& text, const Schema& s, const std::string& origin) {
  auto err = [&](const std::string& why) { return ConfigError(origin + ": ttl '" + text + "': " + why + kTtlGrammar); };
  size_t b = text.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  std::string name, rest;
  if (text[b] == '`') {
    size_t e = text.find('`', b + 1);
    if (e == std::string::npos) throw err("unterminated `name`");
    name = text.substr(b + 1, e - b - 1);
    rest = text.substr(e + 1);
  } else {
    size_t e = b;
    while (e < text.size() && (std::isalnum(static_cast<unsigned char>(text[e])) || text[e] == '_')) ++e;
    name = text.substr(b, e - b);
    rest = text.substr(e);
  }
  TypeText tt(text, origin, "ttl");
  tt.skip(text.size() - rest.size());
  if (name.empty()) throw err("expected a column name");
  int idx = s.index_of(name);
  if (idx < 0) throw err("unknown column '" + name + "'");
  const Column& c = s.columns[static_cast<size_t>(idx)];
  if (c.type != ColType::DateTime && c.type != ColType::DateTime64 && c.type != ColType::Date)
    throw err("column '" + name + "' is " + c.base_type() + ", not a date or time");
  if (c.nullable()) throw err("column '" + name + "' must not be optional without a default");
  std::string col = bare_identifier(name) ? name : quote_identifier(name);
  std::string out = c.type == ColType::DateTime64 ? "toDateTime(" + col + ")" : col;
  if (tt.done()) return out;
  if (!tt.eat('+')) throw err("expected '+ INTERVAL' after the column");
  std::string kw = tt.word();
  for (auto& ch : kw) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (kw != "INTERVAL") throw err("expected INTERVAL after '+'");
  long n = 0;
  try {
    n = tt.integer();
  } catch (const ConfigError& e) {
    throw ConfigError(e.what() + std::string(kTtlGrammar));
  }
  if (n < 1 || n > 1000000) throw err("the interval must be 1 to 1000000 units");
  std::string unit = tt.word();
  for (auto& ch : unit) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  const char* const units[] = {"SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "QUARTER", "YEAR"};
  bool known = false;
  for (const char* u : units) known = known || unit == u;
  if (!known) throw err("unknown unit '" + unit + "'");
  if (!tt.done()) throw err("unexpected text after the unit");
  return out + " + INTERVAL " + std::to_string(n) + " " + unit;
}

// MergeTree settings a schema may set: whole numbers in a range (0/1 for switches).
struct SettingInfo {
  const char* name;
  uint64_t min, max;
  bool meaning;  // leaving it out changes what the table keeps or deduplicates
};
const SettingInfo kSettings[] = {
    {"index_granularity", 1, 1000000, false},
    {"index_granularity_bytes", 0, 1ull << 30, false},
    {"min_bytes_for_wide_part", 0, 1ull << 40, false},
    {"min_rows_for_wide_part", 0, 1ull << 40, false},
    {"merge_max_block_size", 1, 1000000, false},
    {"min_age_to_force_merge_seconds", 0, 1ull << 32, false},
    {"parts_to_delay_insert", 1, 1000000, false},
    {"parts_to_throw_insert", 1, 1000000, false},
    {"replicated_deduplication_window", 0, 1000000, true},
    {"replicated_deduplication_window_seconds", 0, 1ull << 32, true},
    {"non_replicated_deduplication_window", 0, 1000000, true},
    {"merge_with_ttl_timeout", 0, 1ull << 32, true},
    {"ttl_only_drop_parts", 0, 1, true},
};
const SettingInfo* find_setting(const std::string& name) {
  for (const auto& k : kSettings)
    if (name == k.name) return &k;
  return nullptr;
}

}  // namespace

Schema Schema::default_schema() {
  Schema s;
  s.columns = {
      make("id", ColType::String, "id"),
      make("ts", ColType::DateTime, "timestamp"),
      make("sensor_id", ColType::String, "value.sensor_id"),
      make("temperature", ColType::Float64, "value.temperature", -100.0, 150.0),
      make("humidity", ColType::Float64, "value.humidity", 0.0, 100.0),
      make("pressure", ColType::Float64, "value.pressure", 300.0, 1200.0),
  };
  s.columns[0].max_length = 256;
  s.columns[2].max_length = 256;
  s.order_by = {"sensor_id", "ts", "id"};
  s.partition_by = "toYYYYMM(ts)";
  return s;
}

namespace {
// A key the schema does not know is an error, not ignored: a misspelt "codec" or "order_by" would
// otherwise make a table other than the one asked for, without a word.
void check_keys(const nlohmann::json& obj, const std::vector<std::string>& known, const std::string& where) {
  for (const auto& item : obj.items()) {
    if (std::find(known.begin(), known.end(), item.key()) != known.end()) continue;
    std::string msg = where + ": unknown key \"" + item.key() + "\"";
    if (std::string near = nearest_name(item.key(), known); !near.empty()) {
      msg += "; did you mean \"" + near + "\"?";
    } else {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      msg += " (known: " + list + ")";
    }
    throw ConfigError(msg);
  }
}
}  // namespace

Schema Schema::from_json(const std::string& text, const std::string& origin) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw ConfigError(origin + ": schema is not valid JSON: " + e.what());
  }
  if (!j.is_object()) throw ConfigError(origin + ": schema must be a JSON object");
  Schema s;
  try {
    check_keys(j, {"table", "columns", "order_by", "partition_by", "ttl", "settings"}, origin);
    if (j.contains("table")) {
      // ch-insert's default table (flag > schema > sensor_metrics)
      if (!j["table"].is_string() || j["table"].get_ref<const std::string&>().empty())
        throw ConfigError(origin + ": table must be a non-empty string");
      s.table = j["table"].get<std::string>();
    }
    if (!j.contains("columns") || !j["columns"].is_array() || j["columns"].empty())
      throw ConfigError(origin + ": schema needs a non-empty \"columns\" array");
    size_t i = 0;
    for (const auto& cj : j["columns"]) {
      std::string where = origin + ": column " + std::to_string(++i);
      if (!cj.is_object() || !cj.contains("name") || !cj["name"].is_string())
        throw ConfigError(where + ": needs a \"name\"");
      std::string name = cj["name"].get<std::string>();
      where += " (" + name + ")";
      check_keys(cj, {"name", "type", "path", "required", "default", "min", "max", "max_length", "codec"}, where);
      if (name.empty() || name[0] == '_') throw ConfigError(where + ": names must not be empty or start with '_'");
      if (cj.contains("type") && !cj["type"].is_string()) throw ConfigError(where + ": type must be a string");
      Column c = make(name, ColType::String, cj.value("path", name));
      c.set_type(cj.value("type", std::string("String")), where);
      ColType t = c.type;
      for (const auto& p : c.path)
        if (p.empty()) throw ConfigError(where + ": empty element in path '" + c.path_text + "'");
      // Nullable(T) says "may be absent" by itself.
      c.required = cj.value("required", !cj.contains("default") && !c.explicit_nullable);
      if (c.required && c.explicit_nullable)
        throw ConfigError(where + ": a Nullable column cannot be required (drop \"required\" or the Nullable)");
      if (cj.contains("default")) {
        const auto& d = cj["default"];
        if (c.is_container()) throw ConfigError(where + ": an Array or Map takes no default (absent, it is written empty)");
        if (t == ColType::Decimal && !d.is_string())
          throw ConfigError(where + ": a Decimal default is a JSON string (\"1.50\"): a JSON number would pass through a double");
        bool ok = (t == ColType::Decimal) || (is_text(t) && d.is_string()) ||
                  (t == ColType::Bool && d.is_boolean()) || ((is_integer(t)) && d.is_number_integer()) ||
                  (is_float(t) && d.is_number());
        if (!ok) throw ConfigError(where + ": default " + d.dump() + " does not fit type " + col_type_name(t));
        c.default_json = d.dump();
        c.required = false;
        c.default_sql();  // a Date, DateTime64 or Decimal default must be one (sensor-parse checks the rest)
      }
      if (cj.contains("min")) c.min = cj["min"].get<double>();
      if (cj.contains("max")) c.max = cj["max"].get<double>();
      if (cj.contains("max_length")) {
        // is_number_unsigned: -1 would otherwise convert to a limit of 2^64-1 bytes
        if (!cj["max_length"].is_number_unsigned())
          throw ConfigError(where + ": max_length must be a whole number of bytes, 0 (no limit) or more");
        if (t != ColType::String && t != ColType::LowCardinalityString)
          throw ConfigError(where + ": max_length only applies to String columns");
        c.max_length = cj["max_length"].get<size_t>();
      }
      if ((c.min || c.max) && !is_integer(t) && !is_float(t))
        throw ConfigError(where + ": min/max only apply to numeric columns");
      if (c.min && c.max && *c.min > *c.max)
        throw ConfigError(where + ": min " + cj["min"].dump() + " is above max " + cj["max"].dump());
      if (cj.contains("codec")) {
        if (!cj["codec"].is_string()) throw ConfigError(where + ": codec must be a string like \"ZSTD(1)\"");
        c.codec = parse_codec(cj["codec"].get<std::string>(), c, where);
      }
      if (s.index_of(name) >= 0) throw ConfigError(where + ": duplicate column name");
      s.columns.push_back(std::move(c));
    }
    if (j.contains("order_by")) {
      const auto& ob = j["order_by"];
      if (!ob.is_array()) throw ConfigError(origin + ": order_by must be an array of column names");
      for (const auto& o : ob) {
        if (!o.is_string()) throw ConfigError(origin + ": order_by must be an array of column names");
        s.order_by.push_back(o.get<std::string>());
      }
      // ORDER BY () is a syntax error in ClickHouse: say so here (exit 78), not at --create-table.
      if (s.order_by.empty())
        throw ConfigError(origin +
                          ": order_by must name at least one column (it is the key that collapses re-delivered rows)");
    } else {
      s.order_by = {s.columns[0].name};
    }
    for (size_t k = 0; k < s.order_by.size(); ++k) {
      const std::string& o = s.order_by[k];
      int idx = s.index_of(o);
      if (idx < 0) throw ConfigError(origin + ": order_by names unknown column '" + o + "'");
      if (s.columns[idx].nullable()) throw ConfigError(origin + ": order_by column '" + o + "' must not be optional without a default");
      if (std::find(s.order_by.begin(), s.order_by.begin() + static_cast<long>(k), o) != s.order_by.begin() + static_cast<long>(k))
        throw ConfigError(origin + ": order_by names column '" + o + "' twice");
    }
    if (j.contains("partition_by")) {
      if (!j["partition_by"].is_string()) throw ConfigError(origin + ": partition_by must be a string");
      s.partition_by = PartitionBy(j["partition_by"].get<std::string>(), s, origin).canonical();
    }
    if (j.contains("ttl")) {
      if (!j["ttl"].is_string()) throw ConfigError(origin + ": ttl must be a string like \"ts + INTERVAL 90 DAY\"");
      s.ttl = parse_ttl(j["ttl"].get<std::string>(), s, origin);
    }
    if (j.contains("settings")) {
      const auto& st = j["settings"];
      if (!st.is_object()) throw ConfigError(origin + ": settings must be an object like {\"index_granularity\": 8192}");
      std::string known;
      for (const auto& k : kSettings) known += std::string(known.empty() ? "" : ", ") + k.name;
      for (auto it = st.begin(); it != st.end(); ++it) {
        const SettingInfo* k = find_setting(it.key());
        if (!k) throw ConfigError(origin + ": settings: unknown setting '" + it.key() + "' (one of: " + known + ")");
        const auto& v = it.value();
        uint64_t n = 0;
        if (v.is_boolean() && k->max == 1) n = v.get<bool>() ? 1 : 0;
        else if (v.is_number_unsigned()) n = v.get<uint64_t>();
        else throw ConfigError(origin + ": settings: " + it.key() + " must be a whole number, not " + v.dump());
        if (n < k->min || n > k->max)
          throw ConfigError(origin + ": settings: " + it.key() + " = " + std::to_string(n) + " is outside " +
                            std::to_string(k->min) + " to " + std::to_string(k->max));
        s.settings.emplace_back(it.key(), n);
      }
    }
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(origin + ": bad schema: " + e.what());
  }
  return s;
}

Schema Schema::load(const std::string& path) {
  if (path.empty()) return default_schema();
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("cannot read schema file " + path + ": " + errno_text(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return from_json(ss.str(), path);
}

Schema Schema::resolve(const std::string& flag) {
  return load(config().resolve(flag, "SENSOR_SCHEMA", "schema.file").value_or(""));
}

std::vector<std::string> Schema::column_names() const {
  std::vector<std::string> out;
  for (const auto& c : columns) out.push_back(c.name);
  return out;
}

int Schema::index_of(const std::string& name) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i].name == name) return static_cast<int>(i);
  return -1;
}

std::string sql_literal(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') q += '\\';
    q += c;
  }
  return q + "'";
}

std::string quote_identifier(const std::string& name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '`' || c == '\\') out += '\\';
    out += c;
  }
  return out + "`";
}

std::string Schema::type_unsupported_by(int major, int minor) const {
  auto before = [&](int ma, int mi) { return major < ma || (major == ma && minor < mi); };
  for (const auto& col : columns) {
    // An Array's or Map's T needs what T needs.
    for (const Column* c = &col; c; c = c->element.get()) {
      const char* needs = nullptr;
      // DateTime64 came in 20.1; LowCardinality was experimental (a setting away) before 19.0; Map came in 21.1.
      if (c->type == ColType::DateTime64 && before(20, 1)) needs = "20.1";
      if (c->type == ColType::LowCardinalityString && before(19, 0)) needs = "19.0";
      if (c->type == ColType::Map && before(21, 1)) needs = "21.1";
      if (needs)
        return "column '" + col.name + "': type " + c->base_type() + " needs ClickHouse " + needs + " or newer";
    }
  }
  return "";
}

bool Schema::setting_changes_meaning(const std::string& name) {
  const SettingInfo* k = find_setting(name);
  return k && k->meaning;
}

Schema::ServerFit Schema::fit_server(int major, int minor, const std::vector<std::string>& missing_settings,
                                     Schema& adapted) const {
  auto before = [&](int ma, int mi) { return major < ma || (major == ma && minor < mi); };
  ServerFit fit;
  adapted = *this;
  // TTL came in 19.6. Without it the table would keep every row for ever: not the table asked for.
  if (!ttl.empty() && before(19, 6)) {
    fit.refused = "ttl (" + ttl + ") needs ClickHouse 19.6 or newer (left out, rows would be kept past their retention)";
    return fit;
  }
  for (const auto& st : settings) {
    if (std::find(missing_settings.begin(), missing_settings.end(), st.first) == missing_settings.end()) continue;
    if (setting_changes_meaning(st.first)) {
      fit.refused = "setting " + st.first + " is not known to this server (left out, the table would keep or "
                    "deduplicate rows differently)";
      return fit;
    }
    fit.left_out.push_back("setting " + st.first + " = " + std::to_string(st.second) +
                           " (unknown to this server; it tunes storage only)");
  }
  adapted.settings.clear();
  for (const auto& st : settings)
    if (std::find(missing_settings.begin(), missing_settings.end(), st.first) == missing_settings.end())
      adapted.settings.push_back(st);
  // Codecs change how a column is stored, never its values: without them the table holds the same rows.
  for (auto& c : adapted.columns) {
    if (c.codec.empty()) continue;
    auto need = codec_needs(c.codec);
    if (!before(need.first, need.second)) continue;
    fit.left_out.push_back("CODEC(" + c.codec + ") of column '" + c.name + "' (needs ClickHouse " +
                           std::to_string(need.first) + "." + std::to_string(need.second) +
                           "; the default compression stores the same values)");
    c.codec.clear();
  }
  return fit;
}

std::vector<std::string> Schema::column_differences(const std::vector<std::pair<std::string, std::string>>& table_columns,
                                                    const std::string& ignore_extra_prefix) const {
  // ClickHouse prints types in its own spacing: compare without blanks outside quotes.
  auto squeeze = [](const std::string& t) {
    std::string out;
    bool quoted = false;
    for (size_t i = 0; i < t.size(); ++i) {
      if (t[i] == '\\' && quoted && i + 1 < t.size()) {
        out += t[i];
        out += t[++i];
        continue;
      }
      if (t[i] == '\'') quoted = !quoted;
      if (!quoted && (t[i] == ' ' || t[i] == '\t')) continue;
      out += t[i];
    }
    return out;
  };
  // ClickHouse lists an Enum's names by value: compare them in that order. A type the schema cannot
  // express is compared as text.
  auto canon = [&](Column c) {
    std::sort(c.enum_values.begin(), c.enum_values.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    return squeeze(c.table_type());
  };
  auto canon_text = [&](const std::string& t) {
    Column c;
    try {
      c.set_type(t, "");
    } catch (const ConfigError&) {
      return squeeze(t);
    }
    return canon(c);
  };
  std::vector<std::string> out;
  for (const auto& c : columns) {
    auto it = std::find_if(table_columns.begin(), table_columns.end(), [&](const auto& tc) { return tc.first == c.name; });
    if (it == table_columns.end())
      out.push_back("missing column " + quote_identifier(c.name) + " " + c.table_type() + " (in the schema, not in the table)");
    else if (canon_text(it->second) != canon(c))
      out.push_back("column " + quote_identifier(c.name) + ": the table has " + it->second + ", the schema " + c.table_type());
  }
  for (const auto& tc : table_columns) {
    if (index_of(tc.first) >= 0) continue;
    if (!ignore_extra_prefix.empty() && tc.first.compare(0, ignore_extra_prefix.size(), ignore_extra_prefix) == 0) continue;
    out.push_back("extra column " + quote_identifier(tc.first) + " " + tc.second + " (in the table, not in the schema)");
  }
  return out;
}

namespace {
// "(\n    `a` T,\n ...)\n" of a CREATE TABLE
std::string column_list(const std::vector<Column>& columns) {
  std::string sql = "\n(\n";
  for (size_t i = 0; i < columns.size(); ++i) {
    sql += "    " + quote_identifier(columns[i].name) + " " + columns[i].clickhouse_type();
    if (!columns[i].codec.empty()) sql += " CODEC(" + columns[i].codec + ")";
    sql += i + 1 < columns.size() ? ",\n" : "\n";
  }
  return sql + ")\n";
}
// What follows ENGINE, in ClickHouse's order: PARTITION BY, ORDER BY, TTL, SETTINGS.
std::string engine_clauses(const Schema& s) {
  std::string sql;
  if (!s.partition_by.empty()) sql += "PARTITION BY " + s.partition_by + "\n";
  sql += "ORDER BY (";
  for (size_t i = 0; i < s.order_by.size(); ++i) sql += (i ? ", " : "") + quote_identifier(s.order_by[i]);
  sql += ")";
  if (!s.ttl.empty()) sql += "\nTTL " + s.ttl;
  for (size_t i = 0; i < s.settings.size(); ++i)
    sql += (i ? ", " : "\nSETTINGS ") + s.settings[i].first + " = " + std::to_string(s.settings[i].second);
  return sql;
}
}  // namespace

std::string Schema::create_table_sql(const std::string& database, const std::string& tbl) const {
  std::string sql = "CREATE TABLE IF NOT EXISTS ";
  if (!database.empty()) sql += quote_identifier(database) + ".";
  sql += quote_identifier(tbl.empty() ? table : tbl) + column_list(columns);
  sql += "ENGINE = ReplacingMergeTree()\n";
  return sql + engine_clauses(*this);
}

const std::string& Schema::sharding_column() const {
  for (const auto& c : columns)
    if (c.name == "sensor_id") return c.name;
  return order_by.front();  // from_json requires at least one
}

std::vector<std::string> Schema::create_cluster_sql(const std::string& database, const std::string& tbl,
                                                    const std::string& cluster) const {
  bool plain = !cluster.empty();
  for (char c : cluster)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') plain = false;
  if (!plain) throw UsageError("--cluster '" + cluster + "': not a cluster name of remote_servers (letters, digits, _-.)");
  const std::string db = database.empty() ? "default" : database;
  const std::string dist = tbl.empty() ? table : tbl;
  const std::string local = dist + "_local";
  const std::string on = " ON CLUSTER " + quote_identifier(cluster);
  // the path is a string literal: escape as ClickHouse reads it ('\'', '\\')
  std::string path = "'/clickhouse/tables/{shard}/";
  for (char c : db + "/" + local) {
    if (c == '\'' || c == '\\') path += '\\';
    path += c;
  }
  path += "'";
  std::string first = "CREATE TABLE IF NOT EXISTS " + quote_identifier(db) + "." + quote_identifier(local) + on +
                      column_list(columns) + "ENGINE = ReplicatedReplacingMergeTree(" + path + ", '{replica}')\n";
  first += engine_clauses(*this);
  std::string second = "CREATE TABLE IF NOT EXISTS " + quote_identifier(db) + "." + quote_identifier(dist) + on +
                       " AS " + quote_identifier(db) + "." + quote_identifier(local) + "\nENGINE = Distributed(" +
                       quote_identifier(cluster) + ", " + quote_identifier(db) + ", " + quote_identifier(local) +
                       ", cityHash64(" + quote_identifier(sharding_column()) + "))";
  return {first, second};
}

}  // namespace sp
