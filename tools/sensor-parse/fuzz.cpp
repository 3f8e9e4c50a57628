// libFuzzer target: any bytes through sensor-parse's whole line loop, in every input and output
// format. Beyond "no crash, no sanitizer report" it checks the invariants the pipe relies on:
// records == rows + rejects, one row per output line, every reject line is valid JSON.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/errors.hpp"
#include "common/log.hpp"
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
