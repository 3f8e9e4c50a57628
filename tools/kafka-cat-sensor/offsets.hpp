// Start offsets (-o), the --until bound and ack lines: parsing only, no librdkafka calls.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sp::kcs {

struct StartOffset {
  enum Kind { beginning, end, stored, absolute, tail, time } kind = beginning;
  int64_t value = 0;  // absolute: the offset; tail: how many from the end; time: epoch ms
};

// beginning|earliest, end|latest, stored, N, -N (N before the end), @TIME or s@TIME where TIME is
// ISO-8601 or epoch milliseconds, or a bare ISO-8601 time. Throws UsageError naming the value.
StartOffset parse_offset(const std::string& text);

// ISO-8601 or @epoch-ms; throws UsageError.
int64_t parse_until(const std::string& text);

// Ack lines (sp::Ack, sp::parse_ack) live in common/rows/acks.hpp.

// Partition list specs: "3", "0,1,5", "0-7" (repeatable flag). Throws UsageError.
void parse_partitions(const std::string& text, std::vector<int32_t>& out);

}  // namespace sp::kcs
