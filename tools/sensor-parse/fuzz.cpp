// libFuzzer target: any bytes through sensor-parse's whole line loop, in every input and output
// format. Beyond "no crash, no sanitizer report" it checks the invariants the pipe relies on:
// records == rows + rejects, one row per output line, every reject line is valid JSON.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/core/errors.hpp"
#include "common/core/log.hpp"
#include "parse.hpp"

namespace {
size_t count_lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const sp::Schema schema = sp::Schema::default_schema();
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
    static sp::parse::RecordParser parsers[] = {{schema, sp::RowFormat::json},
                                                {schema, sp::RowFormat::tsv},
                                                {schema, sp::RowFormat::csv},
                                                {schema, sp::RowFormat::values}};
    sp::parse::RecordParser& p = parsers[data[0] & 3];
    std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::string out;
    sp::parse::Reject r;
    bool csv = data[0] & 4;
    if (csv) {
      try {
        p.csv_header("id,timestamp,sensor_id,temperature,humidity,pressure");
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
  if (count_lines(rows.str()) != st.rows) abort();
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
