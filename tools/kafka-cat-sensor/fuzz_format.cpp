// libFuzzer target: any bytes as key/value/header must give exactly one valid JSON line (envelope)
// and never a line break inside a raw value.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "format.hpp"

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
  return 0;
}
