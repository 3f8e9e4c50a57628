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

// -f: kcat's output format strings, token for token as kcat 1.7 writes them (its format.c), so that
// a kcat -f command line gives the same bytes here. Nothing is added: no newline unless the format
// has one, tombstones and values with newlines are written as they are (as kcat does).
struct FormatPart {
  enum Kind { literal, value, value_len, value_len_be32, key, key_len, topic, partition, offset, timestamp, headers };
  Kind kind = literal;
  std::string text;  // literal: the bytes, escapes resolved
};
using Format = std::vector<FormatPart>;
// %s value, %S value length (-1 null), %R that as a big-endian int32, %k key, %K key length (-1
// null), %t topic, %p partition, %o offset, %T timestamp in ms (-1 none), %h headers (n=v,n=v; a
// null value NULL), %% a percent sign; in the text \n \r \t, \xHH, \NNN (decimal; octal with a
// leading 0), any other \c is c. UsageError for an unknown token or a lone % at the end.
Format parse_format(std::string_view spec);
bool needs_headers(const Format& f);
void append_formatted(std::string& out, const Format& f, const MessageView& m);

}  // namespace sp::kcs
