#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "common/core/errors.hpp"

#include "gen.hpp"

TEST(SensorGen, SameSeedSameBytes) {
  sp::gen::Options o;
  o.count = 500;
  o.bad_fraction = 0.1;
  std::ostringstream a, b;
  sp::gen::generate(o, a);
  sp::gen::generate(o, b);
  EXPECT_EQ(a.str(), b.str());
  o.seed = 43;
  std::ostringstream c;
  sp::gen::generate(o, c);
  EXPECT_NE(a.str(), c.str());
}

TEST(SensorGen, CountsGoodAndBadLinesAndWritesOnePerLine) {
  sp::gen::Options o;
  o.count = 10000;
  o.bad_fraction = 0.05;
  std::ostringstream out;
  auto st = sp::gen::generate(o, out);
  EXPECT_EQ(st.good + st.bad, 10000u);
  EXPECT_GT(st.bad, 350u);
  EXPECT_LT(st.bad, 650u);
  std::string s = out.str();
  EXPECT_EQ(std::count(s.begin(), s.end(), '\n'), 10000);
}

TEST(SensorGen, SeedShapeAndIds) {
  sp::gen::Options o;
  o.count = 2;
  o.first_id = 123;
  std::ostringstream out;
  sp::gen::generate(o, out);
  std::string s = out.str();
  EXPECT_EQ(s.rfind("{\"id\":\"msg-123\",\"timestamp\":\"2025-07-07T22:00:00Z\",\"value\":{\"sensor_id\":\"sensor-", 0), 0u) << s;
  EXPECT_NE(s.find("\"id\":\"msg-124\",\"timestamp\":\"2025-07-07T22:00:01Z\""), std::string::npos) << s;
}

TEST(SensorGen, CsvHasHeader) {
  sp::gen::Options o;
  o.count = 1;
  o.csv = true;
  std::ostringstream out;
  sp::gen::generate(o, out);
  EXPECT_EQ(out.str().rfind("id,timestamp,sensor_id,temperature,humidity,pressure\nmsg-1,2025-07-07T22:00:00Z,", 0), 0u);
}

// Issue 27: the good lines of a seed were different for each --bad-fraction (the bad draw shared the
// readings' random stream); and the streaming options: a rate, no end, a start at now.
TEST(SensorGen, GoodLinesOfASeedDoNotDependOnTheBadFraction) {
  auto lines = [](double bad) {
    sp::gen::Options o;
    o.count = 3000;
    o.seed = 7;
    o.bad_fraction = bad;
    std::ostringstream out;
    sp::gen::generate(o, out);
    std::vector<std::string> v;
    std::istringstream in(out.str());
    for (std::string l; std::getline(in, l);) v.push_back(l);
    return v;
  };
  auto clean = lines(0);
  for (double bad : {0.01, 0.1, 0.5}) {
    auto dirty = lines(bad);
    ASSERT_EQ(dirty.size(), clean.size());
    size_t same = 0;
    for (size_t i = 0; i < clean.size(); ++i) same += dirty[i] == clean[i];
    // every line is line i of the clean output or a malformed one; about 1 - bad of them are the same
    EXPECT_GT(same, static_cast<size_t>(3000 * (1 - bad) * 0.9)) << bad;
  }
}

TEST(SensorGen, RateAndNoEnd) {
  EXPECT_DOUBLE_EQ(sp::gen::parse_rate("100"), 100);
  EXPECT_DOUBLE_EQ(sp::gen::parse_rate("100/s"), 100);
  EXPECT_DOUBLE_EQ(sp::gen::parse_rate("600/m"), 10);
  EXPECT_DOUBLE_EQ(sp::gen::parse_rate("3600/h"), 1);
  for (const char* bad : {"", "0", "-5/s", "5/x", "fast", "inf"}) EXPECT_THROW(sp::gen::parse_rate(bad), sp::UsageError) << bad;
  // -c 0 runs until stopped; every line written is whole
  sp::gen::Options o;
  o.count = 0;
  int asked = 0;
  o.stop = [&asked] { return ++asked > 3; };
  std::ostringstream out;
  auto st = sp::gen::generate(o, out);
  EXPECT_TRUE(st.stopped);
  EXPECT_EQ(st.good, 3u * 4096);
  std::string s = out.str();
  EXPECT_EQ(std::count(s.begin(), s.end(), '\n'), 3 * 4096);
}
