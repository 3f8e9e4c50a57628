#include "common/s3/s3.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/codec/base64.hpp"
#include "common/core/config.hpp"
#include "common/core/log.hpp"
#include "common/core/retry.hpp"
#include "common/core/signals.hpp"
#include "common/s3/s3_xml.hpp"

namespace sp::s3 {

namespace {
// Any S3 answer seen by this process: after that, failing transports mean "down for now" (75),
// before it "unreachable" (69).
std::atomic<bool> g_reached{false};

[[noreturn]] void give_up(const std::string& msg) {
  if (g_reached.load()) throw TempFailError(msg);
  throw UnavailableError(msg);
}

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

// ---------- settings ----------

namespace {
std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::optional<Config> load_ini(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return Config::parse(ss.str(), path);
}

struct AwsFiles {
  std::optional<Config> credentials, config;
  std::string credentials_path, config_path;
};

AwsFiles load_aws_files() {
  AwsFiles f;
  std::string home = env("HOME");
  f.credentials_path = env("AWS_SHARED_CREDENTIALS_FILE");
  if (f.credentials_path.empty() && !home.empty()) f.credentials_path = home + "/.aws/credentials";
  f.config_path = env("AWS_CONFIG_FILE");
  if (f.config_path.empty() && !home.empty()) f.config_path = home + "/.aws/config";
  if (!f.credentials_path.empty()) f.credentials = load_ini(f.credentials_path);
  if (!f.config_path.empty()) f.config = load_ini(f.config_path);
  return f;
}

// A profile's key from ~/.aws/credentials ([name]) or ~/.aws/config ([profile name], [default]).
std::optional<std::string> profile_get(const AwsFiles& f, const std::string& profile, const std::string& key) {
  if (f.credentials)
    if (auto v = f.credentials->get(profile + "." + key)) return v;
  if (f.config) {
    if (auto v = f.config->get("profile " + profile + "." + key)) return v;
    if (profile == "default")
      if (auto v = f.config->get("default." + key)) return v;
  }
  return std::nullopt;
}

bool profile_exists(const AwsFiles& f, const std::string& profile) {
  auto has_section = [](const std::optional<Config>& c, const std::string& prefix) {
    if (!c) return false;
    for (const auto& kv : c->values())
      if (kv.first.rfind(prefix + ".", 0) == 0) return true;
    return false;
  };
  return has_section(f.credentials, profile) || has_section(f.config, "profile " + profile) ||
         (profile == "default" && has_section(f.config, "default"));
}
}  // namespace

Settings resolve(const Flags& flags, bool require_credentials) {
  Settings s;
  const Config& cfg = config();
  AwsFiles aws = load_aws_files();
  std::string profile = flags.profile;
  if (profile.empty()) profile = env("AWS_PROFILE");
  if (profile.empty()) profile = cfg.get_or("s3.profile", "");
  bool explicit_profile = !profile.empty();
  if (!explicit_profile) profile = "default";
  if (explicit_profile && !profile_exists(aws, profile))
    throw ConfigError("AWS profile '" + profile + "' not found in " + aws.credentials_path + " or " + aws.config_path);

  auto first = [](std::initializer_list<std::optional<std::string>> vals) -> std::string {
    for (const auto& v : vals)
      if (v && !v->empty()) return *v;
    return "";
  };
  auto envo = [](const char* n) -> std::optional<std::string> {
    std::string v = env(n);
    return v.empty() ? std::nullopt : std::optional<std::string>(v);
  };
  auto flago = [](const std::string& v) { return v.empty() ? std::nullopt : std::optional<std::string>(v); };

  s.endpoint = first({flago(flags.endpoint), envo("AWS_ENDPOINT_URL_S3"), envo("AWS_ENDPOINT_URL"), cfg.get("s3.endpoint"),
                      profile_get(aws, profile, "endpoint_url")});
  while (!s.endpoint.empty() && s.endpoint.back() == '/') s.endpoint.pop_back();
  std::string region = first({flago(flags.region), envo("AWS_REGION"), envo("AWS_DEFAULT_REGION"), cfg.get("s3.region"),
                              profile_get(aws, profile, "region")});
  if (!region.empty()) s.region = region;

  std::string id = env("AWS_ACCESS_KEY_ID"), secret = env("AWS_SECRET_ACCESS_KEY");
  if (!id.empty() && !secret.empty()) {
    s.credentials = {id, secret, env("AWS_SESSION_TOKEN")};
    s.credentials_source = "environment (AWS_ACCESS_KEY_ID)";
  } else {
    auto from_profile = [&]() -> bool {
      auto pid = profile_get(aws, profile, "aws_access_key_id");
      auto psecret = profile_get(aws, profile, "aws_secret_access_key");
      if (!pid || !psecret) return false;
      s.credentials = {*pid, *psecret, profile_get(aws, profile, "aws_session_token").value_or("")};
      s.credentials_source = "profile " + profile;
      return true;
    };
    bool found = false;
    if (explicit_profile) found = from_profile();
    if (!found && cfg.get("s3.access_key_id")) {
      std::string sec = cfg.get_or("s3.secret_access_key", "");
      if (sec.empty() && cfg.get("s3.secret_access_key_file")) sec = read_secret_file(*cfg.get("s3.secret_access_key_file"));
      if (sec.empty())
        throw ConfigError(cfg.origin() + ": s3.access_key_id is set but neither s3.secret_access_key nor "
                          "s3.secret_access_key_file is");
      s.credentials = {*cfg.get("s3.access_key_id"), sec, cfg.get_or("s3.session_token", "")};
      s.credentials_source = "config file " + cfg.origin();
      found = true;
    }
    if (!found && !explicit_profile) found = from_profile();
    if (!found && require_credentials)
      throw ConfigError("no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE (with "
                        "~/.aws/credentials), or s3.access_key_id and s3.secret_access_key in the config file");
  }
  log::add_secret(s.credentials.secret_key);
  log::add_secret(s.credentials.session_token);

  if (flags.path_style) {
    s.path_style = *flags.path_style;
  } else if (auto a = cfg.get("s3.addressing")) {
    if (*a == "path") s.path_style = true;
    else if (*a == "virtual") s.path_style = false;
    else throw ConfigError(cfg.origin() + ": s3.addressing must be 'path' or 'virtual', not '" + *a + "'");
  } else {
    s.path_style = !s.endpoint.empty();
  }
  s.ca_file = first({flago(flags.ca_file),
                     envo("AWS_CA_BUNDLE"), cfg.get("s3.ca_file")});
  // insecure as in [clickhouse] and the flag; verify_tls is its earlier, inverted name
  auto insecure = cfg.get_bool("s3.insecure");
  auto verify = cfg.get_bool("s3.verify_tls");
  if (insecure && verify && *insecure == *verify)
    throw ConfigError(cfg.origin() + ": s3.insecure = " + (*insecure ? "true" : "false") + " and s3.verify_tls = " +
                      (*verify ? "true" : "false") + " contradict each other: keep one (insecure)");
  s.verify_tls = !flags.insecure && !insecure.value_or(false) && verify.value_or(true);
  return s;
}

// ---------- answers ----------

namespace {
std::string unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}
}  // namespace

bool retriable(long status, const std::string& code) {
  if (status >= 500 || status == 429 || status == 408) return true;
  return code == "RequestTimeout" || code == "SlowDown" || code == "InternalError" || code == "ServiceUnavailable" ||
         code == "OperationAborted";
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

namespace {
void check_etag(const std::string& what, const std::string& got, const std::string& md5_raw) {
  std::string want = sigv4::hex(md5_raw);
  std::string g = unquote(got);
  // SSE-KMS / SSE-C objects have ETags that are not the MD5: only a 32-hex answer is comparable
  if (g.size() == 32 && g != want)
    throw S3Error(Exit::tempfail, what + ": server ETag " + g + " does not match the MD5 we sent (" + want + ")", 200,
                  "BadETag", "");
}
}  // namespace

std::string Client::put_object(const Location& loc, std::string_view body, const Headers& extra) {
  Call c{"PUT", loc.bucket, loc.key, {}, extra, body, nullptr, "PUT " + loc.str(), sigv4::md5(body)};
  auto r = call(c);
  std::string etag = unquote(r.header("etag"));
  check_etag(c.what, etag, c.md5_raw);
  return etag;
}

std::string Client::create_multipart(const Location& loc, const Headers& extra) {
  Call c{"POST", loc.bucket, loc.key, {{"uploads", ""}}, extra, {}, nullptr, "CreateMultipartUpload " + loc.str()};
  auto r = call(c);
  std::string id = parse_upload_id(r.body);
  if (id.empty()) throw S3Error(Exit::software, c.what + ": answer has no UploadId", r.status, "", "");
  return id;
}

std::string Client::upload_part(const Location& loc, const std::string& upload_id, int number, std::string_view body) {
  Call c{"PUT", loc.bucket, loc.key, {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}}, {}, body, nullptr,
         "UploadPart " + loc.str() + " part " + std::to_string(number), sigv4::md5(body)};
  auto r = call(c);
  std::string etag = unquote(r.header("etag"));
  check_etag(c.what, etag, c.md5_raw);
  return etag;
}

std::string Client::complete_multipart(const Location& loc, const std::string& upload_id, const std::vector<Part>& parts) {
  std::string xml = "<CompleteMultipartUpload>";
  for (const auto& p : parts)
    xml += "<Part><PartNumber>" + std::to_string(p.number) + "</PartNumber><ETag>\"" + p.etag + "\"</ETag></Part>";
  xml += "</CompleteMultipartUpload>";
  Call c{"POST", loc.bucket, loc.key, {{"uploadId", upload_id}}, {{"content-type", "application/xml"}}, xml, nullptr,
         "CompleteMultipartUpload " + loc.str()};
  auto r = call(c);
  return unquote(parse_complete_etag(r.body));
}

void Client::abort_multipart(const Location& loc, const std::string& upload_id) {
  Call c{"DELETE", loc.bucket, loc.key, {{"uploadId", upload_id}}, {}, {}, nullptr,
         "AbortMultipartUpload " + loc.str() + " (upload id " + upload_id + ")"};
  call(c);
}

std::vector<Part> Client::list_parts(const Location& loc, const std::string& upload_id) {
  std::vector<Part> out;
  std::string marker;
  while (true) {
    Call c{"GET", loc.bucket, loc.key, {{"uploadId", upload_id}, {"max-parts", "1000"}}, {}, {}, nullptr,
           "ListParts " + loc.str()};
    if (!marker.empty()) c.query.emplace_back("part-number-marker", marker);
    auto r = call(c);
    PartPage page = parse_list_parts(r.body);
    out.insert(out.end(), page.parts.begin(), page.parts.end());
    if (!page.truncated || page.next_marker.empty() || page.next_marker == marker) break;
    marker = page.next_marker;
  }
  return out;
}

std::vector<Upload> Client::list_multipart_uploads(const std::string& bucket, const std::string& prefix) {
  std::vector<Upload> out;
  std::string key_marker, id_marker;
  while (true) {
    Call c{"GET", bucket, "", {{"uploads", ""}, {"prefix", prefix}}, {}, {}, nullptr, "ListMultipartUploads s3://" + bucket};
    if (!key_marker.empty()) {
      c.query.emplace_back("key-marker", key_marker);
      c.query.emplace_back("upload-id-marker", id_marker);
    }
    auto r = call(c);
    UploadPage page = parse_list_uploads(r.body);
    out.insert(out.end(), page.uploads.begin(), page.uploads.end());
    if (!page.truncated) break;
    key_marker = page.next_key_marker;
    id_marker = page.next_upload_id_marker;
    if (key_marker.empty()) break;
  }
  return out;
}

std::optional<ObjectInfo> Client::head_object(const Location& loc) {
  Call c{"HEAD", loc.bucket, loc.key, {}, {}, {}, nullptr, "HEAD " + loc.str()};
  try {
    auto r = call(c);
    ObjectInfo o;
    o.key = loc.key;
    o.size = std::strtoull(r.header("content-length").c_str(), nullptr, 10);
    o.etag = unquote(r.header("etag"));
    o.last_modified = r.header("last-modified");
    return o;
  } catch (const S3Error& e) {
    if (e.status == 404 && e.s3_code == "NoSuchKey") return std::nullopt;
    throw;
  }
}

uint64_t Client::get_object(const Location& loc, const std::function<bool(const char*, size_t)>& sink, uint64_t offset) {
  uint64_t delivered = 0;
  // The first answer's ETag: which version of the object is being read. Every resumed request asks
  // for it (If-Match), so a replaced object is an error, never spliced onto what was delivered.
  std::string etag;
  bool answered = false;  // a first 2xx answer started
  Retry retry = request_retry(s_);
  while (true) {
    Call c{"GET", loc.bucket, loc.key, {}, {}, {}, nullptr, "GET " + loc.str()};
    uint64_t from = offset + delivered;
    if (from > 0) c.headers.emplace_back("range", "bytes=" + std::to_string(from) + "-");
    if (!etag.empty()) c.headers.emplace_back("if-match", "\"" + etag + "\"");
    ResumeSkip resume(from);  // a server may ignore Range
    c.on_stream_start = [&](const HttpResponse& head) {
      std::string got = unquote(head.header("etag"));
      if (!answered) {
        answered = true;
        etag = got;
      } else if (!etag.empty() && !got.empty() && got != etag) {  // a server that ignores If-Match
        throw S3Error(Exit::tempfail, c.what + ": the object changed while it was being read (ETag " + got +
                                          ", not " + etag + ")", head.status, "PreconditionFailed", "");
      }
      resume.start(head.status);
    };
    c.on_body = [&](const char* p, size_t n) {
      size_t drop = resume.drop(n);
      if (drop == n) return true;
      if (!sink(p + drop, n - drop)) return false;
      delivered += n - drop;
      return true;
    };
    std::string problem;
    try {
      HttpResponse r = send_once(c, sigv4::kEmptySha256, "", retry);
      if (r.status / 100 == 2) {
        if (resume.short_body())
          throw S3Error(Exit::tempfail, c.what + ": resumed at byte " + std::to_string(from) +
                                            " but the server sent a shorter whole object: it changed while it was being read",
                        r.status, "", "");
        return delivered;
      }
      if (r.status == 416 && from > 0) return delivered;  // resumed exactly at the end
      ErrorBody e = parse_error(r.body);
      if (r.status == 412)
        throw S3Error(Exit::tempfail, c.what + ": the object changed while it was being read (ETag no longer " + etag + ")",
                      412, "PreconditionFailed", e.request_id);
      if (!retriable(r.status, e.code) || retry.spent()) fail(c, r);
      problem = std::to_string(r.status) + " " + e.code;
    } catch (const HttpTransportError& e) {
      problem = e.what();
      if (retry.spent(e.never_reached))
        give_up(c.what + ": giving up after " + std::to_string(retry.retries() + 1) + " attempts at byte " +
                std::to_string(offset + delivered) + ": " + problem + never_reached_hint(e));
    }
    auto d = retry.next();
    ++retries_;
    log::warn(c.what, ": ", problem, " after ", offset + delivered, " bytes; resuming in ", d.count(), " ms");
    retry.wait(d, c.what + ": interrupted while retrying: " + problem);
  }
}

std::string Client::get_small(const Location& loc, size_t max_bytes) {
  std::string out;
  bool too_big = false;
  try {
    get_object(loc, [&](const char* p, size_t n) {
      if (out.size() + n > max_bytes) {
        too_big = true;
        return false;
      }
      out.append(p, n);
      return true;
    });
  } catch (const IoError&) {
    if (too_big) throw DataError(loc.str() + " is larger than " + std::to_string(max_bytes) + " bytes");
    throw;
  }
  return out;
}

bool Client::check_bucket(const std::string& bucket, const std::string& prefix) {
  Call c{"GET", bucket, "", {{"list-type", "2"}, {"prefix", prefix}, {"max-keys", "1"}}, {}, {}, nullptr,
         "checking s3://" + bucket + "/ (ListObjectsV2)"};
  try {
    call(c);
    return true;
  } catch (const S3Error& e) {
    if (e.s3_code == "AccessDenied") return false;
    throw;
  }
}

void Client::list_objects(const std::string& bucket, const std::string& prefix,
                          const std::function<bool(const ObjectInfo&)>& fn, int page_size) {
  std::string token;
  while (true) {
    Call c{"GET", bucket, "", {{"list-type", "2"}, {"prefix", prefix}, {"max-keys", std::to_string(page_size)}}, {}, {},
           nullptr, "ListObjectsV2 s3://" + bucket + "/" + prefix};
    if (!token.empty()) c.query.emplace_back("continuation-token", token);
    auto r = call(c);
    ObjectPage page = parse_list_objects(r.body);
    for (const auto& o : page.objects)
      if (!fn(o)) return;
    const std::string& next = page.next_token;
    if (!page.truncated) break;
    if (next.empty() || next == token)
      throw S3Error(Exit::software, c.what + ": truncated listing without a continuation token", r.status, "", "");
    token = next;
  }
}

}  // namespace sp::s3
