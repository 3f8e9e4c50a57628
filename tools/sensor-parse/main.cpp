// sensor-parse: sensor messages (seed JSON, kafka-cat-sensor envelopes, CSV) -> validated rows.
#include "common/core/cli.hpp"
#include "common/s3/s3.hpp"
#include "parse.hpp"

int main(int argc, char** argv) {
  sp::parse::Command c;
  sp::parse::Options& o = c.o;
  return sp::tool_main(
      "sensor-parse",
      "Validate sensor messages (JSON lines, kafka-cat-sensor envelopes or CSV) from stdin into rows on stdout",
      {sp::Exit::rejects, sp::Exit::data, sp::Exit::interrupted}, argc, argv,
      [&](CLI::App& app) {
        sp::cli::choices(app.add_option("-f,--format", c.format, "Output row format: json (JSONEachRow), tsv, csv or values")
            ->capture_default_str(), {"json", "tsv", "csv", "values"});
        sp::cli::choices(app.add_option("-i,--input-format", c.input, "Input format: auto, json or csv (CSV needs a header line)")
            ->capture_default_str(), {"auto", "json", "csv"});
        // --schema as ch-insert's, no letter (-s was also s3-cat's summarize)
        sp::cli::alias(app, "-s", app.add_option("--schema", c.schema_path,
                       "Schema file (JSON; default: the seed's six columns; env SENSOR_SCHEMA, config schema.file)"));
        app.add_option("-r,--rejects", c.rejects_path,
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
        app.add_flag("--print-schema", c.print_schema,
                     "Print the schema in use (--schema, else the built-in seed schema) as a schema file and exit: a file to start from");
        app.add_flag("--stats", o.stats,
                     "At the end, print on stderr a table of rejects by reason and of rows by sensor (also with -q)");
      },
      [&](const sp::CommonOptions&) { return sp::parse::run_command(c); }, sp::fetch_remote_config);
}
