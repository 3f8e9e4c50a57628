// kafka-cat-sensor: options and the three modes (consume, produce, mock cluster).
#pragma once
#include <cstdint>
#include <mutex>
#include <condition_variable>
#include <map>
#include <string>
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
  std::string commit_acks;          // --commit-acks FILE
  int commit_interval_ms = 1000;
  int ack_timeout_ms = 30000;       // wait for the last acks at exit
  int revoke_wait_ms = 2000;        // wait for acks before giving up partitions
  int stats_interval_s = 10;
  // produce
  bool produce = false;             // -P
  std::string key;                  // -k constant key
  std::string key_delim;            // -K delimiter: KEY<delim>VALUE
  std::string key_field;            // --key-field dotted.path
  // mock
  int mock_brokers = 0;             // --mock-cluster N
  int mock_partitions = 64;         // --partitions
  std::string mock_control;         // --mock-control FILE
};

// Each returns the process exit code; throws sp::Error for failures.
int run_consumer(const Options& o, int out_fd);
int run_producer(const Options& o, int in_fd);
int run_mock(const Options& o, int out_fd);

// Acknowledged positions per topic/partition (the next offset to read), filled by a reader thread.
class AckTracker {
 public:
  // Records offset+1 when it is past what is already known.
  void ack(const std::string& topic, int32_t partition, int64_t offset);
  // Next offset after the last ack, -1 when none.
  int64_t acked(const std::string& topic, int32_t partition) const;
  // Waits until pred() holds (re-checked on every ack) or timeout_ms passed; returns whether it held.
  template <class Pred>
  bool wait_for(int timeout_ms, Pred pred);
  uint64_t count() const { return count_.load(); }

 private:
  friend class AckReader;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::pair<std::string, int32_t>, int64_t> next_;
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
// opening it before ch-insert does nor ch-insert restarting blocks or ends the reader.
class AckReader {
 public:
  AckReader(std::string path, AckTracker& tracker);
  ~AckReader();  // stops and joins
  uint64_t bad_lines() const { return bad_.load(); }
  std::string error() const;  // set when the file could not be opened

 private:
  void loop();
  std::string path_;
  AckTracker& tracker_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> bad_{0};
  mutable std::mutex mu_;
  std::string error_;
  std::thread thread_;
};

}  // namespace sp::kcs
