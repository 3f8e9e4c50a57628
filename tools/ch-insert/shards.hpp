// Shard-direct routing (--shard): which shard of a cluster a row belongs to, computed as ClickHouse's
// Distributed table computes it for a sharding key cityHash64(column): the hash modulo the total
// weight picks a slot, and the slots are handed out to the shards in order, each as many as its
// weight (weights 1 and 2: remainder 0 -> shard 1, remainders 1 and 2 -> shard 2).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sp::chi {

class ShardRouter {
 public:
  // One weight per shard, in the cluster's shard order. UsageError when there is no shard or every
  // weight is 0 (a shard of weight 0 takes no rows, as in ClickHouse).
  explicit ShardRouter(const std::vector<uint32_t>& weights);
  // 0-based index of the shard taking a row whose sharding column holds `key`.
  size_t shard_of(std::string_view key) const;
  size_t shards() const { return shards_; }

 private:
  std::vector<uint32_t> slot_to_shard_;
  size_t shards_ = 0;
};

// One --shard value, "URL[,URL...]": the shard's replicas, spaces around commas dropped. UsageError
// when it names no URL.
std::vector<std::string> parse_shard_urls(const std::string& value);

}  // namespace sp::chi
