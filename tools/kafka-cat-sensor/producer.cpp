// Produce mode: stdin lines to a topic, keyed for per-sensor ordering, every delivery confirmed.
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <random>

#include "common/core/errors.hpp"
#include "common/rows/plain_json.hpp"
#include "common/kafka/kafka.hpp"
#include "common/core/line_io.hpp"
#include "common/core/log.hpp"
#include "common/core/metrics.hpp"
#include "common/core/progress.hpp"
#include "common/core/signals.hpp"
#include "common/core/timeutil.hpp"
#include "kcs.hpp"
#include "producer.hpp"

namespace sp::kcs {

KeyExtractor::KeyExtractor(const std::string& dotted_path, bool fast_path) : fast_path_(fast_path) {
  if (dotted_path.empty()) throw UsageError("--key-field: empty path");
  size_t start = 0;
  while (true) {
    size_t dot = dotted_path.find('.', start);
    std::string part = dotted_path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.empty()) throw UsageError("--key-field '" + dotted_path + "': empty name between dots");
    parts_.push_back(part);
    pointer_ += '/';
    for (char c : part) {
      if (c == '~')
        pointer_ += "~0";
      else if (c == '/')
        pointer_ += "~1";
      else
        pointer_ += c;
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
}

bool KeyExtractor::extract(std::string_view line, std::string& key) {
  bool found = false;
  if (fast_path_ && extract_plain(line, key, found)) return found;
  return extract_simdjson(line, key);
}

bool KeyExtractor::extract_plain(std::string_view line, std::string& key, bool& found) const {
  parse::PlainJson j(line);
  found = false;
  return walk(j, 0, 0, key, found) && j.at_end();
}

// At a value inside `depth` containers, whose path from the root is parts_[0, level): the field
// itself when level is the path's length. Checks the syntax of all of it, as simdjson would.
bool KeyExtractor::walk(parse::PlainJson& j, size_t level, int depth, std::string& key, bool& found) const {
  char c = j.peek();
  if (level == parts_.size()) {
    std::string_view text;
    if (c == '"') {
      if (!j.string(text)) return false;
    } else if (c == 't' || c == 'f') {
      text = c == 't' ? "true" : "false";
      if (!j.literal(text)) return false;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      bool integral;
      int64_t i;
      double d;
      if (!j.number(text, integral) || !parse::PlainJson::number_value(text, integral, i, d)) return false;
    } else {
      return j.skip_value(depth);  // null, an object or an array: no key
    }
    key.assign(text);
    found = true;
    return true;
  }
  if (c != '{') return j.skip_value(depth);  // not an object: the path is not there
  bool matched = false;  // a repeated name: the first one counts, as for simdjson
  return j.members(depth, [&](std::string_view name, int d) {
    if (matched || !parse::same_key(name, parts_[level])) return j.skip_value(d);
    matched = true;
    return walk(j, level + 1, d, key, found);
  });
}

bool KeyExtractor::extract_simdjson(std::string_view line, std::string& key) {
  if (padded_.size() < line.size() + simdjson::SIMDJSON_PADDING) padded_.resize(line.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(padded_.data(), line.data(), line.size());
  // The padding is read on a line that ends inside an object (On Demand looks one byte past the end):
  // bytes left there by a longer earlier line made the answer depend on that line (found by fuzzing).
  std::memset(padded_.data() + line.size(), 0, simdjson::SIMDJSON_PADDING);
  static thread_local simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  if (parser.iterate(padded_.data(), line.size(), padded_.size()).get(doc)) return false;
  simdjson::ondemand::value v;
  if (doc.at_pointer(pointer_).get(v)) return false;
  simdjson::ondemand::json_type t;
  if (v.type().get(t)) return false;
  if (t == simdjson::ondemand::json_type::string) {
    std::string_view s;
    if (v.get_string().get(s)) return false;
    key.assign(s);
    return true;
  }
  if (t == simdjson::ondemand::json_type::number || t == simdjson::ondemand::json_type::boolean) {
    std::string_view raw = v.raw_json_token();
    while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t' || raw.back() == '\r' || raw.back() == '\n'))
      raw.remove_suffix(1);
    key.assign(raw);
    return true;
  }
  return false;
}

TopicTimeLimits TopicTimeLimits::from(const std::map<std::string, std::string>& config) {
  TopicTimeLimits l;
  auto number = [&](const char* name, int64_t& out) {
    auto it = config.find(name);
    if (it == config.end()) return;
    int64_t v = 0;
    auto r = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
    if (r.ec == std::errc() && r.ptr == it->second.data() + it->second.size()) out = v;
  };
  l.known = !config.empty();
  number("message.timestamp.after.max.ms", l.after_max_ms);
  number("message.timestamp.before.max.ms", l.before_max_ms);
  number("retention.ms", l.retention_ms);
  if (auto it = config.find("cleanup.policy"); it != config.end()) l.deletes = it->second.find("delete") != std::string::npos;
  if (auto it = config.find("message.timestamp.type"); it != config.end()) l.log_append_time = it->second == "LogAppendTime";
  return l;
}

TopicTimeLimits::Verdict TopicTimeLimits::judge(int64_t ts_ms, int64_t now_ms) const {
  // differences in 128 bits' worth of care: the limits may be INT64_MAX (Kafka's "unlimited")
  auto over = [](int64_t diff, int64_t limit) { return diff > 0 && limit >= 0 && limit - std::min(limit, kMargin) < diff; };
  if (log_append_time) return Verdict::ok;  // the broker stamps the records itself
  if (ts_ms > now_ms && over(ts_ms - now_ms, after_max_ms)) return Verdict::ahead;
  if (ts_ms < now_ms && over(now_ms - ts_ms, before_max_ms)) return Verdict::behind;
  if (deletes && retention_ms >= 0 && ts_ms < now_ms && now_ms - ts_ms > retention_ms) return Verdict::expired;
  return Verdict::ok;
}

std::string human_ms(int64_t ms) {
  auto whole = [&](int64_t unit, const char* name) {
    return ms % unit == 0 || ms >= 10 * unit ? std::to_string(ms / unit) + name : std::string();
  };
  if (ms >= 86400000) {
    if (auto t = whole(86400000, ms >= 172800000 ? " days" : " day"); !t.empty()) return t;
  }
  if (ms >= 3600000)
    if (auto t = whole(3600000, " h"); !t.empty()) return t;
  if (ms >= 60000)
    if (auto t = whole(60000, " min"); !t.empty()) return t;
  if (ms >= 1000 && ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

namespace {

// Per-line problems (never a message, no key, no time) are reported with their line number, up to
// this many each; the last report says so and the summary at the end counts them all.
constexpr uint64_t kShownLines = 20;
const char* more_only_counted(uint64_t n) { return n == kShownLines ? "; more such lines are only counted" : ""; }

// dr_cb counts failures; delivered = queued - in flight - failed - refused.
struct Delivery {
  uint64_t failed = 0;   // may go through on a rerun (broker down, timeout)
  uint64_t refused = 0;  // the message itself refused by the broker (kafka::refuses_message)
  std::string last_error;
  Counter* ok_metric = nullptr;
  Counter* failed_metric = nullptr;
  uint64_t ok_reported = 0;
  void report_ok(uint64_t queued, uint64_t in_flight) {
    uint64_t done = queued - std::min(queued, in_flight);
    uint64_t ok = done - std::min(done, failed + refused);
    if (ok > ok_reported) {
      ok_metric->inc(static_cast<double>(ok - ok_reported));
      ok_reported = ok;
    }
  }
};

void delivered(Delivery* d, const rd_kafka_message_t* m);
// librdkafka's callbacks: no exception may cross their C frames (signals.hpp guarded)
void dr_cb(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  guarded("delivery report", [&] { delivered(static_cast<Delivery*>(opaque), m); });
}

void delivered(Delivery* d, const rd_kafka_message_t* m) {
  if (m->err && kafka::refuses_message(m->err)) {
    // a broker whose limit is below the producer's message.max.bytes, or that validates records
    if (++d->refused <= kShownLines)
      log::warn("stdin line ", reinterpret_cast<uintptr_t>(m->_private), ": refused by the broker: ", rd_kafka_err2str(m->err),
                ": not delivered", more_only_counted(d->refused));
    d->failed_metric->inc();
  } else if (m->err) {
    if (++d->failed <= 5)
      log::warn("delivery to ", rd_kafka_topic_name(m->rkt), " failed: ", rd_kafka_err2str(m->err));
    d->last_error = rd_kafka_err2str(m->err);
    d->failed_metric->inc();
  }
}

// Keyed messages: murmur2_random (Java's choice); keyless ones: KeylessSpreader.
int32_t partitioner_cb(const rd_kafka_topic_t* rkt, const void* key, size_t keylen, int32_t partitions, void* rkt_opaque,
                       void* msg_opaque) {
  if (key) return rd_kafka_msg_partitioner_murmur2_random(rkt, key, keylen, partitions, rkt_opaque, msg_opaque);
  auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch());
  return static_cast<KeylessSpreader*>(rkt_opaque)->next(partitions, now.count(), [rkt](int32_t p) {
    return rd_kafka_topic_partition_available(rkt, p) != 0;
  });
}

void error_cb(rd_kafka_t*, int err, const char* reason, void*) {
  guarded("Kafka error callback", [&] {
    kafka::note_client_error(err, reason);
    if (err == RD_KAFKA_RESP_ERR__FATAL)
      log::error("Kafka: ", reason);
    else
      log::warn("Kafka: ", reason);
  });
}

// A --timestamp-field value: ISO-8601 (the seed's "timestamp"), or epoch milliseconds.
std::optional<int64_t> record_timestamp(const std::string& text) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) {
    int64_t v = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), v);
    if (r.ec == std::errc()) return v;
    return std::nullopt;
  }
  return parse_iso8601_ms(text);
}

void check_producer_options(const Options& o) {
  if (o.topics.size() != 1) throw UsageError("-P writes to exactly one topic (-t)");
  if (int(!o.key.empty()) + int(!o.key_delim.empty()) + int(!o.key_field.empty()) > 1)
    throw UsageError("-k, -K and --key-field are alternatives: give one");
}

std::unique_ptr<KeyExtractor> extractor_for(const std::string& field) {
  if (field.empty()) return nullptr;
  return std::make_unique<KeyExtractor>(field);
}

Delivery delivery_for(const std::string& topic) {
  Delivery d;
  d.ok_metric = &metrics().counter("kafka_produced_messages_total", "Messages delivered (acknowledged by the broker)",
                                   label("topic", topic));
  d.failed_metric = &metrics().counter("kafka_produce_failures_total", "Messages whose delivery failed", label("topic", topic));
  return d;
}

// The producer: delivery reports to `d`; keyless messages spread by `spreader`. Both must outlive it.
kafka::Handle make_producer(const Options& o, Delivery& d, KeylessSpreader& spreader) {
  std::vector<std::pair<std::string, std::string>> defaults = {
      {"bootstrap.servers", o.brokers},
      {"client.id", "kafka-cat-sensor"},
      {"enable.idempotence", "true"},
      // Every delivery is reported (dr_cb counts only failures): with error-only reports a producer
      // waiting on a full queue sleeps its whole poll timeout, as no event wakes it; kcat -P was 1.7x faster.
      {"delivery.report.only.error", "false"},
      // the same partition for the same key as Java clients choose
      {"partitioner", "murmur2_random"},
      // librdkafka calls the partitioner for every message, keyless ones too (KeylessSpreader)
      {"sticky.partitioning.linger.ms", "0"},
      {"linger.ms", "20"},
      {"batch.num.messages", "10000"},
      {"batch.size", "1000000"},
      // bounded memory: at most this much waits for delivery
      {"queue.buffering.max.messages", "100000"},
      {"queue.buffering.max.kbytes", "65536"},
  };
  auto conf = kafka::make_conf(defaults, o.x_props);
  rd_kafka_conf_set_opaque(conf.get(), &d);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), dr_cb);
  rd_kafka_conf_set_error_cb(conf.get(), error_cb);
  // ours unless the user chose how to partition
  if (!kafka::user_set("partitioner", o.x_props) && !kafka::user_set("sticky.partitioning.linger.ms", o.x_props)) {
    rd_kafka_topic_conf_t* tconf = rd_kafka_conf_get_default_topic_conf(conf.get());
    if (!tconf) {
      tconf = rd_kafka_topic_conf_new();
      rd_kafka_conf_set_default_topic_conf(conf.get(), tconf);  // takes it
    }
    rd_kafka_topic_conf_set_partitioner_cb(tconf, partitioner_cb);
    rd_kafka_topic_conf_set_opaque(tconf, &spreader);
  }
  return kafka::make_handle(RD_KAFKA_PRODUCER, std::move(conf));
}

// The -t topic, once the brokers have confirmed it exists (NoInputError when not).
kafka::Topic open_topic(rd_kafka_t* rk, const Options& o) {
  auto infos = kafka::fetch_topics(rk, o.topics, o.connect_timeout_ms, o.brokers, true);
  for (const auto& t : infos) {
    // asked with allow_create: the cluster does not create topics on first use
    if (t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
      throw NoInputError("topic '" + t.name + "' does not exist (brokers " + o.brokers +
                         "), and this cluster does not create topics on first use: create it first, e.g. "
                         "kafka-topics.sh --bootstrap-server " + o.brokers + " --create --topic " + t.name +
                         " --partitions 16 (or ask whoever runs the cluster)");
    if (t.err && t.err != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE)
      throw NoInputError("topic '" + t.name + "': " + kafka::err_text(t.err) + " (brokers " + o.brokers + ")");
  }
  return kafka::Topic(rd_kafka_topic_new(rk, o.topics[0].c_str(), nullptr));
}

// The producer's message.max.bytes as text, for messages about lines over it.
std::string message_max_bytes(rd_kafka_t* rk) {
  std::string max_bytes = "?";
  char buf[32];
  size_t size = sizeof buf;
  if (rd_kafka_conf_get(rd_kafka_conf(rk), "message.max.bytes", buf, &size) == RD_KAFKA_CONF_OK) max_bytes = buf;
  return max_bytes;
}

// A message's key. p null: none (an empty key is still a key, and partitioned as one).
struct MessageKey {
  const char* p = nullptr;
  size_t len = 0;
};

// Produce mode's state: the producer and the counts its summary reports. Members are declared in
// the order run_producer used to create them: the delivery report and the spreader outlive the
// producer that calls them.
class LineProducer {
 public:
  explicit LineProducer(const Options& o)
      : o_(o), extractor_(extractor_for(o.key_field)), ts_extractor_(extractor_for(o.timestamp_field)),
        d_(delivery_for(o.topics[0])), spreader_(static_cast<uint32_t>(std::random_device{}())),
        rk_(make_producer(o, d_, spreader_)), rkt_(open_topic(rk_.get(), o)), max_bytes_(message_max_bytes(rk_.get())) {
    if (ts_extractor_) read_time_limits();
  }

  // Set when a line stopped the run (an expired time without --allow-expired): nothing after it is sent.
  bool stopped() const { return !stopped_.empty(); }

  // One stdin line: checked, keyed, time-stamped and queued.
  void send(const Line& line) {
    if (line.overlong) {
      report_too_large(line.number, std::to_string(line.full_size) + " bytes, longer than the 1 MiB limit");
      return;
    }
    std::string_view value = line.text;
    if (value.empty()) return;  // carries nothing; kcat skips them too
    MessageKey key = key_of(value, line.number);
    int64_t ts_ms = timestamp_of(value, line.number);
    if (stopped()) return;
    if (!produce(value, key, ts_ms, line.number)) return;
    ++produced_;
    bytes_ += value.size();
    if ((produced_ & 1023) == 0) {
      rd_kafka_poll(rk_.get(), 0);
      d_.report_ok(produced_, static_cast<uint64_t>(rd_kafka_outq_len(rk_.get())));
    }
    progress_.update(produced_, bytes_);
  }

  void flush() {
    // every message handed to librdkafka gets a delivery report: wait for all of them
    while (rd_kafka_outq_len(rk_.get()) > 0) rd_kafka_flush(rk_.get(), 500);
    d_.report_ok(produced_, 0);
    progress_.done();
  }

  // The summary line; throws when messages were not delivered; else the exit status.
  int report(bool interrupted) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    uint64_t failed = d_.failed + refused_;
    uint64_t never = too_large_ + d_.refused;
    uint64_t delivered = produced_ - std::min(produced_, d_.failed + d_.refused);
    std::string extra;
    if (no_key_) extra += ", " + std::to_string(no_key_) + " without a key";
    if (no_ts_) extra += ", " + std::to_string(no_ts_) + " with the current time (no usable " + o_.timestamp_field + ")";
    if (out_of_range_)
      extra += ", " + std::to_string(out_of_range_) + " with the current time (their own outside what the topic accepts)";
    if (expired_) extra += ", " + std::to_string(expired_) + " older than the topic's retention (--allow-expired)";
    if (never) extra += ", " + std::to_string(never) + " too large or invalid";
    log::info(summary_text(delivered, bytes_, secs, "messages delivered"), extra);
    // a rerun may deliver what failed; it comes first, the lines that can never be sent are named too
    std::string never_text = std::to_string(never) + (never == 1 ? " line" : " lines") +
                             " can never be sent (too large, or refused by the broker as invalid)";
    if (failed)
      throw TempFailError(std::to_string(failed) + " of " + std::to_string(produced_ + refused_) + " messages were not delivered (last error: " +
                          d_.last_error + ")" + (never ? "; and " + never_text : ""));
    if (stopped()) throw DataError(stopped_ + "; the " + std::to_string(delivered) + " lines before it were delivered");
    if (never) throw DataError(never_text + "; the other " + std::to_string(delivered) + " were delivered");
    if (interrupted) return code(Exit::interrupted);
    return 0;
  }

 private:
  // -k, -K or --key-field; with -K the key and its delimiter are taken off `value`.
  MessageKey key_of(std::string_view& value, uint64_t line_number) {
    MessageKey k;
    if (!o_.key.empty()) {
      k.p = o_.key.data();
      k.len = o_.key.size();
    } else if (!o_.key_delim.empty()) {
      auto pos = value.find(o_.key_delim);
      if (pos == std::string_view::npos) {
        if (++no_key_ <= kShownLines)
          log::warn("stdin line ", line_number, ": no key delimiter '", o_.key_delim, "': produced without a key",
                    more_only_counted(no_key_));
      } else {
        k.p = value.data();
        k.len = pos;
        value.remove_prefix(pos + o_.key_delim.size());
      }
    } else if (extractor_) {
      if (extractor_->extract(value, key_)) {
        k.p = key_.data();
        k.len = key_.size();
      } else if (++no_key_ <= kShownLines) {
        log::warn("stdin line ", line_number, ": no field ", o_.key_field, " (or not JSON): produced without a key",
                  more_only_counted(no_key_));
      }
    }
    return k;
  }

  // --timestamp-field: the record's time; 0: librdkafka stamps the produce time.
  int64_t timestamp_of(std::string_view value, uint64_t line_number) {
    int64_t ts_ms = 0;
    if (ts_extractor_) {
      std::optional<int64_t> t;
      if (ts_extractor_->extract(value, ts_text_)) t = record_timestamp(ts_text_);
      if (t && *t > 0)
        ts_ms = judged(*t, line_number);
      else if (++no_ts_ <= kShownLines)
        log::warn("stdin line ", line_number, ": no usable time in field ", o_.timestamp_field,
                  " (ISO-8601 or epoch milliseconds after 1970): produced with the current time", more_only_counted(no_ts_));
    }
    return ts_ms;
  }

  // The topic's limits for record times, read once (with --timestamp-field only).
  void read_time_limits() {
    limits_ = TopicTimeLimits::from(kafka::topic_config(rk_.get(), o_.topics[0], o_.connect_timeout_ms));
    if (!limits_.known)
      log::warn("could not read topic ", o_.topics[0], "'s configuration (DescribeConfigs): assuming Kafka's defaults "
                "for --timestamp-field (times at most 1 h ahead; retention.ms 7 days)");
    if (limits_.log_append_time)
      log::warn("topic ", o_.topics[0], " has message.timestamp.type=LogAppendTime: the broker stamps every record "
                "with its own time, and --timestamp-field changes nothing");
  }

  // A line's own time as the topic will take it: a time the broker would refuse (and with it the
  // whole batch) is replaced by the current time (0), counted and reported; one older than the
  // topic's retention stops the run unless --allow-expired.
  int64_t judged(int64_t ts_ms, uint64_t line_number) {
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    switch (limits_.judge(ts_ms, now)) {
      case TopicTimeLimits::Verdict::ok: return ts_ms;
      case TopicTimeLimits::Verdict::ahead:
      case TopicTimeLimits::Verdict::behind: {
        bool ahead = ts_ms > now;
        if (++out_of_range_ <= kShownLines)
          log::warn("stdin line ", line_number, ": time ", format_iso_ms(ts_ms), " is more than ",
                    human_ms(ahead ? limits_.after_max_ms : limits_.before_max_ms), ahead ? " ahead of" : " behind",
                    " now (the topic's message.timestamp.", ahead ? "after" : "before",
                    ".max.ms): the broker would refuse it and its whole batch; produced with the current time",
                    more_only_counted(out_of_range_));
        return 0;
      }
      case TopicTimeLimits::Verdict::expired:
        if (o_.allow_expired) {
          if (++expired_ == 1)
            log::warn("stdin line ", line_number, ": time ", format_iso_ms(ts_ms), " is older than topic ", o_.topics[0],
                      "'s retention (retention.ms ", human_ms(limits_.retention_ms),
                      "): the broker deletes such records within minutes; produced anyway (--allow-expired), "
                      "the rest are counted");
          return ts_ms;
        }
        stopped_ = "stdin line " + std::to_string(line_number) + ": time " + format_iso_ms(ts_ms) +
                   " is older than topic " + o_.topics[0] + "'s retention (retention.ms " + human_ms(limits_.retention_ms) +
                   "): the broker would delete the record within minutes, so nothing from this line on is produced. "
                   "Raise the topic's retention first (kafka-configs.sh --bootstrap-server " + o_.brokers +
                   " --alter --entity-type topics --entity-name " + o_.topics[0] +
                   " --add-config retention.ms=-1), produce without --timestamp-field (the records then carry the time "
                   "of producing), or give --allow-expired if a consumer reads them at once";
        return 0;
    }
    return ts_ms;
  }

  // Hands one message to librdkafka, waiting while its queue is full; false when it was not
  // queued (too large, or refused: reported and counted).
  bool produce(std::string_view value, MessageKey key, int64_t ts_ms, uint64_t line_number) {
    for (;;) {
      // the line number rides along for the delivery report
      void* opaque = reinterpret_cast<void*>(static_cast<uintptr_t>(line_number));
      rd_kafka_resp_err_t err;
      if (ts_ms == 0) {
        err = rd_kafka_produce(rkt_.get(), RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, const_cast<char*>(value.data()),
                               value.size(), key.p, key.len, opaque) == 0
                  ? RD_KAFKA_RESP_ERR_NO_ERROR
                  : rd_kafka_last_error();
      } else {
        err = rd_kafka_producev(rk_.get(), RD_KAFKA_V_RKT(rkt_.get()), RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                RD_KAFKA_V_KEY(key.p, key.len), RD_KAFKA_V_TIMESTAMP(ts_ms), RD_KAFKA_V_OPAQUE(opaque),
                                RD_KAFKA_V_END);
      }
      if (!err) return true;
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(rk_.get(), 10);  // wait for deliveries to make room: bounded memory
        continue;
      }
      if (kafka::refuses_message(err)) {
        // librdkafka checks the size (value, key and the record's framing) before sending
        report_too_large(line_number, std::to_string(value.size() + key.len) + (key.len ? " bytes with the key" : " bytes") +
                                          ", over message.max.bytes (" + max_bytes_ + ", framing included)");
        return false;
      }
      if (++refused_ <= kShownLines)
        log::warn("stdin line ", line_number, ": not produced: ", rd_kafka_err2str(err), more_only_counted(refused_));
      d_.last_error = rd_kafka_err2str(err);
      return false;
    }
  }

  // Lines that can never be a message (over 1 MiB, or over message.max.bytes with the key): each
  // reported with its number and skipped, the rest sent; exit 65 at the end, as a rerun cannot help.
  void report_too_large(uint64_t line_number, const std::string& what) {
    if (++too_large_ <= kShownLines) log::warn("stdin line ", line_number, ": ", what, ": not produced", more_only_counted(too_large_));
  }

  const Options& o_;
  std::unique_ptr<KeyExtractor> extractor_;
  // Kafka's time index (-o @TIME, --until) holds record timestamps: the produce time unless set here,
  // so a replay of old messages keeps their own time only with --timestamp-field.
  std::unique_ptr<KeyExtractor> ts_extractor_;
  std::string ts_text_;
  uint64_t no_ts_ = 0;
  TopicTimeLimits limits_;
  uint64_t out_of_range_ = 0, expired_ = 0;
  std::string stopped_;
  Delivery d_;
  KeylessSpreader spreader_;
  kafka::Handle rk_;
  kafka::Topic rkt_;
  Progress progress_{"messages"};
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
  uint64_t produced_ = 0, bytes_ = 0, no_key_ = 0, refused_ = 0;
  uint64_t too_large_ = 0;
  std::string max_bytes_;
  std::string key_;  // the --key-field value of the current line
};

}  // namespace

int run_producer(const Options& o, int in_fd) {
  check_producer_options(o);
  LineProducer producer(o);
  LineReader reader(in_fd);
  Line line;
  bool interrupted = false;
  while (reader.next(line)) {
    if (stop_requested()) {
      interrupted = true;
      break;
    }
    producer.send(line);
    if (producer.stopped()) break;
  }
  if (stop_requested()) interrupted = true;
  producer.flush();
  return producer.report(interrupted);
}

}  // namespace sp::kcs
