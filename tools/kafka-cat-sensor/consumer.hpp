// Consume mode (private to kafka-cat-sensor). The Consumer orchestrates; each concern has its class:
//   consumer.cpp       Consumer: setup, the main loop, a message to the output, the end (last acks,
//                      final commit, close, summary)
//   group.cpp          Consumer: librdkafka's callbacks (rebalance, commit, error), the partitions
//                      got and given up, commits
//   partitions.*       Partitions: the partitions held and each one's progress, metrics and lag
//   start_offsets.*    StartOffsets: where each partition starts (-o, -p, retention gaps)
//   output.*           Output: messages rendered into the buffer, the buffer to stdout
//   commit_acks.*      CommitAcks: --commit-acks' readers, whether acks arrive, the wait for the last
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "commit_acks.hpp"
#include "common/kafka/kafka.hpp"
#include "kcs.hpp"
#include "output.hpp"
#include "partitions.hpp"
#include "start_offsets.hpp"

namespace sp::kcs {

class Consumer {
 public:
  // Parses and checks the options (UsageError) and opens the ack files (NoInputError); run() connects.
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
  void follow_group(bool assign, rd_kafka_topic_partition_list_t* parts);  // assign/unassign, per protocol
  void on_commit(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets);
  void add_parts(const rd_kafka_topic_partition_list_t* parts);
  void remove_parts(const rd_kafka_topic_partition_list_t* parts);
  // Commits what is safe for the given partitions (all when null): acked offsets with --commit-acks,
  // else what reached the output.
  void commit(bool sync, const std::set<Key>* only);
  int64_t safe_offset(const PartState& s) const;

  // consumer.cpp
  void setup();
  std::string must_stop() const;
  void handle(rd_kafka_message_t* m);
  void flush();
  bool flush_quietly();  // false when the output is gone
  void wait_for_last_acks();
  void report_stats(double seconds);
  // rd_kafka_consumer_close, once: in group mode its revoke is the last commit.
  void close();
  void summary(double seconds, bool interrupted) const;

  // The lifetime rule (issue 30 item 1): librdkafka's callbacks use the members below, so rk_ is
  // declared last, to be destroyed first, and is closed (close(), which may run the rebalance
  // callback) in run() or ~Consumer() while they all still live.
  const Options& o_;
  Output output_;
  StartOffsets starts_;
  std::optional<int64_t> until_ms_;     // --until
  std::unique_ptr<CommitAcks> acks_;    // with --commit-acks
  bool group_mode_ = false;   // subscribe(): the group assigns partitions
  bool committing_ = false;   // -G given: commits happen
  bool cooperative_ = false;
  Partitions parts_;
  bool closing_ = false;  // final commit done: a revoke while closing must not wait for acks again
  bool closed_ = false;   // rd_kafka_consumer_close done
  uint64_t last_stats_messages_ = 0;
  std::string fatal_;

  kafka::Handle rk_;
};

}  // namespace sp::kcs
