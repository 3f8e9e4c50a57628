#include "common/core/text.hpp"

namespace sp {

std::vector<std::string> split_comma_list(std::string_view s) {
  std::vector<std::string> out;
  size_t b = 0;
  while (b <= s.size()) {
    size_t e = s.find(',', b);
    if (e == std::string_view::npos) e = s.size();
    std::string_view item = s.substr(b, e - b);
    size_t f = item.find_first_not_of(" \t"), l = item.find_last_not_of(" \t");
    if (f != std::string_view::npos) out.emplace_back(item.substr(f, l - f + 1));
    b = e + 1;
  }
  return out;
}

}  // namespace sp
