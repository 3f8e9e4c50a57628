#include "common/kafka.hpp"

#include <cstring>

#include "common/config.hpp"
#include "common/errors.hpp"
#include "common/log.hpp"

namespace sp::kafka {

void HandleDeleter::operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }

std::string err_text(rd_kafka_resp_err_t err) { return rd_kafka_err2str(err); }

std::pair<std::string, std::string> split_property(const std::string& prop) {
  auto eq = prop.find('=');
  if (eq == std::string::npos)
    throw UsageError("-X '" + prop + "': expected PROPERTY=VALUE (e.g. -X security.protocol=SSL)");
  std::string name = prop.substr(0, eq);
  if (name.empty()) throw UsageError("-X '" + prop + "': empty property name");
  return {name, prop.substr(eq + 1)};
}

bool is_secret_property(const std::string& name) {
  return name.find("password") != std::string::npos || name.find("secret") != std::string::npos ||
         name == "ssl.key.pem" || name == "sasl.oauthbearer.config" || name == "ssl_key";
}

namespace {
void log_cb(const rd_kafka_t*, int level, const char* fac, const char* buf) {
  // librdkafka reports every failed connect attempt at error level; the tools report the
  // consequence themselves (unavailable, retries), so these are warnings, and chatter is debug.
  // "FAIL" lines repeat what the error callback already reports
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
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
    std::string shown = is_secret_property(name) ? "***" : value;
    std::string msg = origin + ": " + name + "=" + shown + ": " + errstr;
    if (origin.rfind("-X", 0) == 0) throw UsageError(msg);
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
    if (k.rfind(prefix, 0) == 0) set(conf.get(), k.substr(prefix.size()), v, cfg.origin() + " [librdkafka]");
  for (const auto& p : x_props) {
    auto [k, v] = split_property(p);
    set(conf.get(), k, v, "-X " + k);
  }
  return conf;
}

Handle make_handle(rd_kafka_type_t type, Conf conf) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr, sizeof errstr);
  if (!rk) throw UsageError(std::string("Kafka client configuration refused: ") + errstr);
  conf.release();  // rd_kafka_new took it
  return Handle(rk);
}

std::string resolve_brokers(const std::string& flag) {
  auto v = config().resolve(flag, "KAFKA_BROKERS", "kafka.brokers");
  return v ? *v : "localhost:9092";
}

std::vector<TopicInfo> fetch_topics(rd_kafka_t* rk, const std::vector<std::string>& topics, int timeout_ms,
                                    const std::string& brokers, bool allow_create) {
  std::vector<TopicInfo> out;
  auto unavailable = [&](rd_kafka_resp_err_t err) {
    return UnavailableError("no Kafka broker answered at " + brokers + " within " +
                            std::to_string(timeout_ms / 1000.0).substr(0, 4) + " s (" + err_text(err) +
                            "); check -b and that the brokers run");
  };
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
    if (err) throw unavailable(err);
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
    if (err) throw unavailable(err);
    if (md->topic_cnt == 0)
      out.push_back({name, 0, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART});
    else
      collect(md);
    rd_kafka_metadata_destroy(md);
  }
  return out;
}

}  // namespace sp::kafka
