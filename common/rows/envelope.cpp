#include "common/rows/envelope.hpp"

#include <charconv>
#include <climits>
#include <cstring>

#include "common/codec/base64.hpp"
#include "common/core/timeutil.hpp"
#include "common/rows/plain_json.hpp"
#include "common/rows/rows.hpp"

namespace sp::envelope {

struct JsonTool::Impl {
  simdjson::dom::parser parser;
  std::string padded;  // the text copied with simdjson's padding, reused
};

JsonTool::JsonTool() : impl_(std::make_unique<Impl>()) {}
JsonTool::~JsonTool() = default;

bool JsonTool::valid(std::string_view text) {
  if (text.empty()) return false;
  auto& p = impl_->padded;
  if (p.size() < text.size() + simdjson::SIMDJSON_PADDING) p.resize(text.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(p.data(), text.data(), text.size());
  simdjson::dom::element doc;
  return impl_->parser.parse(p.data(), text.size(), false).get(doc) == simdjson::SUCCESS;
}

void JsonTool::append_compact(std::string& out, std::string_view text) {
  size_t old = out.size();
  out.resize(old + text.size());
  size_t n = 0;
  if (simdjson::minify(text.data(), text.size(), out.data() + old, n) != simdjson::SUCCESS) {
    out.resize(old);  // cannot happen for valid JSON; keep the text rather than lose it
    out.append(text);
    return;
  }
  out.resize(old + n);
}

bool valid_utf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

bool valid_topic(std::string_view t) {
  if (t.empty() || t.size() > 249) return false;
  for (char c : t)  // ASCII only, whatever the locale
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      return false;
  return true;
}


namespace {
// Integers and timestamps are formatted in place, as sensor-parse's RowBuilder does: snprintf and
// the heap strings of format_iso_ms cost more than the rest of an envelope (issue 30 item 13).
template <size_t N>
char* put(char* p, const char (&lit)[N]) {
  std::memcpy(p, lit, N - 1);
  return p + N - 1;
}

// format_iso_ms's text ("2025-07-07T22:00:00.123Z", 24 bytes) without its strings; the date is
// formatted once a day (per thread).
char* put_iso_ms(char* p, int64_t ms) {
  int64_t secs = floor_seconds(ms);
  auto frac = static_cast<int>(ms - secs * 1000);
  thread_local DateTimeWriter dt;
  dt.write(secs, p, 'T');
  p[19] = '.';
  p[20] = static_cast<char>('0' + frac / 100);
  p[21] = static_cast<char>('0' + frac / 10 % 10);
  p[22] = static_cast<char>('0' + frac % 10);
  p[23] = 'Z';
  return p + 24;
}

// A byte of JSON whitespace or a control byte (which JSON allows in no string) somewhere in these
// 8 bytes of ASCII: the "has a byte less than n" trick (exact for n <= 128).
inline bool has_space_or_control(uint64_t x) {
  constexpr uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  return ((x - ones * 0x21) & ~x & highs) != 0;
}

// A value in the plain subset of JSON (common/rows/plain_json.hpp: ASCII, no escapes, what sensors
// send): checked by the plain lexer and copied with the whitespace outside strings left out, the
// bytes simdjson's parse and minify give, in one pass and a copy. False (nothing appended) for any
// other value, which the caller hands to simdjson: the lexer only ever says "plain and valid".
// `padded`: a copy of v with 16 readable bytes after it, so the lexer scans strings 16 bytes at a time.
bool append_plain_json(std::string& out, std::string_view v, std::string& padded) {
  if (padded.size() < v.size() + 16) padded.resize(v.size() + 16);
  std::memcpy(padded.data(), v.data(), v.size());
  parse::PlainJson lex(std::string_view(padded.data(), v.size()), 16);
  if (!lex.skip_value(0) || !lex.at_end()) return false;
  size_t i = 0;
  for (; i + 8 <= v.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, v.data() + i, 8);
    if (has_space_or_control(w)) break;
  }
  for (; i < v.size(); ++i)
    if (static_cast<unsigned char>(v[i]) <= ' ') break;
  if (i == v.size()) {  // compact already (the common case): copied as it is
    out.append(v);
    return true;
  }
  // Plain strings hold no escaped quote, so every '"' opens or closes one.
  out.append(v.data(), i);
  bool in_string = false;
  for (size_t k = 0; k < i; ++k) in_string ^= v[k] == '"';
  for (; i < v.size(); ++i) {
    char c = v[i];
    if (c == '"') in_string = !in_string;
    else if (!in_string && (c == ' ' || c == '\t' || c == '\n' || c == '\r')) continue;
    out += c;
  }
  return true;
}

// A string field, or base64 with "<name>_encoding" before it when the bytes are not UTF-8.
void append_text_field(std::string& out, const char* name, Bytes b) {
  if (b.null()) {
    out += '"';
    out += name;
    out += "\":null";
    return;
  }
  if (valid_utf8(b.view())) {
    out += '"';
    out += name;
    out += "\":";
    append_json_string(out, b.view());
    return;
  }
  out += '"';
  out += name;
  out += "_encoding\":\"base64\",\"";
  out += name;
  out += "\":\"";
  codec::append_base64(out, b.view());
  out += '"';
}

void append_header_value(std::string& out, Bytes b) {
  if (b.null()) {
    out += "null";
  } else if (valid_utf8(b.view())) {
    append_json_string(out, b.view());
  } else {
    out += "{\"base64\":\"";
    codec::append_base64(out, b.view());
    out += "\"}";
  }
}
}  // namespace

void append_head(std::string& out, const MessageView& m) {
  out += "{\"topic\":";
  append_json_string(out, m.topic);
  // the fixed-size part in one piece (one append, not ten)
  char b[160];
  char* p = put(b, ",\"partition\":");
  p = std::to_chars(p, p + 12, m.partition).ptr;
  p = put(p, ",\"offset\":");
  p = std::to_chars(p, p + 21, m.offset).ptr;
  if (m.timestamp_ms) {
    p = put(p, ",\"timestamp\":\"");
    p = put_iso_ms(p, *m.timestamp_ms);
    p = put(p, "\",\"timestamp_ms\":");
    p = std::to_chars(p, p + 21, *m.timestamp_ms).ptr;
  } else {
    p = put(p, ",\"timestamp\":null,\"timestamp_ms\":null");
  }
  *p++ = ',';
  out.append(b, static_cast<size_t>(p - b));
  append_text_field(out, "key", m.key);
  out += ",\"headers\":{";
  const auto& hs = m.headers;
  std::vector<bool> done(hs.size(), false);
  bool first = true;
  for (size_t i = 0; i < hs.size(); ++i) {
    if (done[i]) continue;
    if (!first) out += ',';
    first = false;
    std::string_view name = hs[i].first;
    if (valid_utf8(name))
      append_json_string(out, name);
    else {
      std::string b64;
      codec::append_base64(b64, name);
      append_json_string(out, "base64:" + b64);
    }
    out += ':';
    size_t same = 0;
    for (size_t j = i + 1; j < hs.size(); ++j) same += hs[j].first == name;
    if (same == 0) {
      append_header_value(out, hs[i].second);
      continue;
    }
    out += '[';
    for (size_t j = i; j < hs.size(); ++j) {
      if (hs[j].first != name) continue;
      if (j != i) out += ',';
      append_header_value(out, hs[j].second);
      done[j] = true;
    }
    out += ']';
  }
  out += "},";
}

bool JsonTool::append_plain(std::string& out, std::string_view text) {
  return append_plain_json(out, text, impl_->padded);
}

void append_envelope(std::string& out, const MessageView& m, JsonTool& json) {
  append_head(out, m);
  if (!m.value.null()) {
    size_t at = out.size();
    out += "\"value\":";
    if (json.append_plain(out, m.value.view())) {
      out += "}\n";
      return;
    }
    out.resize(at);
  }
  if (!m.value.null() && json.valid(m.value.view())) {
    out += "\"value\":";
    json.append_compact(out, m.value.view());
  } else {
    append_text_field(out, "value", m.value);
  }
  out += "}\n";
}

std::optional<Coords> read_coords_prefix(std::string_view s) {
  auto eat = [&](std::string_view lit) {
    if (s.substr(0, lit.size()) != lit) return false;
    s.remove_prefix(lit.size());
    return true;
  };
  auto integer = [&](int64_t& v) {
    auto res = std::from_chars(s.data(), s.data() + s.size(), v);
    if (res.ec != std::errc() || res.ptr == s.data()) return false;
    s.remove_prefix(static_cast<size_t>(res.ptr - s.data()));
    return true;
  };
  if (!eat("{\"topic\":\"")) return std::nullopt;
  size_t q = s.find_first_of("\"\\");
  if (q == std::string_view::npos || s[q] != '"') return std::nullopt;
  std::string_view topic = s.substr(0, q);
  if (!valid_topic(topic)) return std::nullopt;
  s.remove_prefix(q + 1);
  int64_t partition, offset;
  if (!eat(",\"partition\":") || !integer(partition) || !eat(",\"offset\":") || !integer(offset)) return std::nullopt;
  if (s.empty() || (s[0] != ',' && s[0] != '}')) return std::nullopt;
  if (partition < 0 || partition > INT32_MAX || offset < 0) return std::nullopt;
  return Coords{topic, static_cast<int32_t>(partition), offset};
}

Keys::Keys(simdjson::dom::object obj) {
  auto take = [](simdjson::dom::element v, simdjson::dom::element& to, bool& has, bool& dup) {
    if (has) dup = true;
    to = v;
    has = true;
  };
  for (auto field : obj) {
    std::string_view k = field.key;
    if (parse::same_key(k, "topic"))
      take(field.value, topic, has_topic, dup_topic);
    else if (parse::same_key(k, "partition"))
      take(field.value, partition, has_partition, dup_partition);
    else if (parse::same_key(k, "offset"))
      take(field.value, offset, has_offset, dup_offset);
    else if (parse::same_key(k, "value"))
      take(field.value, value, has_value, dup_value);
    else if (parse::same_key(k, "value_encoding"))
      value_encoding = field.value, has_value_encoding = true;
  }
}

bool Keys::value_is_base64() const {
  std::string_view enc;
  return has_value_encoding && value_encoding.get_string().get(enc) == simdjson::SUCCESS && enc == "base64";
}

std::string read_coords(const Keys& k, Coords& c, std::string (*quote)(std::string_view)) {
  using simdjson::dom::element_type;
  // Coordinates given twice are no coordinates: the reject goes without them.
  for (auto [dup, key] : {std::pair{k.dup_topic, "topic"}, {k.dup_partition, "partition"}, {k.dup_offset, "offset"}})
    if (dup) return std::string("envelope: duplicate key ") + key;
  if (!k.has_topic || k.topic.type() != element_type::STRING) return "envelope: topic is not a string";
  if (!k.has_offset || k.offset.type() != element_type::INT64) return "envelope: offset is not an integer";
  if (!k.has_partition || k.partition.type() != element_type::INT64 ||
      k.partition.get_int64().value_unsafe() < 0 || k.partition.get_int64().value_unsafe() > INT32_MAX)
    return "envelope: partition is missing or not an integer";
  std::string_view topic_name = k.topic.get_string().value_unsafe();
  if (!valid_topic(topic_name)) return "envelope: topic " + quote(topic_name) + " is not a Kafka topic name";
  if (k.offset.get_int64().value_unsafe() < 0) return "envelope: offset is negative";
  c.topic = topic_name;
  c.partition = static_cast<int32_t>(k.partition.get_int64().value_unsafe());
  c.offset = k.offset.get_int64().value_unsafe();
  return "";
}

}  // namespace sp::envelope
