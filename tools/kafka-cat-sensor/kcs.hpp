// kafka-cat-sensor: options and the three modes (consume, produce, mock cluster).
#pragma once
#include <cstdint>
#include <mutex>
#include <condition_variable>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <utility>
#include <vector>

namespace sp::kcs {

struct Options {
  // where
  std::string brokers;             // -b (resolved: flag > $KAFKA_BROKERS > config kafka.brokers)
  std::vector<std::string> topics;  // -t (default sensor_metrics)
  std::vector<std::string> x_props;  // -X name=value
  int connect_timeout_ms = 10000;  // bounded wait for the first metadata answer
  // consume
  std::string group;                // -G
  std::vector<int32_t> partitions;  // -p
  std::string offset;               // -o (empty: beginning, or stored with -G)
  std::string until;                // --until
  bool exit_at_end = false;         // -e
  int64_t count = -1;               // -c
  bool envelope = false;            // --envelope
  std::string format;               // -f: kcat's format string
  std::vector<std::string> commit_acks;  // --commit-acks FILE (repeatable: one per sink)
  int commit_interval_ms = 1000;
  int ack_timeout_ms = 30000;       // wait for the last acks at exit
  int revoke_wait_ms = 2000;        // wait for acks before giving up partitions
  int stats_interval_s = 10;
  // produce
  bool produce = false;             // -P
  std::string key;                  // -k constant key
  std::string key_delim;            // -K delimiter: KEY<delim>VALUE
  std::string key_field;            // --key-field dotted.path
  std::string timestamp_field;      // --timestamp-field dotted.path: the record's timestamp
  bool allow_expired = false;       // --allow-expired: produce times older than the topic's retention.ms
  // metadata
  bool list = false;                // -L: brokers, topics, partitions (kcat -L)
  bool lag = false;                 // --lag: the group's committed offsets and lag per partition
  bool query = false;               // -Q: offsets for times, -t TOPIC:PARTITION:TIME
  // mock
  int mock_brokers = 0;             // --mock-cluster N
  int mock_partitions = 64;         // --partitions
  std::string mock_control;         // --mock-control FILE
};

// What the flags hold before they become Options: durations in seconds, topics from -t and the
// positionals, partition lists as typed.
struct Flags {
  std::string brokers;
  std::vector<std::string> topics, positional, partitions;
  bool consume = false;
  double connect_timeout = 10, ack_timeout = 30, revoke_wait = 2, commit_interval = 1, stats_interval = 10;
};
// Checks f and completes o from it (UsageError), then runs the mode asked for (mock, -P, consume).
int run_command(const Flags& f, Options& o);

// Each returns the process exit code; throws sp::Error for failures.
int run_consumer(const Options& o, int out_fd);
int run_producer(const Options& o, int in_fd);
int run_mock(const Options& o, int out_fd);
// -L and --lag (metadata.cpp); o.topics empty: all topics.
int run_list(const Options& o, int out_fd);
int run_lag(const Options& o, int out_fd);
int run_query(const Options& o, int out_fd);

// Acknowledged positions per topic/partition (the next offset to read), filled by a reader thread.
// Only an ack for an offset this process wrote in the current assignment counts: committing any
// other (a stale FIFO from before a restart, a downstream bug, a stray writer) would make the group
// skip what was never stored, for good. So the consumer opens a window per partition when it gets
// it (assign), widens it as it writes (wrote) and closes it when it gives the partition up (revoke);
// an ack outside every window is refused.
// With several sources (one per --commit-acks: ch-insert, s3-put --acks), an offset counts as
// acknowledged once every source acknowledged it: the minimum over the sources. Each source's ack
// of an offset stands for every lower offset of that partition it received (ch-insert acks a
// batch's highest offset, s3-put an object's).
class AckTracker {
 public:
  enum class Verdict {
    taken,            // inside the window (an older ack than one already taken changes nothing)
    outside,          // this process did not write that offset (before or after what it wrote)
    nothing_written,  // assigned, but nothing written yet
    given_up,         // an offset written before the partition was given up in a rebalance: a late ack
    not_assigned,     // a topic this process reads, a partition it does not hold
    other_topic,
  };
  struct Result {
    Verdict verdict = Verdict::taken;
    int64_t first = -1, next = -1;  // the window: offsets first .. next-1 were written
  };
  // topics: those this process reads (an ack for another is named so in the warning)
  // sources: how many ack streams must each acknowledge an offset (at least 1)
  explicit AckTracker(std::vector<std::string> topics = {}, int sources = 1)
      : sources_(std::max(1, sources)), topics_(std::move(topics)) {}
  int sources() const { return sources_; }

  // The consumer's side: a partition got (nothing written, nothing acknowledged), offsets
  // first .. next-1 written to the output, the partition given up.
  void assign(const std::string& topic, int32_t partition);
  void wrote(const std::string& topic, int32_t partition, int64_t first, int64_t next);
  void revoke(const std::string& topic, int32_t partition);

  // Records offset+1 for `source` when it is inside the window and past what that source acked.
  Result ack(const std::string& topic, int32_t partition, int64_t offset, int source = 0);
  // Why a refused ack was refused, for the warning: "this process wrote offsets 0 to 4095 of it".
  static std::string reason(const Result& r);
  // Next offset after what every source acknowledged in the current assignment, -1 when some
  // source acknowledged nothing yet.
  int64_t acked(const std::string& topic, int32_t partition) const;
  // Waits until pred() holds (re-checked on every ack) or timeout_ms passed; returns whether it held.
  template <class Pred>
  bool wait_for(int timeout_ms, Pred pred);
  uint64_t count() const { return count_.load(); }

 private:
  struct Window {
    int64_t first = -1, next = -1;  // written: first .. next-1 (-1: nothing yet)
    std::vector<int64_t> acked;     // per source, -1 = nothing
  };
  int sources_;
  using Key = std::pair<std::string, int32_t>;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> topics_;
  std::map<Key, Window> windows_;
  std::map<Key, Window> given_up_;  // each revoked partition's last window: late acks for it are expected
  std::atomic<uint64_t> count_{0};
};

template <class Pred>
bool AckTracker::wait_for(int timeout_ms, Pred pred) {
  // pred() may call acked(), so it runs without the lock; waking on every ack or every 100 ms
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (pred()) return true;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    std::unique_lock<std::mutex> lk(mu_);
    uint64_t seen = count_.load();
    cv_.wait_until(lk, std::min(deadline, now + std::chrono::milliseconds(100)), [&] { return count_.load() != seen; });
  }
}

// Reads ack lines from a file or FIFO in its own thread. A FIFO is opened read-write, so neither
// opening it before ch-insert does nor ch-insert restarting blocks or ends the reader. Every bad or
// refused line is one warning, the line escaped (printable()), up to kShown of each kind; after
// that one line a minute counts the rest, so a stray writer cannot flood stderr.
class AckReader {
 public:
  static constexpr size_t kMaxLine = 1 << 20;
  static constexpr uint64_t kShown = 5;
  // source: which of the tracker's sources this file is. Opens the file here, in the caller's
  // thread: NoInputError when it is missing, a directory or cannot be opened, so that the consumer
  // refuses to start instead of consuming with nothing to commit.
  AckReader(std::string path, AckTracker& tracker, int source = 0);
  ~AckReader();  // stops and joins
  uint64_t bad_lines() const { return bad_.load(); }
  uint64_t refused() const { return refused_.load(); }
  // The reader stopped on an error (poll, read, or anything it threw): no ack will come from this
  // file any more. The consumer stops with error() (exit 74).
  bool failed() const { return failed_.load(); }
  std::string error() const;
  // The consumer waits for its last acks: from now on a FIFO's writers leaving is noticed. (Until
  // then the reader holds the FIFO open for writing itself, so that a writer may come and go.)
  void expect_end() { expect_end_ = true; }
  // The FIFO's writers have all closed it after writing at least one line: no ack will come any more.
  bool writers_gone() const { return writers_gone_.load(); }

 private:
  // Warnings of one kind: the first kShown each, then a count at most once a minute and at the end.
  struct Limit {
    uint64_t unshown = 0;
    std::chrono::steady_clock::time_point last{};
  };
  void loop();
  void fail(const std::string& why);
  void line(uint64_t lineno, std::string_view text);
  void warn(Limit& limit, uint64_t nth, const std::string& what, const std::string& message);
  void summary(Limit& limit, const std::string& what);
  std::string path_;
  AckTracker& tracker_;
  int source_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> expect_end_{false};
  std::atomic<bool> writers_gone_{false};
  std::atomic<bool> failed_{false};
  bool fifo_ = false;
  int fd_ = -1;
  std::atomic<uint64_t> bad_{0};
  std::atomic<uint64_t> refused_{0};
  Limit bad_limit_, refused_limit_;
  mutable std::mutex mu_;
  std::string error_;
  std::thread thread_;
};

}  // namespace sp::kcs
