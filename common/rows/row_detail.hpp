// Private to common/rows (row_input.cpp, row_scan.cpp, row_json.cpp): the small scanners of JSON
// text that ch-insert's row checks share, and the JSONEachRow row check itself.
#pragma once
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/rows/row_input.hpp"

namespace sp::row_detail {

template <class T>
bool parse_int(std::string_view s, T& v) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

std::string_view trim(std::string_view s);
// A JSON string at s[p] == '"' (p moves past its closing quote), unescaped into out.
bool json_string_at(std::string_view s, size_t& p, std::string& out);
// lit at s[p] (p moves past it).
bool expect(std::string_view s, size_t& p, std::string_view lit);
bool json_int_at(std::string_view s, size_t& p, int64_t& v);
void skip_ws(std::string_view s, size_t& p);
// Past the JSON string whose opening quote is at s[p]; `escaped` is set when it holds a backslash.
bool skip_string(std::string_view s, size_t& p, bool& escaped);
// Past one JSON value (containers balanced, scalars delimited).
bool skip_value(std::string_view s, size_t& p);

// One JSONEachRow line checked against the shape and appended to out (coordinates to c, or why).
RowStatus json_row(std::string_view line, const RowShape& shape, bool keep, std::string& out, RowCoords& c,
                   std::string& why);

}  // namespace sp::row_detail
