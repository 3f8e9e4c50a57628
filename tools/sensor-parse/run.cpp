// Construction, the row out (emit), the --stats report, and run() over a stream.
#include "parser.hpp"

#include <algorithm>
#include <cctype>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include <fcntl.h>
#include <unistd.h>

#include <memory>

#include "common/core/log.hpp"
#include "common/core/metrics.hpp"
#include "common/core/progress.hpp"
#include "common/core/signals.hpp"

namespace sp::parse {

InputFormat parse_input_format(std::string_view name) {
  if (name == "auto") return InputFormat::auto_detect;
  if (name == "json" || name == "jsonl" || name == "ndjson") return InputFormat::json;
  if (name == "csv") return InputFormat::csv;
  throw UsageError("unknown input format '" + std::string(name) + "' (use auto, json or csv)");
}

int sensor_column(const Schema& schema) {
  int i = schema.index_of("sensor_id");
  if (i < 0 && !schema.order_by.empty()) i = schema.index_of(schema.order_by.front());
  return i;
}

namespace {
// "name  count  share" rows, counts descending (ties by name), the first `limit` of them.
void stats_table(std::string& out, const std::string& title, const std::map<std::string, uint64_t>& counts,
                 uint64_t total, size_t limit) {
  std::vector<std::pair<std::string, uint64_t>> v(counts.begin(), counts.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  size_t shown = std::min(limit, v.size());
  size_t w = title.size();
  for (size_t i = 0; i < shown; ++i) w = std::max(w, v[i].first.empty() ? 6 : v[i].first.size());
  auto pad = [](const std::string& s, size_t n) { return s.size() < n ? s + std::string(n - s.size(), ' ') : s; };
  auto rpad = [](const std::string& s, size_t n) { return s.size() < n ? std::string(n - s.size(), ' ') + s : s; };
  out += pad(title, w) + "  " + rpad("count", 10) + "  " + rpad("%", 6) + "\n";
  for (size_t i = 0; i < shown; ++i) {
    char pct[16];
    std::snprintf(pct, sizeof pct, "%.2f", total ? 100.0 * static_cast<double>(v[i].second) / static_cast<double>(total) : 0.0);
    out += pad(v[i].first.empty() ? "(NULL)" : v[i].first, w) + "  " + rpad(std::to_string(v[i].second), 10) + "  " +
           rpad(pct, 6) + "\n";
  }
  if (v.size() > shown) {
    uint64_t rest = 0;
    for (size_t i = shown; i < v.size(); ++i) rest += v[i].second;
    out += "(" + std::to_string(v.size() - shown) + " more, " + std::to_string(rest) + " in all)\n";
  }
}
}  // namespace

std::string stats_report(const Stats& st, size_t limit) {
  char pct[32];
  std::snprintf(pct, sizeof pct, "%.2f%%",
                st.records ? 100.0 * static_cast<double>(st.rejects) / static_cast<double>(st.records) : 0.0);
  std::string out = "records " + std::to_string(st.records) + ", rows " + std::to_string(st.rows) + ", rejects " +
                    std::to_string(st.rejects) + " (" + pct + ")\n";
  out += "\n";
  if (st.rejects_by_reason.empty())
    out += "no rejects\n";
  else
    stats_table(out, "rejects by reason (% of records)", st.rejects_by_reason, st.records, limit);
  out += "\n";
  if (st.sensor_column.empty())
    out += "rows by sensor: the schema has no sensor_id and no ORDER BY column\n";
  else if (st.rows_by_sensor.empty())
    out += "no rows\n";
  else
    stats_table(out, "rows by " + st.sensor_column + " (% of rows)", st.rows_by_sensor, st.rows, limit);
  return out;
}

RecordParser::Impl::Impl(const Schema& s, RowFormat f, bool fast)
    : schema(s),
      format(f),
      builder(f, s.column_names()),
      cells(s.columns.size()),
      defaults(s.columns.size()),
      default_text(s.columns.size()) {
  std::vector<std::string> parent_names;
  for (size_t i = 0; i < s.columns.size(); ++i) {
    const Column& c = s.columns[i];
    if (c.path.empty()) throw ConfigError("column " + c.name + ": empty path");
    std::string parent;
    for (size_t k = 0; k + 1 < c.path.size(); ++k) parent += c.path[k] + '\0';
    auto it = std::find(parent_names.begin(), parent_names.end(), parent);
    if (it == parent_names.end()) {
      parent_names.push_back(parent);
      parent_rep.push_back(i);
      it = parent_names.end() - 1;
    }
    col_parent.push_back(static_cast<size_t>(it - parent_names.begin()));
  }
  parent_elem.resize(parent_names.size());
  parent_state.resize(parent_names.size());
  parent_cols.resize(parent_names.size());
  parent_keys.resize(parent_names.size());
  parent_rotate.assign(parent_names.size(), 1);
  for (size_t i = 0; i < s.columns.size(); ++i) {
    size_t p = col_parent[i];
    std::string_view key = schema.columns[i].path.back();
    for (std::string_view k : parent_keys[p])
      if (k == key) parent_rotate[p] = 0;
    parent_cols[p].push_back(i);
    parent_keys[p].push_back(key);
  }
  col_elem.resize(s.columns.size());
  container_text.resize(s.columns.size());
  for (const Column& c : s.columns) {
    std::string p;
    for (const std::string& part : c.path) {
      p += '/';
      for (char ch : part) p += ch == '~' ? std::string("~0") : ch == '/' ? std::string("~1") : std::string(1, ch);
    }
    col_ptr.push_back(std::move(p));
  }
  col_found.resize(s.columns.size());
  if (fast) build_fast_paths();
  for (size_t i = 0; i < s.columns.size(); ++i) {
    const Column& c = s.columns[i];
    if (!c.default_json) continue;
    simdjson::dom::parser p;
    auto doc = p.parse(*c.default_json);
    if (doc.error()) throw ConfigError("column " + c.name + ": default " + *c.default_json + " is not JSON");
    Cell cell;
    if (!from_json(c, doc.value_unsafe(), cell))
      throw ConfigError("column " + c.name + ": the default does not pass its own checks: " + why);
    if (cell.kind == Cell::k_str) {
      default_text[i] = std::string(cell.s);
      cell.s = default_text[i];
    }
    defaults[i] = cell;
  }
  // An absent Array or Map is an empty one (ClickHouse has no Nullable of them).
  for (size_t i = 0; i < s.columns.size(); ++i) {
    if (!s.columns[i].is_container()) continue;
    defaults[i].kind = Cell::k_list;
    defaults[i].s = s.columns[i].type == ColType::Array ? "[]" : "{}";
  }
}

void RecordParser::Impl::emit(std::string& out, const Reject* coords) {
  builder.begin(out);
  for (const Cell& c : cells) {
    switch (c.kind) {
      case Cell::k_str:
        builder.string(c.s);
        break;
      case Cell::k_num:
        builder.number(c.num());
        break;
      case Cell::k_dt:
        builder.datetime(c.dt);  // RowBuilder keeps the day's date text cached
        break;
      case Cell::k_null:
        builder.null();
        break;
      case Cell::k_text:
        builder.string(c.num());
        break;
      case Cell::k_list:
        if (format == RowFormat::csv)
          builder.string(c.s);
        else
          builder.number(c.s);
        break;
    }
  }
  if (coords) builder.coords(coords->topic, coords->partition, coords->offset);
  builder.end();
}

RecordParser::RecordParser(const Schema& schema, RowFormat format, bool fast_path)
    : impl_(std::make_unique<Impl>(schema, format, fast_path)) {}
RecordParser::~RecordParser() = default;
bool RecordParser::json_line(std::string_view line, std::string& out, Reject& r, size_t readable_past) {
  return impl_->json_line(line, out, r, readable_past);
}
std::vector<std::string> RecordParser::csv_header(std::string_view line) { return impl_->csv_header(line); }
uint64_t RecordParser::fast_rows() const { return impl_->fast_rows; }
std::string RecordParser::cell_text(size_t col) const { return impl_->cell_text(col); }
bool RecordParser::csv_line(std::string_view line, std::string& out, Reject& r) {
  return impl_->csv_line(line, out, r);
}

namespace {
// The counters of a run, published from its Stats when the input pauses and at the end.
class RunMetrics {
 public:
  void publish(const Stats& st) {
    records_.inc(static_cast<double>(st.records - published_records_));
    rows_.inc(static_cast<double>(st.rows - published_rows_));
    published_records_ = st.records;
    published_rows_ = st.rows;
    for (const auto& [cls, n] : st.rejects_by_reason) {
      auto& [counter, published] = rejects_[cls];
      if (!counter)
        counter = &m_.counter("parse_rejects_total",
                              "Input records rejected by sensor-parse, by reason (reasons with the line's values taken out)",
                              label("reason", cls));
      counter->inc(static_cast<double>(n - published));
      published = n;
    }
  }

 private:
  Metrics& m_ = metrics();
  Counter& records_ = m_.counter("parse_records_total", "Input records read by sensor-parse");
  Counter& rows_ = m_.counter("parse_rows_total", "Rows written by sensor-parse");
  // rejects by reason_class(): a counter per class, created when the class first occurs
  std::map<std::string, std::pair<Counter*, uint64_t>> rejects_;  // class -> (counter, published)
  uint64_t published_records_ = 0, published_rows_ = 0;
};
}  // namespace

Stats run(const Options& opt, const Schema& schema, LineReader& in, LineWriter& out, LineWriter* rejects) {
  RecordParser parser(schema, opt.format);
  Stats st;
  InputFormat fmt = opt.input;
  bool need_header = fmt == InputFormat::csv;
  // Rows are built straight into this batch (a reject never leaves a partial row) and handed to
  // the writer in one piece.
  constexpr size_t kBatch = 60 << 10;
  std::string row;
  row.reserve(kBatch + 4096);
  Reject r;
  Line line;
  Progress progress;
  RunMetrics m;
  int sensor_col = opt.stats ? sensor_column(schema) : -1;
  if (sensor_col >= 0) st.sensor_column = schema.columns[static_cast<size_t>(sensor_col)].name;

  while (in.next(line)) {
    std::string_view text = line.text;
    if (fmt == InputFormat::auto_detect && !line.overlong && !is_blank(text)) {
      fmt = looks_like_csv_header(text, schema) ? InputFormat::csv : InputFormat::json;
      need_header = fmt == InputFormat::csv;
      log::debug("input format: ", fmt == InputFormat::csv ? "CSV with a header" : "JSON lines");
    }
    if (need_header && !line.overlong && !is_blank(text)) {
      for (const auto& u : parser.csv_header(text)) log::warn("CSV header field '", u, "' matches no column; ignored");
      need_header = false;
      continue;
    }
    ++st.records;
    r.clear();
    bool ok;
    if (line.overlong) {
      r.reason = "line of " + std::to_string(line.full_size) + " bytes is longer than the limit of " +
                 std::to_string(opt.max_line) + " (--max-line-bytes)";
      salvage_envelope_coords(text, r);
      ok = false;
    } else if (fmt == InputFormat::csv && line.unterminated) {
      r.reason = cut_row_why("CSV");
      ok = false;
    } else if (fmt == InputFormat::csv) {
      ok = parser.csv_line(text, row, r);
    } else {
      ok = parser.json_line(text, row, r, LineReader::kPadding);
    }
    if (ok) {
      ++st.rows;
      if (sensor_col >= 0) ++st.rows_by_sensor[parser.cell_text(static_cast<size_t>(sensor_col))];
    } else if (!report_reject(opt, line, r, rejects, st, row, schema.columns.size())) {
      break;
    }
    // Rows must not wait in our buffer while the upstream is quiet (a live Kafka stream):
    // flush whenever the next read could block.
    bool idle = !in.line_buffered();
    if (row.size() >= kBatch || idle) {
      // Rejects reach their file before any later row leaves: once ch-insert acknowledges a later
      // offset, a reject still in our buffer would be lost for good if we were killed now.
      if (rejects) rejects->flush();
      out.write(row);
      row.clear();
    }
    if (idle) {
      out.flush();
      if (rejects) rejects->flush();
      m.publish(st);
    }
    progress.update(st.records, in.bytes());
    if ((st.records & 1023) == 0 && stop_requested()) {
      st.stopped_early = true;
      break;
    }
  }
  // LineReader ends the input early on SIGINT/SIGTERM: what was read is written, the exit says so.
  if (stop_requested()) st.stopped_early = true;
  progress.done();
  st.seconds = progress.elapsed_seconds();
  if (rejects) rejects->flush();
  out.write(row);
  out.flush();
  if (rejects) rejects->flush();
  m.publish(st);
  st.bytes_in = in.bytes();
  st.fast_rows = parser.fast_rows();
  if (st.threshold.empty() && opt.max_reject_ratio >= 0 && st.records > 0) {
    double ratio = static_cast<double>(st.rejects) / static_cast<double>(st.records);
    if (ratio > opt.max_reject_ratio)
      st.threshold =
          "reject ratio " + num_text(ratio) + " exceeds --max-reject-ratio " + num_text(opt.max_reject_ratio);
  }
  return st;
}

namespace {
void log_summary(const Stats& st) {
  char secs_text[32];
  std::snprintf(secs_text, sizeof secs_text, "%.2f", st.seconds);
  std::string rate = st.seconds > 0 ? human_count(static_cast<double>(st.records) / st.seconds) + " records/s" : "";
  log::info(st.records, " records in, ", st.rows, " rows out, ", st.rejects, " rejects",
            st.warnings_suppressed ? " (" + std::to_string(st.warnings_suppressed) + " not shown)" : "", "; ",
            human_bytes(static_cast<double>(st.bytes_in)), " in ", secs_text, " s (", rate, ")");
}
}  // namespace

int run_command(Command& c) {
  Options& o = c.o;
  o.format = parse_row_format(c.format);
  o.input = parse_input_format(c.input);
  Schema schema = Schema::resolve(c.schema_path);
  if (c.print_schema) {
    std::fputs(schema.to_json().c_str(), stdout);
    return 0;
  }

  Stats st;
  {
    // appended to, on a fresh line after a torn record; reopened when logrotate renames it
    std::unique_ptr<LineWriter> rej;
    if (!c.rejects_path.empty()) rej = std::make_unique<LineWriter>(c.rejects_path, "rejects");
    LineReader in(0, o.max_line);
    LineWriter out(1);
    st = run(o, schema, in, out, rej.get());
    out.flush();
    if (rej) rej->close();
  }

  log_summary(st);
  // a report the user asked for: not a log line, so -q does not hide it
  if (o.stats) std::fputs(("\n" + stats_report(st)).c_str(), stderr);
  log::debug(st.fast_rows, " of ", st.rows, " rows by the fast path (plain JSON), the rest by simdjson");
  if (!st.threshold.empty()) {
    log::error(st.threshold, st.stopped_early ? "; stopped reading" : "");
    return code(Exit::rejects);
  }
  if (st.stopped_early) {
    log::warn("stopped by a signal before the end of the input");
    return code(Exit::interrupted);
  }
  return 0;
}

}  // namespace sp::parse
