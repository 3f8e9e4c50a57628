#include "common/http/http.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <exception>
#include <mutex>
#include <set>

#include "common/core/log.hpp"

namespace sp {

namespace {
std::once_flag g_curl_init;

// The endpoints (scheme://host:port) that have answered in this process, for
// HttpTransportError::never_reached. Shared by every HttpClient (ch-insert's sender threads, s3-put's
// part uploaders).
std::mutex g_answered_mu;
std::set<std::string>& answered_endpoints() {
  static std::set<std::string> s;
  return s;
}

// "http://127.0.0.1:9000" for any URL of that server (the default port filled in); "" when the URL
// does not parse (libcurl then fails the request with its own error).
std::string endpoint_of(const std::string& url) {
  CURLU* u = curl_url();
  if (!u) return "";
  std::string out;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    char *scheme = nullptr, *host = nullptr, *port = nullptr;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
      out = std::string(scheme) + "://" + host + ":" + port;
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
  }
  curl_url_cleanup(u);
  return out;
}

void note_answered(const std::string& url) {
  std::string ep = endpoint_of(url);
  std::lock_guard<std::mutex> g(g_answered_mu);
  answered_endpoints().insert(ep);
}

// A transport failure that never reached the server (see HttpTransportError::never_reached).
bool never_reached(CURLcode rc, const std::string& url) {
  if (rc != CURLE_COULDNT_CONNECT && rc != CURLE_COULDNT_RESOLVE_HOST && rc != CURLE_COULDNT_RESOLVE_PROXY) return false;
  std::string ep = endpoint_of(url);
  std::lock_guard<std::mutex> g(g_answered_mu);
  return answered_endpoints().count(ep) == 0;
}

// The state one perform() shares with libcurl's callbacks.
struct Transfer {
  const HttpRequest* req;
  HttpResponse* resp;
  std::string_view body;  // the request body, read by on_read
  size_t off = 0;
  bool started = false;  // on_stream_start was called
  // An exception from a callback (the caller's on_body, on_stream_start, cancelled, or bad_alloc):
  // it must not unwind through libcurl's C frames (undefined behaviour: std::terminate, or curl's
  // state left half-changed), so it is kept here, the callback returns curl's abort value, and
  // perform() rethrows it once curl_easy_perform has returned.
  std::exception_ptr error;
};

// Runs f as the body of a callback of t's transfer; an exception becomes t.error and `abort` (the
// value that makes libcurl end the transfer).
template <class R, class F>
R guarded(Transfer& t, R abort, F&& f) noexcept {
  try {
    return f();
  } catch (...) {
    if (!t.error) t.error = std::current_exception();
    return abort;
  }
}

size_t on_write(char* p, size_t size, size_t n, void* ud) {
  auto& t = *static_cast<Transfer*>(ud);
  return guarded(t, size_t{0}, [&]() -> size_t {
    size_t len = size * n;
    if (t.req->on_body && t.resp->status / 100 == 2) {
      if (!t.started) {
        t.started = true;
        if (t.req->on_stream_start) t.req->on_stream_start(*t.resp);
      }
      return t.req->on_body(p, len) ? len : 0;
    }
    // error bodies are collected (bounded) for the message even when streaming
    if (t.resp->body.size() < (t.req->on_body ? 65536u : SIZE_MAX)) t.resp->body.append(p, len);
    return len;
  });
}

size_t on_header(char* p, size_t size, size_t n, void* ud) {
  auto& t = *static_cast<Transfer*>(ud);
  return guarded(t, size_t{0}, [&]() -> size_t {
    HttpResponse* resp = t.resp;
    std::string line(p, size * n);
    if (line.starts_with("HTTP/")) {  // a new response (after 100-continue or redirect) starts
      resp->headers.clear();
      auto sp1 = line.find(' ');
      if (sp1 != std::string::npos) resp->status = std::strtol(line.c_str() + sp1 + 1, nullptr, 10);
      return size * n;
    }
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      std::string value = line.substr(colon + 1);
      size_t b = value.find_first_not_of(" \t");
      size_t e = value.find_last_not_of(" \t\r\n");
      value = b == std::string::npos ? "" : value.substr(b, e - b + 1);
      resp->headers[name] = value;
    }
    return size * n;
  });
}

size_t on_read(char* buf, size_t size, size_t n, void* ud) {
  auto& t = *static_cast<Transfer*>(ud);
  return guarded(t, size_t{CURL_READFUNC_ABORT}, [&] {
    size_t len = std::min(size * n, t.body.size() - t.off);
    std::memcpy(buf, t.body.data() + t.off, len);
    t.off += len;
    return len;
  });
}
int on_progress(void* ud, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto& t = *static_cast<Transfer*>(ud);
  return guarded(t, 1, [&] { return t.req->cancelled() ? 1 : 0; });
}
int on_seek(void* ud, curl_off_t offset, int origin) {
  auto& t = *static_cast<Transfer*>(ud);
  if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > t.body.size()) return CURL_SEEKFUNC_FAIL;
  t.off = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}
}  // namespace

HttpClient::HttpClient() {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  h_ = curl_easy_init();
  if (!h_) throw Error(Exit::software, "curl_easy_init failed");
}

HttpClient::~HttpClient() { curl_easy_cleanup(h_); }

HttpResponse HttpClient::perform(const HttpRequest& req) {
  HttpResponse resp;
  curl_easy_reset(h_);
  curl_easy_setopt(h_, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(h_, CURLOPT_NOSIGNAL, 1L);
  // The path goes out as given: curl would otherwise resolve "." and ".." segments, which are part
  // of S3 keys ("a/../b.txt") and were signed as they are.
  curl_easy_setopt(h_, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(h_, CURLOPT_TIMEOUT_MS, req.timeout_ms);
  curl_easy_setopt(h_, CURLOPT_CONNECTTIMEOUT_MS, req.connect_timeout_ms);
  curl_easy_setopt(h_, CURLOPT_SSL_VERIFYPEER, req.verify_tls ? 1L : 0L);
  curl_easy_setopt(h_, CURLOPT_SSL_VERIFYHOST, req.verify_tls ? 2L : 0L);
  if (!req.ca_file.empty()) curl_easy_setopt(h_, CURLOPT_CAINFO, req.ca_file.c_str());
  // Low-speed guard: a server that stalls for stall_timeout_s counts as a timeout (then retried by callers).
  curl_easy_setopt(h_, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h_, CURLOPT_LOW_SPEED_TIME, std::max(req.stall_timeout_s, 1L));

  Transfer t{&req, &resp, req.body, 0, false, nullptr};
  if (req.method == "GET") {
    curl_easy_setopt(h_, CURLOPT_HTTPGET, 1L);
  } else if (req.method == "HEAD") {
    curl_easy_setopt(h_, CURLOPT_NOBODY, 1L);
  } else if (req.method == "POST") {
    curl_easy_setopt(h_, CURLOPT_POST, 1L);
    curl_easy_setopt(h_, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(h_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  } else if (req.method == "PUT") {
    curl_easy_setopt(h_, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h_, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h_, CURLOPT_READDATA, &t);
    curl_easy_setopt(h_, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(h_, CURLOPT_SEEKDATA, &t);
    curl_easy_setopt(h_, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  } else {
    curl_easy_setopt(h_, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    if (!req.body.empty()) {
      curl_easy_setopt(h_, CURLOPT_POSTFIELDS, req.body.data());
      curl_easy_setopt(h_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    }
  }

  // Every header is checked here, once for all protocols (ClickHouse user/key/database, S3 access
  // key id and session token), before anything is sent. The name is shown, the value is not.
  for (const auto& h : req.headers) {
    auto colon = h.find(':');
    std::string name = h.substr(0, colon);
    check_header_value("the HTTP header " + name, std::string_view(h).substr(colon == std::string::npos ? h.size() : colon + 1));
    check_header_value("an HTTP header name", name);
  }

  curl_slist* hdrs = nullptr;
  // No "Expect: 100-continue" round trip: bodies are already in memory.
  hdrs = curl_slist_append(hdrs, "Expect:");
  for (const auto& h : req.headers) hdrs = curl_slist_append(hdrs, h.c_str());
  curl_easy_setopt(h_, CURLOPT_HTTPHEADER, hdrs);

  curl_easy_setopt(h_, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(h_, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(h_, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h_, CURLOPT_HEADERDATA, &t);
  if (req.cancelled) {
    curl_easy_setopt(h_, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h_, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h_, CURLOPT_XFERINFODATA, &t);
  }
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h_, CURLOPT_ERRORBUFFER, errbuf);

  CURLcode rc = curl_easy_perform(h_);
  curl_slist_free_all(hdrs);
  if (resp.status > 0) note_answered(req.url);  // a status line came, whatever happened after it
  if (t.error) std::rethrow_exception(t.error);  // a callback's, kept out of libcurl's frames
  if (rc != CURLE_OK) {
    if (rc == CURLE_WRITE_ERROR && req.on_body) throw IoError("download aborted by the receiver");
    // a malformed URL is the caller's or the user's mistake: retrying cannot fix it
    if (rc == CURLE_URL_MALFORMAT)
      throw UsageError("'" + url_for_log(req.url) + "' is not a valid URL: " + (errbuf[0] ? errbuf : curl_easy_strerror(rc)));
    std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    throw HttpTransportError(rc, req.method + " " + url_for_log(req.url) + ": " + detail, never_reached(rc, req.url));
  }
  long status = 0;
  curl_easy_getinfo(h_, CURLINFO_RESPONSE_CODE, &status);
  resp.status = status;
  return resp;
}

void check_header_value(const std::string& what, std::string_view value) {
  for (unsigned char c : value) {
    // HTAB is allowed in a field value (RFC 9110 5.5); every other control byte is not, and CR/LF
    // would end this header and start one the caller never wrote.
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      throw ConfigError(what + " contains a control character (CR, LF, ...) and cannot be sent in an HTTP header; "
                        "fix the value (it is not shown here)");
  }
}

void check_http_url(const std::string& what, const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos || (url.compare(0, scheme, "http") != 0 && url.compare(0, scheme, "https") != 0))
    throw UsageError(what + " '" + url_for_log(url) + "' is not a valid URL: it must start with http:// or https://");
  CURLU* u = curl_url();
  if (!u) throw Error(Exit::software, "curl_url failed");
  CURLUcode rc = curl_url_set(u, CURLUPART_URL, url.c_str(), 0);
  curl_url_cleanup(u);
  if (rc != CURLUE_OK)
    throw UsageError(what + " '" + url_for_log(url) + "' is not a valid URL: " + curl_url_strerror(rc));
}

std::string url_encode(std::string_view s, bool keep_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string url_for_log(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  auto at = url.find('@', scheme + 3);
  auto slash = url.find('/', scheme + 3);
  if (at == std::string::npos || (slash != std::string::npos && at > slash)) return url;
  return url.substr(0, scheme + 3) + url.substr(at + 1);
}

}  // namespace sp
