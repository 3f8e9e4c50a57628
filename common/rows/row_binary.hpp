// TSV row lines (as sensor-parse writes them, common/rows/rows.hpp) re-encoded as ClickHouse's
// RowBinary, which the server parses for less CPU than TabSeparated (README "Where the
// deployed pipeline's time goes"). Pure: no I/O; unit-tested byte by byte (row_binary_test.cpp).
// Only the types whose text sensor-parse writes one way and ClickHouse reads one way are encoded;
// a schema with any other type has no plan, and a row whose text is not the expected one is a
// failure with the reason (the caller then sends the text, and ClickHouse judges it).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/rows/schema.hpp"

namespace sp {

// One column's RowBinary encoding: its type's (row_binary.cpp maps each type it encodes, once).
struct RbColumn {
  ColType type = ColType::String;
  bool nullable = false;  // Nullable(T): a flag byte (1 for \N), then T unless null
};

struct RowBinaryPlan {
  std::vector<RbColumn> columns;  // the schema's, then _topic String, _partition Int32, _offset Int64
  std::string unsupported;        // why the schema has no plan ("" when it has one)
  bool has_datetime = false;      // a DateTime column: its text is UTC, so the server's zone must be UTC
  bool ok() const { return unsupported.empty(); }
};

// The plan for rows of `schema` (with the three coordinate columns when `coordinates`).
RowBinaryPlan row_binary_plan(const Schema& schema, bool coordinates);

// Appends the RowBinary of one TSV row (its '\n' optional) to out. On failure returns false with
// `why` (the column and what is wrong) and out as it was.
bool append_row_binary(std::string_view row, const std::vector<RbColumn>& cols, std::string& out, std::string& why);

}  // namespace sp
