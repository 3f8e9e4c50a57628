// ch-insert's conversation with the server before the first row: its version and what follows from it
// (ServerCaps), --create-table's DDL fitted to that version (server_ddl) and checked against an
// existing table, and shard-direct's shards (--shard: weights from system.clusters, local tables).
#include <algorithm>
#include <map>
#include <optional>
#include <regex>

#include "common/core/log.hpp"
#include "common/core/retry.hpp"
#include "exactly_once.hpp"
#include "insert.hpp"

namespace sp::chi {

namespace {

// A query answered by any replica of a shard (tried in order), retried like inserts when none answers.
std::string query_shard(const Options& o, ClickHouseClient& c, size_t shard, const std::string& sql) {
  Retry retry(retry_budget(o));
  for (;;) {
    std::optional<ChError> last;
    std::string last_url;
    for (size_t k = 0; k < c.connection().urls.size(); ++k) {
      c.use(k);
      try {
        return c.query(sql);
      } catch (const ChRequestError& e) {
        if (e.error().kind != ChErrorKind::transport && e.error().kind != ChErrorKind::retriable) throw;
        last = e.error();
        last_url = c.current_url();
      }
    }
    if (retry.spent())
      throw UnavailableError("shard " + std::to_string(shard + 1) + ": no replica answers (the last: " +
                             failed_at("a query", last_url, *last) +
                             "; gave up after " + std::to_string(retry.retries()) + " retries; check --shard)");
    auto d = retry.next();
    log::warn("shard ", shard + 1, ": no replica answers, the last: ", failed_at("a query", last_url, *last), "; retry ",
              retry.retries(), " in ", d.count(), " ms");
    retry.wait(d, "interrupted while waiting for ClickHouse");
  }
}

// What the replicas of the --shards said so far: the shard macro of each (18.16 has no getMacro(),
// but system.macros), so that a URL given in the wrong --shard is found whichever replica answers.
struct ShardCheck {
  std::map<std::string, size_t> macro_shard;  // shard macro -> the --shard (0-based) its first URL was in
  std::vector<std::string> macro_of;          // per --shard: the macro of its first URL that has one
};

std::string first_line(std::string s) {
  auto nl = s.find_first_of("\r\n");
  if (nl != std::string::npos) s.resize(nl);
  return s;
}

// Every URL of every --shard, before the first insert: the replica must say it belongs to that shard,
// by system.clusters (with --cluster: the shard whose member it is, is_local) and by its {shard} macro
// (the same for every URL of one --shard, another for each --shard). A URL given in another shard's
// --shard would take that shard's rows when its own replicas fail over to it. A replica that does not
// answer now cannot be checked: a warning says so.
void check_replica(const Options& o, ClickHouseClient& sc, size_t i, size_t k, ShardCheck& check) {
  sc.use(k);
  const std::string here = "--shard " + std::to_string(i + 1) + " (" + url_for_log(sc.current_url()) + ")";
  std::string num, macro;
  try {
    if (!o.cluster.empty())
      num = first_line(sc.query("SELECT shard_num FROM system.clusters WHERE cluster = " + sql_literal(o.cluster) +
                                " AND is_local = 1 LIMIT 1"));
    macro = first_line(sc.query("SELECT substitution FROM system.macros WHERE macro = 'shard'"));
  } catch (const ChRequestError& e) {
    if (e.error().kind != ChErrorKind::transport && e.error().kind != ChErrorKind::retriable) throw;
    log::warn(here, ": does not answer now (", e.error().message,
              "), so it is not checked to be a replica of that shard; it takes rows when it is back");
    return;
  }
  if (!o.cluster.empty()) {
    if (num.empty())  // a proxy or a name the server does not know as its own: nothing to check against
      log::warn(here, ": its server is not a member of cluster '", o.cluster,
                "' by its own system.clusters (is_local); the --shard order cannot be checked there");
    else if (num != std::to_string(i + 1))
      throw ConfigError(here + " is shard " + num + " of cluster '" + o.cluster + "' (its system.clusters): give " +
                        "each shard's replicas in one --shard, in the cluster's shard order");
  }
  if (macro.empty()) return;  // no {shard} macro: nothing more to compare
  auto [it, fresh] = check.macro_shard.try_emplace(macro, i);
  if (!fresh && it->second != i)
    throw ConfigError(here + " has the shard macro '" + macro + "' of the replicas in --shard " +
                      std::to_string(it->second + 1) + ": it is a replica of another shard (give each shard's " +
                      "replicas in one --shard)");
  if (check.macro_of.size() <= i) check.macro_of.resize(i + 1);
  if (check.macro_of[i].empty())
    check.macro_of[i] = macro;
  else if (check.macro_of[i] != macro)
    throw ConfigError(here + " has the shard macro '" + macro + "', another URL of that --shard '" +
                      check.macro_of[i] + "': they are not replicas of one shard");
}

// --shard: the local table on every shard; with --cluster the shards' weights from system.clusters,
// whose shard count must be the --shard list's, and the order: the server behind each --shard says
// which shard of the cluster it is (system.clusters' is_local). A list in another order would put
// rows where the Distributed table does not look for them (optimize_skip_unused_shards).
std::vector<uint32_t> prepare_shards(const Options& o, ClickHouseClient& client) {
  const std::string& db = client.connection().database;
  std::vector<uint32_t> weights(o.shards.size(), 1);
  if (!o.cluster.empty()) {
    std::string rows = client.query("SELECT shard_num, any(shard_weight) FROM system.clusters WHERE cluster = " +
                                    sql_literal(o.cluster) + " GROUP BY shard_num ORDER BY shard_num");
    std::vector<uint32_t> w;
    size_t b = 0;
    while (b < rows.size()) {
      size_t e = rows.find('\n', b);
      if (e == std::string::npos) e = rows.size();
      std::string line = rows.substr(b, e - b);
      b = e + 1;
      auto tab = line.find('\t');
      if (tab == std::string::npos) continue;
      w.push_back(static_cast<uint32_t>(std::stoul(line.substr(tab + 1))));
    }
    if (w.empty())
      throw ConfigError("cluster '" + o.cluster + "' is not in system.clusters of " + url_for_log(client.current_url()) +
                        " (check --cluster)");
    if (w.size() != o.shards.size())
      throw ConfigError("cluster '" + o.cluster + "' has " + std::to_string(w.size()) + " shards (system.clusters of " +
                        url_for_log(client.current_url()) + "), but --shard was given " + std::to_string(o.shards.size()) +
                        " times: give each shard's replicas in one --shard, in the cluster's shard order");
    weights = w;
  } else {
    // Without the cluster's name nothing on the servers gives the number of shards: a shard left out
    // passes every check below and its rows go to the others (FINAL cannot collapse them there).
    log::warn("--shard without --cluster: ", o.shards.size(), " shard(s) taken as all of the cluster's, in its order, "
              "each of weight 1, unchecked (give --cluster NAME to check them against system.clusters)");
  }
  ShardCheck check;
  for (size_t i = 0; i < o.shards.size(); ++i) {
    ChConnection c = client.connection();
    c.urls = o.shards[i];
    ClickHouseClient sc(c);
    if (query_shard(o, sc, i, "EXISTS TABLE " + quote_identifier(db) + "." + quote_identifier(o.local_table)).substr(0, 1) != "1")
      throw NoInputError("table " + db + "." + o.local_table + " does not exist on shard " + std::to_string(i + 1) + " (" +
                         url_for_log(sc.current_url()) + "; --create-table --cluster NAME creates it on every server)");
    // small queries: a replica that hangs (accepts, never answers) is given 10 s, not the insert --timeout
    c.timeout_ms = std::min(c.timeout_ms, 10000L);
    ClickHouseClient checker(c);
    for (size_t k = 0; k < o.shards[i].size(); ++k) check_replica(o, checker, i, k, check);
  }
  std::string w;
  for (auto x : weights) w += (w.empty() ? "" : ", ") + std::to_string(x);
  log::debug("shard-direct into ", db, ".", o.local_table, " over ", o.shards.size(), " shards, weights ", w,
             ", by cityHash64(", o.shard_key, ")");
  return weights;
}

// Name and type of each column of db.table, from system.columns (18.16 has it).
std::vector<std::pair<std::string, std::string>> table_columns(ClickHouseClient& client, const std::string& db,
                                                               const std::string& table) {
  std::string tsv = client.query("SELECT name, type FROM system.columns WHERE database = " + sql_literal(db) +
                                 " AND table = " + sql_literal(table) + " FORMAT TabSeparated");
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  while (pos < tsv.size()) {
    size_t nl = tsv.find('\n', pos);
    if (nl == std::string::npos) nl = tsv.size();
    std::string_view line(tsv.data() + pos, nl - pos);
    pos = nl + 1;
    size_t tab = line.find('\t');
    if (tab == std::string_view::npos) continue;
    out.emplace_back(tsv_unescape(line.substr(0, tab)), tsv_unescape(line.substr(tab + 1)));
  }
  return out;
}

// The schema's table settings the server does not list in system.merge_tree_settings.
std::vector<std::string> missing_settings(ClickHouseClient& client, const Schema& schema) {
  std::vector<std::string> missing;
  if (schema.settings.empty()) return missing;
  std::string names;
  for (const auto& s : schema.settings) names += (names.empty() ? "" : ", ") + sql_literal(s.first);
  std::string have = "\n" + client.query("SELECT name FROM system.merge_tree_settings WHERE name IN (" + names +
                                         ") FORMAT TabSeparated");
  for (const auto& s : schema.settings)
    if (have.find("\n" + s.first + "\n") == std::string::npos) missing.push_back(s.first);
  return missing;
}

}  // namespace

ServerCaps ServerCaps::of(const ChVersion& v) {
  ServerCaps caps;
  caps.version = v;
  // insert_deduplication_token appeared in 22.2; older servers refuse unknown settings.
  caps.dedup_token = v.at_least(22, 2);
  // Parallel parsing (20.x on) cuts one POST into several blocks, each committed on its own, so a
  // bad row late in a batch would leave the rows before it inserted and then re-sent by the split.
  caps.serial_parsing = v.at_least(20, 1);
  caps.dates_end_2105 = !v.text.empty() && !v.at_least(22, 1);
  return caps;
}

ServerDdl server_ddl(const Options& o, const Schema& schema, const std::string& db, const ServerCaps& caps,
                     const std::vector<std::string>& missing_settings) {
  ServerDdl d;
  const ChVersion& v = caps.version;
  d.refused = schema.type_unsupported_by(v.major, v.minor);
  if (d.refused.empty()) d.refused = schema.rollup_unsupported_by(v.major, v.minor);
  if (!d.refused.empty()) return d;
  Schema adapted;
  auto fit = schema.fit_server(v.major, v.minor, missing_settings, adapted);
  if (!fit.refused.empty()) {
    d.refused = fit.refused;
    return d;
  }
  d.left_out = std::move(fit.left_out);
  d.statements = create_table_statements(o, adapted, db);
  return d;
}

std::optional<DdlUnfinished> ddl_unfinished(std::string_view message) {
  static const std::regex re(R"(There are (\d+) unfinished hosts \((\d+) of them are currently active\))");
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_search(message.begin(), message.end(), m, re)) return std::nullopt;
  return DdlUnfinished{std::stoi(m[1].str()), std::stoi(m[2].str())};
}

namespace {
// --create-table's statements. ON CLUSTER, the server waits for every member to run each one: with a
// member down that was the whole request timeout and then "did not answer", so one dead replica kept
// the pipeline from starting. The wait is bounded (half of --timeout, at most 30 s); members that are
// down when it ends get the statement from ZooKeeper's queue once they are back, and the rows go to
// the replicas that are up. A member that is up and has not finished is an error.
void run_ddl(const Options& o, ClickHouseClient& client, const std::vector<std::string>& statements) {
  std::vector<std::pair<std::string, std::string>> params;
  if (!o.cluster.empty()) {
    long wait_s = std::clamp(client.connection().timeout_ms / 2000, 1L, 30L);
    params.emplace_back("distributed_ddl_task_timeout", std::to_string(wait_s));
  }
  for (const auto& sql : statements) {
    try {
      client.query(sql, params);
    } catch (const ChRequestError& e) {
      auto u = o.cluster.empty() ? std::nullopt : ddl_unfinished(e.error().message);
      if (!u) throw;
      if (u->active > 0)
        throw TempFailError("cluster " + o.cluster + ": " + std::to_string(u->active) + " member(s) that are up did not "
                            "finish the table DDL in time (" + e.error().message + ")");
      log::warn(u->hosts, u->hosts == 1 ? " member" : " members", " of cluster ", o.cluster,
                u->hosts == 1 ? " is" : " are", " down: the DDL is queued in ZooKeeper and runs when ",
                u->hosts == 1 ? "it is" : "they are", " back; rows go to the replicas that are up");
    }
  }
}
}  // namespace

namespace {
// CREATE ... IF NOT EXISTS leaves an existing rollup as it is: one made from another version of the
// schema would take the view's rows in the wrong columns, or refuse them (and with them every insert
// into the table). Compared like the table, before any row is sent. With --cluster, `name` is the
// Distributed table, made AS the local one.
void check_rollups(const Options& o, const Schema& schema, ClickHouseClient& client, const std::string& db) {
  for (const auto& r : schema.rollups) {
    auto diff = schema.rollup_differences(r, table_columns(client, db, r.name));
    if (diff.empty()) continue;
    std::string list;
    for (const auto& d : diff) list += "\n  " + d;
    throw ConfigError("rollup " + db + "." + r.name + " exists on " + url_for_log(client.current_url()) +
                      " with other columns than the schema's; nothing was sent:" + list +
                      "\n(give the rollup another name in the schema, or drop the rollup and its view " + r.name +
                      "_mv" + (o.cluster.empty() ? "" : " (and " + r.name + "_local) ON CLUSTER " + o.cluster) +
                      " to have them made again)");
  }
}

// --create-table leaves an existing table as it is. With the schema's columns but another engine than
// ReplacingMergeTree (a plain MergeTree made by hand), the rows a restart delivers again (at-least-once)
// stay duplicated for good: said once at start. With --cluster the rows are stored in TABLE_local.
void warn_if_not_collapsing(const Options& o, ClickHouseClient& client, const std::string& db) {
  const std::string table = o.cluster.empty() ? o.table : o.table + "_local";
  std::string engine = client.query("SELECT engine FROM system.tables WHERE database = " + sql_literal(db) +
                                    " AND name = " + sql_literal(table) + " FORMAT TabSeparated");
  while (!engine.empty() && (engine.back() == '\n' || engine.back() == '\r')) engine.pop_back();
  if (engine.empty() || engine.find("ReplacingMergeTree") != std::string::npos) return;
  log::warn("table ", db, ".", table, " already exists with engine ", engine,
            ", not ReplacingMergeTree as --create-table makes it: rows delivered again after a restart "
            "(at-least-once) will never collapse into one; use another --table, or recreate this one "
            "(the DDL: --dry-run --create-table)");
}
}  // namespace

namespace {

// --setting and [clickhouse_settings] values tried once at start with a query that reads nothing: a name the server does not know
// (Code 115) or a value it cannot parse is a configuration to fix, not an INSERT to retry.
void check_settings(const Options& o, ClickHouseClient& client, const ChVersion& v) {
  if (o.settings.empty()) return;
  try {
    client.query("SELECT 1", o.settings);
  } catch (const ChRequestError& e) {
    const ChErrorKind k = e.error().kind;
    if (k == ChErrorKind::transport || k == ChErrorKind::retriable || k == ChErrorKind::foreign) throw;
    throw ConfigError("ClickHouse " + v.text + " at " + url_for_log(client.current_url()) +
                      " refused the settings (--setting, [clickhouse_settings]): " + e.error().message + " (nothing was sent)");
  }
}

}  // namespace

namespace {
// --exactly-once on a cluster: every server is asked (the lookups read each one), so every server of
// the cluster must be a --url (with --cluster: system.clusters says how many); the replicated state
// table is made on each (one may be down: it gets it from a later run; the quorum needs two).
// Before any DDL: with --cluster (not --shard, whose URLs are checked per shard), a --url per server.
void check_exactly_once_members(const Options& o, ClickHouseClient& client) {
  if (!o.exactly_once || o.cluster.empty() || !o.shards.empty()) return;
  const size_t n = client.connection().urls.size();
  std::string members = first_line(client.query("SELECT count() FROM system.clusters WHERE cluster = " +
                                                 sql_literal(o.cluster) + " FORMAT TabSeparated"));
  if (members != std::to_string(n))
    throw UsageError("--exactly-once --cluster " + o.cluster + ": the cluster has " + members + " servers, " +
                     std::to_string(n) + " --url given: give every server once (rows stored on any of them are " +
                     "looked up there)");
}

void prepare_exactly_once_cluster(const Options& o, ClickHouseClient& client, const std::string& db) {
  const size_t n = client.connection().urls.size();
  size_t made = 0;
  for (size_t i = 0; i < n; ++i) {
    client.use(i);
    try {
      client.query(eo::create_state_sql(db, o.table, true));
      ++made;
    } catch (const ChRequestError& e) {
      const ChErrorKind k = e.error().kind;
      if (k != ChErrorKind::transport && k != ChErrorKind::retriable) throw;
      log::warn("--exactly-once: ", url_for_log(client.current_url()), " does not answer (", e.error().message,
                "): its replica of the state table is made by a later run");
    }
  }
  client.use(0);
  if (made + 1 < n || made == 0)
    throw UnavailableError("--exactly-once: " + std::to_string(n - made) + " servers of the cluster do not answer: "
                           "the state is read from all but one");
}

// --exactly-once: the table stores every row's coordinates (what the lookup of stored rows reads), and
// the state table exists. The state table is ch-insert's own bookkeeping, not the schema's: created
// whether or not --create-table is given (IF NOT EXISTS: it is shared by every run and consumer).
void prepare_exactly_once(const Options& o, ClickHouseClient& client, const std::string& db) {
  std::string missing;
  const std::string rows = eo::rows_table(o);
  auto cols = table_columns(client, db, rows);
  for (const char* name : {"_topic", "_partition", "_offset"})
    if (std::none_of(cols.begin(), cols.end(), [&](const auto& c) { return c.first == name; }))
      missing += (missing.empty() ? "" : ", ") + std::string(name);
  if (!missing.empty())
    throw ConfigError("table " + db + "." + rows + " lacks " + missing + ": --exactly-once stores each row's "
                      "Kafka coordinates (_topic String, _partition Int32, _offset Int64) to find rows stored before; "
                      "add them (ALTER TABLE ... ADD COLUMN), or give --create-table another --table");
  if (!eo::on_cluster(o)) {
    client.query(eo::create_state_sql(db, o.table));
  } else {
    prepare_exactly_once_cluster(o, client, db);
  }
  log::info("exactly-once: run ", o.eo_run, ", state in ", db, ".", eo::state_table(o.table),
            eo::on_cluster(o) ? " (replicated on every server)" : "");
}
}  // namespace

ServerCaps prepare_server(const Options& o, const Schema& schema, ClickHouseClient& client) {
  Retry retry(retry_budget(o));
  // A server never reached at start (the connection refused, the name not resolved) is most likely a
  // wrong --url or a server not running: given up after Retry::kUnreachedTime, as kafka-cat-sensor does
  // with brokers, rather than after the whole --retries budget (70 s). Once it has answered anything,
  // even a 5xx, it is there: the whole budget, as for a server lost mid-stream (common/core/retry.hpp).
  // --retries -1 waits forever either way (a unit started before its server).
  ChVersion v;
  for (;;) {
    try {
      v = client.server_version();
      break;
    } catch (const ChRequestError& e) {
      const ChError& err = e.error();
      if (err.kind == ChErrorKind::auth)
        throw AuthError("ClickHouse refused user '" + client.connection().user + "': " + err.message +
                        " (check --user, CLICKHOUSE_USER and the password source)");
      if (err.kind != ChErrorKind::transport && err.kind != ChErrorKind::retriable) throw;
      const bool unreached = err.kind == ChErrorKind::transport && err.never_reached && o.retries >= 0;
      if (retry.spent(unreached))
        throw UnavailableError(err.message +
                               (unreached ? " (never reached in " +
                                                std::to_string(Retry::kUnreachedTime.count() / 1000) + " s at start, "
                                          : std::string(" (gave up after ")) +
                               std::to_string(retry.retries()) + " retries; is the server running? check --url" +
                               (unreached ? ", CLICKHOUSE_URL)" : ")"));
      auto d = retry.next();
      log::warn(failed_at("SELECT version()", client.current_url(), err), "; retry ", retry.retries(), " in ", d.count(), " ms");
      if (err.kind == ChErrorKind::transport) client.failover();
      retry.wait(d, "interrupted while waiting for ClickHouse");
    }
  }
  ServerCaps caps = ServerCaps::of(v);
  check_settings(o, client, v);
  check_exactly_once_members(o, client);
  log::debug("ClickHouse ", v.text, " at ", url_for_log(client.current_url()),
             caps.dedup_token ? " (using insert_deduplication_token)" : "");
  const std::string& db = client.connection().database;
  std::string target = quote_identifier(db) + "." + quote_identifier(o.table);
  try {
    if (o.create_table) {
      // Stop before any DDL: the server would refuse a type anyway, in words that do not say why, and
      // a table without its TTL would keep rows the schema says to delete.
      ServerDdl ddl = server_ddl(o, schema, db, caps, missing_settings(client, schema));
      if (!ddl.refused.empty())
        throw ConfigError("cannot create table " + db + "." + o.table + ": " + ddl.refused + ", and the server at " +
                          url_for_log(client.current_url()) + " is ClickHouse " + v.text +
                          " (change the schema, or use a newer server)");
      for (const auto& what : ddl.left_out)
        log::warn("ClickHouse ", v.text, " lacks it: left out of table ", db, ".", o.table, ": ", what);
      run_ddl(o, client, ddl.statements);
      // CREATE TABLE IF NOT EXISTS leaves an existing table as it is: rows of the schema would be refused
      // or land in the wrong columns. Compared before any row is sent.
      auto diff = schema.column_differences(table_columns(client, db, o.table), o.keep_coordinates ? "_" : "");
      if (!diff.empty()) {
        std::string list;
        for (const auto& d : diff) list += "\n  " + d;
        throw ConfigError("table " + db + "." + o.table + " exists on " + url_for_log(client.current_url()) +
                          " with other columns than the schema's; nothing was sent:" + list +
                          "\n(use the schema the table was made with (--schema, SENSOR_SCHEMA), another --table, or "
                          "change the table)");
      }
      check_rollups(o, schema, client, db);
      if (!o.exactly_once) warn_if_not_collapsing(o, client, db);  // nothing to collapse then
      log::info("table ", db, ".", o.table, " is ready (created if it was missing",
                o.cluster.empty() ? "" : ", with " + o.table + "_local on every server of cluster " + o.cluster, ")",
                schema.rollups.empty() ? "" : ", with " + std::to_string(schema.rollups.size()) + " rollup(s)");
    } else if (o.shards.empty() && client.query("EXISTS TABLE " + target).substr(0, 1) != "1") {
      throw NoInputError("table " + db + "." + o.table + " does not exist on " + url_for_log(client.current_url()) +
                         " (run with --create-table to create it from the schema)");
    }
  } catch (const ChRequestError& e) {
    if (e.error().kind == ChErrorKind::auth)
      throw AuthError("ClickHouse refused user '" + client.connection().user + "': " + e.error().message);
    if (e.error().kind == ChErrorKind::missing)
      throw NoInputError(e.error().message + " (check --database, or use --create-table)");
    throw Error(e.code(), "preparing table " + db + "." + o.table + ": " + e.error().message);
  }
  if (!o.shards.empty()) caps.shard_weights = prepare_shards(o, client);
  if (o.exactly_once) prepare_exactly_once(o, client, db);
  return caps;
}

std::vector<std::string> create_table_statements(const Options& o, const Schema& given, const std::string& db) {
  std::vector<std::string> out;
  Schema schema = given;
  // The coordinates the rows carry (--keep-coordinates; --exactly-once, which implies it, finds the rows
  // an earlier run stored by them): the table must hold them, or the first insert is refused.
  if (o.keep_coordinates || o.exactly_once) {
    for (auto [name, type] : {std::pair{"_topic", ColType::String}, {"_partition", ColType::Int32}, {"_offset", ColType::Int64}}) {
      Column c;
      c.name = name;
      c.type = type;
      schema.columns.push_back(c);
    }
  }
  if (o.cluster.empty()) {
    if (db != "default") out.push_back("CREATE DATABASE IF NOT EXISTS " + quote_identifier(db));
    out.push_back(schema.create_table_sql(db, o.table));
    auto rollups = schema.create_rollups_sql(db, o.table);
    out.insert(out.end(), rollups.begin(), rollups.end());
    return out;
  }
  auto tables = schema.create_cluster_sql(db, o.table, o.cluster);  // checks the cluster name
  if (db != "default")
    out.push_back("CREATE DATABASE IF NOT EXISTS " + quote_identifier(db) + " ON CLUSTER " + quote_identifier(o.cluster));
  out.insert(out.end(), tables.begin(), tables.end());
  auto rollups = schema.create_rollups_sql(db, o.table, o.cluster);
  out.insert(out.end(), rollups.begin(), rollups.end());
  return out;
}

}  // namespace sp::chi
