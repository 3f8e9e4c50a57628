// A small S3 client over sp::HttpClient with our own SigV4 (common/s3/sigv4.hpp): single and multipart
// PUT, ranged GET with resume, ListObjectsV2 with pagination, HEAD, ListParts, ListMultipartUploads.
// Works against AWS S3, MinIO and OpenStack Swift's s3api. Not thread-safe: one S3Client per thread
// (they are cheap; each keeps its own connection alive).
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/core/errors.hpp"
#include "common/core/retry.hpp"
#include "common/http/http.hpp"
#include "common/s3/sigv4.hpp"

namespace sp::s3 {

// s3://bucket/key (the key may be empty: a bucket or a prefix).
struct Location {
  std::string bucket;
  std::string key;
  // Throws UsageError naming the text when it is not s3://bucket[/key], or when the key is longer than
  // S3 allows (check_key_length).
  static Location parse(const std::string& url);
  std::string str() const { return "s3://" + bucket + "/" + key; }
};

// S3's limit on key length, in bytes (UTF-8).
inline constexpr size_t kMaxKeyBytes = 1024;
// Throws UsageError when key is longer than kMaxKeyBytes: the same rule and message for every tool
// (the message shows the key's start only: a 9000-byte key must not flood the terminal).
void check_key_length(const std::string& key);

// Connection settings; resolve() fills them from flags, the environment, ~/.aws and the config file.
struct Settings {
  std::string endpoint;  // scheme://host[:port][/base]; empty = AWS (https://s3.REGION.amazonaws.com)
  std::string region = "us-east-1";
  sigv4::Credentials credentials;
  bool path_style = true;  // bucket in the path; false = bucket.host (AWS virtual-host style)
  bool verify_tls = true;
  std::string ca_file;
  int max_attempts = 10;  // per request, first try included
  std::chrono::milliseconds retry_time{std::chrono::seconds(300)};  // per request, give up after this long
  std::chrono::milliseconds backoff_initial{200};
  std::chrono::milliseconds backoff_max{std::chrono::seconds(30)};
  long timeout_ms = 300000;
  std::string credentials_source;  // for messages: "environment", "profile default (~/.aws/credentials)", ...
  // For s3-put's uploads (not for the abort that cleans up after them): retries go on after a first
  // stop signal (what was read is stored), and requests end at once (TempFailError) when a second
  // signal asked to abandon the work (common/core/signals.hpp). Otherwise a stop signal ends retries.
  bool abandonable = false;
};

// What the user gave on the command line (empty = not given).
struct Flags {
  std::string endpoint, region, profile;
  std::optional<bool> path_style;
  bool insecure = false;  // --insecure: no TLS verification
  std::string ca_file;    // --ca-file
};

// Resolution (flag > environment > file, as everywhere):
//   endpoint: --endpoint, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, config s3.endpoint, profile endpoint_url
//   region:   --region, AWS_REGION, AWS_DEFAULT_REGION, config s3.region, profile region, us-east-1
//   keys:     AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN); an explicit profile
//             (--profile, AWS_PROFILE, config s3.profile); config s3.access_key_id + s3.secret_access_key
//             (or s3.secret_access_key_file); the "default" profile. Profiles are read from
//             AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, then AWS_CONFIG_FILE or ~/.aws/config.
//   CA file:  --ca-file, AWS_CA_BUNDLE, config s3.ca_file
//   style:    --path-style/--virtual-host, config s3.addressing (path|virtual); default path-style for a
//             custom endpoint, virtual-host for AWS.
// Secrets are registered with the logger. Throws ConfigError when no credentials are found.
Settings resolve(const Flags& flags, bool require_credentials = true);

// An S3 error answer (or a transport failure after retries), with the exit code its kind maps to.
class S3Error : public Error {
 public:
  S3Error(Exit e, const std::string& msg, long status, std::string code, std::string request_id)
      : Error(e, msg), status(status), s3_code(std::move(code)), request_id(std::move(request_id)) {}
  long status;
  std::string s3_code;
  std::string request_id;
};

// Parsed <Error><Code/><Message/><RequestId/></Error> body (empty when the body is not one); the
// other answers' readers are in s3_xml.hpp.
struct ErrorBody {
  std::string code, message, request_id;
};
ErrorBody parse_error(std::string_view xml);
std::string xml_escape(std::string_view s);
// A GET resumed at byte `from` with Range: a 206 answer starts there; a server that ignores Range
// answers 200 with the whole object, whose first `from` bytes were delivered already (If-Match on
// the ETag makes sure it is the same object): those are dropped, so nothing is delivered twice.
class ResumeSkip {
 public:
  explicit ResumeSkip(uint64_t from) : from_(from), skip_(from) {}
  void start(long status) { skip_ = status == 206 ? 0 : from_; }
  // How many of the next n body bytes to drop.
  size_t drop(size_t n) {
    size_t d = static_cast<size_t>(std::min<uint64_t>(skip_, n));
    skip_ -= d;
    return d;
  }
  // A 2xx answer (200, or none started) that ended before `from`: the object is shorter than what
  // was read of it.
  bool short_body() const { return skip_ > 0; }

 private:
  uint64_t from_, skip_;  // before start(): all of from_, as an answer without a body reaches none of it
};

// True if the status / S3 code pair is worth retrying (5xx, 429, throttling, request timeouts).
bool retriable(long status, const std::string& code);

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  std::string etag;  // without quotes
  std::string last_modified;
};

struct Part {
  int number = 0;
  std::string etag;  // without quotes
  uint64_t size = 0;
};

struct Upload {
  std::string key, upload_id, initiated;
};

// Extra headers for PUT / CreateMultipartUpload (content type, storage class, ...).
using Headers = std::vector<std::pair<std::string, std::string>>;

class Client {
 public:
  explicit Client(Settings s);

  // One PUT; returns the ETag. Content-MD5 and x-amz-content-sha256 are sent, and the returned ETag is
  // checked against the body's MD5 (not for SSE-KMS objects, where S3 answers something else).
  std::string put_object(const Location& loc, std::string_view body, const Headers& extra = {});
  std::string create_multipart(const Location& loc, const Headers& extra = {});
  // Returns the part's ETag (checked against the part's MD5).
  std::string upload_part(const Location& loc, const std::string& upload_id, int number, std::string_view body);
  // Completes with the given parts (ascending numbers); returns the object's ETag. `extra`: e.g.
  // If-None-Match: * (S3Error with status 412 when the key exists; the upload stays open).
  std::string complete_multipart(const Location& loc, const std::string& upload_id, const std::vector<Part>& parts,
                                 const Headers& extra = {});
  void abort_multipart(const Location& loc, const std::string& upload_id);
  std::vector<Part> list_parts(const Location& loc, const std::string& upload_id);
  std::vector<Upload> list_multipart_uploads(const std::string& bucket, const std::string& prefix);

  std::optional<ObjectInfo> head_object(const Location& loc);
  void delete_object(const Location& loc);
  // Streams the object (from byte `offset`) to sink; after a broken download it resumes with a Range
  // request from the first byte not yet delivered (If-Match the first answer's ETag, so a replaced object
  // is an error rather than a splice). Returns the bytes delivered. sink returning false aborts (IoError).
  uint64_t get_object(const Location& loc, const std::function<bool(const char*, size_t)>& sink, uint64_t offset = 0);
  // Reads a whole (small) object into memory; throws DataError beyond max_bytes.
  std::string get_small(const Location& loc, size_t max_bytes);
  // ListObjectsV2 under prefix in key order, every page; fn returning false stops early.
  void list_objects(const std::string& bucket, const std::string& prefix,
                    const std::function<bool(const ObjectInfo&)>& fn, int page_size = 1000);

  // A cheap signed request (ListObjectsV2 of at most one key under prefix) that proves the bucket
  // exists and the credentials are accepted, with the retries of any request: S3Error NoSuchBucket
  // (66), SignatureDoesNotMatch / InvalidAccessKeyId (77), ... Returns false, without throwing, when
  // the answer is a plain AccessDenied: a key may be allowed to write but not to list.
  bool check_bucket(const std::string& bucket, const std::string& prefix);

  const Settings& settings() const { return s_; }
  // The URL and canonical path a request for bucket/key goes to (exposed for tests).
  std::pair<std::string, std::string> url_for(const std::string& bucket, const std::string& key) const;
  uint64_t retries() const { return retries_; }

 private:
  struct Call {
    std::string method;
    std::string bucket, key;
    std::vector<std::pair<std::string, std::string>> query;
    Headers headers;
    std::string_view body;
    std::function<bool(const char*, size_t)> on_body;
    std::string what;     // for messages: "PUT s3://b/k part 3"
    std::string md5_raw = {};  // the body's MD5 when the caller already has it
    std::function<void(const HttpResponse&)> on_stream_start = {};  // see HttpRequest
  };
  // One attempt, its timeouts fitted to what is left of retry's budget.
  HttpResponse send_once(const Call& c, const std::string& payload_hash, const std::string& content_md5,
                         const Retry& retry);
  // With retries; returns a 2xx answer or throws S3Error / TempFailError.
  HttpResponse call(const Call& c);
  [[noreturn]] void fail(const Call& c, const HttpResponse& r);

  Settings s_;
  HttpClient http_;
  std::string scheme_, host_, base_path_;
  uint64_t retries_ = 0;
};

// The hex MD5 S3 gives a multipart object: md5(concat(binary part md5s)) + "-N".
std::string multipart_etag(const std::vector<std::string>& part_md5_hex);

}  // namespace sp::s3

namespace sp {
// Reads a configuration text from s3://bucket/key (--config s3://...; defined in s3_config.cpp), for
// tool_main to pass to Config::load. Connection settings come from the environment and ~/.aws only.
std::string fetch_remote_config(const std::string& url);
}  // namespace sp
