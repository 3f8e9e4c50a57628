// ch-insert's choice among several --url endpoints (issue 15): a failed endpoint rests and the
// next request goes elsewhere; it is tried again once its rest is over; --balance spreads requests
// round-robin over the endpoints not resting; what each took is counted.
#include "endpoints.hpp"

#include <gtest/gtest.h>

using sp::chi::Endpoints;
using namespace std::chrono_literals;

namespace {
const std::vector<std::string> kUrls = {"http://a:1", "http://b:2", "http://c:3"};
const auto t0 = std::chrono::steady_clock::time_point{} + 1000s;
}  // namespace

TEST(ChEndpoints, FailoverKeepsTheFirstHealthyInOrder) {
  Endpoints e(kUrls, false, 1s, 8s);
  EXPECT_EQ(e.pick(t0), 0u);
  EXPECT_EQ(e.pick(t0), 0u);
  e.failed(0, t0);
  EXPECT_EQ(e.pick(t0), 1u);
  EXPECT_TRUE(e.any_healthy(t0));
  EXPECT_EQ(e.pick(t0 + 500ms), 1u);
  EXPECT_EQ(e.pick(t0 + 1001ms), 0u) << "tried again after its rest";
}

TEST(ChEndpoints, RestGrowsWithConsecutiveFailuresAndResetsOnSuccess) {
  Endpoints e(kUrls, false, 1s, 4s);
  e.failed(0, t0);
  e.failed(0, t0 + 1001ms);  // failed again right after its first rest: rests 2 s now
  EXPECT_EQ(e.pick(t0 + 2500ms), 1u);
  EXPECT_EQ(e.pick(t0 + 3002ms), 0u);
  e.failed(0, t0 + 3002ms);
  e.failed(0, t0 + 3002ms);
  e.failed(0, t0 + 3002ms);  // capped at 4 s
  EXPECT_EQ(e.pick(t0 + 7003ms), 0u);
  e.succeeded(0, 10);
  e.failed(0, t0 + 8s);  // the first failure after a success: 1 s again
  EXPECT_EQ(e.pick(t0 + 9001ms), 0u);
}

TEST(ChEndpoints, AllRestingPicksTheOneWhoseRestEndsFirst) {
  Endpoints e(kUrls, false, 1s, 8s);
  e.failed(1, t0);
  e.failed(2, t0 + 100ms);
  e.failed(0, t0 + 200ms);
  EXPECT_FALSE(e.any_healthy(t0 + 300ms));
  EXPECT_EQ(e.pick(t0 + 300ms), 1u);
}

TEST(ChEndpoints, BalanceIsRoundRobinOverHealthyOnes) {
  Endpoints e(kUrls, true, 1s, 8s);
  EXPECT_EQ(e.pick(t0), 0u);
  EXPECT_EQ(e.pick(t0), 1u);
  EXPECT_EQ(e.pick(t0), 2u);
  EXPECT_EQ(e.pick(t0), 0u);
  e.failed(1, t0);
  EXPECT_EQ(e.pick(t0), 2u);
  EXPECT_EQ(e.pick(t0), 0u);
  EXPECT_EQ(e.pick(t0), 2u);
  EXPECT_EQ(e.pick(t0 + 2s), 0u);
  EXPECT_EQ(e.pick(t0 + 2s), 1u) << "back in the rotation after its rest";
}

TEST(ChEndpoints, CountsWhatEachTook) {
  Endpoints e(kUrls, true, 1s, 8s);
  e.succeeded(0, 100);
  e.succeeded(0, 50);
  e.succeeded(2, 7);
  e.failed(1, t0);
  auto s = e.stats();
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].url, "http://a:1");
  EXPECT_EQ(s[0].rows, 150u);
  EXPECT_EQ(s[0].inserts, 2u);
  EXPECT_EQ(s[1].failures, 1u);
  EXPECT_EQ(s[2].rows, 7u);
}
