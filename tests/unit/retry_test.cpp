#include "common/core/retry.hpp"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

#include "common/core/errors.hpp"

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

TEST(Retry, RetriesUpToTheBudgetThenSaysItIsSpent) {
  sp::Retry::Budget b;
  b.initial = std::chrono::milliseconds(1);
  b.max = std::chrono::milliseconds(2);
  b.max_retries = 2;
  std::vector<std::chrono::milliseconds> waited;
  sp::Retry r(b, [&](std::chrono::milliseconds d) {
    waited.push_back(d);
    return true;
  });
  for (int i = 0; i < 2; ++i) {
    EXPECT_FALSE(r.spent());
    auto d = r.next();
    r.wait(d, "unused");
  }
  EXPECT_TRUE(r.spent());
  EXPECT_EQ(r.retries(), 2);
  EXPECT_EQ(waited.size(), 2u);
}

TEST(Retry, NoLimitUnlessGivenAndATimeLimit) {
  sp::Retry::Budget forever;  // max_retries -1, no time limit
  sp::Retry r(forever, [](std::chrono::milliseconds) { return true; });
  for (int i = 0; i < 100; ++i) r.next();
  EXPECT_FALSE(r.spent());
  sp::Retry::Budget timed;
  timed.max_time = std::chrono::milliseconds(1);
  sp::Retry t(timed, [](std::chrono::milliseconds) { return true; });
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(t.spent());
}

// A stopped wait ends every tool's retry the same way: exit 130 (README, Operations).
TEST(Retry, AStoppedWaitIsInterrupted) {
  sp::Retry r(sp::Retry::Budget{}, [](std::chrono::milliseconds) { return false; });
  try {
    r.wait(r.next(), "GET s3://b/k: interrupted while retrying: 503");
    FAIL() << "no throw";
  } catch (const sp::Error& e) {
    EXPECT_EQ(e.code(), sp::Exit::interrupted);
    EXPECT_STREQ(e.what(), "GET s3://b/k: interrupted while retrying: 503");
  }
}

// A request's own timeouts come from what is left of the time budget, and the delay before the last
// attempt never reaches past it (issue 28, item 8: a hung server held s3-put long past --retry-time).
TEST(Retry, DelaysAndRemainingKeepToTheTimeBudget) {
  sp::Retry::Budget forever;
  sp::Retry r(forever, [](std::chrono::milliseconds) { return true; });
  EXPECT_EQ(r.remaining(), std::chrono::milliseconds::max());
  sp::Retry::Budget timed;
  timed.initial = std::chrono::seconds(30);  // a backoff far longer than the budget
  timed.max = std::chrono::seconds(30);
  timed.max_time = std::chrono::seconds(3);
  sp::Retry t(timed, [](std::chrono::milliseconds) { return true; });
  EXPECT_LE(t.remaining().count(), 3000);
  EXPECT_GT(t.remaining().count(), 0);
  for (int i = 0; i < 20; ++i) {
    auto d = t.next();
    EXPECT_LE(d.count(), 3000) << "a wait past the budget";
    EXPECT_GE(d.count(), 1);
  }
  sp::Retry::Budget gone;
  gone.max_time = std::chrono::milliseconds(1);
  sp::Retry g(gone, [](std::chrono::milliseconds) { return true; });
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(g.remaining().count(), 0);
  EXPECT_EQ(g.next().count(), 1);
}

// Issue 27: a server never reached (refused, not resolved) gets unreached_time, whatever the configured
// budget; one lost mid-stream keeps the configured one.
TEST(Retry, NeverReachedGetsTheShortBudget) {
  EXPECT_EQ(sp::Retry::kUnreachedTime, std::chrono::seconds(10));  // what the man pages say
  sp::Retry::Budget b;  // no limit on retries or time
  b.unreached_time = std::chrono::milliseconds(20);
  sp::Retry r(b, [](std::chrono::milliseconds) { return true; });
  EXPECT_FALSE(r.spent(true));
  EXPECT_LE(r.remaining().count(), 20);
  b.initial = b.max = std::chrono::seconds(30);
  sp::Retry slow(b, [](std::chrono::milliseconds) { return true; });
  EXPECT_FALSE(slow.spent(true));
  EXPECT_LE(slow.next().count(), 20) << "the wait keeps to the short budget";
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_TRUE(r.spent(true));
  EXPECT_FALSE(r.spent(false)) << "a server lost mid-stream keeps the configured budget";
  EXPECT_EQ(r.remaining(), std::chrono::milliseconds::max());
  sp::Retry::Budget timed;
  timed.max_time = std::chrono::milliseconds(5);
  timed.unreached_time = std::chrono::seconds(10);
  sp::Retry t(timed, [](std::chrono::milliseconds) { return true; });
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(t.spent(true)) << "the shorter of the two budgets";
}
