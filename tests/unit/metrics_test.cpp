#include "common/core/metrics.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "common/core/errors.hpp"
#include "temp_path.hpp"

TEST(Metrics, RendersPrometheusTextFormat) {
  sp::Metrics m;
  m.counter("records_total", "Records read", sp::label("tool", "x")).inc(3);
  m.gauge("lag", "Consumer lag", sp::label("topic", "t") + "," + sp::label("partition", "1")).set(12);
  auto& h = m.histogram("batch_seconds", "Batch latency", {0.1, 1});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  std::string t = m.render();
  EXPECT_NE(t.find("# TYPE sensor_records_total counter\nsensor_records_total{tool=\"x\"} 3\n"), std::string::npos) << t;
  EXPECT_NE(t.find("sensor_lag{topic=\"t\",partition=\"1\"} 12\n"), std::string::npos) << t;
  EXPECT_NE(t.find("sensor_batch_seconds_bucket{le=\"0.10000000000000001\"} 1\n"), std::string::npos) << t;
  EXPECT_NE(t.find("sensor_batch_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos) << t;
  EXPECT_NE(t.find("sensor_batch_seconds_count 3\n"), std::string::npos) << t;
}

TEST(Metrics, LabelValuesAreEscaped) { EXPECT_EQ(sp::label("k", "a\"b\\c\nd"), "k=\"a\\\"b\\\\c\\nd\""); }

TEST(Metrics, TextfileIsWrittenAtomically) {
  TempPath tmp("m.prom");
  const std::string& path = tmp.path;
  sp::write_file_atomic(path, "sensor_x 1\n");
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), "sensor_x 1\n");
  EXPECT_THROW(sp::write_file_atomic("/nonexistent-dir/m.prom", "x"), sp::Error);
}
