// The schema's loader: the default (the seed's six columns), a schema file read and checked key by key
// (from_json), and which schema a tool uses (resolve). The grammars it applies live beside it: the
// column types in schema_types.cpp, the table keys in schema_keys.cpp; the DDL in schema_ddl.cpp.
#include "common/rows/schema.hpp"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/core/config.hpp"
#include "common/core/errors.hpp"
#include "common/rows/schema_keys.hpp"

namespace sp {

namespace {
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

namespace {
// A schema file that names neither order_by nor partition_by gets the built-in schema's shape (issue 27:
// it got the first column alone and no partitions): the first DateTime, DateTime64 or Date column that
// is never null is the time column; ORDER BY sensor_id (when there is one, never null), the time column,
// the first column; PARTITION BY toYYYYMM(time column). A file that gives order_by gets no partitions
// it did not ask for (its keys are its author's choice; a table made before keeps its layout).
const Column* first_time_column(const Schema& s) {
  for (const auto& c : s.columns)
    if ((c.type == ColType::DateTime || c.type == ColType::DateTime64 || c.type == ColType::Date) && !c.nullable())
      return &c;
  return nullptr;
}

std::vector<std::string> default_order_by(const Schema& s) {
  std::vector<std::string> out;
  auto add = [&out](const std::string& name) {
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  };
  int sensor = s.index_of("sensor_id");
  if (sensor >= 0 && !s.columns[static_cast<size_t>(sensor)].nullable() && !s.columns[static_cast<size_t>(sensor)].is_container())
    add("sensor_id");
  if (const Column* t = first_time_column(s)) add(t->name);
  add(s.columns[0].name);
  return out;
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
    check_keys(j, {"table", "columns", "order_by", "partition_by", "ttl", "settings", "rollups"}, origin);
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
      if ((c.min || c.max) && !is_integer(t) && !is_float(t) && t != ColType::Decimal)
        throw ConfigError(where + ": min/max only apply to numeric columns (integers, floats, Decimal)");
      if (c.min && c.max && *c.min > *c.max)
        throw ConfigError(where + ": min " + cj["min"].dump() + " is above max " + cj["max"].dump());
      if (cj.contains("codec")) {
        if (!cj["codec"].is_string()) throw ConfigError(where + ": codec must be a string like \"ZSTD(1)\"");
        c.codec = schema_detail::parse_codec(cj["codec"].get<std::string>(), c, where);
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
      s.order_by = default_order_by(s);
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
      s.partition_by = schema_detail::parse_partition_by(j["partition_by"].get<std::string>(), s, origin);
    } else if (const Column* t = first_time_column(s); t && !j.contains("order_by")) {
      s.partition_by = schema_detail::parse_partition_by("toYYYYMM(" + quote_identifier(t->name) + ")", s, origin);
    }
    if (j.contains("ttl")) {
      if (!j["ttl"].is_string()) throw ConfigError(origin + ": ttl must be a string like \"ts + INTERVAL 90 DAY\"");
      s.ttl = schema_detail::parse_ttl(j["ttl"].get<std::string>(), s, origin);
    }
    if (j.contains("settings")) s.settings = schema_detail::parse_settings(j["settings"], origin);
    if (j.contains("rollups")) s.rollups = schema_detail::parse_rollups(j["rollups"], s, origin);
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(origin + ": bad schema: " + e.what());
  }
  return s;
}

std::string Schema::to_json() const {
  // ordered_json: the keys in the order a person reads them (name, type, path, ...)
  nlohmann::ordered_json j;
  j["table"] = table;
  j["columns"] = nlohmann::ordered_json::array();
  for (const auto& c : columns) {
    nlohmann::ordered_json cj;
    cj["name"] = c.name;
    cj["type"] = c.explicit_nullable ? "Nullable(" + c.base_type() + ")" : c.base_type();
    cj["path"] = c.path_text;
    if (c.default_json) cj["default"] = nlohmann::ordered_json::parse(*c.default_json);
    if (!c.required && !c.default_json && !c.explicit_nullable) cj["required"] = false;
    if (c.min) cj["min"] = *c.min;
    if (c.max) cj["max"] = *c.max;
    if (c.max_length) cj["max_length"] = c.max_length;
    if (!c.codec.empty()) cj["codec"] = c.codec;
    j["columns"].push_back(std::move(cj));
  }
  j["order_by"] = order_by;
  if (!partition_by.empty()) j["partition_by"] = partition_by;
  if (!ttl.empty()) j["ttl"] = ttl;
  if (!settings.empty()) {
    nlohmann::ordered_json sj = nlohmann::ordered_json::object();
    for (const auto& [name, value] : settings) sj[name] = value;
    j["settings"] = std::move(sj);
  }
  for (const auto& r : rollups) j["rollups"].push_back(schema_detail::rollup_json(r));
  return j.dump(2) + "\n";
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

}  // namespace sp
