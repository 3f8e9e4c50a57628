// ch-insert's core: rows from a LineReader are cut into batches (rows / bytes / seconds, whichever
// first), each batch is POSTed gzip'd by a sender thread while the next one fills (so reading,
// compressing and the server's parsing overlap), bad rows are isolated by splitting a refused
// batch, and the highest Kafka offset per topic/partition goes to the ack output once a batch is done.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/core/config.hpp"
#include "common/core/retry.hpp"
#include "common/http/clickhouse.hpp"
#include "common/core/line_io.hpp"
#include "common/rows/row_binary.hpp"
#include "common/rows/rows.hpp"
#include "common/rows/schema.hpp"
#include "endpoints.hpp"

namespace sp::chi {

struct Options {
  RowFormat format = RowFormat::json;
  std::string database = "default";
  std::string table = "sensor_metrics";
  std::string schema_path;  // empty: the seed's default schema
  uint64_t batch_rows = 100000;
  uint64_t first_batch_rows = 0;  // --first-batch-rows; 0: next_batch_rows's default
  uint64_t batch_bytes = 16ull << 20;
  double batch_seconds = 1.0;
  int gzip_level = 1;  // 0 = no compression
  int parallel = 2;    // batches in flight at once (each its own connection)
  int retries = 10;    // per request; -1 = forever
  double retry_initial_seconds = 0.2;
  double retry_max_delay_seconds = 30;
  bool keep_coordinates = false;
  bool create_table = false;
  // --format tsv: the rows re-encoded as RowBinary for the INSERT (ClickHouse parses it for less CPU
  // than the text), decided once at start (choose_row_binary, run.cpp): the columns' encodings, or empty
  // to send the text (no --send-rowbinary, another format, a type or table that does not allow it)
  bool send_rowbinary = false;
  std::vector<RbColumn> row_binary;
  // --exactly-once (exactly_once.hpp): every row carries its coordinates, which are stored; the state
  // table TABLE_kafka_offsets says what may be stored already. eo_run tags this run's inserts.
  bool exactly_once = false;
  std::string eo_run;
  // remote_servers name: --create-table makes replicated local tables + a Distributed one ON CLUSTER,
  // and inserts wait until the Distributed table has written to the shards (insert_distributed_sync)
  std::string cluster;
  bool balance = false;  // spread requests round-robin over the --url endpoints not resting
  // Shard-direct (--shard, once per shard in the cluster's shard order): each shard's replicas. When
  // set, every batch is split by shard_key (cityHash64 over the shard weights, as the Distributed
  // table does) and each part goes into that shard's local_table, with failover among its replicas.
  std::vector<std::vector<std::string>> shards;
  std::string shard_key;    // a String column of the schema (default: its sharding column)
  std::string local_table;  // default TABLE_local, what --create-table --cluster makes
  bool dry_run = false;
  bool best_effort_dates = true;
  int64_t max_rejects = -1;  // -1: no limit
  size_t max_line = 1 << 20;
  // --setting NAME=VALUE: ClickHouse settings sent with every INSERT as URL parameters (after
  // ch-insert's own, which parse_settings keeps them from replacing), in the order given
  std::vector<std::pair<std::string, std::string>> settings;
};

// --setting values checked and split: UsageError for a malformed item ("NAME=VALUE", NAME of
// [A-Za-z0-9_]), a name given twice, and the settings ch-insert controls itself or whose value would
// break its guarantees (rows acknowledged but never stored), saying why. Pure: unit-tested.
std::vector<std::pair<std::string, std::string>> parse_settings(const std::vector<std::string>& items);
// The config file's [clickhouse_settings] (NAME = VALUE, one setting a line) appended to the --setting
// values: a flag wins over the file's value of the same name. The same refusals as --setting, as a
// ConfigError (exit 78) naming FILE:LINE.
inline constexpr const char* kConfigSettingsSection = "clickhouse_settings";
void add_config_settings(std::vector<std::pair<std::string, std::string>>& settings, const Config& cfg);

// --retries (-1: forever), --retry-initial, --retry-max-delay, no time limit: the budget of every
// request ch-insert retries (inserts, the version check, shard queries).
Retry::Budget retry_budget(const Options& o);

// What the server supports, found by prepare_server from its version (a dry run assumes none).
struct ServerCaps {
  bool dedup_token = false;     // send insert_deduplication_token (server >= 22.2)
  bool serial_parsing = false;  // send input_format_parallel_parsing=0 (server >= 20.1)
  ChVersion version;            // text "" in a dry run: the DDL is shown whole
  // Date and DateTime end with 2105-12-31 (23:59:59) on old servers (checked on 18.16.1 by inserting:
  // 2106-01-01 is stored as 0000-00-00, 2106-02-07 06:28:15 as 1970-01-01 06:28:15, with a 200);
  // current ones store what sensor-parse lets through (DateTime up to 2106-02-07 06:28:15, Date up
  // to 2149-06-06). Between 18.16 and 22.1 the older bound is kept: a few rows of the year 2106 go to
  // the rejects rather than risk silent zeros.
  bool dates_end_2105 = false;
  static ServerCaps of(const ChVersion& v);
  std::vector<uint32_t> shard_weights;  // --shard with --cluster: system.clusters' weights (else 1 each)
};

// The URL parameters of the INSERT of `rows` rows whose request body is `body` (gzip'd or not):
// the statement (not for VALUES, whose body is the statement), settings, and the deduplication
// token on servers that have it. Pure, so the request for each server version is unit-tested.
// The value of a Date or DateTime column the server would not store (caps.dates_end_2105): the reason
// for its reject, or "" when the value is fine (or not a date text this check knows). Pure: unit-tested.
std::string date_beyond_server(const ServerCaps& caps, const Column& col, std::string_view value);

// The row limit of the batch after one of `limit` rows: the first batch is `first` rows (0: a
// sixteenth of --batch-rows from 16384 on, else --batch-rows) and each next one twice its
// predecessor, up to --batch-rows. ClickHouse sat idle while a whole first batch filled (0.15-0.45 s
// of a 1M-row run, profile.sh's timeline); the smaller first ones give it rows at once, for four
// more INSERTs a run. limit 0: the first batch's. Pure: unit-tested.
uint64_t next_batch_rows(uint64_t batch_rows, uint64_t limit, uint64_t first = 0);

// query_id: --exactly-once's id of this POST (sp-eo-RUN-N), "" for none.
std::vector<std::pair<std::string, std::string>> insert_params(const Options& o, const ServerCaps& caps,
                                                              const std::string& statement, std::string_view body,
                                                              size_t rows, const std::string& query_id = {});

struct Stats {
  uint64_t rows_in = 0, inserted = 0, rejected = 0, batches = 0, posts = 0, retries = 0;
  uint64_t bytes_in = 0, bytes_sent = 0;
  uint64_t already = 0;  // --exactly-once: rows found stored (by an earlier run), acknowledged, not sent
  uint64_t unsent = 0;  // rows read but neither inserted, rejected nor already stored (failure / interrupt)
  // Rejected rows kept nowhere (no --rejects, or coordinates unknown), and the offsets not
  // acknowledged because of them (theirs and those after them in the same partitions).
  uint64_t lost = 0, held_back = 0;
  std::vector<std::string> held_from;  // "topic[partition] offset N" per partition held back
  std::vector<EndpointStats> endpoints;  // per --url (or --shard URL): rows and INSERTs it took, its failures
};

// Where acks and rejects go; the caller owns the writers (stdout, a FIFO, files).
struct Outputs {
  LineWriter* acks = nullptr;     // may be null: no acks
  LineWriter* rejects = nullptr;  // may be null: rejects only logged
  LineWriter* dry_run = nullptr;  // dry run: statements go here (stdout)
};

// --create-table's statements: one CREATE TABLE, or with --cluster the database (unless default),
// the replicated local tables and the Distributed table, all ON CLUSTER; then the schema's rollups
// (Schema::create_rollups_sql).
// A failed request for a log line or an error: what was asked, the server (credentials never shown)
// and what failed there: "INSERT of 1000 rows at http://ch2:8123 failed: Code: 252, ...".
std::string failed_at(const std::string& what, const std::string& url, const ChError& err);

std::vector<std::string> create_table_statements(const Options& o, const Schema& schema, const std::string& database);

// --create-table's statements for the server found (caps.version; missing_settings: the schema's table
// settings absent from its system.merge_tree_settings): what the server lacks is left out when only
// storage changes (codecs, tuning settings; one line each in left_out) or refused (a type it lacks, a
// TTL before 19.6, a setting that decides what is kept or deduplicated: `refused` says which, and
// nothing is to be run). Pure: unit-tested per version.
struct ServerDdl {
  std::vector<std::string> statements;
  std::vector<std::string> left_out;
  std::string refused;
};
ServerDdl server_ddl(const Options& o, const Schema& schema, const std::string& database, const ServerCaps& caps,
                     const std::vector<std::string>& missing_settings);

// The INSERT statement text (no data) for the format: "INSERT INTO db.t (cols) FORMAT JSONEachRow"
// or, for VALUES, the seed's "INSERT INTO sensor_metrics VALUES".
std::string insert_statement(RowFormat f, const std::string& database, const std::string& table,
                             const std::vector<std::string>& columns, bool keep_coordinates);
// The same statement for a body of RowBinary (Options::row_binary): "... FORMAT RowBinary".
std::string row_binary_statement(const std::string& tsv_statement);

// Before reading stdin: reaches the server (retrying like inserts; UnavailableError when it never
// answers), detects its version, runs --create-table's DDL (adapted to the version: server_ddl) and
// checks that the table's columns are the schema's (ConfigError listing the differences), or checks
// that the table exists (NoInputError suggesting --create-table). Returns what the server supports.
ServerCaps prepare_server(const Options& o, const Schema& schema, ClickHouseClient& client);

// An ON CLUSTER statement that outwaited distributed_ddl_task_timeout (Code 159): ClickHouse names how
// many members have not run it and how many of those are up ("There are 1 unfinished hosts (0 of them
// are currently active)"); nullopt for any other message.
struct DdlUnfinished {
  int hosts = 0;
  int active = 0;
};
std::optional<DdlUnfinished> ddl_unfinished(std::string_view message);

// Runs the whole stream; `st` is filled as it goes (also when it throws). `client` is null in
// dry-run mode. Throws sp::Error on fatal failures, after writing acks for everything confirmed.
void run_insert(const Options& o, const Schema& schema, ClickHouseClient* client, LineReader& in, Outputs& out,
                Stats& st, const ServerCaps& caps = {});

// The command line of ch-insert, before anything is opened: main() declares flags into it.
struct Command {
  Options o;
  ChFlags ch;  // --url, --user, ... (common/http/ch_flags.hpp)
  std::string format = "json", acks_path, rejects_path, table;
  std::vector<std::string> shards;  // --shard values, "URL[,URL...]"
  std::vector<std::string> settings;  // --setting values, "NAME=VALUE"
  std::string shard_key, local_table;
  bool no_acks = false, basic_dates = false;
  double timeout_s = 300;
};

// The tool: resolves the schema and the connection, opens the outputs (--acks or stdout, --rejects),
// prepares the server (or prints the dry run's DDL), inserts stdin, logs the summary. Returns the
// exit code (1 over --max-rejects, 130 when stopped); throws sp::Error for the others.
int run_command(Command& c);

}  // namespace sp::chi
