// Consume mode: where each partition starts. Owns -o as parsed, the partitions of a manual
// assignment (-p, or all), the offsets planned at setup for the rebalance callback, the partitions
// -o @TIME must scan client-side, and the warnings for a start outside what a partition holds
// (an -o N past its end, a committed offset retention deleted).
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "common/kafka/kafka.hpp"
#include "kcs.hpp"
#include "offsets.hpp"
#include "partitions.hpp"

namespace sp::kcs {

class StartOffsets {
 public:
  // Parses -o (default: beginning, stored with -G); UsageError for a bad one or stored without -G.
  explicit StartOffsets(const Options& o);
  StartOffset::Kind kind() const { return start_.kind; }

  // -p's partitions, or every partition of the topics: NoInputError for an unknown one.
  kafka::PartitionList manual_assignment(rd_kafka_t* rk) const;
  // Group mode with -o N, -N or @TIME: each partition's start resolved before joining.
  void plan(rd_kafka_t* rk, const std::vector<kafka::TopicInfo>& topics);
  // Sets the start of each partition of `parts` not started yet. group_assign: in the rebalance
  // callback, where the group waits: the planned offsets only, no round trips; a partition left at
  // its committed offset is noted for warn_deleted.
  void apply(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* parts, bool group_assign);
  // For the partitions noted: a warning when retention deleted the committed offset. From the
  // main loop (round trips), before anything of the new assignment is committed.
  bool must_check() const { return !to_check_.empty(); }
  void warn_deleted(rd_kafka_t* rk);
  // -o @TIME the broker did not resolve for this partition: skip messages older than the returned
  // time (once per assignment), -1 when not.
  int64_t take_scan_from(const Key& k);

 private:
  void warn_out_of_range(rd_kafka_t* rk, const rd_kafka_topic_partition_list_t* parts, const std::vector<int>& todo) const;
  void resolve_logical(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* parts, const std::vector<int>& todo) const;
  void resolve_times(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* parts, const std::vector<int>& todo);
  std::map<Key, int64_t> last_timestamps(const std::vector<std::pair<Key, int64_t>>& at) const;

  const Options& o_;
  StartOffset start_;
  bool explicit_ = false;        // -o N, -N or @TIME: it rules over committed offsets
  std::set<Key> seen_;           // partitions whose start offset was already applied
  std::map<Key, int64_t> scan_from_;  // -o @TIME the broker did not resolve: client-side skip
  std::map<Key, int64_t> planned_;    // start offsets resolved at setup, for the rebalance callback
  std::vector<Key> to_check_;         // assigned at their committed offsets: checked for retention gaps
};

}  // namespace sp::kcs
