// Output framing of consumed messages: raw values one per line (envelopes: common/rows/envelope.hpp).
// Pure functions over byte ranges (no librdkafka types), so they are unit-tested and fuzzed.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/rows/envelope.hpp"

namespace sp::kcs {

// The envelope (its types and its writer) lives in common/rows/envelope.hpp, with its reader.
using envelope::append_envelope;
using envelope::Bytes;
using envelope::bytes;
using envelope::JsonTool;
using envelope::MessageView;
using envelope::valid_utf8;

enum class RawResult {
  written,        // the value as it was
  compacted,      // JSON spread over lines, written on one line
  null_value,     // a tombstone (no value): nothing written
  breaks_framing  // not JSON and contains a newline: nothing written, the caller reports it
};

// Appends the value and '\n' to out (except for null_value / breaks_framing).
RawResult append_raw(std::string& out, Bytes value, JsonTool& json);

}  // namespace sp::kcs
