#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace sp::parse {
class PlainJson;
}

namespace sp::kcs {

// The message key taken from a JSON field given as a dotted path (value.sensor_id), so that one
// sensor's messages share a partition and keep their order.
class KeyExtractor {
 public:
  // fast_path false: every line through simdjson (the differential tests compare both).
  explicit KeyExtractor(const std::string& dotted_path, bool fast_path = true);  // throws UsageError
  // The field's text (strings unescaped; numbers and booleans as written). False when the line is
  // not JSON or the field is missing, null, an object or an array.
  bool extract(std::string_view line, std::string& key);
  const std::string& pointer() const { return pointer_; }

 private:
  // Plain lines (common/plain_json.hpp) in one validating pass; false when the line is not plain,
  // and simdjson decides.
  bool extract_plain(std::string_view line, std::string& key, bool& found) const;
  bool walk(parse::PlainJson& j, size_t level, int depth, std::string& key, bool& found) const;
  bool extract_simdjson(std::string_view line, std::string& key);

  std::vector<std::string> parts_;  // the dotted path's names
  std::string pointer_;  // the same as a JSON pointer
  std::string padded_;
  bool fast_path_;
};

}  // namespace sp::kcs
