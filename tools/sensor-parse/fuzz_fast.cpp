// libFuzzer target: the fast path (plain_json.hpp) against the simdjson path, line by line. For
// every line both must agree on everything: row or reject, the row's bytes, the reason, the Kafka
// coordinates. The fast path may only make a line faster, never different. The first input byte
// picks the output format, the schema (the seed's, or one with optional, defaulted, Bool, integer,
// epoch, Decimal and deeply nested columns) and whether lines are padded (the 16-byte string scan).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/core/log.hpp"
#include "parse.hpp"

namespace {

const char* kWideSchema = R"J({"columns": [
  {"name": "id", "type": "String", "max_length": 12},
  {"name": "ts", "type": "DateTime", "path": "timestamp"},
  {"name": "ts_copy", "type": "DateTime", "path": "timestamp"},
  {"name": "n", "type": "Int16", "path": "a.n", "min": -500, "max": 500},
  {"name": "u", "type": "UInt8", "path": "a.u", "default": 7},
  {"name": "f", "type": "Float32", "path": "a.b.f", "required": false},
  {"name": "ok", "type": "Bool", "path": "a.b.ok", "default": false},
  {"name": "tag", "type": "String", "path": "a.b.c.tag", "default": "none"},
  {"name": "big", "type": "UInt64", "path": "big", "required": false},
  {"name": "d", "type": "Decimal(12, 3)", "path": "a.d", "required": false},
  {"name": "d38", "type": "Decimal(38, 30)", "path": "d38", "default": "0.5"}
]})J";

struct Pair {
  sp::parse::RecordParser fast, slow;
  Pair(const sp::Schema& s, sp::RowFormat f) : fast(s, f, true), slow(s, f, false) {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static bool init = [] {
    sp::log::set_level(sp::log::Level::error);
    return true;
  }();
  (void)init;
  static const sp::Schema seed = sp::Schema::default_schema();
  static const sp::Schema wide = sp::Schema::from_json(kWideSchema, "fuzz");
  static Pair pairs[] = {{seed, sp::RowFormat::json}, {seed, sp::RowFormat::tsv},  {seed, sp::RowFormat::csv},
                         {seed, sp::RowFormat::values}, {wide, sp::RowFormat::json}, {wide, sp::RowFormat::tsv},
                         {wide, sp::RowFormat::csv},  {wide, sp::RowFormat::values}};
  Pair& p = pairs[data[0] & 7];
  bool padded = data[0] & 8;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string buf, out_fast, out_slow;
  sp::parse::Reject rf, rs;
  while (!in.empty()) {
    size_t nl = in.find('\n');
    std::string_view line = in.substr(0, nl);
    in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
    // The line in its own buffer, so that reading past it is caught by ASan unless padding is promised.
    buf.assign(line);
    size_t pad = padded ? sp::LineReader::kPadding : 0;
    buf.append(pad, '"');  // padding full of quotes: a scan that trusts it would stop there
    std::string_view view(buf.data(), line.size());
    out_fast.clear();
    out_slow.clear();
    rf.clear();
    rs.clear();
    bool ok_fast = p.fast.json_line(view, out_fast, rf, pad);
    bool ok_slow = p.slow.json_line(view, out_slow, rs, pad);
    if (ok_fast != ok_slow || out_fast != out_slow || rf.reason != rs.reason || rf.has_coords != rs.has_coords ||
        rf.topic != rs.topic || rf.partition != rs.partition || rf.offset != rs.offset) {
      std::fprintf(stderr, "fast and simdjson paths differ on line: %.*s\nfast:     %d %s%s\nsimdjson: %d %s%s\n",
                   static_cast<int>(line.size()), line.data(), ok_fast, out_fast.c_str(), rf.reason.c_str(), ok_slow,
                   out_slow.c_str(), rs.reason.c_str());
      abort();
    }
  }
  return 0;
}
