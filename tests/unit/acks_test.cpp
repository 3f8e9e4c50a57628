// Ack lines (common/rows/acks.hpp): written by ch-insert and s3-put --acks, read by kafka-cat-sensor.
#include <gtest/gtest.h>

#include "common/rows/acks.hpp"

using sp::Ack;

TEST(AckLine, RoundTrips) {
  std::string l = sp::ack_line("sensor_metrics", 3, 42);
  EXPECT_EQ(l, R"({"topic":"sensor_metrics","partition":3,"offset":42})");
  Ack a;
  std::string why;
  ASSERT_TRUE(sp::parse_ack(l, a, &why)) << why;
  EXPECT_EQ(a.topic, "sensor_metrics");
  EXPECT_EQ(a.partition, 3);
  EXPECT_EQ(a.offset, 42);
}

TEST(AckLine, EnvelopeCoordinatesFromThePrefix) {
  Ack a;
  ASSERT_TRUE(sp::envelope_coordinates(
      R"({"topic":"sensor_metrics","partition":63,"offset":9007199254740993,"timestamp":null,"value":{"id":"x")", a));
  EXPECT_EQ(a.topic, "sensor_metrics");
  EXPECT_EQ(a.partition, 63);
  EXPECT_EQ(a.offset, 9007199254740993);  // no trip through a double
}

TEST(AckLine, EnvelopeCoordinatesOtherShapesParsedWhole) {
  Ack a;
  ASSERT_TRUE(sp::envelope_coordinates(R"({"offset":7,"partition":1,"topic":"t\u0041","value":1})", a));
  EXPECT_EQ(a.topic, "tA");
  EXPECT_EQ(a.partition, 1);
  EXPECT_EQ(a.offset, 7);
  EXPECT_FALSE(sp::envelope_coordinates(R"({"id":"msg-1","value":{}})", a));  // a raw message
  EXPECT_FALSE(sp::envelope_coordinates(R"({"topic":"t","partition":1,"offs)", a));  // torn
  EXPECT_FALSE(sp::envelope_coordinates(R"({"topic":"t","partition":-1,"offset":3})", a));
  EXPECT_FALSE(sp::envelope_coordinates(R"({"topic":"t","partition":99999999999,"offset":3})", a));
  EXPECT_FALSE(sp::envelope_coordinates("", a));
}

TEST(AckHighWater, HighestPerPartitionInOrder) {
  sp::AckHighWater h;
  EXPECT_TRUE(h.empty());
  h.add("b", 2, 10);
  h.add("a", 5, 3);
  h.add("b", 2, 12);
  h.add("b", 2, 11);  // a lower one (a re-delivery) never lowers it
  h.add("b", 0, 1);
  EXPECT_FALSE(h.empty());
  EXPECT_EQ(h.lines(),
            "{\"topic\":\"a\",\"partition\":5,\"offset\":3}\n"
            "{\"topic\":\"b\",\"partition\":0,\"offset\":1}\n"
            "{\"topic\":\"b\",\"partition\":2,\"offset\":12}\n");
  h.clear();
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.lines(), "");
  h.add("a", 1, 0);
  EXPECT_EQ(h.lines(), "{\"topic\":\"a\",\"partition\":1,\"offset\":0}\n");
}
