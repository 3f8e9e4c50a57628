// The envelope: one Kafka message as one JSON line. kafka-cat-sensor --envelope writes it
// (append_envelope), sensor-gen --envelope writes its head (append_head) before values it breaks on
// purpose, sensor-parse reads it (Keys + read_coords on its simdjson path, read_coords_prefix where
// the line as a whole is not JSON, valid_topic on its fast path). The one home of its rules: key order,
// how keys, values and headers that are not JSON or not UTF-8 are written, what a topic name is, and
// which coordinates (topic, partition, offset) a reader takes from a line.
//
//   {"topic":..,"partition":..,"offset":..,"timestamp":"ISO"|null,"timestamp_ms":N|null,
//    "key":"..."|null,"headers":{..},"value":..}
// value: compact JSON when the bytes are valid JSON; else a JSON string when valid UTF-8; else
// "value_encoding":"base64" precedes "value":"<base64>". Keys likewise ("key_encoding":"base64").
// Header values: a string, null, or {"base64":"..."} for invalid UTF-8; a repeated header name
// gets an array of its values in order; a header name that is not UTF-8 is "base64:<base64>".
#pragma once
#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sp::envelope {

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
  // Appends text compacted, as append_compact would, when it is plain JSON (ASCII, no escapes:
  // plain_json.hpp), checked without simdjson; false (nothing appended) for any other text, valid or
  // not, which valid() then decides. The envelope writer's fast path.
  bool append_plain(std::string& out, std::string_view text);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

bool valid_utf8(std::string_view s);

// Appends one envelope line and '\n' (the format above).
void append_envelope(std::string& out, const MessageView& m, JsonTool& json);
// Appends everything before the value: {"topic":...,"headers":{...}, (m.value is not read).
void append_head(std::string& out, const MessageView& m);

// Kafka's rule for a topic name: 1 to 249 of [a-zA-Z0-9._-]. It also keeps the _topic column free of
// anything a row format would need to escape.
bool valid_topic(std::string_view t);

// Where a message was in Kafka.
struct Coords {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
};

// The coordinates at the start of a line as append_envelope writes it ({"topic":"T","partition":N,
// "offset":N followed by ',' or '}'), without reading the rest: for a line that is not valid JSON as a
// whole (bad UTF-8, a number out of range), so that its reject still names its offset. nullopt when
// the line does not start so, or the topic or a number is not valid.
std::optional<Coords> read_coords_prefix(std::string_view line);

// The envelope keys of a parsed line's object, from one pass; dup_* when one appears more than once
// (parsers disagree about duplicates: such a line has no coordinates).
struct Keys {
  simdjson::dom::element topic, partition, offset, value, value_encoding;
  bool has_topic = false, has_partition = false, has_offset = false, has_value = false, has_value_encoding = false;
  bool dup_topic = false, dup_partition = false, dup_offset = false, dup_value = false;
  explicit Keys(simdjson::dom::object obj);
  // An envelope has all three; a sensor's own message has "value" but never "topic"/"offset".
  bool is_envelope() const { return has_topic && has_offset && has_value; }
  // "value_encoding":"base64": the value's bytes were not UTF-8, so "value" is their base64 text.
  bool value_is_base64() const;
};

// The coordinates of an envelope, checked: "" and c set, or the reason they are unusable
// ("envelope: offset is negative", ...). quote renders the bad topic name for the reason.
std::string read_coords(const Keys& k, Coords& c, std::string (*quote)(std::string_view));

}  // namespace sp::envelope
