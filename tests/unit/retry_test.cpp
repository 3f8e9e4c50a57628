#include "common/core/retry.hpp"

#include <gtest/gtest.h>

#include <set>

TEST(Backoff, GrowsExponentiallyUpToTheCapWithJitter) {
  sp::Backoff b(std::chrono::milliseconds(100), std::chrono::milliseconds(2000), 2.0, 7);
  EXPECT_EQ(b.cap(0).count(), 100);
  EXPECT_EQ(b.cap(3).count(), 800);
  EXPECT_EQ(b.cap(10).count(), 2000);
  for (int i = 0; i < 50; ++i) {
    auto cap = b.cap(b.attempts());
    auto d = b.next();
    EXPECT_GE(d.count(), 1);
    EXPECT_LE(d.count(), cap.count());
  }
  EXPECT_EQ(b.attempts(), 50);
  b.reset();
  EXPECT_EQ(b.attempts(), 0);
}

TEST(Backoff, JitterSpreadsDelays) {
  sp::Backoff b(std::chrono::milliseconds(1000), std::chrono::milliseconds(1000), 2.0, 1);
  std::set<int64_t> seen;
  for (int i = 0; i < 20; ++i) seen.insert(b.next().count());
  EXPECT_GT(seen.size(), 10u);
}
