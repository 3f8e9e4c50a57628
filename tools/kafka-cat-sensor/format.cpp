#include "format.hpp"

#include <cstring>

namespace sp::kcs {

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

}  // namespace sp::kcs
