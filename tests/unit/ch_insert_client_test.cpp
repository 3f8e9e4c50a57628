// The shared ClickHouse client's pure parts: error codes and their classification, version
// parsing, gzip, identifiers, connection resolution (flags > env > config; secrets out of URLs).
#include "common/http/clickhouse.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include "common/codec/compress.hpp"

#include <cstdlib>
#include <fstream>

#include "common/core/config.hpp"
#include "common/core/log.hpp"
#include "temp_path.hpp"

using sp::ChErrorKind;

TEST(ChClient, ErrorCodeAndRowHint) {
  std::string body =
      "Code: 27, e.displayText() = DB::Exception: Cannot parse input: expected \" before: x: (at row 2)\n, e.what() = "
      "DB::Exception\n";
  EXPECT_EQ(sp::ch_error_code(body), 27);
  EXPECT_EQ(sp::ch_error_row(body), 2u);
  EXPECT_TRUE(sp::ch_body_has_exception(body));
  EXPECT_EQ(sp::ch_error_code("Code: 60. DB::Exception: Table default.x does not exist. (UNKNOWN_TABLE) (version 23.8)"),
            60);
  EXPECT_EQ(sp::ch_error_code("no code"), 0);
  EXPECT_FALSE(sp::ch_error_row("Code: 53 ... no row"));
  EXPECT_FALSE(sp::ch_error_row("(at row 0)"));
  EXPECT_FALSE(sp::ch_body_has_exception(""));
}

TEST(ChClient, Classification) {
  EXPECT_EQ(sp::classify_ch_error(500, 27), ChErrorKind::data);
  EXPECT_EQ(sp::classify_ch_error(400, 26), ChErrorKind::data);
  EXPECT_EQ(sp::classify_ch_error(500, 117), ChErrorKind::data);
  EXPECT_EQ(sp::classify_ch_error(500, 53), ChErrorKind::data);
  EXPECT_EQ(sp::classify_ch_error(500, 72), ChErrorKind::data);  // 26.x: a bad number in JSONEachRow
  EXPECT_EQ(sp::classify_ch_error(401, 193), ChErrorKind::auth);
  EXPECT_EQ(sp::classify_ch_error(403, 0), ChErrorKind::auth);
  EXPECT_EQ(sp::classify_ch_error(404, 60), ChErrorKind::missing);
  EXPECT_EQ(sp::classify_ch_error(404, 81), ChErrorKind::missing);
  EXPECT_EQ(sp::classify_ch_error(500, 252), ChErrorKind::retriable);
  EXPECT_EQ(sp::classify_ch_error(500, 241), ChErrorKind::retriable);
  EXPECT_EQ(sp::classify_ch_error(503, 0), ChErrorKind::retriable);
  EXPECT_EQ(sp::classify_ch_error(502, 0), ChErrorKind::retriable);
  EXPECT_EQ(sp::classify_ch_error(500, 16), ChErrorKind::permanent);  // unknown column in our query
  EXPECT_EQ(sp::classify_ch_error(400, 0), ChErrorKind::permanent);
}

TEST(ChClient, RequestErrorExitCodes) {
  sp::ChError e;
  e.kind = ChErrorKind::auth;
  e.message = "m";
  EXPECT_EQ(sp::ChRequestError(e).code(), sp::Exit::noperm);
  e.kind = ChErrorKind::missing;
  EXPECT_EQ(sp::ChRequestError(e).code(), sp::Exit::noinput);
  e.kind = ChErrorKind::transport;
  EXPECT_EQ(sp::ChRequestError(e).code(), sp::Exit::unavailable);
  e.kind = ChErrorKind::retriable;
  EXPECT_EQ(sp::ChRequestError(e).code(), sp::Exit::tempfail);
}

TEST(ChClient, Versions) {
  auto v = sp::parse_ch_version("18.16.1\n");
  EXPECT_EQ(v.major, 18);
  EXPECT_EQ(v.minor, 16);
  EXPECT_EQ(v.patch, 1);
  EXPECT_FALSE(v.at_least(22, 2));
  EXPECT_TRUE(sp::parse_ch_version("26.7.2.1").at_least(22, 2));
  EXPECT_TRUE(sp::parse_ch_version("22.2.1").at_least(22, 2));
  EXPECT_FALSE(sp::parse_ch_version("garbage").at_least(1, 0));
}

TEST(ChClient, GzipRoundTrip) {
  std::string data;
  for (int i = 0; i < 10000; ++i) data += "{\"id\":\"msg-" + std::to_string(i) + "\"}\n";
  std::string gz = "prefix";
  sp::codec::gzip_compress(data, gz, 1);
  ASSERT_EQ(gz.substr(0, 6), "prefix");
  ASSERT_EQ(static_cast<unsigned char>(gz[6]), 0x1f);
  z_stream zs{};
  ASSERT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
  std::string out(data.size() + 10, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(&gz[6]);
  zs.avail_in = static_cast<uInt>(gz.size() - 6);
  zs.next_out = reinterpret_cast<Bytef*>(&out[0]);
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(out.size() - zs.avail_out);
  inflateEnd(&zs);
  EXPECT_EQ(out, data);
  std::string empty;
  sp::codec::gzip_compress("", empty, 6);
  EXPECT_GT(empty.size(), 10u);
}

TEST(ChClient, Identifiers) {
  EXPECT_EQ(sp::ch_identifier("sensor_metrics"), "sensor_metrics");
  EXPECT_EQ(sp::ch_identifier("my table"), "`my table`");
  EXPECT_EQ(sp::ch_identifier("a`b"), "`a\\`b`");
  EXPECT_EQ(sp::ch_identifier("1abc"), "`1abc`");
}

TEST(ChClient, ConnectionPrecedenceAndUrlSecrets) {
  for (const char* v : {"CLICKHOUSE_URL", "CLICKHOUSE_USER", "CLICKHOUSE_PASSWORD", "CLICKHOUSE_PASSWORD_FILE",
                        "CLICKHOUSE_DATABASE", "CLICKHOUSE_CA_FILE"})
    ::unsetenv(v);
  sp::set_config(sp::Config::parse("[clickhouse]\nurl = http://a:1/, http://b:2\nuser = fileuser\npassword = filepw\n"
                                   "database = filedb\n",
                                   "t.ini"));
  sp::ChFlags f;
  auto c = sp::resolve_ch_connection(f);
  ASSERT_EQ(c.urls.size(), 2u);
  EXPECT_EQ(c.urls[0], "http://a:1");
  EXPECT_EQ(c.user, "fileuser");
  EXPECT_EQ(c.password, "filepw");
  EXPECT_EQ(c.database, "filedb");
  EXPECT_TRUE(c.verify_tls);

  ::setenv("CLICKHOUSE_USER", "envuser", 1);
  ::setenv("CLICKHOUSE_PASSWORD", "envpw-s3cret", 1);
  c = sp::resolve_ch_connection(f);
  EXPECT_EQ(c.user, "envuser");
  EXPECT_EQ(c.password, "envpw-s3cret");
  EXPECT_EQ(sp::log::redact("x envpw-s3cret y"), "x *** y");

  TempPath pw_tmp("ch_pw");
  const std::string& pwfile = pw_tmp.path;
  std::ofstream(pwfile) << "filepw-2\n";
  f.password_file = pwfile;
  f.user = "flaguser";
  f.urls = {"https://u:p%40ss-url-secret@host:8443/"};
  c = sp::resolve_ch_connection(f);
  EXPECT_EQ(c.user, "flaguser");
  EXPECT_EQ(c.password, "filepw-2");
  EXPECT_EQ(c.urls[0], "https://host:8443");
  EXPECT_EQ(sp::log::redact("p@ss-url-secret"), "***");

  f.urls = {"ftp://x"};
  EXPECT_THROW(sp::resolve_ch_connection(f), sp::UsageError);
  ::unsetenv("CLICKHOUSE_USER");
  ::unsetenv("CLICKHOUSE_PASSWORD");
  sp::set_config(sp::Config());
}

// Issue 16, item 4: CR/LF in the user, password or database reached the server as another header.
// Refused while the settings are resolved (before any input is read), the value never shown.
TEST(ChClient, ControlCharactersInHeaderSettingsRefused) {
  for (const char* v : {"CLICKHOUSE_URL", "CLICKHOUSE_USER", "CLICKHOUSE_PASSWORD", "CLICKHOUSE_PASSWORD_FILE",
                        "CLICKHOUSE_DATABASE", "CLICKHOUSE_CA_FILE"})
    ::unsetenv(v);
  sp::set_config(sp::Config());
  const char* injected = "pw\r\nX-Injected: yes";
  auto refused = [&](const sp::ChFlags& f, const char* what) {
    try {
      sp::resolve_ch_connection(f);
      ADD_FAILURE() << what << ": accepted";
    } catch (const sp::ConfigError& e) {
      std::string m = e.what();
      EXPECT_NE(m.find(what), std::string::npos) << m;
      EXPECT_EQ(m.find("X-Injected"), std::string::npos) << "value shown: " << m;
    }
  };
  sp::ChFlags f;
  ::setenv("CLICKHOUSE_PASSWORD", injected, 1);
  refused(f, "password");
  ::unsetenv("CLICKHOUSE_PASSWORD");
  ::setenv("CLICKHOUSE_USER", injected, 1);
  refused(f, "user");
  ::unsetenv("CLICKHOUSE_USER");
  f.database = injected;
  refused(f, "database");
  f.database.clear();
  f.urls = {"http://u%0d%0aX-Injected:yes@host:8123"};  // a user decoded from the URL
  refused(f, "user");
  f.urls.clear();
  sp::set_config(sp::Config::parse("[clickhouse]\npassword = a\x1b" "b\n", "t.ini"));
  refused(f, "password");
  sp::set_config(sp::Config());
}

// Issue 16, item 6: an answer from a server that is not ClickHouse (no X-ClickHouse-* header; here
// python's http.server refusing a POST) was retried 10 times with the whole page logged each time.
TEST(ChClient, AnswerWithoutClickHouseHeadersStopsAtOnce) {
  sp::HttpResponse r;
  r.status = 501;
  r.headers = {{"server", "SimpleHTTP/0.6 Python/3.11.2"}, {"content-type", "text/html;charset=utf-8"}};
  r.body = "<!DOCTYPE HTML>\n<html lang=\"en\">\n<head><title>Error response</title></head>\n<body>\x1b[2J" +
           std::string(5000, 'x') + "</body></html>\n";
  auto err = sp::ch_response_error(r, "http://127.0.0.1:8000");
  ASSERT_TRUE(err);
  EXPECT_NE(err->kind, ChErrorKind::retriable);
  EXPECT_NE(err->kind, ChErrorKind::transport);
  EXPECT_EQ(sp::ChRequestError(*err).code(), sp::Exit::unavailable);
  EXPECT_NE(err->message.find("not ClickHouse's HTTP interface"), std::string::npos) << err->message;
  EXPECT_NE(err->message.find("http://127.0.0.1:8000"), std::string::npos) << err->message;
  EXPECT_NE(err->message.find("501"), std::string::npos) << err->message;
  EXPECT_LT(err->message.size(), 600u) << "body not cut";
  EXPECT_EQ(err->message.find('\x1b'), std::string::npos) << "control bytes not escaped";
  // a 200 without the headers is no success either: nothing says ClickHouse stored the rows
  r.status = 200;
  r.body = "<html>ok</html>";
  err = sp::ch_response_error(r, "http://127.0.0.1:8000");
  ASSERT_TRUE(err);
  EXPECT_EQ(sp::ChRequestError(*err).code(), sp::Exit::unavailable);
  // a gateway error from a proxy in front of ClickHouse (restarting) stays retriable, cut too
  r.status = 503;
  r.body = std::string(5000, 'y');
  err = sp::ch_response_error(r, "http://lb:8123");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->kind, ChErrorKind::retriable);
  EXPECT_LT(err->message.size(), 600u);
}

TEST(ChClient, ClickHouseAnswersClassifiedAsBefore) {
  sp::HttpResponse r;
  r.status = 200;
  r.headers = {{"x-clickhouse-server-display-name", "vm"}};
  r.body = "18.16.1\n";
  EXPECT_FALSE(sp::ch_response_error(r, "http://h:8123"));
  r.status = 500;
  r.body = "Code: 27, e.displayText() = DB::Exception: Cannot parse input: (at row 1)\n, e.what() = DB::Exception\n";
  auto err = sp::ch_response_error(r, "http://h:8123");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->kind, ChErrorKind::data);
  EXPECT_EQ(err->code, 27);
  EXPECT_EQ(err->message, "Code: 27, e.displayText() = DB::Exception: Cannot parse input: (at row 1)");
  // newer servers: the code in a header, the exception after a 200's headers
  r.status = 200;
  r.headers = {{"x-clickhouse-exception-code", "241"}};
  r.body = "Code: 241. DB::Exception: Memory limit (total) exceeded";
  err = sp::ch_response_error(r, "http://h:8123");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->kind, ChErrorKind::retriable);
}

// Issue 26: a Distributed INSERT (18.16, insert_distributed_sync=1) whose connection to another shard's
// server broke (that replica SIGKILLed) answers 500 with the connection's read error, code 32 like a
// truncated row. As a data error ch-insert split the batch and sent its halves again, storing twice the
// rows the shards had kept (pipeline_exactly_once_chaos_distributed_test: 61 rows twice). The body is
// the one seen there; the same code for our own rows stays a data error.
TEST(ChClient, DistributedInsertLosingAShardIsRetriableNotData) {
  sp::HttpResponse r;
  r.status = 500;
  r.headers = {{"x-clickhouse-server-display-name", "s1r2"}};
  r.body =
      "Code: 32, e.displayText() = DB::Exception: Attempt to read after eof: while receiving packet from "
      "127.0.0.1:24309: Insertion status:\nWrote 1 blocks and 60 rows on shard 0 replica 0, 127.0.0.1:12777 "
      "(average 0 ms per block)\nWrote 1 blocks and 61 rows on shard 1 replica 0, 127.0.0.1:24309 (average 0 ms "
      "per block)\n, e.what() = DB::Exception\n";
  auto err = sp::ch_response_error(r, "http://h:8123");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, 32);
  EXPECT_EQ(err->kind, ChErrorKind::retriable) << err->message;
  r.body = "Code: 32, e.displayText() = DB::Exception: Attempt to read after eof: (at row 3)\n, e.what() = DB::Exception\n";
  err = sp::ch_response_error(r, "http://h:8123");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->kind, ChErrorKind::data);
}

TEST(ChClient, MalformedUrlsAreUsageErrors) {
  sp::set_config(sp::Config());
  ::unsetenv("CLICKHOUSE_URL");
  sp::ChFlags f;
  for (const char* u : {"http://[::1", "http://127.0.0.1:99999", "http://127.0.0.1:8123:8123", "http://",
                        "http://exa mple:8123"}) {
    f.urls = {u};
    try {
      sp::resolve_ch_connection(f);
      ADD_FAILURE() << u << ": accepted";
    } catch (const sp::UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("not a valid URL"), std::string::npos) << e.what();
    }
  }
  f.urls = {"https://u:secret-pw@h:1/", "http://[::1]:8123"};
  auto c = sp::resolve_ch_connection(f);
  EXPECT_EQ(c.urls[1], "http://[::1]:8123");
}

// Issue 27: clickhouse-client's CLICKHOUSE_HOST is honoured on the HTTP port when no URL is given
// anywhere; a URL from the environment or the config file wins over it.
TEST(ChClient, ClickhouseClientHostVariable) {
  for (const char* v : {"CLICKHOUSE_URL", "CLICKHOUSE_HOST", "CLICKHOUSE_PORT"}) ::unsetenv(v);
  sp::set_config(sp::Config::parse("", "t.ini"));
  sp::ChFlags f;
  EXPECT_EQ(sp::resolve_ch_connection(f).urls.at(0), "http://127.0.0.1:8123");
  ::setenv("CLICKHOUSE_HOST", "ch1.example", 1);
  ::setenv("CLICKHOUSE_PORT", "9000", 1);  // the native port: not used (a warning)
  EXPECT_EQ(sp::resolve_ch_connection(f).urls.at(0), "http://ch1.example:8123");
  ::setenv("CLICKHOUSE_HOST", "::1", 1);
  EXPECT_EQ(sp::resolve_ch_connection(f).urls.at(0), "http://[::1]:8123");
  ::setenv("CLICKHOUSE_URL", "http://other:8124", 1);
  EXPECT_EQ(sp::resolve_ch_connection(f).urls.at(0), "http://other:8124");
  f.urls = {"http://flag:1"};
  EXPECT_EQ(sp::resolve_ch_connection(f).urls.at(0), "http://flag:1");
  for (const char* v : {"CLICKHOUSE_URL", "CLICKHOUSE_HOST", "CLICKHOUSE_PORT"}) ::unsetenv(v);
}
