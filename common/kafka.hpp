// librdkafka plumbing shared by the Kafka tools: RAII handles, configuration from -X properties and
// the [librdkafka] section of the config file, librdkafka's logs routed through sp::log.
#pragma once
#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>
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

// Sets one property; throws UsageError with `origin` and librdkafka's message when refused.
void set(rd_kafka_conf_t* conf, const std::string& name, const std::string& value, const std::string& origin);

// Creates a consumer or producer; takes ownership of conf. Throws UsageError when librdkafka refuses
// the configuration as a whole (e.g. conflicting properties).
Handle make_handle(rd_kafka_type_t type, Conf conf);

// Brokers: flag > $KAFKA_BROKERS > config "kafka.brokers" > "localhost:9092".
std::string resolve_brokers(const std::string& flag);

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

}  // namespace sp::kafka
