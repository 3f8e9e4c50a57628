// The HTTP layer's own checks: header values that would break the request (issue 16, item 4), and
// exceptions from the caller's callbacks (issue 30, item 6).
#include "common/http/http.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
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

namespace {
// Python's standard HTTP server (python3 is one of the project's dependencies) serving dir on a free
// port of 127.0.0.1, for the tests that need real 2xx answers; stopped with the object.
class PythonHttpServer {
 public:
  explicit PythonHttpServer(const std::string& dir) {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], 1);
      int null = open("/dev/null", O_WRONLY);  // its request log
      if (null >= 0) dup2(null, 2);
      close(fds[0]);
      close(fds[1]);
      execlp("python3", "python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", dir.c_str(),
             static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    // "Serving HTTP on 127.0.0.1 port 39853 (http://127.0.0.1:39853/) ..." once it listens
    std::string line;
    char c;
    while (line.find('\n') == std::string::npos && read(fds[0], &c, 1) == 1) line += c;
    close(fds[0]);
    auto at = line.find(" port ");
    if (at == std::string::npos) throw std::runtime_error("python3 -m http.server did not start: " + line);
    url_ = "http://127.0.0.1:" + std::to_string(std::stoi(line.substr(at + 6))) + "/";
  }
  ~PythonHttpServer() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  const std::string& url() const { return url_; }

 private:
  pid_t pid_ = -1;
  std::string url_;
};

// A temporary directory holding one file of `bytes` x's, removed with the object (a failed test too).
struct TempDirWithFile {
  std::string path;
  TempDirWithFile(const std::string& name, size_t bytes) {
    char tmpl[] = "/tmp/sp-http-test.XXXXXX";
    path = mkdtemp(tmpl);
    std::ofstream(path + "/" + name) << std::string(bytes, 'x');
  }
  ~TempDirWithFile() { std::filesystem::remove_all(path); }
};
}  // namespace

// Issue 30, item 6: an exception from a caller's callback must not unwind through libcurl's C frames
// (std::terminate, or curl's state left half-changed): perform() rethrows it after curl returns, and the
// client stays usable.
TEST(Http, ExceptionFromABodyCallbackSurfacesFromPerform) {
  TempDirWithFile dir("obj", 1 << 20);
  PythonHttpServer server(dir.path);
  sp::HttpClient http;
  sp::HttpRequest req;
  req.url = server.url() + "obj";
  size_t calls = 0;
  req.on_body = [&](const char*, size_t) -> bool {
    ++calls;
    throw sp::IoError("stdout: No space left on device");
  };
  try {
    http.perform(req);
    FAIL() << "no exception";
  } catch (const sp::IoError& e) {
    EXPECT_STREQ(e.what(), "stdout: No space left on device");
  }
  EXPECT_EQ(calls, 1u) << "the transfer goes on after the callback failed";

  req.on_body = nullptr;
  req.on_stream_start = nullptr;
  auto r = http.perform(req);  // the same handle, after the failed transfer
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), 1u << 20);

  req.on_body = [](const char*, size_t) { return true; };
  req.on_stream_start = [](const sp::HttpResponse&) { throw std::runtime_error("from on_stream_start"); };
  EXPECT_THROW(http.perform(req), std::runtime_error);

  req.on_stream_start = nullptr;
  req.cancelled = []() -> bool { throw std::logic_error("from cancelled"); };
  EXPECT_THROW(http.perform(req), std::logic_error);
}

// Issue 27: a refused connection to an endpoint that never answered is told apart from one to an endpoint
// that did (a server lost mid-stream), so callers give up on the first quickly and keep retrying the second.
TEST(Http, RefusedBeforeAnyAnswerIsNeverReached) {
  TempDirWithFile dir("obj", 10);
  std::string url;
  sp::HttpClient http;
  sp::HttpRequest req;
  {
    PythonHttpServer server(dir.path);
    url = server.url();
    req.url = url + "obj";
    EXPECT_EQ(http.perform(req).status, 200);
  }
  try {  // the same server, now stopped: it answered before
    http.perform(req);
    FAIL() << "no exception";
  } catch (const sp::HttpTransportError& e) {
    EXPECT_EQ(e.curl_code, CURLE_COULDNT_CONNECT) << e.what();
    EXPECT_FALSE(e.never_reached) << e.what();
  }
  req.url = kDeadUrl;  // nothing ever answered there
  try {
    http.perform(req);
    FAIL() << "no exception";
  } catch (const sp::HttpTransportError& e) {
    EXPECT_TRUE(e.never_reached) << e.what();
  }
  req.url = "http://sp-no-such-host.invalid/";
  try {
    http.perform(req);
    FAIL() << "no exception";
  } catch (const sp::HttpTransportError& e) {
    EXPECT_TRUE(e.never_reached) << e.what();
  }
}
