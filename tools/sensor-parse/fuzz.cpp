// libFuzzer target: any bytes through sensor-parse's whole line loop, in every input and output
// format. Beyond "no crash, no sanitizer report" it checks the invariants the pipe relies on:
// records == rows + rejects, one row per output line, every reject line is valid JSON, and every
// row is one that ch-insert's row reader (split_row) takes as a row of the schema.
// Bit 4 of the first byte picks the schema: the default one, or kTyped with every newer type
// (Date, DateTime64, LowCardinality, UUID, Enum, Nullable, Decimal, Array, Map), which takes the
// simdjson path.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/core/errors.hpp"
#include "common/core/log.hpp"
#include "common/rows/row_input.hpp"
#include "parse.hpp"

namespace {
size_t count_lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}
const char* const kTyped = R"J({"columns":[
  {"name":"id","type":"UUID","path":"id"},
  {"name":"ts","type":"DateTime64(3, 'UTC')","path":"timestamp"},
  {"name":"ns","type":"Nullable(DateTime64(9))","path":"value.ns"},
  {"name":"s0","type":"Nullable(DateTime64(0, 'Asia/Tokyo'))","path":"value.s0"},
  {"name":"day","type":"Nullable(Date)","path":"value.day"},
  {"name":"sensor_id","type":"LowCardinality(String)","path":"value.sensor_id","max_length":16},
  {"name":"site","type":"Nullable(LowCardinality(String))","path":"value.site"},
  {"name":"status","type":"Enum8('ok' = 1, 'it\\'s \\\\odd' = -128, 'fault' = 127)","path":"value.status","default":"ok"},
  {"name":"model","type":"Nullable(Enum16('a' = -32768, 'b' = 32767))","path":"value.model"},
  {"name":"temperature","type":"Nullable(Float64)","path":"value.temperature"},
  {"name":"dec","type":"Nullable(Decimal(20, 4))","path":"value.dec"},
  {"name":"arr","type":"Array(Nullable(Float64))","path":"value.arr","required":false},
  {"name":"tags","type":"Array(LowCardinality(String))","path":"value.tags","required":false},
  {"name":"map","type":"Map(String, Nullable(Decimal(9, 2)))","path":"value.map","required":false},
  {"name":"times","type":"Array(DateTime)","path":"value.times","required":false}],
  "order_by":["sensor_id","ts","id"]})J";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const sp::Schema schemas[] = {sp::Schema::default_schema(), sp::Schema::from_json(kTyped, "fuzz")};
  const bool typed = data[0] & 0x10;  // a bit no older seed sets
  const sp::Schema& schema = schemas[typed];
  static bool init = [] {
    sp::log::set_level(sp::log::Level::error);
    return true;
  }();
  (void)init;
  const sp::RowFormat formats[] = {sp::RowFormat::json, sp::RowFormat::tsv, sp::RowFormat::csv, sp::RowFormat::values};
  const sp::parse::InputFormat inputs[] = {sp::parse::InputFormat::auto_detect, sp::parse::InputFormat::json,
                                           sp::parse::InputFormat::csv};
  // Most runs feed the lines straight to long-lived parsers (fast, and checks that no state leaks
  // from one line into the next); one in four goes through run(), the whole loop with its
  // line reader, auto-detection and rejects file.
  if ((data[0] & 0xC0) != 0xC0) {
    static sp::parse::RecordParser parsers[] = {
        {schemas[0], sp::RowFormat::json}, {schemas[0], sp::RowFormat::tsv}, {schemas[0], sp::RowFormat::csv},
        {schemas[0], sp::RowFormat::values}, {schemas[1], sp::RowFormat::json}, {schemas[1], sp::RowFormat::tsv},
        {schemas[1], sp::RowFormat::csv}, {schemas[1], sp::RowFormat::values}};
    sp::parse::RecordParser& p = parsers[(data[0] & 3) + (typed ? 4 : 0)];
    static const sp::RowShape shapes[] = {sp::RowShape::of(schemas[0]), sp::RowShape::of(schemas[1])};
    std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::string out;
    sp::parse::Reject r;
    bool csv = data[0] & 4;
    if (csv) {
      try {
        p.csv_header(typed ? "id,ts,ns,s0,day,sensor_id,site,status,model,temperature,dec,arr,tags,map,times"
                           : "id,timestamp,sensor_id,temperature,humidity,pressure");
      } catch (const sp::DataError&) {
        abort();  // the default schema's own header must map
      }
    }
    uint64_t lineno = 0;
    while (!in.empty()) {
      size_t nl = in.find('\n');
      std::string_view line = in.substr(0, nl);
      in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
      out.clear();
      r.clear();
      bool ok = csv ? p.csv_line(line, out, r) : p.json_line(line, out, r);
      ++lineno;
      if (ok) {
        if (out.empty() || out.back() != '\n' || out.find('\n') != out.size() - 1) abort();
        if ((data[0] & 3) == 0 && nlohmann::json::parse(out, nullptr, false).is_discarded()) abort();
        std::string sent, why;
        sp::RowCoords coords;
        if (sp::split_row(formats[data[0] & 3], std::string_view(out).substr(0, out.size() - 1), shapes[typed], false, sent,
                          coords, why) != sp::RowStatus::row)
          abort();  // a row ch-insert would refuse
      } else {
        if (!out.empty() || r.reason.empty()) abort();
        std::string j = sp::parse::reject_json(lineno, r, line, false, line.size());
        if (j.find('\n') != std::string::npos || nlohmann::json::parse(j, nullptr, false).is_discarded()) abort();
      }
    }
    return 0;
  }
  sp::parse::Options opt;
  opt.format = formats[data[0] & 3];
  opt.input = inputs[(data[0] >> 2) % 3];
  opt.max_line = 4096;  // small, so the fuzzer reaches the overlong path
  std::istringstream in(std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  std::ostringstream rows, rejects;
  sp::parse::Stats st;
  {
    sp::LineReader r(in, opt.max_line);
    sp::LineWriter w(rows), rw(rejects);
    try {
      st = sp::parse::run(opt, schema, r, w, &rw);
    } catch (const sp::DataError&) {
      return 0;  // a CSV header without the required columns ends the run on purpose
    }
    w.flush();
    rw.flush();
  }
  if (st.records != st.rows + st.rejects) abort();
  // Every line of the output is a row, or an ack marker for a rejected envelope (with a rejects
  // file); every row is one ch-insert's row reader takes.
  {
    static const sp::RowShape shapes[] = {sp::RowShape::of(schemas[0]), sp::RowShape::of(schemas[1])};
    std::istringstream rs(rows.str());
    std::string row, sent, why;
    uint64_t n = 0;
    while (std::getline(rs, row)) {
      sp::Ack ack;
      if (sp::parse_ack_marker(opt.format, row, schema.columns.size(), ack)) continue;
      ++n;
      sp::RowCoords coords;
      if (sp::split_row(opt.format, row, shapes[typed], false, sent, coords, why) != sp::RowStatus::row) abort();
    }
    if (n != st.rows) abort();
  }
  if (count_lines(rejects.str()) != st.rejects) abort();
  std::istringstream rj(rejects.str());
  std::string line;
  while (std::getline(rj, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("reason") || !j.contains("line")) abort();
  }
  if (opt.format == sp::RowFormat::json) {
    std::istringstream rs(rows.str());
    while (std::getline(rs, line))
      if (nlohmann::json::parse(line, nullptr, false).is_discarded()) abort();
  }
  return 0;
}
