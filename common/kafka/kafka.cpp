#include "common/kafka/kafka.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "common/core/config.hpp"
#include "common/core/errors.hpp"
#include "common/core/log.hpp"
#include "common/core/signals.hpp"

namespace sp::kafka {

void HandleDeleter::operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }

std::string err_text(rd_kafka_resp_err_t err) { return rd_kafka_err2str(err); }

namespace {
std::mutex client_error_mu;
int client_error = 0;  // the last noted RD_KAFKA_RESP_ERR__AUTHENTICATION or __SSL
std::string client_error_reason;
}  // namespace

void note_client_error(int err, const char* reason) {
  if (err != RD_KAFKA_RESP_ERR__AUTHENTICATION && err != RD_KAFKA_RESP_ERR__SSL) return;
  std::lock_guard<std::mutex> lock(client_error_mu);
  client_error = err;
  client_error_reason = reason ? reason : "";
}

// Why no broker answered: a refusal noted by note_client_error, else a timeout.
void throw_unreachable(rd_kafka_resp_err_t err, int timeout_ms, const std::string& brokers) {
  int noted;
  std::string reason;
  {
    std::lock_guard<std::mutex> lock(client_error_mu);
    noted = client_error;
    reason = client_error_reason;
  }
  if (noted == RD_KAFKA_RESP_ERR__AUTHENTICATION) {
    std::string hint = "; check sasl.mechanisms, sasl.username and sasl.password";
    // librdkafka before 2.6.1 sends a SCRAM nonce that Kafka 4.x brokers refuse (librdkafka #4895)
    if (reason.find("SCRAM") != std::string::npos && rd_kafka_version() < 0x020601ff)
      hint += ". Note: librdkafka " + std::string(rd_kafka_version_str()) +
              " cannot log in with SCRAM to Apache Kafka 4.x brokers (fixed in librdkafka 2.6.1)";
    throw AuthError("Kafka refused the login at " + brokers + ": " + reason + hint);
  }
  std::string what = "no Kafka broker answered at " + brokers + " within " +
                     std::to_string(timeout_ms / 1000.0).substr(0, 4) + " s (" + err_text(err) + ")";
  if (noted == RD_KAFKA_RESP_ERR__SSL)
    throw UnavailableError(what + ": TLS failed: " + reason + "; check ssl.ca.location and the broker's certificate");
  throw UnavailableError(what + "; check -b and that the brokers run");
}


bool refuses_message(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:     // over the producer's or the broker's message.max.bytes
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:  // a one-message batch over the broker's limit
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:         // the broker's validation refused the record
    case RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP:      // outside message.timestamp.{before,after}.max.ms
      return true;
    default:
      return false;
  }
}

std::pair<std::string, std::string> split_property(const std::string& prop) {
  auto eq = prop.find('=');
  if (eq == std::string::npos)
    throw UsageError("-X '" + prop + "': expected PROPERTY=VALUE (e.g. -X security.protocol=SSL)");
  std::string name = prop.substr(0, eq);
  if (name.empty()) throw UsageError("-X '" + prop + "': empty property name");
  return {name, prop.substr(eq + 1)};
}

bool is_secret_property(const std::string& name) { return is_secret_key("librdkafka." + name); }

namespace {
void log_line(int level, const char* fac, const char* buf);
// Called on librdkafka's own threads: no exception may cross its C frames (signals.hpp guarded)
void log_cb(const rd_kafka_t*, int level, const char* fac, const char* buf) {
  guarded("librdkafka log callback", [&] { log_line(level, fac, buf); });
}

void log_line(int level, const char* fac, const char* buf) {
  // librdkafka reports every failed connect attempt at error level; the tools report the
  // consequence themselves (unavailable, retries), so these are warnings, and chatter is debug.
  // "FAIL" lines repeat what the error callback already reports. They come at once, from
  // librdkafka's own threads, where the error callback waits for a poll that a blocking metadata
  // request does not make: so a refused login is noted here, for fetch_topics to report.
  if (std::strcmp(fac, "FAIL") == 0) {
    const char* text = std::strstr(buf, "]: ");
    text = text ? text + 3 : buf;
    if (std::strstr(buf, "SASL authentication error") || std::strstr(buf, "SASL authentication failure"))
      note_client_error(RD_KAFKA_RESP_ERR__AUTHENTICATION, text);
    else if (std::strstr(buf, "SSL handshake failed"))
      note_client_error(RD_KAFKA_RESP_ERR__SSL, text);
  }
  if (level <= 4 && std::strcmp(fac, "FAIL") != 0)
    log::warn("librdkafka: ", fac, ": ", buf);
  else if (level <= 6)
    log::debug("librdkafka: ", fac, ": ", buf);
  else
    log::trace("librdkafka: ", fac, ": ", buf);
}
}  // namespace

void set(rd_kafka_conf_t* conf, const std::string& name, const std::string& value, const std::string& origin) {
  if (is_secret_property(name)) log::add_secret(value);
  char errstr[512];
  rd_kafka_conf_res_t rc = rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr, sizeof errstr);
  if (rc != RD_KAFKA_CONF_OK) {
    // an unknown name may be a misspelt secret ("sasl.pasword"): its value is never shown
    bool hide = rc == RD_KAFKA_CONF_UNKNOWN || is_secret_property(name);
    std::string msg = origin + ": " + name + (hide ? "" : "=" + value) + ": " + errstr;
    if (origin.starts_with("-X")) throw UsageError(msg);
    throw ConfigError(msg);
  }
}

Conf make_conf(const std::vector<std::pair<std::string, std::string>>& defaults,
               const std::vector<std::string>& x_props) {
  Conf conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), log_cb);
  for (const auto& [k, v] : defaults) set(conf.get(), k, v, "default");
  const std::string prefix = "librdkafka.";
  const Config& cfg = config();
  for (const auto& [k, v] : cfg.values())
    if (k.starts_with(prefix)) set(conf.get(), k.substr(prefix.size()), v, cfg.origin() + " [librdkafka]");
  for (const auto& p : x_props) {
    auto [k, v] = split_property(p);
    set(conf.get(), k, v, "-X " + k);
  }
  return conf;
}

bool user_set(const std::string& name, const std::vector<std::string>& x_props) {
  if (config().values().count("librdkafka." + name)) return true;
  for (const auto& p : x_props)
    if (split_property(p).first == name) return true;
  return false;
}

Handle make_handle(rd_kafka_type_t type, Conf conf) {
  char errstr[512];
  rd_kafka_t* rk;
  {
    // SIGINT/SIGTERM go to the tool's own thread. librdkafka 2.0 blocks every signal in the threads
    // rd_kafka_new starts itself; this keeps it so for any it starts otherwise (the mock cluster's
    // thread, seen taking signals, is started the same way in mock.cpp)
    StopSignalsBlocked blocked;
    rk = rd_kafka_new(type, conf.get(), errstr, sizeof errstr);
  }
  if (!rk) throw UsageError(std::string("Kafka client configuration refused: ") + errstr);
  static_cast<void>(conf.release());  // rd_kafka_new took it
  return Handle(rk);
}

std::string resolve_brokers(const std::string& flag, const std::vector<std::string>& x_props) {
  auto blank = [](const std::string& v) { return v.find_first_not_of(" \t,") == std::string::npos; };
  auto v = config().resolve(flag, "KAFKA_BROKERS", "kafka.brokers");
  if (v && !blank(*v)) return *v;
  // librdkafka's own name, as a kcat user writes it: the last -X wins, then the file
  for (auto it = x_props.rbegin(); it != x_props.rend(); ++it) {
    auto [name, value] = split_property(*it);
    if (name == "bootstrap.servers" && !blank(value)) return value;
  }
  if (auto f = config().get("librdkafka.bootstrap.servers"); f && !blank(*f)) return *f;
  // no silent localhost:9092 (an empty -b "$(cat file)" used to become one): kcat has no default either
  throw UsageError("no Kafka brokers given: use -b HOST:PORT[,HOST:PORT...], KAFKA_BROKERS, or brokers in the "
                   "[kafka] section of the configuration file");
}

std::vector<TopicInfo> fetch_topics(rd_kafka_t* rk, const std::vector<std::string>& topics, int timeout_ms,
                                    const std::string& brokers, bool allow_create) {
  std::vector<TopicInfo> out;
  auto collect = [&](const rd_kafka_metadata_t* md) {
    for (int i = 0; i < md->topic_cnt; ++i) {
      const auto& t = md->topics[i];
      out.push_back({t.topic, t.partition_cnt, t.err});
    }
  };
  if (topics.empty() || !allow_create) {
    // asking for all topics never makes a broker auto-create one (a per-topic request may)
    const rd_kafka_metadata_t* md = nullptr;
    auto err = rd_kafka_metadata(rk, 1, nullptr, &md, timeout_ms);
    if (err) throw_unreachable(err, timeout_ms, brokers);
    if (topics.empty()) {
      collect(md);
    } else {
      for (const auto& name : topics) {
        TopicInfo info{name, 0, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART};
        for (int i = 0; i < md->topic_cnt; ++i)
          if (name == md->topics[i].topic) info = {name, md->topics[i].partition_cnt, md->topics[i].err};
        out.push_back(info);
      }
    }
    rd_kafka_metadata_destroy(md);
    return out;
  }
  for (const auto& name : topics) {
    Topic t(rd_kafka_topic_new(rk, name.c_str(), nullptr));
    const rd_kafka_metadata_t* md = nullptr;
    auto err = rd_kafka_metadata(rk, 0, t.get(), &md, timeout_ms);
    if (err) throw_unreachable(err, timeout_ms, brokers);
    if (md->topic_cnt == 0)
      out.push_back({name, 0, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART});
    else
      collect(md);
    rd_kafka_metadata_destroy(md);
  }
  return out;
}

std::map<std::string, std::string> topic_config(rd_kafka_t* rk, const std::string& topic, int timeout_ms) {
  std::map<std::string, std::string> out;
  std::unique_ptr<rd_kafka_queue_t, void (*)(rd_kafka_queue_t*)> queue(rd_kafka_queue_new(rk), rd_kafka_queue_destroy);
  std::unique_ptr<rd_kafka_AdminOptions_t, void (*)(rd_kafka_AdminOptions_t*)> options(
      rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS), rd_kafka_AdminOptions_destroy);
  std::unique_ptr<rd_kafka_ConfigResource_t, void (*)(rd_kafka_ConfigResource_t*)> resource(
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str()), rd_kafka_ConfigResource_destroy);
  char errstr[256];
  rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms, errstr, sizeof errstr);
  rd_kafka_ConfigResource_t* resources[] = {resource.get()};
  rd_kafka_DescribeConfigs(rk, resources, 1, options.get(), queue.get());
  std::unique_ptr<rd_kafka_event_t, void (*)(rd_kafka_event_t*)> ev(rd_kafka_queue_poll(queue.get(), timeout_ms + 1000),
                                                                     rd_kafka_event_destroy);
  if (!ev || rd_kafka_event_type(ev.get()) != RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT || rd_kafka_event_error(ev.get())) {
    if (ev) log::debug("describing topic ", topic, ": ", rd_kafka_event_error_string(ev.get()));
    return out;
  }
  size_t n = 0;
  const rd_kafka_ConfigResource_t** got =
      rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev.get()), &n);
  for (size_t i = 0; i < n; ++i) {
    if (rd_kafka_ConfigResource_error(got[i])) continue;
    size_t entries = 0;
    const rd_kafka_ConfigEntry_t** e = rd_kafka_ConfigResource_configs(got[i], &entries);
    for (size_t j = 0; j < entries; ++j) {
      const char* value = rd_kafka_ConfigEntry_value(e[j]);
      if (value) out[rd_kafka_ConfigEntry_name(e[j])] = value;
    }
  }
  return out;
}

double RefillWatch::fill(int64_t queued, double avg_bytes) const {
  double f = max_msgs_ > 0 ? static_cast<double>(queued) / static_cast<double>(max_msgs_) : 0;
  if (avg_bytes > 0 && max_bytes_ > 0) f = std::max(f, static_cast<double>(queued) * avg_bytes / static_cast<double>(max_bytes_));
  return f;
}

bool RefillWatch::observe(int64_t queued, double avg_bytes) {
  double f = fill(queued, avg_bytes);
  if (f >= 0.75) {
    armed_ = true;
    return false;
  }
  if (armed_ && f <= 0.5) {
    armed_ = false;
    return true;
  }
  return false;
}

namespace {
int64_t conf_int(rd_kafka_t* rk, const char* name, int64_t fallback) {
  char buf[64];
  size_t size = sizeof buf;
  if (rd_kafka_conf_get(rd_kafka_conf(rk), name, buf, &size) != RD_KAFKA_CONF_OK) return fallback;
  return std::strtoll(buf, nullptr, 10);
}
}  // namespace

FetchWaker::FetchWaker(rd_kafka_t* rk)
    : rk_(rk),
      watch_(conf_int(rk, "queued.min.messages", 100000), conf_int(rk, "queued.max.messages.kbytes", 65536) * 1024) {
  thread_ = start_thread("waking the fetchers", [this] { loop(); });
}

void FetchWaker::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void FetchWaker::loop() {
  std::unique_ptr<rd_kafka_queue_t, void (*)(rd_kafka_queue_t*)> queue(rd_kafka_queue_get_consumer(rk_),
                                                                         rd_kafka_queue_destroy);
  if (!queue) return;
  while (!stop_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    uint64_t n = messages_.load(std::memory_order_relaxed);
    double avg = n ? static_cast<double>(bytes_.load(std::memory_order_relaxed)) / static_cast<double>(n) : 0;
    if (!watch_.observe(static_cast<int64_t>(rd_kafka_queue_length(queue.get())), avg)) continue;
    rd_kafka_topic_partition_list_t* assigned = nullptr;
    if (rd_kafka_assignment(rk_, &assigned) || !assigned) continue;
    PartitionList list(assigned);
    if (list->cnt == 0) continue;
    for (int i = 0; i < list->cnt; ++i) list->elems[i].offset = RD_KAFKA_OFFSET_END;  // as a time: "latest"
    // The answer does not matter, the requests do; a broker that does not answer costs this thread
    // the timeout, no more.
    rd_kafka_offsets_for_times(rk_, list.get(), 500);
    wakes_.fetch_add(1);
  }
}

}  // namespace sp::kafka
