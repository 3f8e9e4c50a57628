#pragma once
#include <string>
#include <string_view>

namespace sp::kcs {

// The message key taken from a JSON field given as a dotted path (value.sensor_id), so that one
// sensor's messages share a partition and keep their order.
class KeyExtractor {
 public:
  explicit KeyExtractor(const std::string& dotted_path);  // throws UsageError
  // The field's text (strings unescaped; numbers and booleans as written). False when the line is
  // not JSON or the field is missing, null, an object or an array.
  bool extract(std::string_view line, std::string& key);
  const std::string& pointer() const { return pointer_; }

 private:
  std::string pointer_;  // JSON pointer
  std::string padded_;
};

}  // namespace sp::kcs
