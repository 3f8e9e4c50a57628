// A ClickHouse HTTP client shared by ch-insert and the tools/demo that query ClickHouse:
// connection settings resolved from flags > env > config file, queries, gzip'd inserts, version
// detection, and the classification of ClickHouse's `Code: N` errors into what a caller should do.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/errors.hpp"
#include "common/http/http.hpp"

namespace sp {

// What the flags said; empty fields fall back to the environment, then the config file.
struct ChFlags {
  std::vector<std::string> urls;  // --url (repeatable)
  std::string user;               // --user
  std::string password_file;      // --password-file
  std::string database;           // --database
  std::string ca_file;            // --ca-file
  bool insecure = false;          // --insecure: no TLS verification
  long timeout_ms = 0;            // 0 = default
};

struct ChConnection {
  std::vector<std::string> urls;  // without credentials, without trailing '/'
  std::string user = "default";
  std::string password;  // registered with log::add_secret; never printed
  std::string database = "default";
  std::string ca_file;
  bool verify_tls = true;
  long timeout_ms = 300000;
};

// Resolves: urls  --url > CLICKHOUSE_URL > clickhouse.url (comma-separated list) >
//                 http://$CLICKHOUSE_HOST:8123 (CLICKHOUSE_PORT, the native port: a warning) > http://127.0.0.1:8123
//           user  --user > CLICKHOUSE_USER > clickhouse.user > (user in the URL) > default
//           password  --password-file > CLICKHOUSE_PASSWORD > CLICKHOUSE_PASSWORD_FILE >
//                     clickhouse.password_file > clickhouse.password > (password in the URL)
//           database  --database > CLICKHOUSE_DATABASE > clickhouse.database > default
// URL userinfo (http://u:p@host) is moved out of the URL so it never reaches a log line.
ChConnection resolve_ch_connection(const ChFlags& f);

// How a failed request should be handled.
enum class ChErrorKind {
  transport,   // no answer (refused, reset, timeout): retry
  tls,         // the server's certificate is not trusted: retrying cannot help
  retriable,   // server busy/overloaded/restarting (5xx without a permanent code, too many parts...): retry
  data,        // the data of this POST was refused (parse error, type mismatch...): isolate bad rows
  auth,        // wrong user/password, access denied
  missing,     // unknown table or database
  permanent,   // anything else that retrying cannot fix (unknown column, syntax in our query...)
  foreign,     // the answer is not ClickHouse's (no X-ClickHouse-* header): a wrong --url, stop at once
};

struct ChError {
  ChErrorKind kind = ChErrorKind::permanent;
  int code = 0;          // ClickHouse's Code: N (0 when absent)
  long status = 0;       // HTTP status (0 for transport errors)
  std::string message;   // one line (ClickHouse's text with newlines folded), secrets redacted
  std::string detail;    // the full server text (multi-line row diagnostics), secrets redacted
  bool never_reached = false;  // transport: this server has not answered once (HttpTransportError::never_reached)
};

// Extracts "Code: N" from a ClickHouse error body (0 when there is none).
int ch_error_code(std::string_view body);
// True when a body that came with 200 still carries an exception (sent after the headers).
bool ch_body_has_exception(std::string_view body);
ChErrorKind classify_ch_error(long status, int code);
const char* ch_error_kind_name(ChErrorKind k);
// ClickHouse's "(at row N)" hint in a data error, 1-based; nullopt when absent.
std::optional<uint64_t> ch_error_row(std::string_view body);

// What an HTTP answer from `url` means for a ClickHouse request: nothing (success), or the error to
// throw. Messages are one line, cut, with control bytes escaped (bodies can be whole web pages).
std::optional<ChError> ch_response_error(const HttpResponse& r, const std::string& url);

// A failed request, carrying its classification.
class ChRequestError : public Error {
 public:
  explicit ChRequestError(ChError e);
  const ChError& error() const { return err_; }

 private:
  ChError err_;
};

struct ChVersion {
  int major = 0, minor = 0, patch = 0;
  std::string text;
  bool at_least(int ma, int mi) const { return major > ma || (major == ma && minor >= mi); }
};
ChVersion parse_ch_version(std::string_view text);

// One connection (libcurl handle kept alive). Requests go to the current URL; failover() moves to
// the next one after a transport error. Not thread-safe: one client per thread.
class ClickHouseClient {
 public:
  explicit ClickHouseClient(ChConnection c);
  const ChConnection& connection() const { return c_; }
  const std::string& current_url() const { return c_.urls[cur_]; }
  void failover() { cur_ = (cur_ + 1) % c_.urls.size(); }
  void use(size_t i) { cur_ = i % c_.urls.size(); }  // the next requests go to urls[i]

  // Runs a query (POST body = sql) and returns the body. Throws ChRequestError on any failure,
  // including a 200 carrying an exception.
  std::string query(const std::string& sql, const std::vector<std::pair<std::string, std::string>>& params = {});
  // POSTs body (already gzip'd when gzip is true) with URL parameters (query=..., settings).
  // Returns the response (headers include X-ClickHouse-Summary on newer servers).
  HttpResponse post(const std::vector<std::pair<std::string, std::string>>& params, std::string_view body,
                    bool gzip);
  ChVersion server_version();  // SELECT version()

 private:
  HttpResponse send(const std::vector<std::pair<std::string, std::string>>& params, std::string_view body,
                    bool gzip);
  ChConnection c_;
  size_t cur_ = 0;
  HttpClient http_;
};

// Identifier as the seed writes it (bare when it is a plain name, else backquoted).
std::string ch_identifier(const std::string& name);

}  // namespace sp
