// Consume mode: where each partition starts. Owns -o as parsed, the partitions of a manual
// assignment (-p, or all), the offsets planned at setup for the rebalance callback, the partitions
// -o @TIME must scan client-side, and the warnings for a start outside what a partition holds
// (an -o N past its end, a committed offset retention deleted).
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <utility>
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
  // Group mode, before joining: with -o N, -N or @TIME each partition's start; otherwise (-o
  // beginning or stored) the first offset of each partition the group has no committed offset for.
  void plan(rd_kafka_t* rk, const std::vector<kafka::TopicInfo>& topics);
  // Sets the start of each partition of `parts` not started yet. group_assign: in the rebalance
  // callback, where the group waits: the planned offsets only, no round trips; a partition left at
  // its committed offset, or started where the group had none at setup, is noted for check_committed.
  void apply(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* parts, bool group_assign);
  // For the partitions noted: a warning when retention deleted the committed offset; and the
  // partitions started at their planned first offset that have a committed offset now (another
  // member committed it while this one joined), each with that offset: nothing below it may be
  // output. From the main loop (round trips), before any message of the new assignment is handled.
  bool must_check() const { return !to_check_.empty() || !to_verify_.empty(); }
  std::vector<std::pair<Key, int64_t>> check_committed(rd_kafka_t* rk);
  // -o @TIME the broker did not resolve for this partition: skip messages older than the returned
  // time (once per assignment), -1 when not.
  int64_t take_scan_from(const Key& k);

 private:
  void warn_out_of_range(rd_kafka_t* rk, const rd_kafka_topic_partition_list_t* parts, const std::vector<int>& todo) const;
  void plan_uncommitted(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* all);
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
  std::map<Key, int64_t> uncommitted_;  // no committed offset at setup: their first offset, for the first assignment
  std::vector<Key> to_verify_;        // started from uncommitted_: checked for a committed offset since
};

}  // namespace sp::kcs
