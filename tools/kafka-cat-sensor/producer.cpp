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

namespace {

// Lines that can never be a message are reported with their number, up to this many.
constexpr uint64_t kShownLines = 20;

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

void dr_cb(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* d = static_cast<Delivery*>(opaque);
  if (m->err && kafka::refuses_message(m->err)) {
    // a broker whose limit is below the producer's message.max.bytes, or that validates records
    if (++d->refused <= kShownLines)
      log::warn("stdin line ", reinterpret_cast<uintptr_t>(m->_private), ": refused by the broker: ", rd_kafka_err2str(m->err),
                ": not delivered");
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
  kafka::note_client_error(err, reason);
  if (err == RD_KAFKA_RESP_ERR__FATAL)
    log::error("Kafka: ", reason);
  else
    log::warn("Kafka: ", reason);
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

}  // namespace

int run_producer(const Options& o, int in_fd) {
  if (o.topics.size() != 1) throw UsageError("-P writes to exactly one topic (-t)");
  if (int(!o.key.empty()) + int(!o.key_delim.empty()) + int(!o.key_field.empty()) > 1)
    throw UsageError("-k, -K and --key-field are alternatives: give one");
  std::unique_ptr<KeyExtractor> extractor;
  if (!o.key_field.empty()) extractor = std::make_unique<KeyExtractor>(o.key_field);
  // Kafka's time index (-o @TIME, --until) holds record timestamps: the produce time unless set here,
  // so a replay of old messages keeps their own time only with --timestamp-field.
  std::unique_ptr<KeyExtractor> ts_extractor;
  if (!o.timestamp_field.empty()) ts_extractor = std::make_unique<KeyExtractor>(o.timestamp_field);
  std::string ts_text;
  uint64_t no_ts = 0;
  const std::string& topic = o.topics[0];

  Delivery d;
  d.ok_metric = &metrics().counter("kafka_produced_messages_total", "Messages delivered (acknowledged by the broker)",
                                   label("topic", topic));
  d.failed_metric = &metrics().counter("kafka_produce_failures_total", "Messages whose delivery failed", label("topic", topic));
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
  KeylessSpreader spreader(static_cast<uint32_t>(std::random_device{}()));
  if (!kafka::user_set("partitioner", o.x_props) && !kafka::user_set("sticky.partitioning.linger.ms", o.x_props)) {
    rd_kafka_topic_conf_t* tconf = rd_kafka_conf_get_default_topic_conf(conf.get());
    if (!tconf) {
      tconf = rd_kafka_topic_conf_new();
      rd_kafka_conf_set_default_topic_conf(conf.get(), tconf);  // takes it
    }
    rd_kafka_topic_conf_set_partitioner_cb(tconf, partitioner_cb);
    rd_kafka_topic_conf_set_opaque(tconf, &spreader);
  }
  auto rk = kafka::make_handle(RD_KAFKA_PRODUCER, std::move(conf));

  auto infos = kafka::fetch_topics(rk.get(), o.topics, o.connect_timeout_ms, o.brokers, true);
  for (const auto& t : infos)
    if (t.err && t.err != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE)
      throw NoInputError("topic '" + t.name + "': " + kafka::err_text(t.err) + " (brokers " + o.brokers + ")");
  kafka::Topic rkt(rd_kafka_topic_new(rk.get(), topic.c_str(), nullptr));

  LineReader reader(in_fd);
  Line line;
  Progress progress("messages");
  auto t0 = std::chrono::steady_clock::now();
  uint64_t produced = 0, bytes = 0, no_key = 0, refused = 0;
  // Lines that can never be a message (over 1 MiB, or over message.max.bytes with the key): each
  // reported with its number and skipped, the rest sent; exit 65 at the end, as a rerun cannot help.
  uint64_t too_large = 0;
  std::string max_bytes = "?";
  {
    char buf[32];
    size_t size = sizeof buf;
    if (rd_kafka_conf_get(rd_kafka_conf(rk.get()), "message.max.bytes", buf, &size) == RD_KAFKA_CONF_OK) max_bytes = buf;
  }
  auto report_too_large = [&](const std::string& what) {
    if (++too_large <= kShownLines)
      log::warn("stdin line ", line.number, ": ", what, ": not produced",
                too_large == kShownLines ? "; more such lines are only counted" : "");
  };
  std::string key;
  bool interrupted = false;
  while (reader.next(line)) {
    if (stop_requested()) {
      interrupted = true;
      break;
    }
    if (line.overlong) {
      report_too_large(std::to_string(line.full_size) + " bytes, longer than the 1 MiB limit");
      continue;
    }
    std::string_view value = line.text;
    if (value.empty()) continue;  // carries nothing; kcat skips them too
    const char* kp = nullptr;
    size_t kl = 0;
    if (!o.key.empty()) {
      kp = o.key.data();
      kl = o.key.size();
    } else if (!o.key_delim.empty()) {
      auto pos = value.find(o.key_delim);
      if (pos == std::string_view::npos) {
        ++no_key;
        if (no_key <= 5) log::warn("stdin line ", line.number, ": no key delimiter '", o.key_delim, "': produced without a key");
      } else {
        kp = value.data();
        kl = pos;
        value.remove_prefix(pos + o.key_delim.size());
      }
    } else if (extractor) {
      if (extractor->extract(value, key)) {
        kp = key.data();
        kl = key.size();
      } else if (++no_key <= 5) {
        log::warn("stdin line ", line.number, ": no field ", o.key_field, " (or not JSON): produced without a key");
      }
    }
    int64_t ts_ms = 0;  // 0: librdkafka stamps the produce time
    if (ts_extractor) {
      std::optional<int64_t> t;
      if (ts_extractor->extract(value, ts_text)) t = record_timestamp(ts_text);
      if (t && *t > 0)
        ts_ms = *t;
      else if (++no_ts <= 5)
        log::warn("stdin line ", line.number, ": no usable time in field ", o.timestamp_field,
                  " (ISO-8601 or epoch milliseconds after 1970): produced with the current time");
    }
    bool queued = false;
    for (;;) {
      // the line number rides along for the delivery report
      void* opaque = reinterpret_cast<void*>(static_cast<uintptr_t>(line.number));
      rd_kafka_resp_err_t err;
      if (ts_ms == 0) {
        err = rd_kafka_produce(rkt.get(), RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, const_cast<char*>(value.data()),
                               value.size(), kp, kl, opaque) == 0
                  ? RD_KAFKA_RESP_ERR_NO_ERROR
                  : rd_kafka_last_error();
      } else {
        err = rd_kafka_producev(rk.get(), RD_KAFKA_V_RKT(rkt.get()), RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                RD_KAFKA_V_KEY(kp, kl), RD_KAFKA_V_TIMESTAMP(ts_ms), RD_KAFKA_V_OPAQUE(opaque),
                                RD_KAFKA_V_END);
      }
      if (!err) {
        queued = true;
        break;
      }
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(rk.get(), 10);  // wait for deliveries to make room: bounded memory
        continue;
      }
      if (kafka::refuses_message(err)) {
        // librdkafka checks the size (value, key and the record's framing) before sending
        report_too_large(std::to_string(value.size() + kl) + (kl ? " bytes with the key" : " bytes") +
                         ", over message.max.bytes (" + max_bytes + ", framing included)");
        break;
      }
      ++refused;
      if (refused <= 5) log::warn("stdin line ", line.number, ": not produced: ", rd_kafka_err2str(err));
      d.last_error = rd_kafka_err2str(err);
      break;
    }
    if (!queued) continue;
    ++produced;
    bytes += value.size();
    if ((produced & 1023) == 0) {
      rd_kafka_poll(rk.get(), 0);
      d.report_ok(produced, static_cast<uint64_t>(rd_kafka_outq_len(rk.get())));
    }
    progress.update(produced, bytes);
  }
  if (stop_requested()) interrupted = true;
  // every message handed to librdkafka gets a delivery report: wait for all of them
  while (rd_kafka_outq_len(rk.get()) > 0) rd_kafka_flush(rk.get(), 500);
  d.report_ok(produced, 0);
  progress.done();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  uint64_t failed = d.failed + refused;
  uint64_t never = too_large + d.refused;
  uint64_t delivered = produced - std::min(produced, d.failed + d.refused);
  std::string extra;
  if (no_key) extra += ", " + std::to_string(no_key) + " without a key";
  if (no_ts) extra += ", " + std::to_string(no_ts) + " with the current time (no usable " + o.timestamp_field + ")";
  if (never) extra += ", " + std::to_string(never) + " too large or invalid";
  log::info(summary_text(delivered, bytes, secs, "messages delivered"), extra);
  // a rerun may deliver what failed; it comes first, the lines that can never be sent are named too
  std::string never_text = std::to_string(never) + (never == 1 ? " line" : " lines") +
                           " can never be sent (too large, or refused by the broker as invalid)";
  if (failed)
    throw TempFailError(std::to_string(failed) + " of " + std::to_string(produced + refused) + " messages were not delivered (last error: " +
                        d.last_error + ")" + (never ? "; and " + never_text : ""));
  if (never) throw DataError(never_text + "; the other " + std::to_string(delivered) + " were delivered");
  if (interrupted) return code(Exit::interrupted);
  return 0;
}

}  // namespace sp::kcs
