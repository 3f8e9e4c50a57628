// A small libcurl wrapper (RAII easy handle, kept alive between requests for connection reuse).
// Retries are the caller's business (each protocol classifies its own errors); transport failures
// throw HttpTransportError so the caller can tell "no answer" from "an answer we dislike".
#pragma once
#include <curl/curl.h>

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/errors.hpp"

namespace sp {

struct HttpResponse {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string_view body;             // request body (must outlive perform())
  long timeout_ms = 300000;          // whole request
  long connect_timeout_ms = 10000;
  // A transfer that moves no byte for this many seconds (a hung server) fails as a timeout. A limit
  // on stalling rather than on the whole request, so a large body that is moving is never cut.
  long stall_timeout_s = 60;
  bool verify_tls = true;
  std::string ca_file;  // extra CA bundle (optional)
  // When set, the response body is streamed here instead of collected (return false to abort).
  std::function<bool(const char* data, size_t n)> on_body;
  // With on_body: called once with the answer's status and headers (no body), before the first byte
  // of a 2xx body is streamed.
  std::function<void(const HttpResponse& head)> on_stream_start;
  bool head_only = false;  // HEAD: no body expected
  // When set, polled during the transfer (at least once a second): true abandons it (an
  // HttpTransportError), so a transfer stuck on a slow server cannot hold up a tool that must stop.
  std::function<bool()> cancelled;
  // The three callbacks may throw: the exception ends the transfer and perform() rethrows it after
  // libcurl has returned (it never unwinds through libcurl's C frames).
};

// Connection refused, DNS, timeout, TLS failure, reset: no HTTP answer at all.
class HttpTransportError : public Error {
 public:
  HttpTransportError(CURLcode c, const std::string& msg, bool never_reached = false)
      : Error(Exit::unavailable, msg), curl_code(c), never_reached(never_reached) {}
  CURLcode curl_code;
  // The connection was refused or the host name did not resolve, and this endpoint (scheme, host and
  // port) has not answered once since the process started: most likely a wrong address or a server
  // not started, rather than one lost mid-stream. Retry::spent(true) gives such failures a short
  // budget (Retry::kUnreachedTime). A retry loop over several endpoints (replicas) should pass true
  // only when every endpoint it tried failed this way.
  bool never_reached;
  bool timed_out() const { return curl_code == CURLE_OPERATION_TIMEDOUT; }
};

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  HttpResponse perform(const HttpRequest& req);

 private:
  CURL* h_;
};

// Throws ConfigError when value cannot go into an HTTP header as it is: a control character (CR
// and LF above all, which would end the header and start another). `what` names the setting
// ("the ClickHouse password"); the value itself is never part of the message.
void check_header_value(const std::string& what, std::string_view value);

// Throws UsageError when url is not a well-formed http:// or https:// URL by libcurl's own parser
// (the one requests go through): a bad port, an unclosed IPv6 bracket, no host. `what` names the
// setting; user:password@ is not shown.
void check_http_url(const std::string& what, const std::string& url);

// Percent-encodes per RFC 3986 (unreserved kept); keep_slash keeps '/' (S3 object keys in paths).
std::string url_encode(std::string_view s, bool keep_slash = false);
// Removes user:password@ from a URL for messages.
std::string url_for_log(const std::string& url);

}  // namespace sp
