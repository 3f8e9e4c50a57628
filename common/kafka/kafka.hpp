// librdkafka plumbing shared by the Kafka tools: RAII handles, configuration from -X properties and
// the [librdkafka] section of the config file, librdkafka's logs routed through sp::log.
#pragma once
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace sp::kafka {

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const;  // rd_kafka_destroy
};
struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
struct TplDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
struct TopicDeleter {
  void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
};
using Handle = std::unique_ptr<rd_kafka_t, HandleDeleter>;
using Conf = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, TplDeleter>;
using Message = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;
using Topic = std::unique_ptr<rd_kafka_topic_t, TopicDeleter>;

inline PartitionList make_list(int size = 0) { return PartitionList(rd_kafka_topic_partition_list_new(size)); }

// Splits "name=value" (the value may contain '='). Throws UsageError naming the flag on a
// missing '=' or an empty name.
std::pair<std::string, std::string> split_property(const std::string& prop);

// Properties whose values must never reach a log line.
bool is_secret_property(const std::string& name);

// Builds a configuration: defaults (applied first, any later source overrides them), then every
// "librdkafka.<prop>" key of the config file, then the -X properties in order. Secret values
// (passwords, keys) are registered with the logger. Throws UsageError for an unknown property or a
// bad value in -X, ConfigError for the file, each naming the property and librdkafka's reason.
// Sets a log callback that sends librdkafka's messages to sp::log with the tool's prefix.
Conf make_conf(const std::vector<std::pair<std::string, std::string>>& defaults,
               const std::vector<std::string>& x_props);

// Whether the user gave this property (-X, or librdkafka.<name> in the config file).
bool user_set(const std::string& name, const std::vector<std::string>& x_props);

// Sets one property; throws UsageError with `origin` and librdkafka's message when refused.
void set(rd_kafka_conf_t* conf, const std::string& name, const std::string& value, const std::string& origin);

// Creates a consumer or producer; takes ownership of conf. Throws UsageError when librdkafka refuses
// the configuration as a whole (e.g. conflicting properties).
Handle make_handle(rd_kafka_type_t type, Conf conf);

// Brokers: flag > $KAFKA_BROKERS > config "kafka.brokers" > -X bootstrap.servers > config
// "librdkafka.bootstrap.servers"; blank values count as not given. None: UsageError (no default).
std::string resolve_brokers(const std::string& flag, const std::vector<std::string>& x_props);

// Fetches metadata for the given topics (all topics when empty) within timeout_ms. A topic the
// cluster lacks gets err UNKNOWN_TOPIC_OR_PART, unless allow_create lets the broker auto-create it
// (producers). Throws UnavailableError when no broker answers in time, with the brokers named.
struct TopicInfo {
  std::string name;
  int partitions = 0;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
};
std::vector<TopicInfo> fetch_topics(rd_kafka_t* rk, const std::vector<std::string>& topics, int timeout_ms,
                                    const std::string& brokers, bool allow_create = false);

std::string err_text(rd_kafka_resp_err_t err);

// No broker answered a request (err) within timeout_ms: AuthError for a noted login refusal, else
// UnavailableError naming the brokers (and a noted TLS failure).
[[noreturn]] void throw_unreachable(rd_kafka_resp_err_t err, int timeout_ms, const std::string& brokers);

// A topic's configuration (DescribeConfigs: retention.ms, message.timestamp.after.max.ms, ...) by
// name, the broker's defaults included. Empty when no broker answers within timeout_ms or the
// request is refused (ACLs): callers then assume Kafka's defaults and say so.
std::map<std::string, std::string> topic_config(rd_kafka_t* rk, const std::string& topic, int timeout_ms);

// Records a connection failure that librdkafka reported to an error callback (authentication, TLS).
// Without it a broker that refuses us looks like one that does not answer: fetch_topics, when no
// broker answered in time, throws AuthError (77) for a noted authentication failure and names a
// noted TLS failure. Thread-safe (librdkafka calls error callbacks from its own threads).
void note_client_error(int err, const char* reason);

// Whether a produce error refuses the message itself (too large, malformed): no retry or rerun can
// send it, so it is bad data (exit 65), not a failure to rerun later (75).
bool refuses_message(rd_kafka_resp_err_t err);

// librdkafka 2.0 (Debian 12) stops fetching a partition while the consumer queue holds
// queued.min.messages or queued.max.messages.kbytes, and looks again only when the broker thread
// next wakes up: up to 1 s later when no request is in flight (librdkafka issue #2879; 2.1.1 added
// fetch.queue.backoff.ms). A reader that falls behind for a moment, as any pipe does, then leaves the
// consumer idle for most of each second. RefillWatch tells when the queue has drained after being
// near a limit; FetchWaker then wakes the brokers (see below).
class RefillWatch {
 public:
  // max_msgs, max_bytes: the consumer's queued.min.messages and queued.max.messages.kbytes * 1024.
  RefillWatch(int64_t max_msgs, int64_t max_bytes) : max_msgs_(max_msgs), max_bytes_(max_bytes) {}
  // queued: messages in the queue now; avg_bytes: their average payload size as far as known (0:
  // unknown, then only the count is judged). True when the brokers should be woken now: the queue was
  // at 3/4 of a limit or more (fetching has probably stopped) and is down to half of it since.
  bool observe(int64_t queued, double avg_bytes);
  // The fullness judged: queued against the nearer of the two limits (1.0 = at it).
  double fill(int64_t queued, double avg_bytes) const;

 private:
  int64_t max_msgs_, max_bytes_;
  bool armed_ = false;
};

// A thread that watches a consumer's queue every 10 ms and, when RefillWatch says so, sends every
// leader of the assigned partitions a ListOffsets request (rd_kafka_offsets_for_times at "latest"):
// a request queued for a broker thread wakes it, and it then sees that its partitions may fetch
// again. Costs one small request per broker per refill. Stop it before closing the consumer.
class FetchWaker {
 public:
  explicit FetchWaker(rd_kafka_t* rk);
  ~FetchWaker() { stop(); }
  FetchWaker(const FetchWaker&) = delete;
  FetchWaker& operator=(const FetchWaker&) = delete;
  // The consumer's thread reports what it took from the queue (for the average message size).
  void consumed(uint64_t messages, uint64_t payload_bytes) {
    messages_.fetch_add(messages, std::memory_order_relaxed);
    bytes_.fetch_add(payload_bytes, std::memory_order_relaxed);
  }
  void stop();
  uint64_t wakes() const { return wakes_.load(); }

 private:
  void loop();
  rd_kafka_t* rk_;
  RefillWatch watch_;
  std::atomic<uint64_t> messages_{0}, bytes_{0}, wakes_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace sp::kafka
