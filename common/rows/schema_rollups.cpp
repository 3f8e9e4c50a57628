// The schema's rollups (schema.hpp Rollup): the "rollups" key read and checked against the columns, and
// their DDL: per rollup an AggregatingMergeTree table and the materialized view that feeds it from the
// ingest table, on one server or ON CLUSTER (replicated locals + Distributed, as the table).
//   {"name": "sensor_metrics_1m", "interval": "1 minute", "by": ["sensor_id"], "time": "ts",
//    "aggregates": {"temperature": ["min", "avg", "max"], "*": ["count"]}}
// Every name pasted into the DDL is checked here (names: letters, digits, '_'; columns: the schema's),
// so --create-table runs nothing unchecked. man/sensor-parse.1.scd "Rollups" documents the grammar.
#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "common/core/errors.hpp"
#include "common/rows/schema.hpp"
#include "common/rows/schema_keys.hpp"

namespace sp {

namespace {

const char* const kFunctions[] = {"min", "max", "avg", "sum", "uniq", "count"};
const char* const kUnits[] = {"second", "minute", "hour", "day"};
const char* const kIntervalGrammar =
    " (a count and a unit: second, minute, hour or day, e.g. \"1 minute\", \"5 minutes\", \"1 hour\"; the count "
    "divides a minute (seconds), an hour (minutes) or a day (hours); days: 1)";

bool plain_name(const std::string& n) {
  if (n.empty() || std::isdigit(static_cast<unsigned char>(n[0]))) return false;
  for (char c : n)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "5 minutes" -> {5, "minute"}; ConfigError naming `where` otherwise.
void parse_interval(const std::string& text, Rollup& r, const std::string& where) {
  auto err = [&](const std::string& why) {
    return ConfigError(where + ": interval '" + text + "': " + why + kIntervalGrammar);
  };
  size_t i = text.find_first_not_of(" \t");
  if (i == std::string::npos) throw err("empty");
  long n = 1;
  if (std::isdigit(static_cast<unsigned char>(text[i]))) {
    size_t e = text.find_first_not_of("0123456789", i);
    if (e == std::string::npos || e - i > 6) throw err(e == std::string::npos ? "no unit" : "the count is too large");
    n = std::stol(text.substr(i, e - i));
    i = text.find_first_not_of(" \t", e);
    if (i == std::string::npos) throw err("no unit");
  }
  size_t e = text.find_last_not_of(" \t");
  std::string unit = lower(text.substr(i, e + 1 - i));
  if (unit.size() > 1 && unit.back() == 's') unit.pop_back();
  if (std::find(std::begin(kUnits), std::end(kUnits), unit) == std::end(kUnits))
    throw err("unknown unit '" + text.substr(i, e + 1 - i) + "'");
  long whole = unit == "hour" ? 24 : unit == "day" ? 1 : 60;
  const char* whole_text = unit == "second" ? "a minute" : unit == "minute" ? "an hour" : "a day";
  if (n < 1 || n > whole || whole % n != 0) throw err(std::to_string(n) + " " + unit + "s do not divide " + whole_text);
  r.every = static_cast<int>(n);
  r.unit = unit;
}

// The aggregate function's argument type: the column's, without LowCardinality (which the states drop)
// and without Nullable (a Nullable column is aggregated through -If over its non-null values).
std::string argument_type(const Column& c) {
  return c.type == ColType::LowCardinalityString ? "String" : c.base_type();
}

void check_function(const std::string& fn, const Column* c, const std::string& where) {
  if (std::find(std::begin(kFunctions), std::end(kFunctions), fn) == std::end(kFunctions))
    throw ConfigError(where + ": unknown function '" + fn + "' (min, max, avg, sum, uniq; count under \"*\")");
  if (!c) {
    if (fn != "count") throw ConfigError(where + ": \"*\" takes count only (the rows of each bucket)");
    return;
  }
  if (fn == "count")
    throw ConfigError(where + ": count is written \"*\": [\"count\"] (the rows of each bucket), not per column");
  if (c->is_container()) throw ConfigError(where + ": an Array or Map column cannot be aggregated in a rollup");
  if ((fn == "avg" || fn == "sum") && !is_integer(c->type) && !is_float(c->type))
    throw ConfigError(where + ": " + fn + " needs a numeric column (integers, Float32, Float64), and '" + c->name +
                      "' is " + c->base_type());
}

Rollup parse_rollup(const nlohmann::json& rj, const Schema& s, const std::string& where0) {
  if (!rj.is_object() || !rj.contains("name") || !rj["name"].is_string())
    throw ConfigError(where0 + ": needs a \"name\" (the rollup table)");
  Rollup r;
  r.name = rj["name"].get<std::string>();
  const std::string where = where0 + " (" + r.name + ")";
  for (const auto& item : rj.items()) {
    const char* const known[] = {"name", "interval", "by", "time", "aggregates"};
    if (std::find(std::begin(known), std::end(known), item.key()) == std::end(known))
      throw ConfigError(where + ": unknown key \"" + item.key() + "\" (known: name, interval, by, time, aggregates)");
  }
  if (!plain_name(r.name))
    throw ConfigError(where + ": the name must be letters, digits and '_', not starting with a digit");
  if (r.name == s.table) throw ConfigError(where + ": the name is the table's");
  if (!rj.contains("interval") || !rj["interval"].is_string())
    throw ConfigError(where + ": needs an \"interval\" string like \"1 minute\"");
  parse_interval(rj["interval"].get<std::string>(), r, where);
  auto column = [&](const std::string& name, const std::string& what) -> const Column& {
    int idx = s.index_of(name);
    if (idx < 0) throw ConfigError(where + ": " + what + " names unknown column '" + name + "'");
    return s.columns[static_cast<size_t>(idx)];
  };
  if (rj.contains("by")) {
    if (!rj["by"].is_array()) throw ConfigError(where + ": by must be an array of column names");
    for (const auto& b : rj["by"]) {
      if (!b.is_string()) throw ConfigError(where + ": by must be an array of column names");
      const Column& c = column(b.get<std::string>(), "by");
      if (c.nullable() || c.is_container())
        throw ConfigError(where + ": by column '" + c.name +
                          "' must not be optional without a default, an Array or a Map");
      if (std::find(r.by.begin(), r.by.end(), c.name) != r.by.end())
        throw ConfigError(where + ": by names column '" + c.name + "' twice");
      r.by.push_back(c.name);
    }
  }
  if (rj.contains("time")) {
    if (!rj["time"].is_string()) throw ConfigError(where + ": time must be a column name");
    r.time = rj["time"].get<std::string>();
  } else {
    for (const auto& c : s.columns)
      if ((c.type == ColType::DateTime || c.type == ColType::DateTime64) && !c.nullable()) {
        r.time = c.name;
        break;
      }
    if (r.time.empty()) throw ConfigError(where + ": the schema has no DateTime column to bucket by (give \"time\")");
  }
  const Column& t = column(r.time, "time");
  if ((t.type != ColType::DateTime && t.type != ColType::DateTime64) || t.nullable())
    throw ConfigError(where + ": time column '" + t.name + "' must be a DateTime or DateTime64 that is never null");
  if (std::find(r.by.begin(), r.by.end(), r.time) != r.by.end())
    throw ConfigError(where + ": time column '" + r.time + "' is also in by (the bucket replaces it)");
  if (!rj.contains("aggregates") || !rj["aggregates"].is_object() || rj["aggregates"].empty())
    throw ConfigError(where +
                      ": needs \"aggregates\", e.g. {\"temperature\": [\"min\", \"avg\", \"max\"], \"*\": [\"count\"]}");
  const auto& aj = rj["aggregates"];
  for (const auto& item : aj.items()) {
    const Column* c = item.key() == "*" ? nullptr : &column(item.key(), "aggregates");
    const std::string at = where + ": aggregates \"" + item.key() + "\"";
    if (!item.value().is_array() || item.value().empty())
      throw ConfigError(at + ": must be a non-empty array of functions like [\"min\", \"max\"]");
    std::vector<std::string> seen;
    for (const auto& f : item.value()) {
      if (!f.is_string()) throw ConfigError(at + ": functions are strings like \"avg\"");
      std::string fn = f.get<std::string>();
      check_function(fn, c, at);
      if (std::find(seen.begin(), seen.end(), fn) != seen.end()) throw ConfigError(at + ": " + fn + " given twice");
      seen.push_back(fn);
    }
  }
  // The schema's column order, each column's functions as listed, count last: the rollup's columns do
  // not depend on how a JSON library orders an object's keys.
  for (const auto& c : s.columns)
    if (aj.contains(c.name))
      for (const auto& f : aj[c.name]) r.aggregates.push_back({c.name, f.get<std::string>()});
  if (aj.contains("*")) r.aggregates.push_back({"", "count"});
  return r;
}

std::string prefix(const std::string& db) { return db.empty() ? "" : quote_identifier(db) + "."; }

// The materialized view's SELECT expression of the time bucket.
std::string bucket_sql(const Rollup& r, const Column& t) {
  const std::string col = quote_identifier(t.name);
  const std::string arg = t.type == ColType::DateTime64 ? "toDateTime(" + col + ")" : col;
  if (r.every == 1 && r.unit == "second") return arg;
  if (r.every == 1 && r.unit == "minute") return "toStartOfMinute(" + arg + ")";
  if (r.every == 5 && r.unit == "minute") return "toStartOfFiveMinute(" + arg + ")";
  if (r.every == 15 && r.unit == "minute") return "toStartOfFifteenMinutes(" + arg + ")";
  if (r.every == 1 && r.unit == "hour") return "toStartOfHour(" + arg + ")";
  if (r.every == 1 && r.unit == "day") return "toStartOfDay(" + arg + ")";
  std::string unit = r.unit;
  for (auto& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return "toStartOfInterval(" + arg + ", INTERVAL " + std::to_string(r.every) + " " + unit + ")";
}

std::string column_name(const Rollup::Aggregate& a) { return a.column.empty() ? "count" : a.column + "_" + a.function; }

std::string rollup_table_sql(const Schema& s, const Rollup& r, const std::string& name, const std::string& tail) {
  auto cols = s.rollup_columns(r);
  std::string sql = name + tail + "\n(\n";
  for (size_t i = 0; i < cols.size(); ++i)
    sql += "    " + quote_identifier(cols[i].first) + " " + cols[i].second + (i + 1 < cols.size() ? ",\n" : "\n");
  return sql + ")\n";
}

std::string keys_sql(const Rollup& r) {
  std::string sql = "PARTITION BY toYYYYMM(" + quote_identifier(r.time) + ")\nORDER BY (";
  for (const auto& b : r.by) sql += quote_identifier(b) + ", ";
  return sql + quote_identifier(r.time) + ")";
}

std::string select_sql(const Schema& s, const Rollup& r, const std::string& from) {
  std::string sql = "AS SELECT\n";
  for (const auto& b : r.by) sql += "    " + quote_identifier(b) + ",\n";
  sql += "    " + bucket_sql(r, s.columns[static_cast<size_t>(s.index_of(r.time))]) + " AS " + quote_identifier(r.time);
  for (const auto& a : r.aggregates) {
    std::string state;
    if (a.column.empty()) {
      state = "countState()";
    } else {
      const Column& c = s.columns[static_cast<size_t>(s.index_of(a.column))];
      const std::string q = quote_identifier(c.name);
      // Servers differ on the state type of a Nullable argument (18.16: AggregateFunction(min, Float64),
      // 26: AggregateFunction(min, Nullable(Float64))): -If over the non-null values has one type on all.
      state = c.nullable() ? a.function + "StateIf(assumeNotNull(" + q + "), isNotNull(" + q + "))"
                           : a.function + "State(" + q + ")";
    }
    sql += ",\n    " + state + " AS " + quote_identifier(column_name(a));
  }
  sql += "\nFROM " + from + "\nGROUP BY ";
  for (const auto& b : r.by) sql += quote_identifier(b) + ", ";
  return sql + quote_identifier(r.time);
}

}  // namespace

std::string Rollup::interval_text() const {
  return std::to_string(every) + " " + unit + (every == 1 ? "" : "s");
}

namespace schema_detail {

std::vector<Rollup> parse_rollups(const nlohmann::json& rj, const Schema& s, const std::string& origin) {
  if (!rj.is_array())
    throw ConfigError(origin + ": rollups must be an array of objects like {\"name\": ..., \"interval\": ...}");
  std::vector<Rollup> out;
  size_t i = 0;
  for (const auto& one : rj) {
    Rollup r = parse_rollup(one, s, origin + ": rollup " + std::to_string(++i));
    const std::string where = origin + ": rollup " + std::to_string(i) + " (" + r.name + ")";
    for (const auto& o : out)
      if (o.name == r.name) throw ConfigError(where + ": two rollups have this name");
    std::vector<std::string> names;
    for (const auto& c : s.rollup_columns(r)) {
      if (std::find(names.begin(), names.end(), c.first) != names.end())
        throw ConfigError(where + ": two columns of the rollup would be named '" + c.first + "'");
      names.push_back(c.first);
    }
    out.push_back(std::move(r));
  }
  return out;
}

nlohmann::ordered_json rollup_json(const Rollup& r) {
  nlohmann::ordered_json j;
  j["name"] = r.name;
  j["interval"] = r.interval_text();
  j["by"] = r.by;
  j["time"] = r.time;
  nlohmann::ordered_json aj = nlohmann::ordered_json::object();
  for (const auto& a : r.aggregates) aj[a.column.empty() ? "*" : a.column].push_back(a.function);
  j["aggregates"] = std::move(aj);
  return j;
}

}  // namespace schema_detail

std::vector<std::pair<std::string, std::string>> Schema::rollup_columns(const Rollup& r) const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& b : r.by) out.emplace_back(b, columns[static_cast<size_t>(index_of(b))].table_type());
  out.emplace_back(r.time, "DateTime");
  for (const auto& a : r.aggregates) {
    std::string type = "AggregateFunction(count)";
    if (!a.column.empty()) {
      const Column& c = columns[static_cast<size_t>(index_of(a.column))];
      type = "AggregateFunction(" + a.function + ", " + argument_type(c) + ")";
    }
    out.emplace_back(column_name(a), type);
  }
  return out;
}

std::vector<std::string> Schema::rollup_differences(
    const Rollup& r, const std::vector<std::pair<std::string, std::string>>& table_columns) const {
  auto squeeze = [](std::string t) {
    t.erase(std::remove(t.begin(), t.end(), ' '), t.end());
    return t;
  };
  const auto want = rollup_columns(r);
  std::vector<std::string> out;
  for (const auto& w : want) {
    auto it = std::find_if(table_columns.begin(), table_columns.end(),
                           [&](const auto& tc) { return tc.first == w.first; });
    const std::string name = quote_identifier(w.first);
    if (it == table_columns.end())
      out.push_back("missing column " + name + " " + w.second + " (in the schema, not in the rollup)");
    else if (squeeze(it->second) != squeeze(w.second))
      out.push_back("column " + name + ": the rollup has " + it->second + ", the schema " + w.second);
  }
  for (const auto& tc : table_columns)
    if (std::none_of(want.begin(), want.end(), [&](const auto& w) { return w.first == tc.first; }))
      out.push_back("extra column " + quote_identifier(tc.first) + " " + tc.second +
                    " (in the rollup, not in the schema)");
  return out;
}

std::string Schema::rollup_unsupported_by(int major, int minor) const {
  // toStartOfInterval came in 19.3; 18.16 has toStartOfMinute, ...FiveMinute, ...FifteenMinutes, Hour, Day.
  if (major > 19 || (major == 19 && minor >= 3)) return "";
  for (const auto& r : rollups) {
    if (index_of(r.time) < 0) continue;
    if (bucket_sql(r, columns[static_cast<size_t>(index_of(r.time))]).find("toStartOfInterval") != std::string::npos)
      return "rollup '" + r.name + "': interval " + r.interval_text() +
             " needs toStartOfInterval (ClickHouse 19.3 or newer; older servers bucket 1 second, 1, 5 or 15 minutes, "
             "1 hour or 1 day)";
  }
  return "";
}

std::vector<std::string> Schema::create_rollups_sql(const std::string& database, const std::string& tbl,
                                                    const std::string& cluster) const {
  std::vector<std::string> out;
  const std::string source = tbl.empty() ? table : tbl;
  if (cluster.empty()) {
    for (const auto& r : rollups) {
      const std::string head = "CREATE TABLE IF NOT EXISTS " + prefix(database) + quote_identifier(r.name);
      out.push_back(rollup_table_sql(*this, r, head, "") + "ENGINE = AggregatingMergeTree()\n" + keys_sql(r));
      out.push_back("CREATE MATERIALIZED VIEW IF NOT EXISTS " + prefix(database) + quote_identifier(r.name + "_mv") +
                    "\nTO " + prefix(database) + quote_identifier(r.name) + "\n" +
                    select_sql(*this, r, prefix(database) + quote_identifier(source)));
    }
    return out;
  }
  schema_detail::check_cluster_name(cluster);
  const std::string db = database.empty() ? "default" : database;
  const std::string on = " ON CLUSTER " + quote_identifier(cluster);
  const std::string q = quote_identifier(db) + ".";
  for (const auto& r : rollups) {
    const std::string local = r.name + "_local";
    out.push_back(rollup_table_sql(*this, r, "CREATE TABLE IF NOT EXISTS " + q + quote_identifier(local), on) +
                  "ENGINE = ReplicatedAggregatingMergeTree(" + schema_detail::replicated_path(db, local) +
                  ", '{replica}')\n" + keys_sql(r));
    out.push_back("CREATE MATERIALIZED VIEW IF NOT EXISTS " + q + quote_identifier(r.name + "_mv") + on + "\nTO " + q +
                  quote_identifier(local) + "\n" + select_sql(*this, r, q + quote_identifier(source + "_local")));
    // Read only (the view writes the locals): no sharding key.
    out.push_back("CREATE TABLE IF NOT EXISTS " + q + quote_identifier(r.name) + on + " AS " + q +
                  quote_identifier(local) + "\nENGINE = Distributed(" + quote_identifier(cluster) + ", " +
                  quote_identifier(db) + ", " + quote_identifier(local) + ")");
  }
  return out;
}

}  // namespace sp
