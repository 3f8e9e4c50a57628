#include "common/http/clickhouse.hpp"


#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>

#include "common/core/config.hpp"
#include "common/core/log.hpp"
#include "common/core/text.hpp"

namespace sp {

namespace {
std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string percent_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::strtol(s.substr(i + 1, 2).c_str(), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// One line for a log or an error message: newlines folded, other control bytes as \xNN (the text
// can quote input rows, or be any server's page), cut at `max` bytes.
std::string one_line(std::string_view s, size_t max = 1000) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(std::min<size_t>(s.size(), max) + 8);
  for (char c : s) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    auto u = static_cast<unsigned char>(c);
    if (c == '\n' || c == '\r' || c == '\t') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ',')) out.pop_back();
  return out;
}

// ClickHouse ends its texts with ", e.what() = DB::Exception" (18.x) or "(VERSION ...)" (new): keep the useful part.
std::string tidy_message(std::string_view body) {
  std::string s(body);
  auto w = s.find(", e.what() = ");
  if (w != std::string::npos) s.resize(w);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}
// No URL given: clickhouse-client's CLICKHOUSE_HOST is honoured on the HTTP interface's default port
// (http://HOST:8123). Its CLICKHOUSE_PORT is the native TCP port (9000), which HTTP cannot use: it is
// not taken, and a warning says what to give instead, rather than ignoring either without a word.
std::string default_url_from_client_env() {
  std::string host = env_or_empty("CLICKHOUSE_HOST"), port = env_or_empty("CLICKHOUSE_PORT");
  if (!port.empty())
    log::warn("CLICKHOUSE_PORT=", log::printable(port, 20), " is clickhouse-client's native TCP port, not used here: ",
              "this speaks ClickHouse's HTTP interface (port 8123 by default); give CLICKHOUSE_URL=http://HOST:PORT");
  if (host.empty()) return "http://127.0.0.1:8123";
  std::string url = "http://" + (host.find(':') != std::string::npos && host.front() != '[' ? "[" + host + "]" : host) +
                    ":8123";
  log::debug("ClickHouse URL ", url, " from CLICKHOUSE_HOST");
  return url;
}
}  // namespace

ChConnection resolve_ch_connection(const ChFlags& f) {
  const Config& cfg = config();
  ChConnection c;
  std::vector<std::string> urls = f.urls;
  if (urls.empty()) {
    auto u = cfg.resolve("", "CLICKHOUSE_URL", "clickhouse.url");
    urls = split_comma_list(u ? *u : default_url_from_client_env());
  }
  if (urls.empty()) throw UsageError("no ClickHouse URL given (--url, CLICKHOUSE_URL or clickhouse.url)");
  std::string url_user, url_pass;
  for (auto& u : urls) {
    // Malformed URLs (a bad port, an open IPv6 bracket) are refused here: as transport errors they
    // were retried for a minute.
    check_http_url("ClickHouse URL", u);
    auto scheme = u.find("://");
    auto at = u.find('@', scheme + 3);
    auto slash = u.find('/', scheme + 3);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      std::string info = u.substr(scheme + 3, at - scheme - 3);
      auto colon = info.find(':');
      url_user = percent_decode(info.substr(0, colon));
      if (colon != std::string::npos) {
        url_pass = percent_decode(info.substr(colon + 1));
        log::add_secret(url_pass);
      }
      u = u.substr(0, scheme + 3) + u.substr(at + 1);
    }
    while (!u.empty() && u.back() == '/') u.pop_back();
  }
  c.urls = urls;

  auto user = cfg.resolve(f.user, "CLICKHOUSE_USER", "clickhouse.user");
  c.user = user ? *user : (url_user.empty() ? "default" : url_user);

  if (!f.password_file.empty()) {
    c.password = read_secret_file(f.password_file);
  } else if (!env_or_empty("CLICKHOUSE_PASSWORD").empty()) {
    c.password = env_or_empty("CLICKHOUSE_PASSWORD");
  } else if (!env_or_empty("CLICKHOUSE_PASSWORD_FILE").empty()) {
    c.password = read_secret_file(env_or_empty("CLICKHOUSE_PASSWORD_FILE"));
  } else if (auto pf = cfg.get("clickhouse.password_file")) {
    c.password = read_secret_file(*pf);
  } else if (auto pw = cfg.get("clickhouse.password")) {
    c.password = *pw;
  } else {
    c.password = url_pass;
  }
  log::add_secret(c.password);

  auto db = cfg.resolve(f.database, "CLICKHOUSE_DATABASE", "clickhouse.database");
  if (db) c.database = *db;
  // These go into request headers: refused now, before any input is read, rather than at the
  // first request (HttpClient checks every header again).
  check_header_value("the ClickHouse user", c.user);
  check_header_value("the ClickHouse password", c.password);
  check_header_value("the ClickHouse database", c.database);
  auto ca = cfg.resolve(f.ca_file, "CLICKHOUSE_CA_FILE", "clickhouse.ca_file");
  if (ca) c.ca_file = *ca;
  c.verify_tls = !(f.insecure || cfg.get_bool("clickhouse.insecure").value_or(false));
  if (!c.verify_tls) log::warn("TLS certificate verification is off (--insecure)");
  if (f.timeout_ms > 0) c.timeout_ms = f.timeout_ms;
  return c;
}

int ch_error_code(std::string_view body) {
  auto p = body.find("Code: ");
  if (p == std::string_view::npos) return 0;
  p += 6;
  int code = 0;
  bool any = false;
  while (p < body.size() && std::isdigit(static_cast<unsigned char>(body[p]))) {
    code = code * 10 + (body[p] - '0');
    any = true;
    if (code > 100000) break;
    ++p;
  }
  return any ? code : 0;
}

bool ch_body_has_exception(std::string_view body) {
  return body.find("DB::Exception") != std::string_view::npos ||
         (body.find("Code: ") != std::string_view::npos && body.find("Exception") != std::string_view::npos);
}

ChErrorKind classify_ch_error(long status, int code) {
  // Codes: ClickHouse src/Common/ErrorCodes.cpp (numbers stable across versions).
  static const std::set<int> data = {
      6,    // CANNOT_PARSE_TEXT
      25,   // CANNOT_PARSE_ESCAPE_SEQUENCE
      26,   // CANNOT_PARSE_QUOTED_STRING
      27,   // CANNOT_PARSE_INPUT_ASSERTION_FAILED
      32,   // ATTEMPT_TO_READ_AFTER_EOF
      33,   // CANNOT_READ_ALL_DATA
      38,   // CANNOT_PARSE_DATE
      41,   // CANNOT_PARSE_DATETIME
      53,   // TYPE_MISMATCH
      62,   // SYNTAX_ERROR (inside VALUES data)
      69,   // ARGUMENT_OUT_OF_BOUND
      70,   // CANNOT_CONVERT_TYPE
      72,   // CANNOT_PARSE_NUMBER
      117,  // INCORRECT_DATA (e.g. unknown JSON key in one row)
      130,  // CANNOT_READ_ARRAY_FROM_TEXT
      131,  // TOO_LARGE_STRING_SIZE
      349,  // CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
      377,  // CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING
      441,  // CANNOT_PARSE_UUID
      467,  // CANNOT_PARSE_BOOL
      1001, // STD_EXCEPTION (e.g. a bad UTF-8 sequence reaching std code)
  };
  static const std::set<int> auth = {192, 193, 194, 195, 497, 516};  // unknown user, wrong password, ..., access denied
  static const std::set<int> missing = {60, 81};                      // UNKNOWN_TABLE, UNKNOWN_DATABASE
  static const std::set<int> retriable = {
      3,    // UNEXPECTED_END_OF_FILE (body cut by a dying connection)
      159,  // TIMEOUT_EXCEEDED
      164,  // READONLY (replica in read-only mode for a while)
      202,  // TOO_MANY_SIMULTANEOUS_QUERIES
      203,  // NO_FREE_CONNECTION
      209,  // SOCKET_TIMEOUT
      210,  // NETWORK_ERROR
      236,  // ABORTED
      241,  // MEMORY_LIMIT_EXCEEDED
      242,  // TABLE_IS_READ_ONLY
      252,  // TOO_MANY_PARTS
      285,  // TOO_FEW_LIVE_REPLICAS
      286,  // UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE: before 20.10 (insert_quorum_parallel) a quorum
            // insert waits for the previous one, so ch-insert's parallel batches meet it (nothing written)
      319,  // UNKNOWN_STATUS_OF_INSERT
      394,  // QUERY_WAS_CANCELLED (server shutting down)
      425,  // SYSTEM_ERROR
      999,  // KEEPER_EXCEPTION
      225,  // NO_ZOOKEEPER
  };
  if (code != 0) {
    if (data.count(code)) return ChErrorKind::data;
    if (auth.count(code)) return ChErrorKind::auth;
    if (missing.count(code)) return ChErrorKind::missing;
    if (retriable.count(code)) return ChErrorKind::retriable;
    return status >= 500 && status != 500 ? ChErrorKind::retriable : ChErrorKind::permanent;
  }
  if (status == 401 || status == 403) return ChErrorKind::auth;
  if (status == 404) return ChErrorKind::missing;
  if (status >= 500 || status == 408 || status == 429 || status == 0) return ChErrorKind::retriable;
  return ChErrorKind::permanent;
}

const char* ch_error_kind_name(ChErrorKind k) {
  switch (k) {
    case ChErrorKind::transport: return "transport";
    case ChErrorKind::tls: return "tls";
    case ChErrorKind::retriable: return "retriable";
    case ChErrorKind::data: return "data";
    case ChErrorKind::auth: return "auth";
    case ChErrorKind::missing: return "missing";
    case ChErrorKind::permanent: return "permanent";
    case ChErrorKind::foreign: return "foreign";
  }
  return "?";
}

std::optional<uint64_t> ch_error_row(std::string_view body) {
  auto p = body.find("(at row ");
  if (p == std::string_view::npos) return std::nullopt;
  p += 8;
  uint64_t n = 0;
  bool any = false;
  while (p < body.size() && std::isdigit(static_cast<unsigned char>(body[p]))) {
    n = n * 10 + static_cast<uint64_t>(body[p] - '0');
    any = true;
    if (n > (1ULL << 40)) return std::nullopt;
    ++p;
  }
  if (!any || n == 0) return std::nullopt;
  return n;
}

namespace {
Exit exit_for(const ChError& e) {
  switch (e.kind) {
    case ChErrorKind::transport: return Exit::unavailable;
    case ChErrorKind::tls: return Exit::unavailable;
    case ChErrorKind::retriable: return Exit::tempfail;
    case ChErrorKind::data: return Exit::data;
    case ChErrorKind::auth: return Exit::noperm;
    case ChErrorKind::missing: return Exit::noinput;
    case ChErrorKind::permanent: return Exit::data;
    case ChErrorKind::foreign: return Exit::unavailable;
  }
  return Exit::software;
}
}  // namespace

ChRequestError::ChRequestError(ChError e) : Error(exit_for(e), e.message), err_(std::move(e)) {}

ChVersion parse_ch_version(std::string_view text) {
  ChVersion v;
  std::string t(text);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
  v.text = t;
  int* parts[] = {&v.major, &v.minor, &v.patch};
  size_t i = 0, p = 0;
  while (i < 3 && p < t.size()) {
    if (!std::isdigit(static_cast<unsigned char>(t[p]))) break;
    int n = 0;
    while (p < t.size() && std::isdigit(static_cast<unsigned char>(t[p]))) n = n * 10 + (t[p++] - '0');
    *parts[i++] = n;
    if (p < t.size() && t[p] == '.') ++p;
    else break;
  }
  return v;
}

ClickHouseClient::ClickHouseClient(ChConnection c) : c_(std::move(c)) {
  if (c_.urls.empty()) throw UsageError("no ClickHouse URL");
}

HttpResponse ClickHouseClient::send(const std::vector<std::pair<std::string, std::string>>& params,
                                    std::string_view body, bool gzip) {
  HttpRequest req;
  req.method = "POST";
  req.url = current_url() + "/";
  char sep = '?';
  for (const auto& [k, v] : params) {
    req.url += sep;
    req.url += url_encode(k) + "=" + url_encode(v);
    sep = '&';
  }
  req.headers.push_back("X-ClickHouse-User: " + c_.user);
  // Header rather than URL parameter: URLs end up in proxy and server logs.
  if (!c_.password.empty()) req.headers.push_back("X-ClickHouse-Key: " + c_.password);
  if (!c_.database.empty()) req.headers.push_back("X-ClickHouse-Database: " + c_.database);
  if (gzip) req.headers.push_back("Content-Encoding: gzip");
  req.headers.push_back("Content-Type: application/octet-stream");
  req.body = body;
  req.verify_tls = c_.verify_tls;
  req.ca_file = c_.ca_file;
  req.timeout_ms = c_.timeout_ms;
  try {
    return http_.perform(req);
  } catch (const HttpTransportError& e) {
    ChError err;
    err.kind = ChErrorKind::transport;
    err.never_reached = e.never_reached;
    err.message = log::redact(std::string("ClickHouse at ") + url_for_log(current_url()) + " did not answer: " +
                              curl_easy_strerror(e.curl_code));
    if (e.curl_code == CURLE_PEER_FAILED_VERIFICATION || e.curl_code == CURLE_SSL_CACERT_BADFILE ||
        e.curl_code == CURLE_SSL_CERTPROBLEM) {
      err.kind = ChErrorKind::tls;
      err.message = log::redact("TLS certificate of " + url_for_log(current_url()) + " not accepted: " +
                                std::string(e.what()) + " (trust its CA with --ca-file, or --insecure to skip the check)");
    }
    err.detail = log::redact(e.what());
    throw ChRequestError(std::move(err));
  }
}

std::optional<ChError> ch_response_error(const HttpResponse& r, const std::string& url) {
  // ClickHouse marks every answer of its HTTP interface, success or error, with X-ClickHouse-*
  // headers (18.16: X-ClickHouse-Server-Display-Name; newer ones also -Query-Id, -Summary,
  // -Exception-Code). Without one, the answer is some other server's: its status and body say
  // nothing about our rows (a 200 from a web server would otherwise acknowledge rows never stored).
  bool from_clickhouse = false;
  for (const auto& h : r.headers)
    if (h.first.starts_with("x-clickhouse-")) from_clickhouse = true;
  if (!from_clickhouse) {
    ChError err;
    err.status = r.status;
    std::string body = one_line(r.body, 200);
    if (r.status == 502 || r.status == 503 || r.status == 504) {
      // a proxy or load balancer in front of a ClickHouse that is restarting: worth retrying
      err.kind = ChErrorKind::retriable;
      err.message = "HTTP " + std::to_string(r.status) + " from " + url_for_log(url) +
                    " (not from ClickHouse itself: a proxy in front of it?)" + (body.empty() ? "" : ": " + body);
    } else {
      err.kind = ChErrorKind::foreign;
      err.message = url_for_log(url) + " answered HTTP " + std::to_string(r.status) +
                    " without any X-ClickHouse-* header: not ClickHouse's HTTP interface (check --url: the HTTP port, "
                    "8123 by default)" + (body.empty() ? "" : ": " + body);
    }
    err.message = log::redact(err.message);
    err.detail = err.message;
    return err;
  }
  bool failed = r.status != 200 || ch_body_has_exception(r.body) || !r.header("x-clickhouse-exception-code").empty();
  if (!failed) return std::nullopt;
  ChError err;
  err.status = r.status;
  err.code = ch_error_code(r.body);
  if (err.code == 0 && !r.header("x-clickhouse-exception-code").empty())
    err.code = std::atoi(r.header("x-clickhouse-exception-code").c_str());
  err.kind = classify_ch_error(r.status, err.code);
  // A Distributed INSERT whose connection to another shard's server broke answers with that link's read
  // error (32, 33: the codes of a truncated row), "while receiving packet from HOST:PORT": not about our
  // rows, and maybe stored on some shards. As a data error the batch was split and its halves sent again.
  if (err.kind == ChErrorKind::data && r.body.find("while receiving packet from") != std::string::npos)
    err.kind = ChErrorKind::retriable;
  std::string text = tidy_message(r.body);
  if (text.empty()) text = "HTTP " + std::to_string(r.status) + " with an empty body";
  // the detail (ClickHouse's multi-line row diagnostics) goes to the rejects file, bounded
  err.detail = log::redact(text.size() > 16384 ? text.substr(0, 16384) + "..." : text);
  err.message = log::redact(one_line(text));
  return err;
}

HttpResponse ClickHouseClient::post(const std::vector<std::pair<std::string, std::string>>& params,
                                    std::string_view body, bool gzip) {
  HttpResponse r = send(params, body, gzip);
  if (auto err = ch_response_error(r, current_url())) throw ChRequestError(std::move(*err));
  return r;
}

std::string ClickHouseClient::query(const std::string& sql,
                                    const std::vector<std::pair<std::string, std::string>>& params) {
  return post(params, sql, false).body;
}

ChVersion ClickHouseClient::server_version() { return parse_ch_version(query("SELECT version()")); }

std::string ch_identifier(const std::string& name) {
  bool plain = !name.empty() && (std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_');
  for (char c : name) plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (plain) return name;
  std::string out = "`";
  for (char c : name) {
    if (c == '`' || c == '\\') out += '\\';
    out += c;
  }
  return out + "`";
}

}  // namespace sp
