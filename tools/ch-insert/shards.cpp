#include "shards.hpp"

#include "common/codec/cityhash.hpp"
#include "common/core/errors.hpp"
#include "common/core/text.hpp"

namespace sp::chi {

ShardRouter::ShardRouter(const std::vector<uint32_t>& weights) : shards_(weights.size()) {
  uint64_t total = 0;
  for (uint32_t w : weights) total += w;
  if (weights.empty() || total == 0) throw UsageError("shard-direct inserts need at least one shard of weight > 0");
  if (total > (1u << 20)) throw UsageError("shard weights add up to " + std::to_string(total) + ": too many");
  slot_to_shard_.reserve(static_cast<size_t>(total));
  for (size_t i = 0; i < weights.size(); ++i) slot_to_shard_.insert(slot_to_shard_.end(), weights[i], static_cast<uint32_t>(i));
}

size_t ShardRouter::shard_of(std::string_view key) const {
  return slot_to_shard_[codec::city_hash64_v102(key) % slot_to_shard_.size()];
}

std::vector<std::string> parse_shard_urls(const std::string& value) {
  std::vector<std::string> out = split_comma_list(value);
  if (out.empty()) throw UsageError("--shard '" + value + "': no URL (give the shard's replicas: URL[,URL...])");
  return out;
}

}  // namespace sp::chi
