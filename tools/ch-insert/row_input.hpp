// Row lines in (the output of sensor-parse): find the Kafka coordinates a row carries
// (_topic/_partition/_offset), strip them, and append the row as ClickHouse should receive it.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "common/rows.hpp"

namespace sp::chi {

struct Coords {
  bool present = false;
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
};

enum class RowStatus {
  row,      // appended to out
  skip,     // not a row (blank line, the seed's "INSERT INTO ... VALUES" header): nothing appended
  invalid,  // unusable locally (bad coordinates, broken JSON around them): `why` says what
};

// Splits one input line. `ncols` is the number of schema columns (TSV/CSV carry coordinates as 3
// extra trailing fields). With keep_coords the row is sent as it came (coordinates still read).
// JSON/TSV/CSV rows are appended with their '\n'; a VALUES tuple without trailing ',' ';' or '\n'.
RowStatus split_row(RowFormat f, std::string_view line, size_t ncols, bool keep_coords, std::string& out,
                    Coords& c, std::string& why);

}  // namespace sp::chi
