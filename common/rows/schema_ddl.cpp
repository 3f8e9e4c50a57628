// The schema as ClickHouse DDL: CREATE TABLE (single server or cluster), what a server of a given
// version cannot take (type_unsupported_by, fit_server), and an existing table's columns compared
// with the schema's; with the quoting every SQL text of the schema goes through.
#include <algorithm>
#include <cctype>

#include "common/core/errors.hpp"
#include "common/rows/schema.hpp"
#include "common/rows/schema_keys.hpp"

namespace sp {

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
      std::string hint;
      // DateTime64 came in 20.1; LowCardinality was experimental (a setting away) before 19.0, and Map
      // in 21.1-21.7 (CREATE TABLE refuses it without the setting; 21.8 made it a plain type).
      if (c->type == ColType::DateTime64 && before(20, 1)) needs = "20.1";
      if (c->type == ColType::LowCardinalityString && before(19, 0)) needs = "19.0";
      if (c->type == ColType::Map && before(21, 8)) {
        needs = "21.8";
        if (!before(21, 1))
          hint = " (21.1-21.7 have it as an experimental type: create the table yourself with SET "
                 "allow_experimental_map_type = 1)";
      }
      if (needs)
        return "column '" + col.name + "': type " + c->base_type() + " needs ClickHouse " + needs + " or newer" + hint;
    }
  }
  return "";
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
    auto need = schema_detail::codec_needs(c.codec);
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

namespace schema_detail {

void check_cluster_name(const std::string& cluster) {
  bool plain = !cluster.empty();
  for (char c : cluster)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') plain = false;
  if (!plain) throw UsageError("--cluster '" + cluster + "': not a cluster name of remote_servers (letters, digits, _-.)");
}

std::string replicated_path(const std::string& db, const std::string& table) {
  // the path is a string literal: escape as ClickHouse reads it ('\'', '\\')
  std::string path = "'/clickhouse/tables/{shard}/";
  for (char c : db + "/" + table) {
    if (c == '\'' || c == '\\') path += '\\';
    path += c;
  }
  return path + "'";
}

}  // namespace schema_detail

std::vector<std::string> Schema::create_cluster_sql(const std::string& database, const std::string& tbl,
                                                    const std::string& cluster) const {
  schema_detail::check_cluster_name(cluster);
  const std::string db = database.empty() ? "default" : database;
  const std::string dist = tbl.empty() ? table : tbl;
  const std::string local = dist + "_local";
  const std::string on = " ON CLUSTER " + quote_identifier(cluster);
  const std::string path = schema_detail::replicated_path(db, local);
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
