// The table keys' grammars (schema_keys.hpp): partition_by, codec, ttl and settings, each with the
// table of what it accepts and since which ClickHouse version.
#include "common/rows/schema_keys.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/core/errors.hpp"
#include "common/rows/schema_types.hpp"

namespace sp {

namespace {

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
}  // namespace

namespace schema_detail {

std::string parse_partition_by(const std::string& text, const Schema& s, const std::string& origin) {
  return PartitionBy(text, s, origin).canonical();
}

}  // namespace schema_detail

namespace {

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

}  // namespace

namespace schema_detail {

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

}  // namespace schema_detail

namespace {

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

namespace schema_detail {

std::vector<std::pair<std::string, uint64_t>> parse_settings(const nlohmann::json& st, const std::string& origin) {
  std::vector<std::pair<std::string, uint64_t>> settings;
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
    settings.emplace_back(it.key(), n);
  }
  return settings;
}

}  // namespace schema_detail

bool Schema::setting_changes_meaning(const std::string& name) {
  const SettingInfo* k = find_setting(name);
  return k && k->meaning;
}

}  // namespace sp
