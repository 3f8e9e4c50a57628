// Consume mode with --commit-acks: the ack tracker and one reader per file, whether acks arrive at
// all (issue 28: a stage that never acknowledges commits nothing, silently), whether they caught up
// with what reached the output, and the wait for the last ones at exit. The Consumer tells the
// tracker what it holds and writes (assign, wrote, revoke) and commits what it acknowledged.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/kafka/kafka.hpp"
#include "kcs.hpp"
#include "partitions.hpp"

namespace sp::kcs {

class CommitAcks {
 public:
  // Checks the files (UsageError: one named twice, no -G, no --envelope) and opens a reader per file
  // (NoInputError), before the consumer joins the group.
  explicit CommitAcks(const Options& o);
  AckTracker& tracker() { return tracker_; }
  const AckTracker& tracker() const { return tracker_; }
  // Why the consumer must stop: a reader that died (nothing it would acknowledge could be committed).
  // Empty: go on.
  std::string failure() const;
  // Whether every partition (of `only`, when given) is acknowledged up to what reached the output.
  bool caught_up(const Partitions& parts, const std::set<Key>* only) const;
  // From the main loop: warns once when no ack line came --ack-timeout after the first message
  // reached the output, and says so when one comes after all. `messages`: written so far.
  void check_arrive(std::chrono::steady_clock::time_point now, const Partitions& parts, uint64_t messages);
  // At exit, after the output was ended: waits up to --ack-timeout for the acks of what reached the
  // output, keeping rk's group membership (fetching paused, polled); give_up() ends the wait early.
  void wait_for_last(rd_kafka_t* rk, const Partitions& parts, const std::function<bool()>& give_up);
  void stop_readers();  // joins them (their last warnings are logged)

 private:
  const Options& o_;
  AckTracker tracker_;
  std::vector<std::unique_ptr<AckReader>> readers_;  // after tracker_: they use it
  bool seen_ = false;    // an ack line arrived: the path works, no more checks
  bool warned_ = false;  // the no-acks warning was given
  std::chrono::steady_clock::time_point first_output_{};  // when the first message reached the output
};

}  // namespace sp::kcs
