// libFuzzer target: any bytes as key/value/header must give exactly one valid JSON line (envelope)
// and never a line break inside a raw value; any bytes as a -f format string are parsed or refused
// with a UsageError, never a crash, and render any message; and -P --key-field's plain-line fast path must find
// the same key as simdjson in any line.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/core/errors.hpp"
#include "format.hpp"
#include "producer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static sp::kcs::JsonTool json;
  std::string_view all(reinterpret_cast<const char*>(data), size);
  size_t cut = size ? data[0] % (size + 1) : 0;
  sp::kcs::MessageView m;
  m.topic = "t";
  m.key = sp::kcs::bytes(all.substr(0, cut));
  m.value = sp::kcs::bytes(all.substr(cut));
  m.headers.push_back({"h", sp::kcs::bytes(all.substr(0, cut / 2))});
  std::string out;
  sp::kcs::append_envelope(out, m, json);
  if (out.empty() || out.back() != '\n' || out.find('\n') != out.size() - 1) std::abort();
  if (!nlohmann::json::accept(out.substr(0, out.size() - 1))) std::abort();
  out.clear();
  auto r = sp::kcs::append_raw(out, m.value, json);
  if ((r == sp::kcs::RawResult::written || r == sp::kcs::RawResult::compacted) &&
      out.find('\n') != out.size() - 1)
    std::abort();

  try {
    std::string fmt_out;
    sp::kcs::append_formatted(fmt_out, sp::kcs::parse_format(all.substr(cut)), m);
  } catch (const sp::UsageError&) {
  }

  static sp::kcs::KeyExtractor fast_nested("value.sensor_id"), slow_nested("value.sensor_id", false);
  static sp::kcs::KeyExtractor fast_top("a"), slow_top("a", false);
  for (auto* pair : {&fast_nested, &fast_top}) {
    auto* slow = pair == &fast_nested ? &slow_nested : &slow_top;
    std::string kf, ks;
    bool f = pair->extract(all, kf), s = slow->extract(all, ks);
    if (f != s || (f && kf != ks)) std::abort();
  }
  return 0;
}
