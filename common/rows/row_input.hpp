// Row lines in (the output of sensor-parse, read by ch-insert): find the Kafka coordinates a row carries
// (_topic/_partition/_offset), strip them, and append the row as ClickHouse should receive it. The
// reading half of the row-line contract whose writing half is RowBuilder (rows.hpp); the two are
// round-trip tested together (tests/unit/rows_test.cpp).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/rows/rows.hpp"
#include "common/rows/schema.hpp"

namespace sp {

struct RowCoords {
  bool present = false;
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
};

enum class RowStatus {
  row,      // appended to out
  skip,     // not a row (blank line, the seed's "INSERT INTO ... VALUES" header): nothing appended
  invalid,  // unusable locally (bad coordinates, broken JSON around them): `why` says what
  marker,   // an ack marker (common/rows/rows.hpp): coordinates in c, nothing appended, nothing to send
};

// What a row line must hold: every schema column once (JSONEachRow: as keys, in any order; TSV and
// CSV: as fields, in order; VALUES: one tuple of that many values), plus the coordinates.
struct RowShape {
  std::vector<std::string> columns;
  std::vector<char> nullable;         // per column: a JSON null is accepted
  std::vector<std::string> json_keys;  // per column: "name": as sensor-parse writes it (the fast path)
  RowShape() = default;
  explicit RowShape(std::vector<std::string> names, std::vector<char> nullable_columns = {});
  static RowShape of(const Schema& s);
};

// Splits one input line. TSV/CSV carry coordinates as 3 extra trailing fields. With keep_coords
// the row is sent as it came (coordinates still read, and required). A row that does not match
// `shape` (a missing, unknown or repeated column, a wrong field count, more than one object or
// tuple on the line, a null in a column that is not Nullable) is `invalid`, with the reason.
// JSON/TSV/CSV rows are appended with their '\n'; a VALUES tuple without trailing ',' ';' or '\n'.
// A line that is no row but an ack marker is `marker`.
RowStatus split_row(RowFormat f, std::string_view line, const RowShape& shape, bool keep_coords, std::string& out,
                    RowCoords& c, std::string& why);

// The text of column `col` (an index into shape.columns) of a row as split_row appended it, as
// ClickHouse stores it in a String column: a JSON string unescaped, a TSV field unescaped, a CSV field
// unquoted. False when there is no string there (a JSON number or null, a malformed row) and for
// VALUES rows. ch-insert's shard-direct mode hashes it as the Distributed table hashes the column.
bool row_string_field(RowFormat f, std::string_view row, const RowShape& shape, size_t col, std::string& value);

// Whether a reason split_row gave says the row has other columns than the shape (unknown or
// missing columns, another number of fields or values), rather than a bad row.
bool is_column_mismatch(const std::string& why);


}  // namespace sp
