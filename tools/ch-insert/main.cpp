// ch-insert: rows on stdin -> ClickHouse over HTTP(S), batched, retried, bad rows isolated, acks out.
#include <fcntl.h>
#include <unistd.h>

#include <iostream>
#include <memory>

#include "common/core/cli.hpp"
#include "common/http/clickhouse.hpp"
#include "common/core/config.hpp"
#include "common/core/errors.hpp"
#include "common/core/log.hpp"
#include "common/core/progress.hpp"
#include "common/core/signals.hpp"
#include "common/s3/s3.hpp"
#include "insert.hpp"

namespace {
int open_output(const std::string& path, const char* what) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw sp::IoError(std::string("cannot open ") + what + " file " + path + ": " + sp::errno_text(errno));
  return fd;
}
}  // namespace

int main(int argc, char** argv) {
  sp::chi::Options o;
  sp::ChFlags f;
  std::string format = "json", acks_path, rejects_path, table;
  bool no_acks = false, basic_dates = false;
  double timeout_s = 300;
  return sp::tool_main(
      "ch-insert", "Insert rows from stdin into ClickHouse over HTTP(S): batched, gzip'd, retried, acknowledged",
      argc, argv,
      [&](CLI::App& app) {
        app.add_option("--url", f.urls,
                       "ClickHouse HTTP(S) URL; repeat for failover (env CLICKHOUSE_URL, config clickhouse.url; "
                       "default http://127.0.0.1:8123)");
        app.add_option("-u,--user", f.user, "User (env CLICKHOUSE_USER, config clickhouse.user; default 'default')");
        app.add_option("--password-file", f.password_file,
                       "Read the password from this file's first line (else env CLICKHOUSE_PASSWORD, "
                       "CLICKHOUSE_PASSWORD_FILE, config clickhouse.password_file / clickhouse.password)");
        app.add_option("-d,--database", f.database, "Database (env CLICKHOUSE_DATABASE, config clickhouse.database; default 'default')");
        app.add_option("-t,--table", table, "Table (default: the schema's \"table\", else sensor_metrics)");
        app.add_option("--schema", o.schema_path, "Schema file shared with sensor-parse (default: env SENSOR_SCHEMA, config schema.file, the seed's columns)");
        app.add_option("-f,--format", format, "Input rows: json (JSONEachRow), tsv, csv or values")->capture_default_str();
        app.add_option("--batch-rows", o.batch_rows, "Send a batch at this many rows")->capture_default_str()->check(CLI::Range(uint64_t{1}, uint64_t{1000000}));
        app.add_option("--batch-bytes", o.batch_bytes, "... or at this many bytes (suffixes k, M, G; KiB, MiB)")
            ->transform(CLI::AsSizeValue(false))->default_str("16MiB");
        app.add_option("--batch-seconds", o.batch_seconds, "... or this long after the batch's first row")
            ->capture_default_str()->check(CLI::Range(0.001, 3600.0));
        app.add_option("--compression-level", o.gzip_level, "gzip level of request bodies, 0 = send uncompressed")
            ->capture_default_str()->check(CLI::Range(0, 9));
        app.add_option("-P,--parallel", o.parallel, "Batches sent at once, each on its own connection (acks stay in order)")
            ->capture_default_str()->check(CLI::Range(1, 16));
        app.add_option("--retries", o.retries, "Retries per request on network errors, timeouts and retriable server errors (-1 = forever)")
            ->capture_default_str()->check(CLI::Range(-1, 1000000));
        app.add_option("--retry-max-delay", o.retry_max_delay_seconds, "Longest wait between retries, seconds (exponential backoff, full jitter)")
            ->capture_default_str()->check(CLI::Range(0.001, 3600.0));
        app.add_option("--timeout", timeout_s, "Timeout of one request, seconds")->capture_default_str()->check(CLI::Range(0.1, 86400.0));
        app.add_option("--acks", acks_path, "Write acks (JSON lines: topic, partition, highest offset) here instead of stdout; - for stdout even on a terminal");
        app.add_flag("--no-acks", no_acks, "Write no acks");
        app.add_option("--rejects", rejects_path, "Append rejected rows as JSON lines with ClickHouse's message to FILE");
        app.add_option("--max-rejects", o.max_rejects, "Exit 1 when more rows than this were rejected (-1 = no limit)")->capture_default_str();
        app.add_flag("--keep-coordinates", o.keep_coordinates, "Send _topic, _partition, _offset as columns too");
        app.add_flag("--create-table", o.create_table, "Create the table from the schema if missing (ReplacingMergeTree)");
        app.add_flag("-n,--dry-run", o.dry_run, "Print the DDL and the statements that would be sent; contact no server");
        app.add_flag("--basic-dates", basic_dates, "Do not send date_time_input_format=best_effort (rows hold 'YYYY-MM-DD hh:mm:ss' only)");
        app.add_option("--ca-file", f.ca_file, "Extra CA bundle for https URLs (env CLICKHOUSE_CA_FILE, config clickhouse.ca_file)");
        app.add_flag("--insecure", f.insecure, "Do not verify the server's TLS certificate");
        app.add_option("--max-line", o.max_line, "Longest accepted input line in bytes; longer ones are rejected")->capture_default_str();
      },
      [&](const sp::CommonOptions&) {
        o.format = sp::parse_row_format(format);
        o.best_effort_dates = !basic_dates;
        f.timeout_ms = static_cast<long>(timeout_s * 1000);
        if (o.batch_bytes < 1) throw sp::UsageError("--batch-bytes must be at least 1");
        if (o.batch_bytes > (1ull << 30)) throw sp::UsageError("--batch-bytes must be at most 1GiB");
        sp::Schema schema = sp::Schema::resolve(o.schema_path);
        o.table = table.empty() ? schema.table : table;  // flag > schema file > sensor_metrics
        sp::ChConnection conn = sp::resolve_ch_connection(f);
        o.database = conn.database;

        sp::LineWriter std_out(1);
        std::unique_ptr<sp::LineWriter> acks_file, rejects_file;
        int acks_fd = -1, rejects_fd = -1;
        sp::chi::Outputs out;
        if (!rejects_path.empty()) {
          rejects_fd = open_output(rejects_path, "rejects");
          rejects_file = std::make_unique<sp::LineWriter>(rejects_fd);
          out.rejects = rejects_file.get();
        }
        std::unique_ptr<sp::ClickHouseClient> client;
        if (o.dry_run) {
          out.dry_run = &std_out;
          if (o.create_table) std_out.line(schema.create_table_sql(o.database, o.table) + ";");
        } else {
          if (!acks_path.empty() && acks_path != "-" && !no_acks) {
            acks_fd = open_output(acks_path, "acks");
            acks_file = std::make_unique<sp::LineWriter>(acks_fd);
            out.acks = acks_file.get();
          } else if (!no_acks && (acks_path == "-" || !::isatty(STDOUT_FILENO))) {
            // acks are for a program (kafka-cat-sensor's FIFO); a person at a terminal gets them only
            // when asking (--acks -)
            out.acks = &std_out;
          }
          client = std::make_unique<sp::ClickHouseClient>(conn);
          sp::chi::prepare_server(o, schema, *client);
        }

        sp::LineReader in(0, o.max_line);
        sp::chi::Stats st;
        sp::Progress clock("rows");
        auto summary = [&] {
          sp::log::info(sp::summary_text(st.rows_in, st.bytes_in, clock.elapsed_seconds(), "rows"), "; ",
                        st.inserted, o.dry_run ? " would be inserted, " : " inserted, ", st.rejected, " rejected",
                        st.unsent ? ", " + std::to_string(st.unsent) + " NOT inserted (not acknowledged)" : "",
                        "; ", st.batches, " batches, ", st.posts, " requests, ", st.retries, " retries, ",
                        sp::human_bytes(static_cast<double>(st.bytes_sent)), " sent");
        };
        try {
          sp::chi::run_insert(o, schema, client.get(), in, out, st);
        } catch (const sp::Error& e) {
          summary();
          throw;
        }
        std_out.flush();
        if (acks_file) acks_file->flush();
        if (rejects_file) rejects_file->flush();
        acks_file.reset();
        rejects_file.reset();
        if (acks_fd >= 0) ::close(acks_fd);
        if (rejects_fd >= 0) ::close(rejects_fd);
        summary();
        if (sp::stop_requested()) {
          sp::log::warn("stopped by signal ", sp::stop_signal(), " after draining what was read");
          return sp::code(sp::Exit::interrupted);
        }
        if (o.max_rejects >= 0 && st.rejected > static_cast<uint64_t>(o.max_rejects)) {
          sp::log::error(st.rejected, " rows rejected, more than --max-rejects ", o.max_rejects);
          return sp::code(sp::Exit::rejects);
        }
        return 0;
      },
      sp::fetch_remote_config);
}
