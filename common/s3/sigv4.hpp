// AWS Signature Version 4 (header-based), with OpenSSL for SHA-256, HMAC and MD5.
// https://docs.aws.amazon.com/general/latest/gr/sigv4_signing.html; S3 specifics (single URI encoding
// of the path, x-amz-content-sha256) per the S3 API reference "Authenticating Requests (AWS Signature V4)".
#pragma once
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sp::sigv4 {

// Raw digests (binary) and their hex form (base64: common/codec/base64.hpp).
std::string sha256(std::string_view data);
std::string sha256_hex(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);
std::string md5(std::string_view data);
std::string hex(std::string_view raw);

// SHA-256 of the empty string, the payload hash of body-less requests.
inline constexpr const char* kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // optional (STS); sent as x-amz-security-token
};

struct Request {
  std::string method;      // GET, PUT, ...
  std::string path;        // canonical URI, already percent-encoded ("/bucket/my%20key")
  std::vector<std::pair<std::string, std::string>> query;  // raw (not encoded) names and values
  std::vector<std::pair<std::string, std::string>> headers;  // must include host and x-amz-date
  std::string payload_hash;  // hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // hex
  std::string signed_headers;  // "host;x-amz-date"
  std::string authorization;  // the full Authorization header value
};

// Signs `req` for `region`/`service` at `amz_date` (YYYYMMDDTHHMMSSZ, must equal the x-amz-date header).
Signature sign(const Request& req, const Credentials& cred, const std::string& region, const std::string& service,
               const std::string& amz_date);

// The canonical query string: names and values percent-encoded (RFC 3986), sorted by name then value.
std::string canonical_query(const std::vector<std::pair<std::string, std::string>>& query);

// "20130524T000000Z" for a Unix time.
std::string amz_date(std::time_t t);

}  // namespace sp::sigv4
