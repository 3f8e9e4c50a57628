#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

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
