// libFuzzer target: any bytes as a row line, in every format, with and without coordinates kept,
// and as a ClickHouse error body / version text. Must never crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/http/clickhouse.hpp"
#include "common/core/log.hpp"
#include "common/rows/row_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  std::string out, why;
  sp::RowCoords c;
  static const auto shape = sp::RowShape::of(sp::Schema::default_schema());
  for (auto f : {sp::RowFormat::json, sp::RowFormat::tsv, sp::RowFormat::csv, sp::RowFormat::values}) {
    for (bool keep : {false, true}) {
      out.clear();
      auto st = sp::split_row(f, line, shape, keep, out, c, why);
      // a row is appended whole or not at all
      if (st != sp::RowStatus::row && !out.empty()) __builtin_trap();
    }
  }
  std::string shown = sp::log::printable(line);
  for (unsigned char ch : shown)
    if (ch < 0x20 || ch == 0x7f) __builtin_trap();  // nothing that drives a terminal gets through
  (void)sp::ch_error_code(line);
  (void)sp::ch_error_row(line);
  (void)sp::ch_body_has_exception(line);
  (void)sp::parse_ch_version(line);
  return 0;
}
