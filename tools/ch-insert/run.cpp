// ch-insert as a command: what main() used to do between parsing the flags and returning an exit code.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <memory>

#include "common/core/errors.hpp"
#include "common/core/log.hpp"
#include "common/core/progress.hpp"
#include "common/core/signals.hpp"
#include "exactly_once.hpp"
#include "insert.hpp"
#include "shards.hpp"

namespace sp::chi {

namespace {
// --format tsv --send-rowbinary: whether the rows go re-encoded as RowBinary (Options::row_binary), decided once:
// every column of a type the encoder has (row_binary.hpp), the table's columns of the schema's types
// exactly (RowBinary is read by position and size: a Float32 column fed a Float64 would store other
// values, where the text would be converted), and with a DateTime column a server in UTC (the text
// is UTC, and ClickHouse reads DateTime text in its own zone). Otherwise the text, said at -v.
void choose_row_binary(Options& o, const Schema& schema, ClickHouseClient& client) {
  auto text = [](const std::string& why) { log::debug("rows sent as TSV text, not RowBinary: ", why); };
  if (o.format != RowFormat::tsv) return;  // JSONEachRow, CSV, VALUES: as read
  if (!o.send_rowbinary) return;  // the text as read (the default: see the man page's RowBinary)
  RowBinaryPlan plan = row_binary_plan(schema, o.keep_coordinates);
  if (!plan.ok()) return text(plan.unsupported + " (encoded: String, numbers, Date, DateTime, their Nullable)");
  const std::string table = o.shards.empty() ? o.table : o.local_table;
  std::string tsv;
  try {
    tsv = client.query("SELECT name, type, timezone() FROM system.columns WHERE database = " + sql_literal(o.database) +
                       " AND table = " + sql_literal(table) + " FORMAT TabSeparated");
  } catch (const ChRequestError& e) {
    return text("cannot read the table's columns: " + e.error().message);
  }
  std::map<std::string, std::string> types;
  std::string zone;
  for (size_t pos = 0; pos < tsv.size();) {
    size_t nl = std::min(tsv.find('\n', pos), tsv.size());
    std::string_view line(tsv.data() + pos, nl - pos);
    pos = nl + 1;
    size_t t1 = line.find('\t'), t2 = t1 == std::string_view::npos ? t1 : line.find('\t', t1 + 1);
    if (t2 == std::string_view::npos) continue;
    types[std::string(line.substr(0, t1))] = std::string(line.substr(t1 + 1, t2 - t1 - 1));
    zone = std::string(line.substr(t2 + 1));
  }
  std::vector<std::pair<std::string, std::string>> want;
  for (const auto& c : schema.columns) want.emplace_back(c.name, c.table_type());
  if (o.keep_coordinates) want.insert(want.end(), {{"_topic", "String"}, {"_partition", "Int32"}, {"_offset", "Int64"}});
  for (const auto& [name, type] : want) {
    auto it = types.find(name);
    if (it == types.end() || it->second != type)
      return text("column " + name + " of table " + table + " is " + (it == types.end() ? "missing" : it->second) +
                  ", the schema's is " + type);
  }
  static const char* const utc[] = {"UTC", "Etc/UTC", "UCT", "Etc/UCT", "Universal", "Etc/Universal", "Zulu",
                                    "Etc/Zulu", "GMT", "Etc/GMT", "Greenwich", "Etc/Greenwich"};
  if (plan.has_datetime && std::find(std::begin(utc), std::end(utc), zone) == std::end(utc))
    return text("the server's time zone is " + zone + ", in which it reads DateTime text (RowBinary would store UTC)");
  o.row_binary = plan.columns;
  log::debug("rows sent as RowBinary, encoded from the TSV rows (--send-rowbinary)");
}

// An output file (--acks, --rejects) opened for appending (a record torn by an earlier run, a full
// disk, is ended first, so the next starts on its own line), reopened when logrotate renames it
// (LineWriter's path constructor); close() flushes it (errors throw), the destructor too (errors
// swallowed: on the way out of a failure).
class OutputFile {
 public:
  OutputFile(const std::string& path, const char* what) : w_(std::make_unique<LineWriter>(path, what)) {}
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  LineWriter* writer() { return w_.get(); }
  void close() { w_->close(); }

 private:
  std::unique_ptr<LineWriter> w_;
};

// Where acks go: --acks FILE; else stdout when it is a program's (kafka-cat-sensor's FIFO), or when
// asked for with --acks - even on a terminal; none with --no-acks. A person at a terminal gets them
// only when asking.
enum class AckTarget { none, file, std_out };
AckTarget ack_target(const Command& c) {
  if (c.no_acks) return AckTarget::none;
  if (!c.acks_path.empty() && c.acks_path != "-") return AckTarget::file;
  if (c.acks_path == "-" || !::isatty(STDOUT_FILENO)) return AckTarget::std_out;
  return AckTarget::none;
}

void log_summary(const Options& o, const Stats& st, double seconds) {
  log::info(summary_text(st.rows_in, st.bytes_in, seconds, "rows"), "; ", st.inserted,
            o.dry_run ? " would be inserted, " : " inserted, ", st.rejected, " rejected",
            o.exactly_once ? ", " + std::to_string(st.already) + " already stored (not sent)" : std::string(),
            st.unsent ? ", " + std::to_string(st.unsent) + " NOT inserted (not acknowledged)" : "", "; ", st.batches,
            " batches, ", st.posts, " requests, ", st.retries, " retries, ", human_bytes(static_cast<double>(st.bytes_sent)),
            " sent");
  if (st.held_back) {  // rows kept nowhere in a stream without coordinates hold nothing back
    std::string from;
    for (const auto& h : st.held_from) from += (from.empty() ? "" : ", ") + h;
    log::warn(st.lost, st.lost == 1 ? " rejected row is" : " rejected rows are",
              " kept nowhere (no --rejects): ", st.held_back, " offsets not acknowledged",
              from.empty() ? std::string(" (every partition held back: coordinates unknown)") : " (from " + from + " on)",
              "; they are read again after a restart (fix the table or give --rejects)");
  }
  if (st.endpoints.size() > 1) {
    std::string by;
    for (const auto& e : st.endpoints)
      by += (by.empty() ? "" : ", ") + (e.shard ? "shard " + std::to_string(e.shard) + " " : std::string()) +
            url_for_log(e.url) + ": " + std::to_string(e.rows) + " rows in " +
            std::to_string(e.inserts) + " inserts" + (e.failures ? ", " + std::to_string(e.failures) + " failed" : "");
    log::info("by endpoint: ", by);
  }
}
}  // namespace

namespace {
// --shard, --shard-key, --local-table into Options; the shards' URLs become the connection's URL list
// (the server asked for the version and DDL is any of them, first shard first).
void resolve_shards(Command& c, const Schema& schema, size_t& total_urls) {
  Options& o = c.o;
  if (!c.ch.urls.empty())
    throw UsageError("--url and --shard: give each server once, in the --shard of its shard (URL[,URL...] per shard)");
  if (o.format == RowFormat::values)
    throw UsageError("--shard: -f values is not supported (rows are routed by a column read from json, tsv or csv rows)");
  if (o.create_table && o.cluster.empty())
    throw UsageError("--create-table with --shard needs --cluster NAME (the local tables are created ON CLUSTER)");
  for (const auto& v : c.shards) {
    o.shards.push_back(parse_shard_urls(v));
    for (const auto& u : o.shards.back()) c.ch.urls.push_back(u);
  }
  total_urls = c.ch.urls.size();
  o.shard_key = c.shard_key.empty() ? schema.sharding_column() : c.shard_key;
  const Column* key = nullptr;
  for (const auto& col : schema.columns)
    if (col.name == o.shard_key) key = &col;
  if (!key) throw UsageError("--shard-key '" + o.shard_key + "': not a column of the schema");
  // cityHash64 of a String hashes its bytes, which ch-insert reads from the row; of a number, its
  // binary value; of a Nullable, NULL rows go nowhere certain: only plain String columns are routed
  if ((key->type != ColType::String && key->type != ColType::LowCardinalityString) || key->nullable())
    throw UsageError("--shard-key '" + o.shard_key + "' is " + key->clickhouse_type() +
                     ": shard-direct routes by a String column that is never NULL (as cityHash64 of its bytes)");
  o.local_table = c.local_table.empty() ? o.table + "_local" : c.local_table;
}
}  // namespace

int run_command(Command& c) {
  Options& o = c.o;
  o.format = parse_row_format(c.format);
  o.best_effort_dates = !c.basic_dates;
  o.settings = parse_settings(c.settings);
  add_config_settings(o.settings, config());
  c.ch.timeout_ms = static_cast<long>(c.timeout_s * 1000);
  if (o.batch_bytes < 1) throw UsageError("--batch-bytes must be at least 1");
  if (o.batch_bytes > (1ull << 30)) throw UsageError("--batch-bytes must be at most 1GiB");
  Schema schema = Schema::resolve(o.schema_path);
  o.table = c.table.empty() ? schema.table : c.table;  // flag > schema file > sensor_metrics
  if (o.exactly_once) {
    if (o.format == RowFormat::values)
      throw UsageError("--exactly-once: -f values rows carry no Kafka coordinates; use json, tsv or csv");
    o.keep_coordinates = true;  // stored: the rows an earlier run stored are found by them
    o.eo_run = eo::new_run_id();
  }
  size_t shard_urls = 0;
  if (!c.shards.empty()) resolve_shards(c, schema, shard_urls);
  ChConnection conn = resolve_ch_connection(c.ch);
  if (o.exactly_once && conn.urls.size() > 1 && !eo::on_cluster(o))
    throw UsageError("--exactly-once: several --url need --cluster NAME (a --url per server of the cluster, inserts "
                     "through its Distributed table) or --shard; one --url is one server");
  o.database = conn.database;
  if (!o.shards.empty()) {
    // the shards' URLs as resolved (credentials moved out, trailing '/' dropped), in --shard order
    size_t k = 0;
    for (auto& list : o.shards)
      for (auto& u : list) u = conn.urls.at(k++);
    if (k != shard_urls || k != conn.urls.size()) throw UsageError("--shard: URLs lost while resolving them");
  }

  LineWriter std_out(1);
  std::unique_ptr<OutputFile> acks_file, rejects_file;
  Outputs out;
  if (!c.rejects_path.empty()) {
    rejects_file = std::make_unique<OutputFile>(c.rejects_path, "rejects");
    out.rejects = rejects_file->writer();
  }
  std::unique_ptr<ClickHouseClient> client;
  ServerCaps caps;
  if (o.dry_run) {
    out.dry_run = &std_out;
    if (o.create_table)
      for (const auto& sql : create_table_statements(o, schema, o.database)) std_out.line(sql + ";");
    if (o.exactly_once) std_out.line(eo::create_state_sql(o.database, o.table, eo::on_cluster(o)) + ";");
  } else {
    switch (ack_target(c)) {
      case AckTarget::file:
        acks_file = std::make_unique<OutputFile>(c.acks_path, "acks");
        out.acks = acks_file->writer();
        break;
      case AckTarget::std_out: out.acks = &std_out; break;
      case AckTarget::none: break;
    }
    client = std::make_unique<ClickHouseClient>(conn);
    caps = prepare_server(o, schema, *client);
    choose_row_binary(o, schema, *client);
  }

  LineReader in(0, o.max_line);
  Stats st;
  Progress clock("rows");
  try {
    run_insert(o, schema, client.get(), in, out, st, caps);
  } catch (const Error&) {
    log_summary(o, st, clock.elapsed_seconds());
    throw;
  }
  std_out.flush();
  if (acks_file) acks_file->close();
  if (rejects_file) rejects_file->close();
  log_summary(o, st, clock.elapsed_seconds());
  if (stop_requested()) {
    log::warn("stopped by signal ", stop_signal(), " after draining what was read");
    return code(Exit::interrupted);
  }
  if (o.max_rejects >= 0 && st.rejected > static_cast<uint64_t>(o.max_rejects)) {
    log::error(st.rejected, " rows rejected, more than --max-rejects ", o.max_rejects);
    return code(Exit::rejects);
  }
  return 0;
}

}  // namespace sp::chi
