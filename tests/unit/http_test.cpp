// The HTTP layer's own checks: header values that would break the request (issue 16, item 4).
#include "common/http/http.hpp"

#include <gtest/gtest.h>

#include <string>

using sp::HttpClient;
using sp::HttpRequest;

namespace {
// A port nobody listens on: without the header check the request would fail as a transport error.
const char* kDeadUrl = "http://127.0.0.1:9/";
}  // namespace

TEST(Http, HeaderValueWithCrLfRefusedBeforeSending) {
  HttpClient http;
  HttpRequest req;
  req.url = kDeadUrl;
  req.headers = {"X-ClickHouse-User: default", "X-ClickHouse-Key: pw\r\nX-Injected: yes"};
  try {
    http.perform(req);
    FAIL() << "no exception";
  } catch (const sp::ConfigError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("X-ClickHouse-Key"), std::string::npos) << m;
    EXPECT_NE(m.find("control character"), std::string::npos) << m;
    EXPECT_EQ(m.find("X-Injected"), std::string::npos) << "the value must not be shown: " << m;
    EXPECT_EQ(m.find("pw"), std::string::npos) << "the value must not be shown: " << m;
    EXPECT_EQ(e.code(), sp::Exit::config);
  } catch (const std::exception& e) {
    FAIL() << "wrong exception: " << e.what();
  }
}

TEST(Http, HeaderValueControlCharacters) {
  for (std::string bad : {std::string("a\rb"), std::string("a\nb"), std::string("a\0b", 3), std::string("a\x1b[31m"),
                          std::string("a\x7f")}) {
    EXPECT_THROW(sp::check_header_value("the password", bad), sp::ConfigError) << bad;
  }
  // a tab is legal inside a header value (RFC 9110 field-content); UTF-8 bytes pass as they are
  EXPECT_NO_THROW(sp::check_header_value("x", "a\tb"));
  EXPECT_NO_THROW(sp::check_header_value("x", "p\xc3\xa4ss w\xc3\xb6rd!"));
  try {
    sp::check_header_value("the ClickHouse password", "secret\r\nX: y");
    FAIL() << "no exception";
  } catch (const sp::ConfigError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("the ClickHouse password"), std::string::npos) << m;
    EXPECT_EQ(m.find("secret"), std::string::npos) << m;
  }
}

TEST(Http, MalformedUrlRefusedAsUsage) {
  EXPECT_THROW(sp::check_http_url("the S3 endpoint", "http://127.0.0.1:99999"), sp::UsageError);
  EXPECT_THROW(sp::check_http_url("x", "http://[::1"), sp::UsageError);
  EXPECT_THROW(sp::check_http_url("x", "ftp://host/"), sp::UsageError);
  EXPECT_NO_THROW(sp::check_http_url("x", "https://host:8443/path?q=1"));
  try {
    sp::check_http_url("the ClickHouse URL", "http://user:pw-secret@127.0.0.1:99999");
    FAIL();
  } catch (const sp::UsageError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("the ClickHouse URL"), std::string::npos) << m;
    EXPECT_NE(m.find("65535"), std::string::npos) << m;  // libcurl's reason
    EXPECT_EQ(m.find("pw-secret"), std::string::npos) << m;
  }
  // a request to such a URL is not retried as a transport error either
  sp::HttpClient http;
  sp::HttpRequest req;
  req.url = "http://[::1";
  EXPECT_THROW(http.perform(req), sp::UsageError);
}
