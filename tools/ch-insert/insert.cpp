#include "insert.hpp"

#include <poll.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>

#include "common/codec/cityhash.hpp"
#include "common/core/log.hpp"
#include "common/core/progress.hpp"
#include "common/core/retry.hpp"
#include "common/core/signals.hpp"
#include "common/rows/row_input.hpp"
#include "exactly_once.hpp"
#include "sender.hpp"
#include "shards.hpp"

namespace sp::chi {

Retry::Budget retry_budget(const Options& o) {
  Retry::Budget b;
  b.initial = std::chrono::milliseconds(static_cast<int64_t>(o.retry_initial_seconds * 1000));
  b.max = std::chrono::milliseconds(static_cast<int64_t>(o.retry_max_delay_seconds * 1000));
  b.max_retries = o.retries;
  return b;
}

namespace {

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Waits until stdin has data or the deadline passes; false on timeout.
bool wait_readable(int fd, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) return true;  // let read() report the error
    if (stop_requested()) return true;
  }
}

// --dry-run's line naming the --setting values sent with each INSERT ("" without any).
std::string settings_line(const Options& o) {
  if (o.settings.empty()) return {};
  std::string s = "-- settings:";
  for (const auto& [name, value] : o.settings) s += " " + name + "=" + value;
  return s + "\n";
}

// --dry-run: the batch as it would be sent (per shard, shard-direct), on w; counted as inserted.
void dry_send(const Options& o, const std::string& statement, LineWriter& w, Stats& st, Batch& b) {
  if (!o.shards.empty()) {
    w.write("-- batch " + std::to_string(b.seq) + ": " + std::to_string(b.rows.size()) + " rows\n" + settings_line(o));
    split_parts(b, o.shards.size());
    for (size_t k = 0; k < b.parts.size(); ++k) {
      const Batch& p = b.parts[k];
      if (p.rows.empty()) continue;
      std::string urls;
      for (const auto& u : o.shards[k]) urls += (urls.empty() ? "" : ", ") + url_for_log(u);
      w.write("-- shard " + std::to_string(k + 1) + " (" + urls + "): " + std::to_string(p.rows.size()) +
              " rows\n" + statement + "\n");
      w.write(p.data);
    }
    st.inserted += b.rows.size();
    ++st.batches;
    return;
  }
  std::string s = "-- batch " + std::to_string(b.seq) + ": " + std::to_string(b.rows.size()) + " rows\n" + settings_line(o);
  if (o.format != RowFormat::values) s += statement + "\n";
  w.write(s);
  if (o.format == RowFormat::values) {
    w.line(statement);
    for (size_t i = 0; i < b.rows.size(); ++i) {
      w.write(b.row(i));
      w.write(i + 1 < b.rows.size() ? ",\n" : ";\n");
    }
  } else {
    w.write(b.data);
  }
  st.inserted += b.rows.size();  // "would be inserted"
  ++st.batches;
}

// --exactly-once: a row without Kafka coordinates could not be told from one stored before. Refused
// with 65 (a data error: the wrong input), naming the line. With the coordinates required as columns,
// such a row is `invalid`: split again without them to tell it from a row with another fault.
void require_coordinates(const Options& o, const RowShape& shape, const Line& line, RowStatus rs, const RowCoords& c) {
  bool missing = rs == RowStatus::row && !c.present;
  if (rs == RowStatus::invalid) {
    std::string scratch, why;
    RowCoords bare;
    missing = split_row(o.format, line.text, shape, false, scratch, bare, why) == RowStatus::row && !bare.present;
  }
  if (missing)
    throw DataError("line " + std::to_string(line.number) + ": a row without Kafka coordinates (_topic, _partition, "
                    "_offset): --exactly-once needs them on every row (sensor-parse writes them for kafka-cat-sensor "
                    "--envelope lines and archive lines); stopped there");
}

}  // namespace

namespace {
// The rows [a, end) of b moved into t (an empty batch), b keeping [0, a): the same topics, the
// same start time; b keeps its marks and rows stored nowhere (see cut_last).
void cut_tail(Batch& b, size_t a, Batch& t) {
  const uint64_t base = b.rows[a].start;
  t.data.assign(b.data, base, std::string::npos);
  b.data.resize(base);
  t.rows.assign(b.rows.begin() + static_cast<std::ptrdiff_t>(a), b.rows.end());
  b.rows.resize(a);
  for (auto& r : t.rows) r.start -= base;
  t.topics = b.topics;
  t.first = b.first;
}
}  // namespace

std::vector<std::unique_ptr<Batch>> cut_last(std::unique_ptr<Batch> b, size_t pieces, const std::function<std::unique_ptr<Batch>()>& make) {
  std::vector<std::unique_ptr<Batch>> out;
  const size_t n = b->rows.size();
  pieces = std::max<size_t>(1, std::min(pieces, n));
  out.resize(pieces);
  for (size_t i = pieces - 1; i >= 1; --i) {
    out[i] = make();
    cut_tail(*b, n * i / pieces, *out[i]);
  }
  // Marks (messages rejected upstream) are acknowledged with the last piece, after every row read
  // before them; rows stored nowhere stay with the first, so that their partitions are held back
  // from their offsets on before any piece's rows are acknowledged, as they were in the one batch.
  if (pieces > 1) out.back()->marks = std::move(b->marks);
  if (pieces > 1) b->marks.clear();
  out[0] = std::move(b);
  return out;
}

void reserve_batch(const Options& o, Batch& b) {
  // Reserved whole (untouched pages cost no memory), so the buffer never reallocates and
  // copies while it fills.
  b.data.reserve(static_cast<size_t>(o.batch_bytes + o.max_line + 2));
  b.rows.reserve(static_cast<size_t>(std::min<uint64_t>(o.batch_rows, 1u << 20)));
}

// Shard-direct: the batch's rows copied into one part per shard (in input order within each).
void split_parts(Batch& b, size_t shards) {
  b.parts.resize(shards);
  // sized first, so that no part's buffer grows (and copies) while it fills
  std::vector<size_t> bytes(b.parts.size()), rows(b.parts.size());
  for (size_t i = 0; i < b.rows.size(); ++i) {
    bytes[b.rows[i].shard] += b.row(i).size();
    ++rows[b.rows[i].shard];
  }
  for (size_t k = 0; k < b.parts.size(); ++k) {
    Batch& p = b.parts[k];
    p.seq = b.seq;
    p.topics = b.topics;
    p.first = b.first;
    p.data.reserve(bytes[k]);
    p.rows.reserve(rows[k]);
  }
  for (size_t i = 0; i < b.rows.size(); ++i) {
    Batch& p = b.parts[b.rows[i].shard];
    RowMeta m = b.rows[i];
    m.start = p.data.size();
    p.data += b.row(i);
    p.rows.push_back(m);
  }
}

uint64_t next_batch_rows(uint64_t batch_rows, uint64_t limit, uint64_t first) {
  if (limit == 0) {
    if (first > 0) return std::min(first, batch_rows);
    return batch_rows < 16384 ? batch_rows : batch_rows / 16;
  }
  return std::min(batch_rows, limit * 2);
}

std::string date_beyond_server(const ServerCaps& caps, const Column& col, std::string_view value) {
  if (!caps.dates_end_2105 || (col.type != ColType::Date && col.type != ColType::DateTime)) return {};
  // "YYYY-MM-DD..." (sensor-parse's text, or an ISO time): the date decides, as the last day is whole
  if (value.size() < 10 || value[4] != '-' || value[7] != '-' || value.substr(0, 10) < "2106-01-01") return {};
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (value[i] < '0' || value[i] > '9') return {};
  return col.name + ": \"" + log::printable(value, 40) + "\" is after 2105-12-31" +
         (col.type == ColType::DateTime ? " 23:59:59" : "") + ", the last " +
         (col.type == ColType::DateTime ? "DateTime" : "Date") + " ClickHouse " +
         caps.version.text + " stores (it would store a wrong date without an error)";
}

std::vector<std::pair<std::string, std::string>> insert_params(const Options& o, const ServerCaps& caps,
                                                              const std::string& statement, std::string_view body,
                                                              size_t rows, const std::string& query_id) {
  std::vector<std::pair<std::string, std::string>> params;
  if (o.format != RowFormat::values) params.emplace_back("query", statement);
  // --exactly-once: a later run waits while the server still runs an insert of this one (system.processes)
  if (!query_id.empty()) params.emplace_back("query_id", query_id);
  if (o.best_effort_dates) params.emplace_back("date_time_input_format", "best_effort");
  // One block per POST, so a refused POST leaves nothing behind (all or nothing).
  params.emplace_back("max_insert_block_size", std::to_string(std::max<uint64_t>(rows, 1048576)));
  if (caps.serial_parsing) params.emplace_back("input_format_parallel_parsing", "0");
  // Into a Distributed table, a 200 would otherwise mean "spooled on the server that took it", to
  // be forwarded later: a crash of that server loses acknowledged rows. Synchronously, the 200 comes
  // once every shard's replicated table has the rows (and a retry of the same block is deduplicated).
  // Shard-direct (--shard) writes into the local tables: nothing to forward.
  if (!o.cluster.empty() && o.shards.empty()) params.emplace_back("insert_distributed_sync", "1");
  // The token hashes the body as sent, eight bytes at a time (CityHash64; FNV-1a went a byte at a time
  // over each whole batch on its sender thread).
  if (caps.dedup_token)
    params.emplace_back("insert_deduplication_token", hex64(codec::city_hash64_v102(body)) + "-" + std::to_string(rows));
  params.insert(params.end(), o.settings.begin(), o.settings.end());  // none of the above (parse_settings)
  return params;
}

namespace {

// Why a --setting NAME is refused (nullptr: allowed). The ones ch-insert sends itself, and the ones
// that would let ClickHouse answer 200 for rows it did not store, or that are not settings at all.
const char* refused_setting(const std::string& name, const std::string& value) {
  static const std::vector<std::pair<const char*, const char*>> refused = {
      {"query", "ch-insert sends the INSERT statement itself (--table, --format)"},
      {"database", "give it with --database (env CLICKHOUSE_DATABASE)"},
      {"user", "give it with --user (env CLICKHOUSE_USER)"},
      {"password", "a password belongs in CLICKHOUSE_PASSWORD or --password-file, not in a URL"},
      {"quota_key", "ch-insert sends no quota key"},
      {"session_id", "ch-insert's requests share no session"},
      {"compress", "ch-insert reads plain answers"},
      {"decompress", "ch-insert sends gzip'd bodies (--compression-level), not ClickHouse's own compression"},
      {"input_format_allow_errors_num",
       "ClickHouse would skip bad rows without an error and ch-insert would acknowledge rows never stored; "
       "ch-insert isolates bad rows itself (--rejects)"},
      {"input_format_allow_errors_ratio",
       "ClickHouse would skip bad rows without an error and ch-insert would acknowledge rows never stored; "
       "ch-insert isolates bad rows itself (--rejects)"},
      {"max_insert_block_size", "ch-insert sets it so that each INSERT is one block, stored all or nothing"},
      {"min_insert_block_size_rows", "ch-insert sends each batch as one block, stored all or nothing"},
      {"min_insert_block_size_bytes", "ch-insert sends each batch as one block, stored all or nothing"},
      {"input_format_parallel_parsing", "ch-insert turns it off so that each INSERT is one block, stored all or nothing"},
      {"date_time_input_format", "ch-insert sends best_effort; --basic-dates turns it off"},
      {"insert_deduplicate", "a batch resent after a lost answer would be stored twice"},
      {"insert_deduplication_token", "ch-insert sets it per batch, so that a resent batch is deduplicated"},
      {"insert_distributed_sync",
       "with --cluster ch-insert sets it to 1, so that a 200 means every shard has the rows, not that they wait "
       "in a spool to be forwarded"},
  };
  for (const auto& [n, why] : refused)
    if (name == n) return why;
  if (name == "wait_for_async_insert" && value == "0")
    return "with async_insert, ClickHouse would answer before the rows are stored and ch-insert would "
           "acknowledge rows that may never be";
  return nullptr;
}

}  // namespace

namespace {
bool plain_setting_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char ch) { return std::isalnum(ch) || ch == '_'; });
}
}  // namespace

std::vector<std::pair<std::string, std::string>> parse_settings(const std::vector<std::string>& items) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& item : items) {
    auto eq = item.find('=');
    if (eq == std::string::npos)
      throw UsageError("--setting '" + log::printable(item, 60) + "': give NAME=VALUE (e.g. --setting insert_quorum=2)");
    std::string name = item.substr(0, eq), value = item.substr(eq + 1);
    if (name.empty()) throw UsageError("--setting '" + log::printable(item, 60) + "': no setting name before '='");
    if (!plain_setting_name(name))
      throw UsageError("--setting '" + log::printable(item, 60) +
                       "': a ClickHouse setting name has only letters, digits and '_'");
    if (const char* why = refused_setting(name, value))
      throw UsageError("--setting " + name + ": not allowed: " + why);
    for (const auto& [n, v] : out)
      if (n == name) throw UsageError("--setting " + name + ": given twice (" + v + " and " + log::printable(value, 60) + ")");
    out.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

void add_config_settings(std::vector<std::pair<std::string, std::string>>& settings, const Config& cfg) {
  const std::string prefix = std::string(kConfigSettingsSection) + ".";
  for (const auto& [key, value] : cfg.values()) {
    if (key.rfind(prefix, 0) != 0) continue;
    std::string name = key.substr(prefix.size());
    if (std::any_of(settings.begin(), settings.end(), [&](const auto& s) { return s.first == name; })) continue;
    // a name that is not plain is not shown: it may be a secret whose '=' sits in the wrong place
    if (!plain_setting_name(name))
      throw ConfigError(cfg.where(key) + "a key in [" + kConfigSettingsSection +
                        "] that is not a ClickHouse setting name (only letters, digits and '_'; the name is not shown)");
    if (const char* why = refused_setting(name, value))
      throw ConfigError(cfg.where(key) + kConfigSettingsSection + "." + name + ": not allowed: " + why);
    settings.emplace_back(std::move(name), value);
  }
}

std::string insert_statement(RowFormat f, const std::string& database, const std::string& table,
                             const std::vector<std::string>& columns, bool keep_coordinates) {
  std::string target = (database.empty() || database == "default" ? "" : ch_identifier(database) + ".") +
                       ch_identifier(table);
  if (f == RowFormat::values) return "INSERT INTO " + target + " VALUES";
  std::string s = "INSERT INTO " + target + " (";
  for (size_t i = 0; i < columns.size(); ++i) s += (i ? ", " : "") + ch_identifier(columns[i]);
  if (keep_coordinates) s += ", _topic, _partition, _offset";
  s += ") FORMAT ";
  s += clickhouse_format_name(f);
  return s;
}

std::string row_binary_statement(const std::string& tsv_statement) {
  const std::string tsv = std::string(" FORMAT ") + clickhouse_format_name(RowFormat::tsv);
  if (tsv_statement.size() < tsv.size() || tsv_statement.compare(tsv_statement.size() - tsv.size(), tsv.size(), tsv) != 0)
    throw Error(Exit::software, "not a TabSeparated INSERT: " + tsv_statement);
  return tsv_statement.substr(0, tsv_statement.size() - tsv.size()) + " FORMAT RowBinary";
}

void run_insert(const Options& o, const Schema& schema, ClickHouseClient* client, LineReader& in, Outputs& out,
                Stats& st, const ServerCaps& caps) {
  Metrics m;
  RejectSink rej(out.rejects);
  const bool sharded = !o.shards.empty();
  const std::string statement = insert_statement(o.format, o.database, sharded ? o.local_table : o.table,
                                                 schema.column_names(), o.keep_coordinates);
  const RowShape shape = RowShape::of(schema);
  std::unique_ptr<ShardRouter> router;
  size_t key_col = 0;
  if (sharded) {
    std::vector<uint32_t> w = caps.shard_weights;
    if (w.empty()) w.assign(o.shards.size(), 1);  // a dry run reads no cluster definition
    router = std::make_unique<ShardRouter>(w);
    while (key_col < shape.columns.size() && shape.columns[key_col] != o.shard_key) ++key_col;
    if (key_col == shape.columns.size()) throw UsageError("--shard-key '" + o.shard_key + "': not a column of the schema");
  }
  // Date and DateTime columns whose values the server may not store (ServerCaps::dates_end_2105)
  std::vector<size_t> date_cols;
  if (caps.dates_end_2105)
    for (size_t i = 0; i < schema.columns.size(); ++i)
      if (schema.columns[i].type == ColType::Date || schema.columns[i].type == ColType::DateTime) date_cols.push_back(i);
  std::string date_value, date_why;
  std::unique_ptr<Sender> sender;
  if (!o.dry_run) sender = std::make_unique<Sender>(o, caps, statement, client, out, rej, st, m);
  std::unique_ptr<eo::Resolver> resolver;  // --exactly-once: resolves each batch before it goes
  if (o.exactly_once && !o.dry_run) resolver = std::make_unique<eo::Resolver>(o, client->connection(), o.eo_run);
  uint64_t already = 0;  // rows found stored, merged into st at the end

  Progress progress("rows");
  uint64_t seq = 0;
  auto batch = sender ? sender->new_batch() : std::make_unique<Batch>();
  // ch_insert_rows_read_total is published per batch, not per row: an atomic double is a
  // compare-exchange loop, once per row on the reading thread.
  uint64_t rows_published = 0;
  auto publish_rows = [&] {
    m.rows_in.inc(static_cast<double>(st.rows_in - rows_published));
    rows_published = st.rows_in;
  };
  uint64_t batch_limit = next_batch_rows(o.batch_rows, 0, o.first_batch_rows);  // rows: smaller first batches (next_batch_rows)
  auto flush = [&] {
    publish_rows();
    if (batch->empty()) return;
    batch_limit = next_batch_rows(o.batch_rows, batch_limit);
    if (o.dry_run) {  // nothing is acknowledged: markers only go
      if (!batch->rows.empty()) {
        batch->seq = ++seq;
        dry_send(o, statement, *out.dry_run, st, *batch);
      }
      batch = std::make_unique<Batch>();
      return;
    }
    batch->seq = ++seq;
    if (resolver) {
      const uint64_t n = resolver->prepare(*batch, [&] { sender->drain(); });
      already += n;
      m.already.inc(static_cast<double>(n));
    }
    sender->submit(std::move(batch));  // compressed by the sender thread that takes it
    batch = sender->new_batch();
  };

  Line line;
  RowCoords c;
  std::string why, shard_key;
  uint64_t local_rejects = 0;  // merged into st after the sender threads are joined
  bool seen_row = false;       // a row (accepted or refused) was read before this one
  // Refused before sending: into the rejects file with the row's coordinates (read from the row as
  // sensor-parse writes them, from the end of an overlong one), acknowledged or holding its partition
  // back by the rule of rows ClickHouse refused (note_not_stored). A line torn by a stage killed
  // upstream is neither: its message comes again whole, and nothing follows it.
  Ack at;
  auto reject_here = [&](const std::string& reason, bool coords_known) {
    ++local_rejects;
    m.rejected.inc();
    if (!coords_known) coords_known = row_line_coordinates(o.format, line.overlong ? line.tail : line.text, at);
    rej.reject(line.number, line.text, reason, 0, coords_known ? &at : nullptr);
    if (o.dry_run || line.unterminated) return;
    if (batch->empty()) batch->first = Clock::now();
    note_not_stored(*batch, rej.keeps(), coords_known ? &at : nullptr);
  };
  // the sender joined first: the batch in flight is drained and its counts are final
  auto finish = [&] {
    sender.reset();
    publish_rows();
    st.rejected += local_rejects;
    st.already += already;
    progress.done();
    rej.flush();
    st.unsent = st.rows_in - st.inserted - st.rejected - st.already;
  };
  const auto window = std::chrono::microseconds(static_cast<int64_t>(o.batch_seconds * 1e6));
  try {
    for (;;) {
      if (!batch->empty() && in.fd() >= 0 && !in.line_buffered()) {
        if (!wait_readable(in.fd(), batch->first + window)) {
          flush();
          continue;
        }
      }
      if (stop_requested()) break;
      if (!in.next(line)) break;
      ++st.rows_in;
      st.bytes_in += line.full_size + 1;
      progress.update(st.rows_in, st.bytes_in);
      if (line.overlong) {
        reject_here("line longer than " + std::to_string(o.max_line) + " bytes (" + std::to_string(line.full_size) +
                    "): not sent", false);
        continue;
      }
      uint64_t start = batch->data.size();
      RowStatus rs = split_row(o.format, line.text, shape, o.keep_coordinates, batch->data, c, why);
      if (line.unterminated && (o.format == RowFormat::tsv || o.format == RowFormat::csv) && rs == RowStatus::row) {
        rs = RowStatus::invalid;
        why = cut_row_why(o.format == RowFormat::tsv ? "TSV" : "CSV");
      }
      if (rs == RowStatus::skip) {
        --st.rows_in;  // not a row
        continue;
      }
      if (o.exactly_once && !line.unterminated) require_coordinates(o, shape, line, rs, c);
      // A marker cut short by a killed sensor-parse may have lost digits of its offset: a torn line
      // like any other. Its message is read again upstream.
      if (rs == RowStatus::marker && line.unterminated) {
        rs = RowStatus::invalid;
        why = "an ack marker";
      }
      if (rs == RowStatus::marker) {
        // a message rejected upstream and kept in its rejects file: acknowledged with this batch
        // (so never before the rows read before it), nothing sent
        --st.rows_in;
        batch->data.resize(start);
        if (batch->empty()) batch->first = Clock::now();
        batch->marks.push_back({batch->topic_index(c.topic), c.partition, c.offset});
        continue;
      }
      if (rs == RowStatus::invalid) {
        batch->data.resize(start);
        // The first row of the input, refused for its columns: whoever wrote the rows used another
        // schema (sensor-parse --schema vs ch-insert's), and every row would follow it into the
        // rejects. Later rows with wrong columns are rejects like any other bad row.
        // a piece of a row whose writer was killed (a pipeline being restarted) is no schema fault
        if (line.unterminated) why = torn_line_reason(why);
        if (!seen_row && !line.unterminated && is_column_mismatch(why))
          throw ConfigError("line " + std::to_string(line.number) + ": " + why + ": the rows do not have the "
                            "schema's columns (it has " + std::to_string(shape.columns.size()) +
                            "); do sensor-parse and ch-insert use the same schema (--schema, SENSOR_SCHEMA, "
                            "[schema] file)?");
        seen_row = true;
        reject_here(why, false);
        continue;
      }
      seen_row = true;
      if (batch->rows.empty()) {
        if (batch->marks.empty()) batch->first = Clock::now();
        log::debug("batch ", seq + 1, " starts at line ", line.number);
      }
      date_why.clear();
      for (size_t col : date_cols)
        if (date_why.empty() && row_string_field(o.format, std::string_view(batch->data).substr(start), shape, col, date_value))
          date_why = date_beyond_server(caps, schema.columns[col], date_value);
      if (!date_why.empty()) {
        batch->data.resize(start);
        at = Ack{c.topic, c.partition, c.offset};
        reject_here(date_why, c.present);
        continue;
      }
      RowMeta meta{start, line.number, 0, 0, -1};
      if (router) {
        if (!row_string_field(o.format, std::string_view(batch->data).substr(start), shape, key_col, shard_key)) {
          // ClickHouse would hash a number or NULL otherwise than the text: no shard to be sure of
          batch->data.resize(start);
          at = Ack{c.topic, c.partition, c.offset};
          reject_here("no string in the shard key column '" + o.shard_key + "'", c.present);
          continue;
        }
        meta.shard = static_cast<uint32_t>(router->shard_of(shard_key));
      }
      if (c.present) {
        meta.topic = batch->topic_index(c.topic);
        meta.partition = c.partition;
        meta.offset = c.offset;
      }
      batch->rows.push_back(meta);
      if (batch->rows.size() >= batch_limit || batch->data.size() >= o.batch_bytes ||
          ((batch->rows.size() & 63) == 0 && Clock::now() - batch->first >= window))
        flush();
    }
    // The last batch is sent alone, nothing filling behind it: cut into --parallel pieces, its
    // INSERTs go at once, each compressed by its own sender thread and parsed by its own
    // ClickHouse thread (profile.sh's timeline: the last INSERT of 100000 rows alone at the end).
    // Not with --exactly-once, whose batches are resolved against the table one by one.
    constexpr size_t kMinPiece = 8192;
    if (sender && !resolver && o.parallel > 1 && batch->rows.size() >= 2 * kMinPiece) {
      const size_t n = std::min<size_t>(static_cast<size_t>(o.parallel), batch->rows.size() / kMinPiece);
      auto pieces = cut_last(std::move(batch), n, [&] { return sender->new_batch(); });
      for (auto& p : pieces) {
        batch = std::move(p);
        flush();
      }
    }
    flush();
    if (sender) sender->finish();
  } catch (...) {
    finish();
    throw;
  }
  finish();
  if (o.dry_run) out.dry_run->flush();
}

}  // namespace sp::chi
