// Consume mode: the partitions this process holds (its current assignment) and each one's progress
// (what was put in the output buffer, what reached the output, what was committed), their metrics,
// the message path's index from librdkafka's topic handle to the state, and the lag gauges.
// No librdkafka calls but the watermark lookup of update_lag; the Consumer decides what is held.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/core/metrics.hpp"
#include "common/kafka/kafka.hpp"

namespace sp::kcs {

struct PartState {
  std::string topic;
  int32_t partition = 0;
  int64_t first = -1;      // the first message put in the output buffer in this assignment
  int64_t written = -1;    // next offset after the last message put in the output buffer
  int64_t told = -1;       // `written` as last told to the ack tracker
  int64_t flushed = -1;    // next offset after the last message that reached the output
  int64_t committed = -1;  // last offset committed (or sent for commit)
  bool eof = false;        // at the end of the partition, nothing newer seen since
  bool done = false;       // past --until: paused, finished
  int64_t skip_before = -1;  // -o @TIME found by scanning: skip messages older than this until one is not
  int64_t skip_below = -1;   // started before the group's committed offset (check_committed): skip below it
  Counter* msgs = nullptr;
  Counter* bytes = nullptr;
  Gauge* lag = nullptr;
  // Counted per message, published to msgs/bytes per output flush (and before the partition goes):
  // a Counter::inc is an atomic read-modify-write on a double, two per message were measurable.
  uint64_t unpublished_msgs = 0, unpublished_bytes = 0;
  void publish() {
    if (unpublished_msgs == 0) return;
    msgs->inc(static_cast<double>(unpublished_msgs));
    bytes->inc(static_cast<double>(unpublished_bytes));
    unpublished_msgs = unpublished_bytes = 0;
  }
};

using Key = std::pair<std::string, int32_t>;

class Partitions {
 public:
  // A partition got: fresh state (replacing any held under that key), with its metrics.
  PartState& add(const std::string& topic, int32_t partition);
  // A partition given up: its counts published first. False when it was not held.
  bool remove(const std::string& topic, int32_t partition);
  // Every partition lost at once (a rebalance error): counts published.
  void clear();
  // The state of a message's partition; null for a straggler of a partition given up.
  PartState* of(const rd_kafka_message_t* m);
  PartState* find(const Key& k);

  bool empty() const { return parts_.empty(); }
  size_t size() const { return parts_.size(); }
  std::map<Key, PartState>::iterator begin() { return parts_.begin(); }
  std::map<Key, PartState>::iterator end() { return parts_.end(); }
  std::map<Key, PartState>::const_iterator begin() const { return parts_.begin(); }
  std::map<Key, PartState>::const_iterator end() const { return parts_.end(); }

  void publish();  // every partition's counts to its metrics
  // Every partition past --until, or (exit_at_end) at its end; false while none is held.
  bool all_finished(bool exit_at_end) const;
  void update_lag(rd_kafka_t* rk);  // from the high watermarks librdkafka knows (no round trip)
  double total_lag() const;

 private:
  std::map<Key, PartState> parts_;
  std::unordered_map<const void*, std::vector<PartState*>> index_;  // rkt -> by partition
};

}  // namespace sp::kcs
