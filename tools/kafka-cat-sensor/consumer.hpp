// Consume mode's state, shared by its four files (private to kafka-cat-sensor):
//   consumer.cpp       setup, the main loop, the end (last acks, final commit, close, summary)
//   start_offsets.cpp  where each partition starts: -o, -p, retention gaps
//   group.cpp          librdkafka's callbacks: rebalance, commit, error; partitions got and given up; commits
//   output.cpp         a message to the output buffer, the buffer to stdout, lag and stats
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/core/metrics.hpp"
#include "common/kafka/kafka.hpp"
#include "format.hpp"
#include "kcs.hpp"
#include "offsets.hpp"

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
  Counter* msgs = nullptr;
  Counter* bytes = nullptr;
  Gauge* lag = nullptr;
  // Counted per message, published to msgs/bytes per output flush (and before the partition goes):
  // a Counter::inc is a compare-exchange loop on an atomic double, two per message were measurable.
  uint64_t unpublished_msgs = 0, unpublished_bytes = 0;
  void publish() {
    if (unpublished_msgs == 0) return;
    msgs->inc(static_cast<double>(unpublished_msgs));
    bytes->inc(static_cast<double>(unpublished_bytes));
    unpublished_msgs = unpublished_bytes = 0;
  }
};

using Key = std::pair<std::string, int32_t>;

class Consumer {
 public:
  Consumer(const Options& o, int fd);
  // Closes the consumer if run() did not get to (it threw): librdkafka's close may call the
  // rebalance callback, which needs every member below, so it must happen here, not in rk_'s deleter.
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;
  int run();

 private:
  // group.cpp: librdkafka's callbacks (each a barrier: no exception crosses librdkafka's C frames)
  static void rebalance_cb(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                           void* opaque);
  static void commit_cb(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                        void* opaque);
  static void error_cb(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  void on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts);
  void on_commit(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets);
  void add_parts(const rd_kafka_topic_partition_list_t* parts);
  void remove_parts(const rd_kafka_topic_partition_list_t* parts);
  // Commits what is safe for the given partitions (all when null): acked offsets with --commit-acks,
  // else what reached the output.
  void commit(bool sync, const std::set<Key>* only);
  int64_t safe_offset(const PartState& s) const;
  bool acks_caught_up(const std::set<Key>* only) const;

  // start_offsets.cpp
  kafka::PartitionList manual_assignment();
  // Group mode with -o N, -N or @TIME: each partition's start resolved before joining (planned_).
  void plan_start_offsets(const std::vector<kafka::TopicInfo>& topics);
  // group_assign: in the rebalance callback, where the group waits: planned_ only, no round trips.
  void apply_start_offsets(rd_kafka_topic_partition_list_t* parts, bool group_assign);
  void warn_deleted_offsets();  // for the partitions in to_check_
  void warn_out_of_range(const rd_kafka_topic_partition_list_t* parts, const std::vector<int>& todo);
  std::map<Key, int64_t> last_timestamps(const std::vector<std::pair<Key, int64_t>>& at);

  // output.cpp
  PartState* state_of(const rd_kafka_message_t* m);
  void handle(rd_kafka_message_t* m);
  void flush();
  bool flush_quietly();  // false when the output is gone
  bool all_finished() const;
  void update_lag();
  void report_stats(double seconds);

  // consumer.cpp
  void setup();
  void open_ack_readers();
  std::string must_stop() const;
  void wait_for_last_acks();
  void pause_fetching();  // while waiting for the last acks: nothing more is fetched
  void serve_group();     // ... but the consumer is polled, so the group keeps this member
  void check_acks_arrive(std::chrono::steady_clock::time_point now);
  // rd_kafka_consumer_close, once: in group mode its revoke is the last commit.
  void close();
  void summary(double seconds, bool interrupted) const;

  // Members used by librdkafka's callbacks come first: rk_ is declared last, so that it is
  // destroyed first (after close()), while they still live.
  const Options& o_;
  int fd_;
  StartOffset start_;
  bool explicit_offset_ = false;
  int64_t until_ms_ = 0;
  bool has_until_ = false;
  bool group_mode_ = false;   // subscribe(): the group assigns partitions
  bool committing_ = false;   // -G given: commits happen
  bool cooperative_ = false;
  std::unique_ptr<AckTracker> acks_;
  std::vector<std::unique_ptr<AckReader>> ack_readers_;

  std::map<Key, PartState> parts_;
  std::unordered_map<const void*, std::vector<PartState*>> index_;  // rkt -> by partition
  std::set<Key> seen_;  // partitions whose start offset was already applied
  std::map<Key, int64_t> scan_from_;  // -o @TIME the broker did not resolve: client-side skip
  std::map<Key, int64_t> planned_;    // start offsets resolved at setup, for the rebalance callback
  std::vector<Key> to_check_;         // assigned at their committed offsets: checked for retention gaps
  std::string out_;
  bool broken_ = false;  // stdout closed by the reader, or failed: nothing more is written
  bool closing_ = false;  // final commit done: a revoke while closing must not wait for acks again
  bool closed_ = false;   // rd_kafka_consumer_close done
  std::chrono::steady_clock::time_point first_output_{};  // when the first message reached the output
  bool warned_no_acks_ = false;
  bool acks_seen_ = false;  // an ack line arrived: the path works, no more checks
  JsonTool json_;
  Format format_;               // -f
  bool has_format_ = false;
  bool format_headers_ = false;  // -f has %h

  uint64_t messages_ = 0, bytes_ = 0, skipped_newline_ = 0, skipped_null_ = 0, compacted_ = 0;
  uint64_t last_stats_messages_ = 0;
  Counter* skipped_metric_ = nullptr;
  Counter* null_metric_ = nullptr;
  std::string fatal_;

  kafka::Handle rk_;
};

}  // namespace sp::kcs
