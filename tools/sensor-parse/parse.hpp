// sensor-parse core: input lines (seed JSON, kafka-cat-sensor envelopes, or CSV with a header) ->
// validated row lines (common/rows/rows.hpp) or rejects. Pure over streams so that unit tests and the
// fuzzer drive it without a process.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/line_io.hpp"
#include "common/rows/rows.hpp"
#include "common/rows/schema.hpp"

namespace sp::parse {

enum class InputFormat { auto_detect, json, csv };
// "auto" | "json" | "csv"; throws UsageError.
InputFormat parse_input_format(std::string_view name);

// Why a line was not turned into a row, and the Kafka coordinates when the line was an envelope.
struct Reject {
  std::string reason;
  bool has_coords = false;
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  void clear() {
    reason.clear();
    has_coords = false;
    topic.clear();
    partition = -1;
    offset = -1;
  }
};

// Turns one record into one row line. Reused across lines: it owns the simdjson parsers and
// scratch buffers, so the hot path allocates nothing.
class RecordParser {
 public:
  // fast_path: plain lines skip simdjson (same rows; off only to test the two paths against each other).
  RecordParser(const Schema& schema, RowFormat format, bool fast_path = true);
  ~RecordParser();
  RecordParser(const RecordParser&) = delete;
  RecordParser& operator=(const RecordParser&) = delete;

  // A JSON line (raw message or envelope). On success appends the row (with '\n') to out and
  // returns true; otherwise fills r and leaves out unchanged. readable_past: bytes after the line
  // that may be read (LineReader::kPadding); with enough of them the line is parsed in place.
  bool json_line(std::string_view line, std::string& out, Reject& r, size_t readable_past = 0);

  // CSV input: the header line names the fields (by column name or JSON path). Throws DataError
  // when a required column has no field. Returns the names of header fields that match no column.
  std::vector<std::string> csv_header(std::string_view line);
  bool csv_line(std::string_view line, std::string& out, Reject& r);

  // Rows made by the fast path so far (the rest took simdjson).
  uint64_t fast_rows() const;

  // The value of column col in the row the last successful json_line/csv_line wrote, as text
  // ("" for NULL); for --stats.
  std::string cell_text(size_t col) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct Options {
  RowFormat format = RowFormat::json;
  InputFormat input = InputFormat::auto_detect;
  int64_t max_rejects = -1;      // exceeded -> stop reading, exit 1; -1 = no limit
  double max_reject_ratio = -1;  // rejects / records above this at the end -> exit 1; <0 = no limit
  size_t max_warnings = 100;     // reject warnings printed on stderr; the rest only counted
  size_t max_line = LineReader::kDefaultMaxLine;
  bool stats = false;  // count rows per sensor for stats_report (a map lookup per row)
};

struct Stats {
  uint64_t records = 0;  // input records (lines, without a CSV header)
  uint64_t rows = 0;
  uint64_t rejects = 0;
  uint64_t warnings_suppressed = 0;
  uint64_t bytes_in = 0;
  uint64_t fast_rows = 0;      // rows read by the fast path (plain_json.hpp), for -v
  double seconds = 0;          // how long the run took (its Progress), for the summary
  bool stopped_early = false;  // --max-rejects exceeded, or a stop signal
  std::string threshold;       // non-empty: why the reject threshold was exceeded (exit 1)
  std::map<std::string, uint64_t> rejects_by_reason;  // reason_class() -> rejects
  std::map<std::string, uint64_t> rows_by_sensor;     // with Options::stats: sensor column value -> rows
  std::string sensor_column;                          // its name
};

// A reject reason with the line's own values taken out, so that rejects of one kind count together:
// quoted text becomes "...", standalone numbers N ("value.temperature: 9999 is above the maximum 150"
// -> "value.temperature: N is above the maximum N"). At most 160 bytes. The reason label of
// sensor_parse_rejects_total and the rows of the --stats table; the full reason stays in --rejects.
std::string reason_class(std::string_view reason);

// The column --stats counts rows by: "sensor_id" if the schema has it, else the first ORDER BY column.
int sensor_column(const Schema& schema);

// The --stats report: totals, then rejects by reason and rows by sensor as aligned tables (counts
// descending, ties by name; the top `limit` rows of each, then how many more).
std::string stats_report(const Stats& st, size_t limit = 20);

// Reads every line from in, writes rows to out and one JSON line per reject to rejects (may be null).
// records == rows + rejects always holds.
Stats run(const Options& opt, const Schema& schema, LineReader& in, LineWriter& out, LineWriter* rejects);

// The command line of sensor-parse, before anything is opened: main() declares flags into it.
struct Command {
  Options o;
  std::string format = "json", input = "auto", schema_path, rejects_path;
  bool print_schema = false;  // --print-schema: the schema as a file on stdout, nothing read
};

// The tool: resolves the schema, opens --rejects, runs stdin to stdout, logs the summary (and the
// --stats report). Returns the exit code (1 over a reject threshold, 130 when stopped); throws
// sp::Error for the others.
int run_command(Command& c);

// {"line":N,"reason":"...","input":"...",...} without the trailing newline. Invalid UTF-8 in the
// input is replaced by U+FFFD in "input" and the exact bytes are kept in "input_base64".
std::string reject_json(uint64_t line, const Reject& r, std::string_view input, bool overlong, size_t full_size);

// For a line that cannot be parsed (bad UTF-8, cut at --max-line-bytes, ...) but starts as
// kafka-cat-sensor writes envelopes, {"topic":"T","partition":P,"offset":O,...: sets r's
// coordinates from that prefix so the reject still accounts for its Kafka offset.
bool salvage_envelope_coords(std::string_view line, Reject& r);

// Appends s as a JSON string, replacing invalid UTF-8 sequences by U+FFFD; returns false if any were.
bool append_json_string_lossy(std::string& out, std::string_view s);

}  // namespace sp::parse
