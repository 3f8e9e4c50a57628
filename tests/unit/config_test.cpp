#include "common/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "common/errors.hpp"
#include "common/log.hpp"

TEST(Config, ParsesSectionsCommentsAndQuotes) {
  auto c = sp::Config::parse(
      "# comment\ntop = 1\n[clickhouse]\nurl = http://h:8123 \n; other comment\nuser = \"bob\"\n\n[s3]\nregion='eu'\n",
      "t.ini");
  EXPECT_EQ(c.get("top"), "1");
  EXPECT_EQ(c.get("clickhouse.url"), "http://h:8123");
  EXPECT_EQ(c.get("clickhouse.user"), "bob");
  EXPECT_EQ(c.get("s3.region"), "eu");
  EXPECT_FALSE(c.get("s3.nothing"));
}

TEST(Config, ErrorsNameFileAndLine) {
  try {
    sp::Config::parse("[a]\nok = 1\nthis line is wrong\n", "/etc/x.ini");
    FAIL();
  } catch (const sp::ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "/etc/x.ini:3: expected 'key = value' (no '=' in the line; the line is not shown, it may hold a secret)");
    EXPECT_EQ(e.code(), sp::Exit::config);
  }
  EXPECT_THROW(sp::Config::parse("[broken\n", "f"), sp::ConfigError);
}

// Issue 16: "password: S3cr3t" (a forgotten '=') was echoed whole in the error.
TEST(Config, MalformedLinesAreNeverEchoed) {
  for (const char* text : {"[clickhouse]\npassword: S3cr3tLine\n", "[s3]\nsecret_access_key S3cr3tLine\n",
                           "[librdkafka]\nsasl.password: S3cr3tLine\n", "[clickhouse] password = S3cr3tLine\n"}) {
    try {
      sp::Config::parse(text, "c.ini");
      FAIL() << text;
    } catch (const sp::ConfigError& e) {
      EXPECT_EQ(std::string(e.what()).find("S3cr3tLine"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("c.ini:"), std::string::npos) << e.what();
    }
  }
}

TEST(Config, SecretKeysIncludeEveryLibrdkafkaKeyLikeOne) {
  for (const char* k : {"clickhouse.password", "s3.secret_access_key", "s3.session_token", "librdkafka.sasl.password",
                        "librdkafka.ssl.key.password", "librdkafka.sasl.passwrd", "librdkafka.ssl_key_passwd",
                        "librdkafka.ssl.key.pem", "librdkafka.sasl.oauthbearer.client.secret"})
    EXPECT_TRUE(sp::is_secret_key(k)) << k;
  for (const char* k : {"clickhouse.url", "s3.access_key_id", "s3.secret_access_key_file", "librdkafka.bootstrap.servers",
                        "librdkafka.security.protocol", "schema.key"})
    EXPECT_FALSE(sp::is_secret_key(k)) << k;
}

TEST(Config, FlagOverridesEnvOverridesFile) {
  auto c = sp::Config::parse("[clickhouse]\nuser = fromfile\n", "t");
  ::unsetenv("SP_TEST_USER");
  EXPECT_EQ(c.resolve("", "SP_TEST_USER", "clickhouse.user"), "fromfile");
  ::setenv("SP_TEST_USER", "fromenv", 1);
  EXPECT_EQ(c.resolve("", "SP_TEST_USER", "clickhouse.user"), "fromenv");
  EXPECT_EQ(c.resolve("fromflag", "SP_TEST_USER", "clickhouse.user"), "fromflag");
  ::unsetenv("SP_TEST_USER");
  EXPECT_FALSE(c.resolve("", "SP_TEST_USER", "clickhouse.nothing"));
}

TEST(Config, PasswordsInTheFileAreRedactedFromLogs) {
  sp::Config::parse("[clickhouse]\npassword = hunter2secret\n", "t");
  EXPECT_EQ(sp::log::redact("auth failed for hunter2secret"), "auth failed for ***");
}

TEST(Config, ExplicitMissingFileIsAnError) {
  EXPECT_THROW(sp::Config::load("/nonexistent/dir/config.ini"), sp::ConfigError);
}

TEST(Config, SearchOrderUsesEnvThenHomeThenEtc) {
  ::setenv("SENSOR_PIPELINE_CONFIG", "/tmp/a.ini", 1);
  ::setenv("HOME", "/home/u", 1);
  ::unsetenv("XDG_CONFIG_HOME");
  auto locs = sp::Config::default_locations();
  ASSERT_EQ(locs.size(), 3u);
  EXPECT_EQ(locs[0], "/tmp/a.ini");
  EXPECT_EQ(locs[1], "/home/u/.config/sensor-pipeline/config.ini");
  EXPECT_EQ(locs[2], "/etc/sensor-pipeline/config.ini");
  ::unsetenv("SENSOR_PIPELINE_CONFIG");
}

TEST(Config, LoadsFromEnvLocation) {
  std::string path = ::testing::TempDir() + "/cfg.ini";
  std::ofstream(path) << "[kafka]\nbrokers = b:9092\n";
  ::setenv("SENSOR_PIPELINE_CONFIG", path.c_str(), 1);
  auto c = sp::Config::load("");
  EXPECT_EQ(c.get("kafka.brokers"), "b:9092");
  EXPECT_EQ(c.origin(), path);
  ::unsetenv("SENSOR_PIPELINE_CONFIG");
}

TEST(Config, SecretFileFirstLineOnly) {
  std::string path = ::testing::TempDir() + "/pw";
  std::ofstream(path) << "s3cr3t-value\r\nignored\n";
  EXPECT_EQ(sp::read_secret_file(path), "s3cr3t-value");
  EXPECT_EQ(sp::log::redact("x s3cr3t-value y"), "x *** y");
}
