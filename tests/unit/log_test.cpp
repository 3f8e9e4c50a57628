#include "common/core/log.hpp"

#include <gtest/gtest.h>

using sp::log::redact_userinfo;

// The secret registry is the process's: a secret an earlier test registered (a config's
// password=x, a Kafka sasl.password) redacted "x" in every later test's messages when the binary
// ran as one process. Each test starts with an empty registry; the one before it is put back after.
namespace {
class SecretRegistryIsolation : public ::testing::EmptyTestEventListener {
  void OnTestStart(const ::testing::TestInfo&) override { saved_ = sp::log::swap_secrets({}); }
  void OnTestEnd(const ::testing::TestInfo&) override { sp::log::swap_secrets(std::move(saved_)); }
  std::vector<std::string> saved_;
};
const bool kIsolated = [] {
  ::testing::UnitTest::GetInstance()->listeners().Append(new SecretRegistryIsolation);
  return true;
}();
}  // namespace

// Issue 16: a URL's password reached stderr when the URL was refused before it was parsed
// ("ch-insert --url 'writer:S3cr3t@host:8123'") or was printed whole.
TEST(Log, RedactsThePasswordOfEveryUrl) {
  EXPECT_EQ(redact_userinfo("ClickHouse URL 'writer:S3cr3t@host:8123' must start with http://"),
            "ClickHouse URL 'writer:***@host:8123' must start with http://");
  EXPECT_EQ(redact_userinfo("GET http://u:S3cr3t@h:1/x?a=1: refused"), "GET http://u:***@h:1/x?a=1: refused");
  EXPECT_EQ(redact_userinfo("S3 endpoint \"u:S3cr3t@host:1\" has no scheme"), "S3 endpoint \"u:***@host:1\" has no scheme");
  EXPECT_EQ(redact_userinfo("two: https://a:p1@x https://b:p2@y/z"), "two: https://a:***@x https://b:***@y/z");
  // an '@' inside the password, a '/' inside it, an empty user
  EXPECT_EQ(redact_userinfo("http://u:p@ss@host/"), "http://u:***@host/");
  EXPECT_EQ(redact_userinfo("http://u:pa/ss@host"), "http://u:***@host");
  EXPECT_EQ(redact_userinfo("http://:pw@host"), "http://:***@host");
  // ClickHouse also takes the password as a query parameter
  EXPECT_EQ(redact_userinfo("POST http://h:8123/?user=w&password=S3cr3t&query=x"),
            "POST http://h:8123/?user=w&password=***&query=x");
}

TEST(Log, LeavesTextWithoutPasswordsAlone) {
  for (const char* s : {"no url here", "mail me@example.com", "http://host:8123/path", "s3://bucket/a:b@c.txt",
                        "user@host", "what? a=1", "s3://tst/dir with space/ünï cödé+&=?.txt", "12:30 @ noon"}) {
    EXPECT_EQ(redact_userinfo(s), s);
  }
}

TEST(Log, RedactCoversRegisteredSecretsAndUrls) {
  sp::log::add_secret("Hunter2xyz");
  EXPECT_EQ(sp::log::redact("pw Hunter2xyz in http://u:other@h"), "pw *** in http://u:***@h");
}

// S3's listing parameters are counts and positions, not secrets: "max-keys=***" in a trace line
// hid what was asked. Presigned-URL and ClickHouse credentials stay hidden.
TEST(Log, KeepsS3ListingParametersButNotCredentials) {
  EXPECT_EQ(redact_userinfo("GET http://h:1/raw/?list-type=2&max-keys=1&prefix=v%2F"),
            "GET http://h:1/raw/?list-type=2&max-keys=1&prefix=v%2F");
  EXPECT_EQ(redact_userinfo("GET http://h:1/raw/?uploads&key-marker=a%2Fb&max-uploads=5"),
            "GET http://h:1/raw/?uploads&key-marker=a%2Fb&max-uploads=5");
  EXPECT_EQ(redact_userinfo("GET http://h/k?X-Amz-Security-Token=T0k&X-Amz-Credential=AK%2F1&api_key=s"),
            "GET http://h/k?X-Amz-Security-Token=***&X-Amz-Credential=AK%2F1&api_key=***");
}
