#include "format.hpp"

#include <simdjson.h>

#include <cstring>

#include "common/codec/base64.hpp"
#include "common/rows/rows.hpp"
#include "common/core/timeutil.hpp"

namespace sp::kcs {

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

RawResult append_raw(std::string& out, Bytes value, JsonTool& json) {
  if (value.null()) return RawResult::null_value;
  std::string_view v = value.view();
  if (std::memchr(v.data(), '\n', v.size()) == nullptr) {
    out.append(v);
    out += '\n';
    return RawResult::written;
  }
  if (!json.valid(v)) return RawResult::breaks_framing;
  json.append_compact(out, v);  // JSON strings cannot hold a raw newline, so none is left
  out += '\n';
  return RawResult::compacted;
}

namespace {
void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto len = std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  out.append(buf, static_cast<size_t>(len));
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

void append_envelope(std::string& out, const MessageView& m, JsonTool& json) {
  out += "{\"topic\":";
  append_json_string(out, m.topic);
  out += ",\"partition\":";
  append_int(out, m.partition);
  out += ",\"offset\":";
  append_int(out, m.offset);
  if (m.timestamp_ms) {
    out += ",\"timestamp\":\"";
    out += format_iso_ms(*m.timestamp_ms);
    out += "\",\"timestamp_ms\":";
    append_int(out, *m.timestamp_ms);
  } else {
    out += ",\"timestamp\":null,\"timestamp_ms\":null";
  }
  out += ',';
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
  if (!m.value.null() && json.valid(m.value.view())) {
    out += "\"value\":";
    json.append_compact(out, m.value.view());
  } else {
    append_text_field(out, "value", m.value);
  }
  out += "}\n";
}

}  // namespace sp::kcs
