#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sp::parse {
class PlainJson;
}

namespace sp::kcs {

// The message key taken from a JSON field given as a dotted path (value.sensor_id), so that one
// sensor's messages share a partition and keep their order.
class KeyExtractor {
 public:
  // fast_path false: every line through simdjson (the differential tests compare both).
  explicit KeyExtractor(const std::string& dotted_path, bool fast_path = true);  // throws UsageError
  // The field's text (strings unescaped; numbers and booleans as written). False when the line is
  // not JSON or the field is missing, null, an object or an array.
  bool extract(std::string_view line, std::string& key);
  const std::string& pointer() const { return pointer_; }

 private:
  // Plain lines (common/rows/plain_json.hpp) in one validating pass; false when the line is not plain,
  // and simdjson decides.
  bool extract_plain(std::string_view line, std::string& key, bool& found) const;
  bool walk(parse::PlainJson& j, size_t level, int depth, std::string& key, bool& found) const;
  bool extract_simdjson(std::string_view line, std::string& key);

  std::vector<std::string> parts_;  // the dotted path's names
  std::string pointer_;  // the same as a JSON pointer
  std::string padded_;
  bool fast_path_;
};

// Where keyless messages go: the partitions in turn, a run of at most kRun messages or 1 ms on each
// (whichever ends first), skipping partitions without a leader. Runs make full batches, as
// librdkafka's sticky partitioner does, but taking the partitions in turn keeps them even: the
// sticky one picks each at random, and over a million messages some partitions got 3x others (more
// than the mock cluster keeps). Called from the producing thread, and from librdkafka's own when it
// places messages queued before the partition count was known: state in relaxed atomics, where a
// race costs at most an uneven run.
class KeylessSpreader {
 public:
  static constexpr uint32_t kRun = 1000;
  static constexpr int64_t kRunNs = 1000000;
  explicit KeylessSpreader(uint32_t seed) : current_(static_cast<int32_t>(seed & 0x7fffffff)) {}
  template <class Available>  // bool(int32_t partition)
  int32_t next(int32_t partitions, int64_t now_ns, Available available) {
    if (partitions <= 0) return 0;
    int32_t cur = current_.load(std::memory_order_relaxed) % partitions;
    uint32_t n = count_.load(std::memory_order_relaxed);
    if (n > 0 && n < kRun && now_ns - started_.load(std::memory_order_relaxed) < kRunNs && available(cur)) {
      count_.store(n + 1, std::memory_order_relaxed);
      return cur;
    }
    int32_t p = (cur + (n > 0 ? 1 : 0)) % partitions;
    for (int32_t i = 0; i < partitions && !available(p); ++i) p = (p + 1) % partitions;  // none: p as is
    current_.store(p, std::memory_order_relaxed);
    count_.store(1, std::memory_order_relaxed);
    started_.store(now_ns, std::memory_order_relaxed);
    return p;
  }

 private:
  std::atomic<int32_t> current_;
  std::atomic<uint32_t> count_{0};
  std::atomic<int64_t> started_{0};
};

// What the topic lets a record's own time (--timestamp-field) be, from its configuration
// (kafka::topic_config). A time the broker refuses fails the whole batch it is in (issue 28: 1001 of
// 1001 lines not delivered for one line a day ahead, and every rerun the same); a time older than
// retention.ms is deleted by the broker within minutes (issue 27).
struct TopicTimeLimits {
  static constexpr int64_t kMargin = 60000;  // the broker judges later, by its own clock
  int64_t after_max_ms = 3600000;            // message.timestamp.after.max.ms (Kafka 4's default)
  int64_t before_max_ms = INT64_MAX;         // message.timestamp.before.max.ms
  int64_t retention_ms = 604800000;          // retention.ms; -1: kept forever
  bool deletes = true;                       // cleanup.policy includes delete
  bool log_append_time = false;              // message.timestamp.type=LogAppendTime: the broker's time rules
  bool known = false;                        // read from the broker (else Kafka's defaults above)
  static TopicTimeLimits from(const std::map<std::string, std::string>& config);
  enum class Verdict {
    ok,
    ahead,   // more than after_max_ms ahead of now: the broker refuses it
    behind,  // more than before_max_ms behind now: the broker refuses it
    expired  // older than retention.ms: accepted, then deleted with its segment
  };
  Verdict judge(int64_t ts_ms, int64_t now_ms) const;
};

// A duration for people: "7 days", "1 h", "90 s".
std::string human_ms(int64_t ms);

}  // namespace sp::kcs
