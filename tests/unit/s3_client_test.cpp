// Pure parts of the S3 client: URLs, XML answers, error classification, the credential chain.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/core/config.hpp"
#include "common/core/log.hpp"
#include "common/core/signals.hpp"
#include "common/s3/s3.hpp"

using namespace sp;
using namespace sp::s3;

TEST(S3Location, ParsesBucketAndKey) {
  auto l = Location::parse("s3://raw/sensors/2025/07/07/a b.jsonl");
  EXPECT_EQ(l.bucket, "raw");
  EXPECT_EQ(l.key, "sensors/2025/07/07/a b.jsonl");
  EXPECT_EQ(Location::parse("s3://raw").key, "");
  EXPECT_EQ(Location::parse("s3://raw/").key, "");
  EXPECT_THROW(Location::parse("http://x/y"), UsageError);
  EXPECT_THROW(Location::parse("s3:///key"), UsageError);
}

TEST(S3Errors, RetriableClassification) {
  EXPECT_TRUE(retriable(500, "InternalError"));
  EXPECT_TRUE(retriable(503, "SlowDown"));
  EXPECT_TRUE(retriable(400, "RequestTimeout"));
  EXPECT_TRUE(retriable(429, ""));
  // MinIO stopping with a part in flight answers it so (s3_faults_test under ASan, 2026-12-07: s3-put
  // gave the upload up and exited 65)
  EXPECT_TRUE(retriable(499, "ClientDisconnected"));
  EXPECT_FALSE(retriable(403, "SignatureDoesNotMatch"));
  EXPECT_FALSE(retriable(404, "NoSuchBucket"));
  EXPECT_FALSE(retriable(400, "EntityTooSmall"));
  EXPECT_FALSE(retriable(400, "BadDigest"));
  EXPECT_FALSE(retriable(501, "NotImplemented"));  // Swift's answer to a conditional PUT: the same every time
}

TEST(S3Multipart, EtagOfParts) {
  // md5("") twice: md5 of the 32 raw bytes, then "-2" (the scheme AWS, MinIO and Swift use)
  std::string e = "d41d8cd98f00b204e9800998ecf8427e";
  EXPECT_EQ(multipart_etag({e, e}), sigv4::hex(sigv4::md5(sigv4::md5("") + sigv4::md5(""))) + "-2");
  EXPECT_EQ(multipart_etag({e}).substr(32), "-1");
}

namespace {
// Sets HOME and the AWS variables for one test, restoring nothing: each test sets what it needs.
struct Env {
  std::filesystem::path home;
  Env() {
    home = std::filesystem::temp_directory_path() / ("s3test-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(home / ".aws");
    setenv("HOME", home.c_str(), 1);
    for (const char* v : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                          "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_REGION", "AWS_DEFAULT_REGION",
                          "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_CA_BUNDLE"})
      unsetenv(v);
    set_config(Config{});
  }
  ~Env() {
    std::filesystem::remove_all(home);
    set_config(Config{});
  }
  void write(const std::string& rel, const std::string& text) {
    std::ofstream(home / rel) << text;
  }
};
}  // namespace

TEST(S3Settings, EnvironmentKeysWin) {
  Env env;
  env.write(".aws/credentials", "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n");
  setenv("AWS_ACCESS_KEY_ID", "test:tester", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "testing", 1);
  setenv("AWS_SESSION_TOKEN", "tok", 1);
  setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000/", 1);
  auto s = resolve(Flags{});
  EXPECT_EQ(s.credentials.access_key, "test:tester");
  EXPECT_EQ(s.credentials.secret_key, "testing");
  EXPECT_EQ(s.credentials.session_token, "tok");
  EXPECT_EQ(s.endpoint, "http://127.0.0.1:9000");
  EXPECT_TRUE(s.path_style);  // custom endpoint
  EXPECT_EQ(s.region, "us-east-1");
  // secrets are redacted from every log line from now on
  EXPECT_EQ(log::redact("key testing tok"), "key *** ***");
}

TEST(S3Settings, TlsFlagsAsClickHouses) {
  // --ca-file > AWS_CA_BUNDLE > s3.ca_file, and --insecure: the same TLS flags as ch-insert's
  Env env;
  setenv("AWS_ACCESS_KEY_ID", "k", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "s", 1);
  setenv("AWS_CA_BUNDLE", "/env/ca.pem", 1);
  Flags f;
  EXPECT_EQ(resolve(f).ca_file, "/env/ca.pem");
  EXPECT_TRUE(resolve(f).verify_tls);
  f.ca_file = "/flag/ca.pem";
  f.insecure = true;
  auto s = resolve(f);
  EXPECT_EQ(s.ca_file, "/flag/ca.pem");
  EXPECT_FALSE(s.verify_tls);
}

TEST(S3Settings, ProfileFromCredentialsAndConfig) {
  Env env;
  env.write(".aws/credentials",
            "[default]\naws_access_key_id = DEFKEY\naws_secret_access_key = defsecret\n"
            "[archive]\naws_access_key_id = ARCHKEY\naws_secret_access_key = archsecret\n");
  env.write(".aws/config", "[default]\nregion = eu-west-1\n[profile archive]\nregion = eu-central-1\n"
                           "endpoint_url = https://minio.example:9000\n");
  auto d = resolve(Flags{});
  EXPECT_EQ(d.credentials.access_key, "DEFKEY");
  EXPECT_EQ(d.region, "eu-west-1");
  EXPECT_TRUE(d.endpoint.empty());
  EXPECT_FALSE(d.path_style);  // AWS: virtual-host
  setenv("AWS_PROFILE", "archive", 1);
  auto a = resolve(Flags{});
  EXPECT_EQ(a.credentials.access_key, "ARCHKEY");
  EXPECT_EQ(a.credentials.secret_key, "archsecret");
  EXPECT_EQ(a.region, "eu-central-1");
  EXPECT_EQ(a.endpoint, "https://minio.example:9000");
  Flags f;
  f.region = "ap-south-1";
  f.path_style = false;
  auto b = resolve(f);
  EXPECT_EQ(b.region, "ap-south-1");
  EXPECT_FALSE(b.path_style);
  setenv("AWS_PROFILE", "missing", 1);
  try {
    resolve(Flags{});
    FAIL() << "no error for a missing profile";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("profile 'missing' not found"), std::string::npos) << e.what();
  }
}

TEST(S3Settings, ConfigFileSection) {
  Env env;
  set_config(Config::parse("[s3]\nendpoint = http://127.0.0.1:8080\naccess_key_id = cfgkey\n"
                           "secret_access_key = cfgsecret\nregion = us-west-2\naddressing = virtual\n",
                           "test.ini"));
  auto s = resolve(Flags{});
  EXPECT_EQ(s.credentials.access_key, "cfgkey");
  EXPECT_EQ(s.credentials.secret_key, "cfgsecret");
  EXPECT_EQ(s.region, "us-west-2");
  EXPECT_FALSE(s.path_style);
  EXPECT_NE(s.credentials_source.find("test.ini"), std::string::npos);
  setenv("AWS_REGION", "eu-north-1", 1);
  EXPECT_EQ(resolve(Flags{}).region, "eu-north-1");  // env > file
}

TEST(S3Settings, NoCredentialsIsAConfigError) {
  Env env;
  try {
    resolve(Flags{});
    FAIL() << "no error without credentials";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("AWS_ACCESS_KEY_ID"), std::string::npos);
  }
}

TEST(S3Client, PathAndVirtualHostUrls) {
  Settings s;
  s.endpoint = "http://127.0.0.1:8080";
  s.path_style = true;
  Client c(s);
  auto [url, path] = c.url_for("raw", "sensors/a b/ü+x.jsonl");
  EXPECT_EQ(url, "http://127.0.0.1:8080/raw/sensors/a%20b/%C3%BC%2Bx.jsonl");
  EXPECT_EQ(path, "/raw/sensors/a%20b/%C3%BC%2Bx.jsonl");
  Settings v;
  v.path_style = false;
  v.region = "eu-west-1";
  Client aws(v);
  EXPECT_EQ(aws.url_for("raw", "k").first, "https://raw.s3.eu-west-1.amazonaws.com/k");
  Settings bad;
  bad.endpoint = "127.0.0.1:8080";
  EXPECT_THROW(Client{bad}, ConfigError);
}

// An interrupted retry is "interrupted" (130), as the README's Operations section documents for every
// tool and as ch-insert always did; the S3 client said 75 (temporary failure) for it. Nothing listens on
// port 1: every attempt fails at connect and is retried until the stop.
TEST(S3Client, ARetryInterruptedByAStopSignalIsInterrupted) {
  Settings s;
  s.endpoint = "http://127.0.0.1:1";
  s.credentials = {"AKIDEXAMPLE", "secret", ""};
  s.max_attempts = 1000;
  s.retry_time = std::chrono::seconds(60);
  s.backoff_initial = std::chrono::milliseconds(50);
  s.backoff_max = std::chrono::milliseconds(100);
  Client c(s);
  std::thread stopper([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    request_stop(SIGINT);
  });
  try {
    c.get_small(Location::parse("s3://b/cfg.ini"), 100);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::interrupted) << e.what();
    EXPECT_NE(std::string(e.what()).find("interrupted while retrying"), std::string::npos) << e.what();
  }
  stopper.join();
  EXPECT_GT(c.retries(), 0u);
}

TEST(S3Resume, A200AnswerToARangedGetDropsWhatWasDelivered) {
  using sp::s3::ResumeSkip;
  ResumeSkip ranged(100);
  ranged.start(206);  // the server honoured Range: everything is new
  EXPECT_EQ(ranged.drop(64), 0u);
  EXPECT_FALSE(ranged.short_body());
  ResumeSkip whole(100);
  whole.start(200);  // the whole object again: the first 100 bytes were delivered before
  EXPECT_EQ(whole.drop(64), 64u);
  EXPECT_EQ(whole.drop(64), 36u);
  EXPECT_EQ(whole.drop(64), 0u);
  EXPECT_FALSE(whole.short_body());
  ResumeSkip shorter(100);
  shorter.start(200);
  EXPECT_EQ(shorter.drop(50), 50u);
  EXPECT_TRUE(shorter.short_body());  // the object is shorter than what was read of it
  ResumeSkip empty(100);  // a 2xx without a body never starts
  EXPECT_TRUE(empty.short_body());
  ResumeSkip fresh(0);
  fresh.start(200);
  EXPECT_EQ(fresh.drop(10), 0u);
  EXPECT_FALSE(fresh.short_body());
}
