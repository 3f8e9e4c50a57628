#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <vector>
#include <cstdio>
#include <fstream>
#include <thread>

#include "common/rows/acks.hpp"
#include "common/core/errors.hpp"
#include "common/kafka/kafka.hpp"
#include "kcs.hpp"
#include "offsets.hpp"
#include "producer.hpp"

using namespace sp::kcs;
using sp::Ack;
using sp::parse_ack;

TEST(KafkaOffsets, ParsesKcatForms) {
  EXPECT_EQ(parse_offset("beginning").kind, StartOffset::beginning);
  EXPECT_EQ(parse_offset("end").kind, StartOffset::end);
  EXPECT_EQ(parse_offset("stored").kind, StartOffset::stored);
  auto a = parse_offset("1234");
  EXPECT_EQ(a.kind, StartOffset::absolute);
  EXPECT_EQ(a.value, 1234);
  auto t = parse_offset("-10");
  EXPECT_EQ(t.kind, StartOffset::tail);
  EXPECT_EQ(t.value, 10);
  auto at = parse_offset("@2025-07-07T22:00:00Z");
  EXPECT_EQ(at.kind, StartOffset::time);
  EXPECT_EQ(at.value, 1751925600000);
  EXPECT_EQ(parse_offset("s@1751925600000").value, 1751925600000);
  EXPECT_EQ(parse_offset("2025-07-07T22:00:00+02:00").value, 1751925600000 - 7200000);
}

TEST(KafkaOffsets, RejectsGarbageWithTheValueInTheMessage) {
  for (const char* bad : {"", "start-ish", "-", "-x", "@2025-13-45", "12a", "99999999999999999999"}) {
    try {
      parse_offset(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const sp::UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(parse_until("tomorrow"), sp::UsageError);
  EXPECT_EQ(parse_until("2025-07-08T00:00:00Z"), 1751932800000);
  EXPECT_EQ(parse_until("@1751932800000"), 1751932800000);
}

TEST(KafkaOffsets, Partitions) {
  std::vector<int32_t> p;
  parse_partitions("3", p);
  parse_partitions("0,5", p);
  parse_partitions("7-9", p);
  EXPECT_EQ(p, (std::vector<int32_t>{3, 0, 5, 7, 8, 9}));
  for (const char* bad : {"", "a", "1,", "5-2", "-1", "1-x"}) EXPECT_THROW(parse_partitions(bad, p), sp::UsageError) << bad;
}

TEST(KafkaAcks, ParsesAckLinesAndExplainsBadOnes) {
  Ack a;
  std::string why;
  ASSERT_TRUE(parse_ack(R"({"topic":"sensor_metrics","partition":3,"offset":42,"rows":10})", a, &why));
  EXPECT_EQ(a.topic, "sensor_metrics");
  EXPECT_EQ(a.partition, 3);
  EXPECT_EQ(a.offset, 42);
  EXPECT_FALSE(parse_ack("nope", a, &why));
  EXPECT_EQ(why, "not a JSON object");
  EXPECT_FALSE(parse_ack(R"({"topic":"t","partition":-1,"offset":1})", a, &why));
  EXPECT_FALSE(parse_ack(R"({"topic":"t","partition":1,"offset":"1"})", a, &why));
  EXPECT_EQ(why, "no valid \"offset\"");
  EXPECT_FALSE(parse_ack(R"({"partition":1,"offset":1})", a, &why));
}

TEST(KafkaAcks, TrackerKeepsTheHighestNextOffset) {
  AckTracker t;
  t.assign("t", 0);
  t.wrote("t", 0, 0, 100);
  EXPECT_EQ(t.acked("t", 0), -1);
  t.ack("t", 0, 41);
  t.ack("t", 0, 10);  // late, older ack: ignored
  EXPECT_EQ(t.acked("t", 0), 42);
  EXPECT_EQ(t.acked("t", 1), -1);
  EXPECT_TRUE(t.wait_for(10, [&] { return true; }));
}

TEST(KafkaAcks, ReaderFollowsAFifoWithoutBlockingOnOpen) {
  char dir[] = "/tmp/kafka_acks_XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string fifo = std::string(dir) + "/acks.fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  AckTracker t;
  t.assign("t", 1);
  t.wrote("t", 1, 0, 100);
  {
    AckReader r(fifo, t);  // no writer yet: must not block
    {
      std::ofstream w(fifo);
      w << "{\"topic\":\"t\",\"partition\":1,\"offset\":5}\ngarbage\n" << std::flush;
    }
    // the writer went away and a new one comes: still read
    {
      std::ofstream w(fifo);
      w << "{\"topic\":\"t\",\"partition\":1,\"offset\":9}\n" << std::flush;
    }
    for (int i = 0; i < 500 && t.acked("t", 1) != 10; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(t.acked("t", 1), 10);
    EXPECT_EQ(r.bad_lines(), 1u);
  }
  unlink(fifo.c_str());
  rmdir(dir);
}

TEST(KafkaProduce, KeyFromJsonField) {
  KeyExtractor k("value.sensor_id");
  EXPECT_EQ(k.pointer(), "/value/sensor_id");
  std::string key;
  ASSERT_TRUE(k.extract(R"({"id":"m","value":{"sensor_id":"sensor-\u0030042","t":1}})", key));
  EXPECT_EQ(key, "sensor-0042");
  KeyExtractor n("n");
  ASSERT_TRUE(n.extract(R"({"n": 17 })", key));
  EXPECT_EQ(key, "17");
  EXPECT_FALSE(n.extract("not json", key));
  EXPECT_FALSE(n.extract(R"({"m":1})", key));
  EXPECT_FALSE(n.extract(R"({"n":{"x":1}})", key));
  EXPECT_THROW(KeyExtractor("a..b"), sp::UsageError);
}

// The plain-line fast path and simdjson must give the same key (or none) for every line.
TEST(KafkaKey, FastPathAgreesWithSimdjson) {
  const char* lines[] = {
      R"({"id":"msg-1","timestamp":"2025-07-07T22:00:00Z","value":{"sensor_id":"sensor-013","temperature":15.3}})",
      R"({"value":{"sensor_id":"s\u0031"}})",          // an escape: simdjson unescapes
      R"({"value":{"sensor_id":"cafÃ©"}})",      // non-ASCII
      R"({"value":{"sensor_id":42}})", R"({"value":{"sensor_id":-4.5e3}})", R"({"value":{"sensor_id":true}})",
      R"({"value":{"sensor_id":false}})", R"({"value":{"sensor_id":null}})", R"({"value":{"sensor_id":[1]}})",
      R"({"value":{"sensor_id":{"a":1}}})", R"({"value":{"other":1}})", R"({"value":[{"sensor_id":"x"}]})",
      R"({"value":"sensor_id"})", R"({"value":{"sensor_id":"a","sensor_id":"b"}})",
      R"({"value":{"sensor_id":"a"},"value":{"sensor_id":"b"}})", R"({"value":{},"value":{"sensor_id":"b"}})",
      R"({"sensor_id":"top"})", R"(  { "value" : { "sensor_id" : "spaced" } }  )",
      R"({"value":{"sensor_id":"x"}} trailing)", R"({"value":{"sensor_id":"x"},})", R"({"value":{"sensor_id":"x")",
      R"({"value":{"sensor_id":1e400}})", R"({"value":{"sensor_id":12345678901234567890}})",
      R"({"value":{"sensor_id":"x"},"n":1e400})", R"({"value":{"sensor_id":01}})", R"([1,2])", R"("str")", "",
      "not json", R"({"value":{"sensor_id":"tab	here"}})",
  };
  for (const char* path : {"value.sensor_id", "value", "sensor_id"}) {
    KeyExtractor fast(path), slow(path, false);
    for (const char* line : lines) {
      std::string kf = "?", ks = "?";
      bool f = fast.extract(line, kf), s = slow.extract(line, ks);
      EXPECT_EQ(f, s) << path << " in " << line;
      if (f && s) {
        EXPECT_EQ(kf, ks) << path << " in " << line;
      }
    }
  }
  std::string key;
  KeyExtractor k("value.sensor_id");
  ASSERT_TRUE(k.extract(R"({"value":{"sensor_id":"a","sensor_id":"b"}})", key));
  EXPECT_EQ(key, "a");
}

TEST(KafkaConf, PropertiesAreCheckedAndSecretsNeverShown) {
  EXPECT_EQ(sp::kafka::split_property("a=b=c"), (std::pair<std::string, std::string>{"a", "b=c"}));
  EXPECT_THROW(sp::kafka::split_property("novalue"), sp::UsageError);
  EXPECT_THROW(sp::kafka::split_property("=x"), sp::UsageError);
  try {
    sp::kafka::make_conf({}, {"no.such.property=1"});
    ADD_FAILURE();
  } catch (const sp::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("no.such.property"), std::string::npos);
  }
  try {
    sp::kafka::make_conf({}, {"sasl.password=hunter2", "fetch.wait.max.ms=notanumber"});
    ADD_FAILURE();
  } catch (const sp::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("fetch.wait.max.ms"), std::string::npos);
  }
  EXPECT_TRUE(sp::kafka::is_secret_property("ssl.key.password"));
  EXPECT_FALSE(sp::kafka::is_secret_property("bootstrap.servers"));
}

TEST(KafkaRefillWatch, WakesOnceAfterTheQueueDrainedFromNearALimit) {
  sp::kafka::RefillWatch w(100000, 16 << 20);
  // filling up, never near a limit: nothing to do
  EXPECT_FALSE(w.observe(0, 0));
  EXPECT_FALSE(w.observe(50000, 150));
  EXPECT_FALSE(w.observe(1000, 150));
  // near queued.min.messages (the count alone judges while the size is unknown), then drained: one wake
  EXPECT_FALSE(w.observe(80000, 0));
  EXPECT_FALSE(w.observe(60000, 0));
  EXPECT_TRUE(w.observe(50000, 0));
  EXPECT_FALSE(w.observe(10000, 0));
  EXPECT_FALSE(w.observe(0, 0));
  // near the byte limit with large messages: 100 x 150 KiB = 14.6 MiB of 16
  EXPECT_NEAR(w.fill(100, 150 * 1024), 0.916, 0.001);
  EXPECT_FALSE(w.observe(100, 150 * 1024));
  EXPECT_FALSE(w.observe(60, 150 * 1024));
  EXPECT_TRUE(w.observe(40, 150 * 1024));
  // rearmed only by another rise
  EXPECT_FALSE(w.observe(0, 150 * 1024));
  EXPECT_FALSE(w.observe(90000, 150));
  EXPECT_TRUE(w.observe(0, 150));
}

TEST(KafkaKeyless, RunsOnEachPartitionInTurnSkippingUnavailable) {
  KeylessSpreader sp(2);
  auto all = [](int32_t) { return true; };
  int64_t t = 1000;
  // a run of kRun messages on partition 2 (the seed), then the next partition
  for (uint32_t i = 0; i < KeylessSpreader::kRun; ++i) ASSERT_EQ(sp.next(4, t, all), 2);
  EXPECT_EQ(sp.next(4, t, all), 3);
  // a run ends after 1 ms too
  EXPECT_EQ(sp.next(4, t + KeylessSpreader::kRunNs - 1, all), 3);
  EXPECT_EQ(sp.next(4, t + KeylessSpreader::kRunNs, all), 0);
  // partitions without a leader are skipped, also mid-run
  t += 10 * KeylessSpreader::kRunNs;
  EXPECT_EQ(sp.next(4, t, [](int32_t p) { return p != 1; }), 2);
  EXPECT_EQ(sp.next(4, t, [](int32_t p) { return p == 0; }), 0);
  // none available: the next one in turn anyway (librdkafka holds the messages until it has a leader)
  EXPECT_EQ(sp.next(4, t + 5 * KeylessSpreader::kRunNs, [](int32_t) { return false; }), 1);
  // even over many runs: 64 partitions, a million messages, runs cut short at random by the clock
  KeylessSpreader even(7);
  std::vector<int> counts(64);
  uint64_t x = 88172645463325252ull;
  int64_t now = 0;
  for (int i = 0; i < 1000000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    now += static_cast<int64_t>(x % 1500);  // ~1.3M messages/s, jittered
    ++counts[static_cast<size_t>(even.next(64, now, all))];
  }
  auto [lo, hi] = std::minmax_element(counts.begin(), counts.end());
  EXPECT_GT(*lo, 14000);
  EXPECT_LT(*hi, 17500);
}

// -P --timestamp-field against the topic's limits (issue 28 item 7, issue 27)
TEST(KafkaTopicTimeLimits, JudgesTimesAgainstTheTopicsConfiguration) {
  const int64_t now = 1800000000000;  // 2027-01-15
  const int64_t hour = 3600000, day = 24 * hour;
  auto kafka4 = TopicTimeLimits::from({{"message.timestamp.after.max.ms", "3600000"},
                                       {"message.timestamp.before.max.ms", "9223372036854775807"},
                                       {"retention.ms", "604800000"},
                                       {"cleanup.policy", "delete"},
                                       {"message.timestamp.type", "CreateTime"}});
  EXPECT_TRUE(kafka4.known);
  using V = TopicTimeLimits::Verdict;
  EXPECT_EQ(kafka4.judge(now, now), V::ok);
  EXPECT_EQ(kafka4.judge(now + 30 * 60000, now), V::ok);
  EXPECT_EQ(kafka4.judge(now + hour - 30000, now), V::ahead) << "within the margin: the broker judges later";
  EXPECT_EQ(kafka4.judge(now + day, now), V::ahead);
  EXPECT_EQ(kafka4.judge(now - 6 * day, now), V::ok);
  EXPECT_EQ(kafka4.judge(now - 8 * day, now), V::expired);
  EXPECT_EQ(kafka4.judge(1, now), V::expired) << "no overflow with an unlimited before.max.ms";

  auto forever = TopicTimeLimits::from({{"retention.ms", "-1"}, {"message.timestamp.before.max.ms", "86400000"}});
  EXPECT_EQ(forever.judge(now - 2 * day, now), V::behind);
  EXPECT_EQ(forever.judge(now - hour, now), V::ok);
  EXPECT_EQ(TopicTimeLimits::from({{"retention.ms", "-1"}}).judge(now - 400 * day, now), V::ok);
  EXPECT_EQ(TopicTimeLimits::from({{"cleanup.policy", "compact"}}).judge(now - 400 * day, now), V::ok);
  EXPECT_EQ(TopicTimeLimits::from({{"message.timestamp.type", "LogAppendTime"}}).judge(now + day, now), V::ok);

  auto unknown = TopicTimeLimits::from({});  // not read: Kafka 4's defaults
  EXPECT_FALSE(unknown.known);
  EXPECT_EQ(unknown.judge(now + day, now), V::ahead);
  EXPECT_EQ(unknown.judge(now - 8 * day, now), V::expired);
}

TEST(KafkaTopicTimeLimits, HumanDurations) {
  EXPECT_EQ(human_ms(604800000), "7 days");
  EXPECT_EQ(human_ms(86400000), "1 day");
  EXPECT_EQ(human_ms(3600000), "1 h");
  EXPECT_EQ(human_ms(90000), "90 s");
  EXPECT_EQ(human_ms(1500), "1500 ms");
}

