// ch-insert: rows on stdin -> ClickHouse over HTTP(S), batched, retried, bad rows isolated, acks out.
#include "common/core/cli.hpp"
#include "common/http/ch_flags.hpp"
#include "common/s3/s3.hpp"
#include "insert.hpp"

int main(int argc, char** argv) {
  sp::chi::Command c;
  sp::chi::Options& o = c.o;
  return sp::tool_main(
      "ch-insert", "Insert rows from stdin into ClickHouse over HTTP(S): batched, gzip'd, retried, acknowledged",
      {sp::Exit::rejects, sp::Exit::data, sp::Exit::noinput, sp::Exit::unavailable, sp::Exit::tempfail, sp::Exit::noperm,
       sp::Exit::interrupted},
      argc, argv,
      [&](CLI::App& app) {
        sp::chflags::add(app, c.ch);
        // -t is kcat's (and kafka-cat-sensor's) topic: the table has no short flag
        sp::cli::alias(app, "-t", app.add_option("--table", c.table, "Table (default: the schema's \"table\", else sensor_metrics)"));
        app.add_option("--schema", o.schema_path, "Schema file shared with sensor-parse (default: env SENSOR_SCHEMA, config schema.file, the seed's columns)");
        sp::cli::choices(app.add_option("-f,--format", c.format, "Input rows: json (JSONEachRow), tsv, csv or values")->capture_default_str(),
                         {"json", "tsv", "csv", "values"});
        app.add_option("--batch-rows", o.batch_rows, "Send a batch at this many rows (the first batches smaller: see --first-batch-rows)")->capture_default_str()->check(CLI::Range(uint64_t{1}, uint64_t{1000000}));
        app.add_option("--first-batch-rows", o.first_batch_rows, "Rows of the first batch, doubling up to --batch-rows (default --batch-rows/16 from 16384 on; equal to it: all batches alike)")
            ->check(CLI::Range(uint64_t{1}, uint64_t{1000000}));
        app.add_option("--batch-bytes", o.batch_bytes, "... or at this many bytes (suffixes k, M, G; KiB, MiB)")
            ->transform(CLI::AsSizeValue(false))->default_str("16MiB");
        sp::cli::add_duration(app, "--batch-seconds", o.batch_seconds, "... or this long after the batch's first row (seconds, or 500ms, 2m)", 0.001, 3600.0);
        app.add_option("--compression-level", o.gzip_level, "gzip level of request bodies, 0 = send uncompressed")
            ->capture_default_str()->check(CLI::Range(0, 9));
        auto* parallel = app.add_option("-j,--parallel", o.parallel, "Batches sent at once, each on its own connection (acks stay in order)")
            ->capture_default_str()->check(CLI::Range(1, 16));
        sp::cli::alias(app, "-P", parallel);  // -P is kcat's produce
        app.add_option("--retries", o.retries, "Retries per request on network errors, timeouts and retriable server errors (-1 = forever)")
            ->capture_default_str()->check(CLI::Range(-1, 1000000));
        sp::cli::add_duration(app, "--retry-max-delay", o.retry_max_delay_seconds, "Longest wait between retries (seconds, or 500ms, 2m; exponential backoff, full jitter)", 0.001, 3600.0);
        sp::cli::add_duration(app, "--timeout", c.timeout_s, "Timeout of one request (seconds, or 500ms, 2m)", 0.1, 86400.0);
        app.add_option("--acks", c.acks_path, "Write acks (JSON lines: topic, partition, highest offset) here instead of stdout; - for stdout even on a terminal");
        app.add_flag("--no-acks", c.no_acks, "Write no acks");
        app.add_option("-r,--rejects", c.rejects_path, "Append rejected rows as JSON lines (the reason, the row's Kafka coordinates) to FILE; they are then acknowledged (without it a rejected row is kept nowhere and its partition not acknowledged past it)");
        app.add_option("--max-rejects", o.max_rejects, "Exit 1 when more rows than this were rejected (-1 = no limit)")->capture_default_str();
        app.add_flag("--keep-coordinates", o.keep_coordinates, "Send _topic, _partition, _offset as columns too (--create-table adds them to the table)");
        app.add_flag("--send-rowbinary", o.send_rowbinary,
                     "With --format tsv, send the rows re-encoded as RowBinary: less CPU for the ClickHouse server, more for ch-insert");
        app.add_flag("--exactly-once", o.exactly_once,
                     "Store each Kafka message once even across crashes and reruns: rows must carry their coordinates, "
                     "which are stored (implies --keep-coordinates); state in TABLE_kafka_offsets (one server, or with --cluster "
                     "and a --url per server, or --shard: replicated on every server)");
        app.add_flag("--create-table", o.create_table, "Create the table (ReplacingMergeTree) and the schema's rollups from the schema if missing");
        app.add_option("--cluster", o.cluster,
                       "ClickHouse cluster (remote_servers name): --create-table makes replicated TABLE_local tables "
                       "and the Distributed TABLE over them ON CLUSTER; inserts wait for the shards");
        app.add_flag("--balance", o.balance,
                     "Spread batches round-robin over the --url endpoints, or each --shard's (default: the first one not resting after a failure)");
        auto* shard = app.add_option("--shard", c.shards,
                                     "Shard-direct: one shard's replicas, URL[,URL...]; repeat once per shard in the cluster's "
                                     "order. Rows go straight into each shard's --local-table, routed as the Distributed table "
                                     "routes them (cityHash64 of --shard-key; with --cluster, by its shard weights)")
                          ->type_name("URLS");
        app.add_option("--shard-key", c.shard_key, "With --shard: the String column rows are routed by (default: sensor_id, else the first ORDER BY column)")
            ->needs(shard);
        app.add_option("--local-table", c.local_table, "With --shard: the table inserted into on each shard (default: TABLE_local)")
            ->needs(shard);
        // -n is no count's here: a long option only, as sensor-gen's count is -c (kcat's)
        sp::cli::alias(app, "-n", app.add_flag("--dry-run", o.dry_run, "Print the statements that would be sent (and the DDL with --create-table); contact no server"));
        app.add_option("--setting", c.settings,
                       "ClickHouse setting sent with every INSERT, NAME=VALUE (repeat; e.g. insert_quorum=2); "
                       "those ch-insert sets itself or that would drop rows silently are refused; config file: [clickhouse_settings] NAME = VALUE")
            ->type_name("NAME=VALUE");
        // clickhouse-client takes settings as flags of their own: the ones reached for when inserting
        for (const char* name : {"insert_quorum", "insert_quorum_timeout", "async_insert"})
          sp::cli::refuse(app, std::string("--") + name, true,
                          std::string("give ClickHouse settings as --setting ") + name + "=VALUE");
        app.add_flag("--basic-dates", c.basic_dates, "Do not send date_time_input_format=best_effort (rows hold 'YYYY-MM-DD hh:mm:ss' only)");
        sp::cli::alias(app, "--max-line",
                       app.add_option("--max-line-bytes", o.max_line, "Longest accepted input line in bytes; longer ones are rejected")->capture_default_str());
      },
      [&](const sp::CommonOptions&) { return sp::chi::run_command(c); }, sp::fetch_remote_config);
}
