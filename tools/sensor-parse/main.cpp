// sensor-parse: sensor messages (seed JSON, kafka-cat-sensor envelopes, CSV) -> validated rows.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>

#include "common/core/cli.hpp"
#include "common/core/config.hpp"
#include "common/core/errors.hpp"
#include "common/core/log.hpp"
#include "common/core/progress.hpp"
#include "common/s3/s3.hpp"
#include "parse.hpp"

int main(int argc, char** argv) {
  sp::parse::Options o;
  std::string format = "json", input = "auto", schema_path, rejects_path;
  return sp::tool_main(
      "sensor-parse",
      "Validate sensor messages (JSON lines, kafka-cat-sensor envelopes or CSV) from stdin into rows on stdout", argc,
      argv,
      [&](CLI::App& app) {
        app.add_option("-f,--format", format, "Output row format: json (JSONEachRow), tsv, csv or values")
            ->capture_default_str();
        app.add_option("-i,--input-format", input, "Input format: auto, json or csv (CSV needs a header line)")
            ->capture_default_str();
        app.add_option("-s,--schema", schema_path,
                       "Schema file (JSON; default: the seed's six columns; env SENSOR_SCHEMA, config schema.file)");
        app.add_option("-r,--rejects", rejects_path,
                       "Append every reject to FILE as a JSON line (line, reason, input, Kafka coordinates); a rejected envelope then leaves an ack marker on stdout");
        app.add_option("--max-rejects", o.max_rejects,
                       "Stop and exit 1 as soon as more than N records were rejected (default: no limit)");
        app.add_option("--max-reject-ratio", o.max_reject_ratio,
                       "At the end of input (a check on a finished run: every row is out by then), exit 1 when rejects / records exceeds R, 0..1 (default: no limit; --max-rejects stops early)")
            ->check(CLI::Range(0.0, 1.0));
        app.add_option("--max-warnings", o.max_warnings,
                       "Print at most N reject warnings on stderr (the rest are counted)")
            ->capture_default_str();
        app.add_option("--max-line-bytes", o.max_line, "Longer input lines are rejected unread (memory bound)")
            ->capture_default_str()
            ->check(CLI::Range(size_t{64}, size_t{64} << 20));
        app.add_flag("--stats", o.stats,
                     "At the end, print on stderr a table of rejects by reason and of rows by sensor (also with -q)");
      },
      [&](const sp::CommonOptions&) {
        o.format = sp::parse_row_format(format);
        o.input = sp::parse::parse_input_format(input);
        sp::Schema schema = sp::Schema::resolve(schema_path);

        int rfd = -1;
        if (!rejects_path.empty()) {
          rfd = ::open(rejects_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
          if (rfd < 0) throw sp::IoError("cannot open rejects file " + rejects_path + ": " + sp::errno_text(errno));
        }
        sp::parse::Stats st;
        auto t0 = std::chrono::steady_clock::now();
        {
          sp::LineReader in(0, o.max_line);
          sp::LineWriter out(1);
          std::unique_ptr<sp::LineWriter> rej;
          if (rfd >= 0) rej = std::make_unique<sp::LineWriter>(rfd);
          st = sp::parse::run(o, schema, in, out, rej.get());
          out.flush();
          if (rej) rej->flush();
        }
        if (rfd >= 0 && ::close(rfd) != 0)
          throw sp::IoError("cannot write rejects file " + rejects_path + ": " + sp::errno_text(errno));

        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        char secs_text[32];
        std::snprintf(secs_text, sizeof secs_text, "%.2f", secs);
        std::string rate = secs > 0 ? sp::human_count(static_cast<double>(st.records) / secs) + " records/s" : "";
        sp::log::info(st.records, " records in, ", st.rows, " rows out, ", st.rejects, " rejects",
                      st.warnings_suppressed ? " (" + std::to_string(st.warnings_suppressed) + " not shown)" : "", "; ",
                      sp::human_bytes(static_cast<double>(st.bytes_in)), " in ", secs_text, " s (", rate, ")");
        // a report the user asked for: not a log line, so -q does not hide it
        if (o.stats) std::fputs(("\n" + sp::parse::stats_report(st)).c_str(), stderr);
        sp::log::debug(st.fast_rows, " of ", st.rows, " rows by the fast path (plain JSON), the rest by simdjson");
        if (!st.threshold.empty()) {
          sp::log::error(st.threshold, st.stopped_early ? "; stopped reading" : "");
          return sp::code(sp::Exit::rejects);
        }
        if (st.stopped_early) {
          sp::log::warn("stopped by a signal before the end of the input");
          return sp::code(sp::Exit::interrupted);
        }
        return 0;
      },
      sp::fetch_remote_config);
}
