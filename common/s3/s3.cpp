// The S3 client's core: locations, one signed request and its retries, errors. Its other parts:
// s3_write.cpp (PUT, multipart), s3_get.cpp (HEAD, GET), s3_list.cpp (listing), s3_settings.cpp
// (resolve), s3_xml.cpp (the answers' XML), s3_config.cpp (--config s3://).
#include "common/s3/s3.hpp"

#include <algorithm>
#include <atomic>
#include <ctime>
#include <thread>

#include "common/codec/base64.hpp"
#include "common/core/log.hpp"
#include "common/core/retry.hpp"
#include "common/core/signals.hpp"
#include "common/s3/s3_detail.hpp"
#include "common/s3/s3_xml.hpp"

namespace sp::s3 {

namespace {
// Any S3 answer seen by this process: after that, failing transports mean "down for now" (75),
// before it "unreachable" (69).
std::atomic<bool> g_reached{false};

// The wait before a retry. An abandonable client (s3-put's uploads) goes on retrying after a first
// stop signal, since it stores what was read; only a second one ends the wait. Others stop at the first.
bool wait_to_retry(bool abandonable, std::chrono::milliseconds d) {
  if (!abandonable) return sleep_unless_stopped(d);
  auto until = std::chrono::steady_clock::now() + d;
  while (!abandon_requested()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return true;
    std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(50)));
  }
  return false;
}

// An attempt's own limits within its retry budget (--retry-time; s3-put's abort: --abort-time): a
// transfer that moves no byte for what is left of the budget is abandoned (1 s at least, as libcurl
// counts whole seconds; 60 s at most), and so is a connection not made in that time (10 s at most).
// A hung server cannot hold a request past the budget, and a slow transfer that moves is never cut.
void fit_to_budget(HttpRequest& req, const Retry& retry) {
  int64_t left_ms = retry.remaining().count();
  req.stall_timeout_s = static_cast<long>(std::clamp<int64_t>(left_ms / 1000 + (left_ms % 1000 != 0), 1, 60));
  req.connect_timeout_ms = static_cast<long>(std::clamp<int64_t>(left_ms, 1000, req.connect_timeout_ms));
}
}  // namespace

[[noreturn]] void give_up(const std::string& msg) {
  if (g_reached.load()) throw TempFailError(msg);
  throw UnavailableError(msg);
}

// A request's retry budget: --retries counts attempts, the first included.
Retry request_retry(const Settings& s) {
  Retry::Budget b{s.backoff_initial, s.backoff_max, std::max(s.max_attempts - 1, 0), s.retry_time};
  return Retry(b, [abandonable = s.abandonable](std::chrono::milliseconds d) { return wait_to_retry(abandonable, d); });
}

// Why a request was given up sooner than --retries / --retry-time say.
std::string never_reached_hint(const HttpTransportError& e) {
  if (!e.never_reached) return "";
  return " (no answer from this endpoint since the start: given up after " +
         std::to_string(Retry::kUnreachedTime.count() / 1000) + " s; check --endpoint and that the server runs)";
}

std::string unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

Location Location::parse(const std::string& url) {
  if (url.rfind("s3://", 0) != 0) throw UsageError("'" + url + "' is not an S3 URL (want s3://bucket/key)");
  std::string rest = url.substr(5);
  auto slash = rest.find('/');
  Location l;
  l.bucket = rest.substr(0, slash);
  if (slash != std::string::npos) l.key = rest.substr(slash + 1);
  if (l.bucket.empty()) throw UsageError("'" + url + "' has no bucket name (want s3://bucket/key)");
  check_key_length(l.key);
  return l;
}

void check_key_length(const std::string& key) {
  if (key.size() <= kMaxKeyBytes) return;
  throw UsageError("key '" + key.substr(0, 60) + "...' is " + std::to_string(key.size()) +
                   " bytes long; S3 allows at most " + std::to_string(kMaxKeyBytes));
}
// ---------- answers ----------

bool retriable(long status, const std::string& code) {
  // 501 Not Implemented (Swift's answer to a conditional PUT) is the same on every try
  if ((status >= 500 && status != 501) || status == 429 || status == 408) return true;
  // 499 ClientDisconnected: MinIO's answer to a request in flight while it shuts down (seen when the
  // server was stopped mid-part): the request never finished, the next try is a new one
  if (status == 499) return true;
  return code == "RequestTimeout" || code == "SlowDown" || code == "InternalError" || code == "ServiceUnavailable" ||
         code == "OperationAborted" || code == "ClientDisconnected";
}

std::string multipart_etag(const std::vector<std::string>& part_md5_hex) {
  std::string raw;
  for (const auto& h : part_md5_hex) {
    for (size_t i = 0; i + 1 < h.size(); i += 2) raw += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
  }
  return sigv4::hex(sigv4::md5(raw)) + "-" + std::to_string(part_md5_hex.size());
}

// ---------- client ----------

Client::Client(Settings s) : s_(std::move(s)) {
  std::string ep = s_.endpoint.empty() ? "https://s3." + s_.region + ".amazonaws.com" : s_.endpoint;
  auto sep = ep.find("://");
  if (sep == std::string::npos) throw ConfigError("S3 endpoint '" + ep + "' has no scheme (want http://host:port)");
  scheme_ = ep.substr(0, sep);
  if (scheme_ != "http" && scheme_ != "https")
    throw ConfigError("S3 endpoint '" + ep + "': scheme must be http or https");
  std::string rest = ep.substr(sep + 3);
  auto slash = rest.find('/');
  host_ = rest.substr(0, slash);
  if (slash != std::string::npos) base_path_ = rest.substr(slash);
  if (host_.empty()) throw ConfigError("S3 endpoint '" + ep + "' has no host");
  if (host_.find('@') != std::string::npos) throw ConfigError("S3 endpoint must not carry credentials");
}

std::pair<std::string, std::string> Client::url_for(const std::string& bucket, const std::string& key) const {
  std::string path = base_path_;
  std::string host = host_;
  if (s_.path_style) {
    if (!bucket.empty()) path += "/" + url_encode(bucket);
  } else if (!bucket.empty()) {
    host = bucket + "." + host_;
  }
  path += "/" + url_encode(key, true);
  return {scheme_ + "://" + host + path, path};
}

HttpResponse Client::send_once(const Call& c, const std::string& payload_hash, const std::string& content_md5,
                               const Retry& retry) {
  auto [url, path] = url_for(c.bucket, c.key);
  std::string q = sigv4::canonical_query(c.query);
  if (!q.empty()) url += "?" + q;
  std::string host = s_.path_style || c.bucket.empty() ? host_ : c.bucket + "." + host_;
  std::string date = sigv4::amz_date(std::time(nullptr));
  sigv4::Request sr;
  sr.method = c.method;
  sr.path = path;
  sr.query = c.query;
  sr.payload_hash = payload_hash;
  sr.headers = {{"host", host}, {"x-amz-date", date}, {"x-amz-content-sha256", payload_hash}};
  if (!content_md5.empty()) sr.headers.emplace_back("content-md5", content_md5);
  if (!s_.credentials.session_token.empty()) sr.headers.emplace_back("x-amz-security-token", s_.credentials.session_token);
  for (const auto& h : c.headers) sr.headers.push_back(h);
  auto sig = sigv4::sign(sr, s_.credentials, s_.region, "s3", date);

  HttpRequest req;
  req.method = c.method;
  req.url = url;
  for (const auto& [k, v] : sr.headers) req.headers.push_back(k + ": " + v);
  req.headers.push_back("Authorization: " + sig.authorization);
  if (c.method == "POST" || c.method == "PUT") {
    if (c.body.empty()) req.headers.push_back("Content-Type:");  // libcurl's form default is not signed
  }
  req.body = c.body;
  req.on_body = c.on_body;
  req.on_stream_start = c.on_stream_start;
  req.head_only = c.method == "HEAD";
  req.verify_tls = s_.verify_tls;
  req.ca_file = s_.ca_file;
  req.timeout_ms = s_.timeout_ms;
  fit_to_budget(req, retry);
  if (s_.abandonable) req.cancelled = abandon_requested;
  log::trace("s3: ", c.method, " ", url);
  HttpResponse r = http_.perform(req);
  g_reached.store(true);
  return r;
}

void Client::fail(const Call& c, const HttpResponse& r) {
  ErrorBody e = parse_error(r.body);
  if (e.request_id.empty()) e.request_id = r.header("x-amz-request-id");
  if (e.code.empty()) {
    if (r.status == 404) e.code = c.key.empty() ? "NoSuchBucket" : "NoSuchKey";
    else if (r.status == 403) e.code = c.method == "HEAD" ? "Forbidden (a HEAD answer has no reason: wrong secret key or no permission)" : "AccessDenied";
    else e.code = "HTTP " + std::to_string(r.status);
  }
  std::string msg = c.what + ": " + std::to_string(r.status) + " " + e.code;
  if (!e.message.empty()) msg += ": " + e.message;
  // MinIO keeps objects as files: its rules for keys are stricter than S3's (AWS and Swift store these)
  if (e.code == "XMinioInvalidObjectName" || e.code == "XMinioInvalidResourceName")
    msg += " (MinIO refuses a key with a '.' or '..' segment, an empty segment ('//') or a segment over 255 bytes)";
  Exit code = Exit::software;
  if (r.status == 403 || e.code == "SignatureDoesNotMatch" || e.code == "InvalidAccessKeyId" || e.code == "AccessDenied" ||
      e.code == "AuthorizationHeaderMalformed" || e.code == "InvalidToken" || e.code == "ExpiredToken" ||
      e.code == "RequestTimeTooSkewed") {
    code = Exit::noperm;
    msg += " (access key id " + s_.credentials.access_key + " from " + s_.credentials_source +
           (e.code == "SignatureDoesNotMatch" ? "; check the secret key and the region" : "") + ")";
  } else if (r.status == 404 || e.code == "NoSuchBucket" || e.code == "NoSuchKey" || e.code == "NoSuchUpload") {
    code = Exit::noinput;
  } else if (retriable(r.status, e.code)) {
    code = Exit::tempfail;
  } else if (r.status == 400) {
    code = Exit::data;
  }
  if (!e.request_id.empty()) msg += " [request id " + e.request_id + "]";
  throw S3Error(code, msg, r.status, e.code, e.request_id);
}

HttpResponse Client::call(const Call& c) {
  std::string payload_hash = sigv4::sha256_hex(c.body);
  std::string content_md5;
  if (c.method == "PUT" || c.method == "POST")
    content_md5 = codec::base64(c.md5_raw.empty() ? sigv4::md5(c.body) : c.md5_raw);
  Retry retry = request_retry(s_);
  while (true) {
    std::string problem;
    if (s_.abandonable && abandon_requested()) throw TempFailError(c.what + ": abandoned (second signal)");
    try {
      HttpResponse r = send_once(c, payload_hash, content_md5, retry);
      ErrorBody e;
      // CompleteMultipartUpload may answer 200 and then an <Error> body
      bool error_in_200 = r.status / 100 == 2 && c.method == "POST" && is_error_body(r.body);
      if (r.status / 100 == 2 && !error_in_200) return r;
      e = parse_error(r.body);
      if (!retriable(error_in_200 ? 500 : r.status, e.code)) fail(c, r);
      problem = std::to_string(r.status) + " " + e.code + (e.message.empty() ? "" : ": " + e.message);
      if (error_in_200 || retry.spent()) {
        if (error_in_200) r.status = 500;
        fail(c, r);
      }
    } catch (const HttpTransportError& e) {
      if (s_.abandonable && abandon_requested()) throw TempFailError(c.what + ": abandoned (second signal)");
      problem = e.what();
      if (retry.spent(e.never_reached))
        give_up(c.what + ": giving up after " + std::to_string(retry.retries() + 1) + " attempts: " + problem +
                never_reached_hint(e));
    }
    auto d = retry.next();
    ++retries_;
    log::warn(c.what, ": ", problem, "; retry ", retry.retries(), " in ", d.count(), " ms");
    retry.wait(d, c.what + ": interrupted while retrying: " + problem);
  }
}

}  // namespace sp::s3
