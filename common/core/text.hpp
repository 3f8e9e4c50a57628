// Small text helpers shared by the tools and common/ (one home each).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace sp {

// A comma-separated list as users write it in flags, environment and config ("a, b,c"): the items
// with spaces and tabs around them dropped, empty items skipped ("a,,b" and " , " give {a, b} and
// {}). Callers decide whether an empty result is an error.
std::vector<std::string> split_comma_list(std::string_view s);

}  // namespace sp
