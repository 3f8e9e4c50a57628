// Output framing of consumed messages: raw values one per line, or envelope JSON lines.
// Pure functions over byte ranges (no librdkafka types), so they are unit-tested and fuzzed.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sp::kcs {

// Bytes that may be absent (a Kafka null key/value/header is not the same as an empty one).
struct Bytes {
  const char* data = nullptr;
  size_t size = 0;
  bool null() const { return data == nullptr; }
  std::string_view view() const { return {data ? data : "", size}; }
};
inline Bytes bytes(std::string_view s) { return {s.data(), s.size()}; }

struct MessageView {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::optional<int64_t> timestamp_ms;  // none when the message has no timestamp
  Bytes key, value;
  std::vector<std::pair<std::string_view, Bytes>> headers;
};

// Validates and compacts JSON with simdjson; keeps its buffers between calls (one per thread).
class JsonTool {
 public:
  JsonTool();
  ~JsonTool();
  // True when text is one complete, valid JSON value (UTF-8 checked).
  bool valid(std::string_view text);
  // Appends text with insignificant whitespace removed; only for text that valid() accepted.
  void append_compact(std::string& out, std::string_view text);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

enum class RawResult {
  written,        // the value as it was
  compacted,      // JSON spread over lines, written on one line
  null_value,     // a tombstone (no value): nothing written
  breaks_framing  // not JSON and contains a newline: nothing written, the caller reports it
};

// Appends the value and '\n' to out (except for null_value / breaks_framing).
RawResult append_raw(std::string& out, Bytes value, JsonTool& json);

// Appends one envelope line and '\n':
// {"topic":..,"partition":..,"offset":..,"timestamp":"ISO"|null,"timestamp_ms":N|null,
//  "key":"..."|null,"headers":{..},"value":..}
// value: compact JSON when the bytes are valid JSON; else a JSON string when valid UTF-8; else
// "value_encoding":"base64" precedes "value":"<base64>". Keys likewise ("key_encoding":"base64").
// Header values: a string, null, or {"base64":"..."} for invalid UTF-8; a repeated header name
// gets an array of its values in order.
void append_envelope(std::string& out, const MessageView& m, JsonTool& json);

bool valid_utf8(std::string_view s);

}  // namespace sp::kcs
