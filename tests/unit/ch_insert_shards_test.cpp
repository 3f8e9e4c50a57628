// ch-insert's shard-direct routing (issue 15): the shard of a row is the Distributed table's,
// cityHash64(key) modulo the total weight, the slots handed to the shards in order by weight; and the
// sharding column's value is read from a row as ClickHouse would store it.
#include "shards.hpp"

#include <gtest/gtest.h>

#include "common/codec/cityhash.hpp"
#include "common/core/errors.hpp"
#include "common/rows/row_input.hpp"

using sp::chi::ShardRouter;

TEST(ChShards, EqualWeightsAreTheHashModuloTheShards) {
  ShardRouter two({1, 1});
  // cityHash64('s1') = 3894653346220934946 (even), cityHash64('sensor-0042') = 1666930098306490579 (odd)
  EXPECT_EQ(two.shard_of("s1"), 0u);
  EXPECT_EQ(two.shard_of("sensor-0042"), 1u);
  ShardRouter three({1, 1, 1});
  for (std::string k : {"a", "b", "sensor-17", "Moscow"})
    EXPECT_EQ(three.shard_of(k), sp::codec::city_hash64_v102(k) % 3) << k;
}

TEST(ChShards, WeightsHandOutSlotsInShardOrder) {
  // weights 1, 2, 0, 1: slot 0 -> shard 0, slots 1 and 2 -> shard 1, slot 3 -> shard 3 (weight 0: none)
  ShardRouter r({1, 2, 0, 1});
  const size_t want[4] = {0, 1, 1, 3};
  int seen[4] = {0, 0, 0, 0};
  for (int i = 0; i < 2000; ++i) {
    std::string k = "sensor-" + std::to_string(i);
    size_t s = r.shard_of(k);
    EXPECT_EQ(s, want[sp::codec::city_hash64_v102(k) % 4]) << k;
    ++seen[s];
  }
  EXPECT_EQ(seen[2], 0);
  EXPECT_GT(seen[1], seen[0] + seen[3] - 200) << "shard 1 has twice the weight";
}

TEST(ChShards, NoShardOrNoWeightIsAUsageError) {
  EXPECT_THROW(ShardRouter({}), sp::UsageError);
  EXPECT_THROW(ShardRouter({0, 0}), sp::UsageError);
}

TEST(ChShards, ShardUrlsAreACommaList) {
  EXPECT_EQ(sp::chi::parse_shard_urls("http://a:1, http://b:2"), (std::vector<std::string>{"http://a:1", "http://b:2"}));
  EXPECT_EQ(sp::chi::parse_shard_urls("http://a:1"), (std::vector<std::string>{"http://a:1"}));
  EXPECT_THROW(sp::chi::parse_shard_urls(" , "), sp::UsageError);
}

TEST(ChShards, KeyIsReadAsClickHouseStoresIt) {
  sp::RowShape shape({"id", "sensor_id", "temperature"});
  std::string v;
  using sp::RowFormat;
  ASSERT_TRUE(sp::row_string_field(RowFormat::json, "{\"id\":\"m1\",\"sensor_id\":\"s\\\"1\\u00e9\",\"temperature\":1}\n", shape, 1, v));
  EXPECT_EQ(v, "s\"1\xc3\xa9");
  ASSERT_TRUE(sp::row_string_field(RowFormat::json, "{\"sensor_id\":\"\\ud83d\\ude00\",\"id\":\"x\",\"temperature\":{\"a\":[1,\"}\"]}}", shape, 1, v));
  EXPECT_EQ(v, "\xf0\x9f\x98\x80") << "a surrogate pair is one 4-byte character";
  ASSERT_TRUE(sp::row_string_field(RowFormat::json, "{\"id\":{\"sensor_id\":\"no\"},\"temperature\":[1,2] , \"sensor_id\" : \"\"}", shape, 1, v));
  EXPECT_EQ(v, "") << "a nested key of the same name is not the column";
  // sensor-parse's shape (the fast path), and rows that leave it half way
  ASSERT_TRUE(sp::row_string_field(RowFormat::json, "{\"id\":\"m1\",\"sensor_id\":\"sensor-001\",\"temperature\":1}\n", shape, 1, v));
  EXPECT_EQ(v, "sensor-001");
  ASSERT_TRUE(sp::row_string_field(RowFormat::json, "{\"id\":\"a\\\"\",\"sensor_id\":\"x\"}", shape, 1, v));
  EXPECT_EQ(v, "x") << "an escaped quote before the key";
  ASSERT_TRUE(sp::row_string_field(RowFormat::json, "{\"id\":1,\"sensor_id\":\"a\\\\\"}", shape, 1, v));
  EXPECT_EQ(v, "a\\") << "an escaped backslash ends the value";
  EXPECT_FALSE(sp::row_string_field(RowFormat::json, "{\"id\":\"m1\",\"sensor_id\":42,\"temperature\":1}", shape, 1, v));
  EXPECT_FALSE(sp::row_string_field(RowFormat::json, "{\"id\":\"m1\",\"sensor_id\":null,\"temperature\":1}", shape, 1, v));
  ASSERT_TRUE(sp::row_string_field(RowFormat::tsv, "m1\ts\\t1\\\\\t1.5\n", shape, 1, v));
  EXPECT_EQ(v, "s\t1\\");
  ASSERT_TRUE(sp::row_string_field(RowFormat::csv, "m1,\"s,\"\"1\",1.5\n", shape, 1, v));
  EXPECT_EQ(v, "s,\"1");
  EXPECT_FALSE(sp::row_string_field(RowFormat::values, "('m1', 's1', 1.5)", shape, 1, v));
}
