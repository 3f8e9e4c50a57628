// The envelope module: what append_envelope writes, read_coords_prefix and Keys/read_coords read back.
#include "common/rows/envelope.hpp"

#include <gtest/gtest.h>

using namespace sp::envelope;

namespace {
std::string quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

struct Read {
  Coords c;
  std::string reason;
  std::string value_json;  // the value as simdjson re-serializes it
};

Read read_back(simdjson::dom::parser& p, const std::string& line) {
  Read out;
  simdjson::dom::element root;
  EXPECT_EQ(p.parse(line).get(root), simdjson::SUCCESS) << line;
  Keys k(root.get_object().value_unsafe());
  EXPECT_TRUE(k.is_envelope());
  out.reason = read_coords(k, out.c, quote);
  out.value_json = simdjson::to_string(k.value);
  return out;
}
}  // namespace

TEST(Envelope, RoundTripThroughBothReaders) {
  JsonTool json;
  simdjson::dom::parser p;
  std::string bin("\xff\x01", 2);
  struct Case {
    std::string value;
    std::string want_value;
  } cases[] = {
      {"{\"id\": \"m-1\", \"v\": 2}", "{\"id\":\"m-1\",\"v\":2}"},  // JSON: compacted
      {"not json", "\"not json\""},                                  // UTF-8 text: a string
      {bin, "\"/wE=\""},                                             // bytes: base64
  };
  int64_t offset = 0;
  for (const auto& tc : cases) {
    MessageView m;
    m.topic = "sensor_metrics";
    m.partition = 7;
    m.offset = offset += 1000000007;
    m.timestamp_ms = 1767225600123;
    m.key = bytes("sensor-001");
    m.headers.push_back({"h", bytes("v")});
    m.value = bytes(tc.value);
    std::string line;
    append_envelope(line, m, json);
    ASSERT_EQ(line.back(), '\n');
    line.pop_back();
    ASSERT_EQ(line.find('\n'), std::string::npos);

    auto pre = read_coords_prefix(line);
    ASSERT_TRUE(pre) << line;
    EXPECT_EQ(pre->topic, "sensor_metrics");
    EXPECT_EQ(pre->partition, 7);
    EXPECT_EQ(pre->offset, m.offset);

    Read r = read_back(p, line);
    EXPECT_EQ(r.reason, "");
    EXPECT_EQ(r.c.topic, "sensor_metrics");
    EXPECT_EQ(r.c.partition, 7);
    EXPECT_EQ(r.c.offset, m.offset);
    EXPECT_EQ(r.value_json, tc.want_value);
    if (tc.value == bin) {
      EXPECT_NE(line.find("\"value_encoding\":\"base64\",\"value\":"), std::string::npos) << line;
    }
  }
}

TEST(Envelope, HeadIsWhatAppendEnvelopeWritesBeforeTheValue) {
  JsonTool json;
  MessageView m;
  m.topic = "t";
  m.offset = 3;
  m.value = bytes("{}");
  std::string head, whole;
  append_head(head, m);
  append_envelope(whole, m, json);
  EXPECT_EQ(whole, head + "\"value\":{}}\n");
  EXPECT_EQ(head, "{\"topic\":\"t\",\"partition\":0,\"offset\":3,\"timestamp\":null,\"timestamp_ms\":null,"
                  "\"key\":null,\"headers\":{},");
}

TEST(Envelope, CoordinatesThatAreNotUsable) {
  simdjson::dom::parser p;
  auto reason = [&](const std::string& line) { return read_back(p, line).reason; };
  EXPECT_EQ(reason(R"({"topic":"t","partition":0,"offset":-1,"value":{}})"), "envelope: offset is negative");
  EXPECT_EQ(reason(R"({"topic":"a b","partition":0,"offset":1,"value":{}})"),
            "envelope: topic \"a b\" is not a Kafka topic name");
  EXPECT_EQ(reason(R"({"topic":"t","partition":-1,"offset":1,"value":{}})"),
            "envelope: partition is missing or not an integer");
  EXPECT_EQ(reason(R"({"topic":"t","topic":"u","partition":0,"offset":1,"value":{}})"), "envelope: duplicate key topic");
  EXPECT_EQ(reason(R"({"topic":1,"partition":0,"offset":1,"value":{}})"), "envelope: topic is not a string");
  EXPECT_EQ(reason(R"({"topic":"t","partition":0,"offset":1.5,"value":{}})"), "envelope: offset is not an integer");
  // the prefix reader: only the start as append_envelope writes it
  EXPECT_FALSE(read_coords_prefix(R"({"partition":0,"topic":"t","offset":1})"));
  EXPECT_FALSE(read_coords_prefix(R"({"topic":"t","partition":0,"offset":-1,)"));
  EXPECT_FALSE(read_coords_prefix(R"({"topic":"t","partition":0,"offset":12x)"));
  EXPECT_TRUE(read_coords_prefix("{\"topic\":\"t\",\"partition\":0,\"offset\":12,\"value\":\"\xff"));
}

TEST(Envelope, TopicNames) {
  EXPECT_TRUE(valid_topic("sensor_metrics.v2-a"));
  EXPECT_FALSE(valid_topic(""));
  EXPECT_TRUE(valid_topic(std::string(249, 'a')));
  EXPECT_FALSE(valid_topic(std::string(250, 'a')));
  EXPECT_FALSE(valid_topic("caf\xc3\xa9"));
}
