// CityHash64 v1.0.2 against the values ClickHouse's cityHash64() returns (clickhouse-server 18.16.1 and
// ClickHouse's CityHash page), one or more per length branch (0, 1-3, 4-8, 9-16, 17-32, 33-64, over 64
// with one, two and several 64-byte chunks); the integration test ch_insert_shard_direct_test compares
// thousands more with a live server.
#include <gtest/gtest.h>

#include <string>

#include "common/codec/cityhash.hpp"

using sp::codec::city_hash64_v102;

namespace {
const std::string fox =
    "The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog. The quick brown "
    "fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog. The quick brown fox jumps over "
    "the lazy dog. ";
}

TEST(CityHash, MatchesClickHouseAtEveryLengthBranch) {
  // SELECT cityHash64(substring(fox, 1, n))
  const std::pair<size_t, uint64_t> want[] = {
      {0, 11160318154034397263ULL},   {1, 5570910369516329963ULL},    {3, 9456065179546978676ULL},
      {4, 7426151758103449081ULL},    {8, 8261970815632334399ULL},    {9, 15693689613497209625ULL},
      {16, 3887581654433788716ULL},   {17, 17248679875317671279ULL},  {32, 14343997730508542907ULL},
      {33, 4305124436332828171ULL},   {64, 6345870380579539972ULL},   {65, 15207162842133252839ULL},
      {128, 4133939211706148414ULL},  {129, 6396544403935356846ULL},  {200, 3389940002427123551ULL},
  };
  for (const auto& [n, h] : want) EXPECT_EQ(city_hash64_v102(fox.substr(0, n)), h) << "length " << n;
}

TEST(CityHash, MatchesClickHouseOnIdsAndBytes) {
  EXPECT_EQ(city_hash64_v102("s1"), 3894653346220934946ULL);
  EXPECT_EQ(city_hash64_v102("sensor-0042"), 1666930098306490579ULL);
  EXPECT_EQ(city_hash64_v102(std::string("\x00\xff\x80\xc3\xa9", 5)), 6126777404812692433ULL);  // unhex('00FF80C3A9')
}

TEST(CityHash, IsVersion102NotTheLaterCityHash) {
  // ClickHouse's CityHash page: its cityHash64 vs Google's current CityHash64 (1.1) of the same strings
  EXPECT_EQ(city_hash64_v102("Moscow"), 12507901496292878638ULL);
  EXPECT_NE(city_hash64_v102("Moscow"), 5992710078453357409ULL);
  EXPECT_EQ(city_hash64_v102("How can you write a big system without C++?  -Paul Glick"), 6237945311650045625ULL);
  EXPECT_NE(city_hash64_v102("How can you write a big system without C++?  -Paul Glick"), 749291162957442504ULL);
}
