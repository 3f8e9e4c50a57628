// kafka-cat-sensor -L (kcat's metadata list) and --lag (a group's committed offsets against the high
// watermarks, as kafka-consumer-groups.sh --describe shows them), both without joining any group.
#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "common/core/errors.hpp"
#include "common/core/line_io.hpp"
#include "common/core/timeutil.hpp"
#include "common/kafka/kafka.hpp"
#include "kcs.hpp"

namespace sp::kcs {
namespace {

struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* md) const { rd_kafka_metadata_destroy(md); }
};
using Metadata = std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter>;

// A consumer handle that never subscribes: metadata, committed offsets and watermarks only.
kafka::Handle make_client(const Options& o, const std::string& group) {
  std::vector<std::pair<std::string, std::string>> defaults{{"bootstrap.servers", o.brokers},
                                                             {"client.id", "kafka-cat-sensor"}};
  if (!group.empty()) defaults.push_back({"group.id", group});
  return kafka::make_handle(RD_KAFKA_CONSUMER, kafka::make_conf(defaults, o.x_props));
}

// All topics' metadata (one request; asking for all never makes a broker auto-create a topic).
Metadata fetch_metadata(rd_kafka_t* rk, const Options& o) {
  const rd_kafka_metadata_t* md = nullptr;
  auto err = rd_kafka_metadata(rk, 1, nullptr, &md, o.connect_timeout_ms);
  if (err) kafka::throw_unreachable(err, o.connect_timeout_ms, o.brokers);
  return Metadata(md);
}

// The topics asked for (-t), in their order, or all; a topic the cluster lacks is a usage error
// (kcat prints it with "Broker: Unknown topic or partition"; a script is better served by a failure).
std::vector<const rd_kafka_metadata_topic_t*> pick_topics(const rd_kafka_metadata_t* md,
                                                          const std::vector<std::string>& names, bool internal) {
  std::vector<const rd_kafka_metadata_topic_t*> out;
  if (names.empty()) {
    for (int i = 0; i < md->topic_cnt; ++i)
      if (internal || md->topics[i].topic[0] != '_' || md->topics[i].topic[1] != '_') out.push_back(&md->topics[i]);
    return out;
  }
  for (const auto& name : names) {
    const rd_kafka_metadata_topic_t* found = nullptr;
    for (int i = 0; i < md->topic_cnt; ++i)
      if (name == md->topics[i].topic) found = &md->topics[i];
    if (!found) throw NoInputError("topic " + name + " does not exist at " + std::string(md->orig_broker_name));
    out.push_back(found);
  }
  return out;
}

std::string id_list(const int32_t* ids, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s;
}

nlohmann::json id_array(const int32_t* ids, int n) {
  auto a = nlohmann::json::array();
  for (int i = 0; i < n; ++i) a.push_back({{"id", ids[i]}});
  return a;
}

// kcat -L's layout, line for line, so that what people grep in kcat's output works here too.
std::string list_text(const rd_kafka_metadata_t* md, const std::vector<const rd_kafka_metadata_topic_t*>& topics,
                      bool one_topic) {
  std::string s = "Metadata for " + (one_topic ? std::string(topics[0]->topic) : std::string("all topics")) +
                  " (from broker " + std::to_string(md->orig_broker_id) + ": " + md->orig_broker_name + "):\n";
  s += " " + std::to_string(md->broker_cnt) + " brokers:\n";
  for (int i = 0; i < md->broker_cnt; ++i)
    s += "  broker " + std::to_string(md->brokers[i].id) + " at " + md->brokers[i].host + ":" +
         std::to_string(md->brokers[i].port) + "\n";
  s += " " + std::to_string(topics.size()) + " topics:\n";
  for (const auto* t : topics) {
    s += "  topic \"" + std::string(t->topic) + "\" with " + std::to_string(t->partition_cnt) + " partitions:";
    if (t->err) s += " " + kafka::err_text(t->err);
    s += "\n";
    for (int p = 0; p < t->partition_cnt; ++p) {
      const auto& part = t->partitions[p];
      s += "    partition " + std::to_string(part.id) + ", leader " + std::to_string(part.leader) +
           ", replicas: " + id_list(part.replicas, part.replica_cnt) + ", isrs: " + id_list(part.isrs, part.isr_cnt);
      if (part.err) s += ", " + kafka::err_text(part.err);
      s += "\n";
    }
  }
  return s;
}

// kcat -L -J's document.
std::string list_json(const rd_kafka_metadata_t* md, const std::vector<const rd_kafka_metadata_topic_t*>& topics,
                      bool one_topic) {
  nlohmann::json j;
  j["originating_broker"] = {{"id", md->orig_broker_id}, {"name", md->orig_broker_name}};
  j["query"] = {{"topic", one_topic ? std::string(topics[0]->topic) : std::string("*")}};
  j["brokers"] = nlohmann::json::array();
  for (int i = 0; i < md->broker_cnt; ++i)
    j["brokers"].push_back({{"id", md->brokers[i].id},
                            {"name", std::string(md->brokers[i].host) + ":" + std::to_string(md->brokers[i].port)}});
  j["topics"] = nlohmann::json::array();
  for (const auto* t : topics) {
    nlohmann::json jt = {{"topic", t->topic}, {"partitions", nlohmann::json::array()}};
    if (t->err) jt["error"] = kafka::err_text(t->err);
    for (int p = 0; p < t->partition_cnt; ++p) {
      const auto& part = t->partitions[p];
      nlohmann::json jp = {{"partition", part.id},
                           {"leader", part.leader},
                           {"replicas", id_array(part.replicas, part.replica_cnt)},
                           {"isrs", id_array(part.isrs, part.isr_cnt)}};
      if (part.err) jp["error"] = kafka::err_text(part.err);
      jt["partitions"].push_back(jp);
    }
    j["topics"].push_back(jt);
  }
  return j.dump() + "\n";
}

// -Q's TOPIC:PARTITION:TIME (Kafka topic names have no ':'; TIME is epoch milliseconds, as kcat
// takes it, or ISO-8601, whose own colons come after the second ':').
struct TimeQuery {
  std::string topic;
  int32_t partition = 0;
  int64_t ms = 0;
};

TimeQuery parse_time_query(const std::string& arg) {
  auto bad = [&](const std::string& why) {
    return UsageError("-Q -t " + arg + ": " + why + " (want TOPIC:PARTITION:TIME, TIME epoch ms or ISO-8601)");
  };
  auto c1 = arg.find(':');
  auto c2 = c1 == std::string::npos ? c1 : arg.find(':', c1 + 1);
  if (c2 == std::string::npos || c1 == 0) throw bad("missing part");
  TimeQuery q;
  q.topic = arg.substr(0, c1);
  std::string part = arg.substr(c1 + 1, c2 - c1 - 1), time = arg.substr(c2 + 1);
  if (part.empty() || part.size() > 9 || part.find_first_not_of("0123456789") != std::string::npos) throw bad("bad partition");
  q.partition = std::stoi(part);
  if (!time.empty() && time.size() <= 15 && time.find_first_not_of("0123456789") == std::string::npos) {
    q.ms = std::stoll(time);
  } else {
    std::string why;
    auto ms = parse_iso8601_ms(time, &why);
    if (!ms) throw bad("bad time: " + why);
    q.ms = *ms;
  }
  return q;
}

}  // namespace

int run_query(const Options& o, int out_fd) {
  std::vector<TimeQuery> queries;
  for (const auto& t : o.topics) queries.push_back(parse_time_query(t));
  if (queries.empty()) throw UsageError("-Q needs -t TOPIC:PARTITION:TIME");
  // kcat -Q's order: by topic, then partition, whatever the order of the -t
  std::stable_sort(queries.begin(), queries.end(),
                   [](const TimeQuery& a, const TimeQuery& b) { return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition); });
  auto rk = make_client(o, "");
  fetch_metadata(rk.get(), o);  // no broker answering: 69, as everywhere
  auto list = kafka::make_list(static_cast<int>(queries.size()));
  for (const auto& q : queries) rd_kafka_topic_partition_list_add(list.get(), q.topic.c_str(), q.partition)->offset = q.ms;
  if (auto err = rd_kafka_offsets_for_times(rk.get(), list.get(), o.connect_timeout_ms))
    throw UnavailableError("looking up offsets for times: " + kafka::err_text(err));
  std::string s;
  for (int i = 0; i < list->cnt; ++i) {
    const auto& tp = list->elems[i];
    std::string where = std::string(tp.topic) + " [" + std::to_string(tp.partition) + "]";
    if (tp.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) throw NoInputError(where + ": " + kafka::err_text(tp.err));
    if (tp.err) throw UnavailableError(where + ": " + kafka::err_text(tp.err));
    // -1: no message at or after that time (the next one produced gets the end offset)
    if (o.envelope)
      s += nlohmann::json({{"topic", tp.topic}, {"partition", tp.partition}, {"timestamp", queries[static_cast<size_t>(i)].ms}, {"offset", tp.offset}}).dump() + "\n";
    else
      s += where + " offset " + std::to_string(tp.offset) + "\n";  // kcat -Q's line, to the byte
  }
  write_all(out_fd, s.data(), s.size(), "stdout");
  return 0;
}

int run_list(const Options& o, int out_fd) {
  auto rk = make_client(o, "");
  auto md = fetch_metadata(rk.get(), o);
  auto topics = pick_topics(md.get(), o.topics, true);
  bool one = o.topics.size() == 1;
  std::string s = o.envelope ? list_json(md.get(), topics, one) : list_text(md.get(), topics, one);
  write_all(out_fd, s.data(), s.size(), "stdout");
  return 0;
}

int run_lag(const Options& o, int out_fd) {
  if (o.group.empty()) throw UsageError("--lag needs the group: -G GROUP");
  auto rk = make_client(o, o.group);
  auto md = fetch_metadata(rk.get(), o);
  // without -t: every topic but the internal ones, and only the partitions the group committed
  auto topics = pick_topics(md.get(), o.topics, false);
  auto list = kafka::make_list();
  for (const auto* t : topics)
    for (int p = 0; p < t->partition_cnt; ++p)
      if (o.partitions.empty() || std::find(o.partitions.begin(), o.partitions.end(), t->partitions[p].id) != o.partitions.end())
        rd_kafka_topic_partition_list_add(list.get(), t->topic, t->partitions[p].id);
  // the group coordinator answers with the committed offsets; this handle never joins the group
  if (auto err = rd_kafka_committed(rk.get(), list.get(), o.connect_timeout_ms))
    throw UnavailableError("committed offsets of group " + o.group + ": " + kafka::err_text(err));
  std::string s;
  if (!o.envelope) s = "GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG\n";
  for (int i = 0; i < list->cnt; ++i) {
    const auto& tp = list->elems[i];
    if (tp.err) throw UnavailableError("committed offset of " + std::string(tp.topic) + " [" + std::to_string(tp.partition) + "]: " + kafka::err_text(tp.err));
    if (tp.offset < 0 && o.topics.empty()) continue;
    int64_t low = 0, high = 0;
    if (auto err = rd_kafka_query_watermark_offsets(rk.get(), tp.topic, tp.partition, &low, &high, o.connect_timeout_ms))
      throw UnavailableError("high watermark of " + std::string(tp.topic) + " [" + std::to_string(tp.partition) + "]: " + kafka::err_text(err));
    bool committed = tp.offset >= 0;
    int64_t lag = committed ? std::max<int64_t>(0, high - tp.offset) : -1;
    if (o.envelope) {
      nlohmann::json j = {{"group", o.group}, {"topic", tp.topic}, {"partition", tp.partition}, {"log_end_offset", high}};
      j["committed"] = committed ? nlohmann::json(tp.offset) : nlohmann::json(nullptr);
      j["lag"] = committed ? nlohmann::json(lag) : nlohmann::json(nullptr);
      s += j.dump() + "\n";
    } else {
      // "-" where the group committed nothing, as kafka-consumer-groups.sh shows it
      s += o.group + " " + tp.topic + " " + std::to_string(tp.partition) + " " + (committed ? std::to_string(tp.offset) : "-") +
           " " + std::to_string(high) + " " + (committed ? std::to_string(lag) : "-") + "\n";
    }
  }
  write_all(out_fd, s.data(), s.size(), "stdout");
  return 0;
}

}  // namespace sp::kcs
