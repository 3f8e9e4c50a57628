#include "common/core/timeutil.hpp"

#include <gtest/gtest.h>

using sp::parse_iso8601_ms;

TEST(Time, SeedExample) {
  auto ms = parse_iso8601_ms("2025-07-07T22:00:00Z");
  ASSERT_TRUE(ms);
  EXPECT_EQ(*ms, 1751925600000);
  EXPECT_EQ(sp::format_datetime(*ms / 1000), "2025-07-07 22:00:00");
}

TEST(Time, OffsetsFractionsAndSpaces) {
  EXPECT_EQ(parse_iso8601_ms("2025-07-07T23:30:00+01:30"), 1751925600000);
  EXPECT_EQ(parse_iso8601_ms("2025-07-07T20:00:00-0200"), 1751925600000);
  EXPECT_EQ(parse_iso8601_ms("2025-07-07T22:00:00.123456Z"), 1751925600123);
  EXPECT_EQ(parse_iso8601_ms("2025-07-07 22:00:00"), 1751925600000);
  EXPECT_EQ(parse_iso8601_ms("2025-07-07T22:00Z"), 1751925600000);
  EXPECT_EQ(parse_iso8601_ms("2025-07-07"), 1751846400000);
  EXPECT_EQ(parse_iso8601_ms("1969-12-31T23:59:59Z"), -1000);
}

TEST(Time, RejectsWithAReason) {
  std::string why;
  EXPECT_FALSE(parse_iso8601_ms("2025-13-01T00:00:00Z", &why));
  EXPECT_EQ(why, "month out of range");
  EXPECT_FALSE(parse_iso8601_ms("2025-02-29T00:00:00Z", &why));
  EXPECT_EQ(why, "day out of range");
  EXPECT_TRUE(parse_iso8601_ms("2024-02-29T00:00:00Z"));
  EXPECT_FALSE(parse_iso8601_ms("2025-07-07T25:00:00Z", &why));
  EXPECT_FALSE(parse_iso8601_ms("yesterday", &why));
  EXPECT_FALSE(parse_iso8601_ms("2025-07-07T22:00:00Zjunk", &why));
  EXPECT_FALSE(parse_iso8601_ms("2025-07-07T22:00:00.Z", &why));
  EXPECT_FALSE(parse_iso8601_ms("", &why));
}

TEST(Time, FormatsRoundTrip) {
  for (int64_t t : {0LL, 951782400LL, 1751925600LL, 4102444799LL}) {
    auto back = parse_iso8601_ms(sp::format_datetime(t));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, t * 1000);
  }
  EXPECT_EQ(sp::format_iso_ms(1751925600123), "2025-07-07T22:00:00.123Z");
  EXPECT_EQ(sp::strftime_utc("%Y/%m/%d/%H", 1751925600), "2025/07/07/22");
}

// Found by UBSan on sensor-parse's epoch-ms timestamps: the negative branch overflowed near INT64_MIN.
TEST(Time, MillisecondsRoundDownToSecondsForEveryInt64) {
  EXPECT_EQ(sp::floor_seconds(0), 0);
  EXPECT_EQ(sp::floor_seconds(999), 0);
  EXPECT_EQ(sp::floor_seconds(-1), -1);
  EXPECT_EQ(sp::floor_seconds(-1000), -1);
  EXPECT_EQ(sp::floor_seconds(-1001), -2);
  EXPECT_EQ(sp::floor_seconds(INT64_MAX), INT64_MAX / 1000);
  EXPECT_EQ(sp::floor_seconds(INT64_MIN), INT64_MIN / 1000 - 1);
  EXPECT_EQ(sp::floor_seconds(INT64_MIN + 1), INT64_MIN / 1000 - 1);
  EXPECT_EQ(sp::format_iso_ms(-1), "1969-12-31T23:59:59.999Z");
}
