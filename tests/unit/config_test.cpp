#include "common/core/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>

#include "common/http/clickhouse.hpp"
#include "common/core/errors.hpp"
#include "common/core/log.hpp"
#include "common/s3/s3.hpp"
#include "temp_path.hpp"

TEST(Config, ParsesSectionsCommentsAndQuotes) {
  auto c = sp::Config::parse(
      "# comment\ntop = 1\n[clickhouse]\nurl = http://h:8123 \n; other comment\nuser = \"bob\"\n\n[s3]\nregion='eu'\n",
      "t.ini");
  EXPECT_EQ(c.get("top"), "1");
  EXPECT_EQ(c.get("clickhouse.url"), "http://h:8123");
  EXPECT_EQ(c.get("clickhouse.user"), "bob");
  EXPECT_EQ(c.get("s3.region"), "eu");
  EXPECT_FALSE(c.get("s3.nothing"));
}

TEST(Config, ErrorsNameFileAndLine) {
  try {
    sp::Config::parse("[a]\nok = 1\nthis line is wrong\n", "/etc/x.ini");
    FAIL();
  } catch (const sp::ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "/etc/x.ini:3: expected 'key = value' (no '=' in the line; the line is not shown, it may hold a secret)");
    EXPECT_EQ(e.code(), sp::Exit::config);
  }
  EXPECT_THROW(sp::Config::parse("[broken\n", "f"), sp::ConfigError);
}

// Issue 16: "password: S3cr3t" (a forgotten '=') was echoed whole in the error.
TEST(Config, MalformedLinesAreNeverEchoed) {
  for (const char* text : {"[clickhouse]\npassword: S3cr3tLine\n", "[s3]\nsecret_access_key S3cr3tLine\n",
                           "[librdkafka]\nsasl.password: S3cr3tLine\n", "[clickhouse] password = S3cr3tLine\n"}) {
    try {
      sp::Config::parse(text, "c.ini");
      FAIL() << text;
    } catch (const sp::ConfigError& e) {
      EXPECT_EQ(std::string(e.what()).find("S3cr3tLine"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("c.ini:"), std::string::npos) << e.what();
    }
  }
}

TEST(Config, SecretKeysIncludeEveryLibrdkafkaKeyLikeOne) {
  for (const char* k : {"clickhouse.password", "s3.secret_access_key", "s3.session_token", "librdkafka.sasl.password",
                        "librdkafka.ssl.key.password", "librdkafka.sasl.passwrd", "librdkafka.ssl_key_passwd",
                        "librdkafka.ssl.key.pem", "librdkafka.sasl.oauthbearer.client.secret"})
    EXPECT_TRUE(sp::is_secret_key(k)) << k;
  for (const char* k : {"clickhouse.url", "s3.access_key_id", "s3.secret_access_key_file", "librdkafka.bootstrap.servers",
                        "librdkafka.security.protocol", "schema.key"})
    EXPECT_FALSE(sp::is_secret_key(k)) << k;
}

TEST(Config, FlagOverridesEnvOverridesFile) {
  auto c = sp::Config::parse("[clickhouse]\nuser = fromfile\n", "t");
  ::unsetenv("SP_TEST_USER");
  EXPECT_EQ(c.resolve("", "SP_TEST_USER", "clickhouse.user"), "fromfile");
  ::setenv("SP_TEST_USER", "fromenv", 1);
  EXPECT_EQ(c.resolve("", "SP_TEST_USER", "clickhouse.user"), "fromenv");
  EXPECT_EQ(c.resolve("fromflag", "SP_TEST_USER", "clickhouse.user"), "fromflag");
  ::unsetenv("SP_TEST_USER");
  EXPECT_FALSE(c.resolve("", "SP_TEST_USER", "clickhouse.nothing"));
}

TEST(Config, PasswordsInTheFileAreRedactedFromLogs) {
  sp::Config::parse("[clickhouse]\npassword = hunter2secret\n", "t");
  EXPECT_EQ(sp::log::redact("auth failed for hunter2secret"), "auth failed for ***");
}

TEST(Config, ExplicitMissingFileIsAnError) {
  EXPECT_THROW(sp::Config::load("/nonexistent/dir/config.ini"), sp::ConfigError);
}

TEST(Config, SearchOrderUsesEnvThenHomeThenEtc) {
  ::setenv("SENSOR_PIPELINE_CONFIG", "/tmp/a.ini", 1);
  ::setenv("HOME", "/home/u", 1);
  ::unsetenv("XDG_CONFIG_HOME");
  auto locs = sp::Config::default_locations();
  ASSERT_EQ(locs.size(), 3u);
  EXPECT_EQ(locs[0], "/tmp/a.ini");
  EXPECT_EQ(locs[1], "/home/u/.config/sensor-pipeline/config.ini");
  EXPECT_EQ(locs[2], "/etc/sensor-pipeline/config.ini");
  ::unsetenv("SENSOR_PIPELINE_CONFIG");
}

TEST(Config, LoadsFromEnvLocation) {
  TempPath tmp("cfg.ini");
  const std::string& path = tmp.path;
  std::ofstream(path) << "[kafka]\nbrokers = b:9092\n";
  ::setenv("SENSOR_PIPELINE_CONFIG", path.c_str(), 1);
  auto c = sp::Config::load("");
  EXPECT_EQ(c.get("kafka.brokers"), "b:9092");
  EXPECT_EQ(c.origin(), path);
  ::unsetenv("SENSOR_PIPELINE_CONFIG");
}

// core does not depend on S3: an s3:// location is read by the fetcher the caller passes in
// (tool_main passes the S3 client's), from --config or from $SENSOR_PIPELINE_CONFIG, and checked.
TEST(Config, RemoteLocationIsReadByTheFetcherPassedIn) {
  std::vector<std::string> asked;
  auto fetch = [&](const std::string& url) {
    asked.push_back(url);
    return std::string("[kafka]\nbrokers = r:9092\n");
  };
  auto c = sp::Config::load("s3://bucket/cfg.ini", fetch);
  EXPECT_EQ(c.get("kafka.brokers"), "r:9092");
  EXPECT_EQ(c.origin(), "s3://bucket/cfg.ini");
  ::setenv("SENSOR_PIPELINE_CONFIG", "s3://bucket/env.ini", 1);
  EXPECT_EQ(sp::Config::load("", fetch).origin(), "s3://bucket/env.ini");
  ::unsetenv("SENSOR_PIPELINE_CONFIG");
  EXPECT_EQ(asked, (std::vector<std::string>{"s3://bucket/cfg.ini", "s3://bucket/env.ini"}));
  EXPECT_THROW(sp::Config::load("s3://bucket/cfg.ini", [](const std::string&) { return std::string("[nope]\n"); }),
               sp::ConfigError);
  EXPECT_THROW(sp::Config::load("s3://bucket/cfg.ini"), sp::ConfigError);  // no fetcher
}

TEST(Config, SecretFileFirstLineOnly) {
  TempPath tmp("pw");
  const std::string& path = tmp.path;
  std::ofstream(path) << "s3cr3t-value\r\nignored\n";
  EXPECT_EQ(sp::read_secret_file(path), "s3cr3t-value");
  EXPECT_EQ(sp::log::redact("x s3cr3t-value y"), "x *** y");
}

// Issue 28 item 11: "password_file = VALUE" with no such file printed VALUE, which is the password when
// it was pasted into the wrong key. The error names where the name came from, never the name.
TEST(Config, UnreadableSecretFileIsNamedByItsKeyNeverByItsName) {
  TempPath ini_tmp("pwkey.ini");
  const std::string& ini = ini_tmp.path;
  std::ofstream(ini) << "[clickhouse]\nuser = writer\npassword_file = Pa55wordInTheWrongKey\n"
                        "[s3]\nsecret_access_key_file = S3SecretInTheWrongKey\n";
  sp::Config saved = sp::config();
  sp::set_config(sp::Config::load(ini));
  auto error_of = [](const std::string& path) {
    try {
      sp::read_secret_file(path);
    } catch (const sp::ConfigError& e) {
      EXPECT_EQ(e.code(), sp::Exit::config);
      return std::string(e.what());
    }
    return std::string("(read)");
  };
  std::string msg = error_of("Pa55wordInTheWrongKey");
  EXPECT_EQ(msg.find("Pa55word"), std::string::npos) << msg;
  EXPECT_NE(msg.find("clickhouse.password_file (" + ini + ":3)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("No such file"), std::string::npos) << msg;
  msg = error_of("S3SecretInTheWrongKey");
  EXPECT_EQ(msg.find("S3Secret"), std::string::npos) << msg;
  EXPECT_NE(msg.find("s3.secret_access_key_file (" + ini + ":5)"), std::string::npos) << msg;
  ::setenv("CLICKHOUSE_PASSWORD_FILE", "EnvPa55word", 1);
  msg = error_of("EnvPa55word");
  ::unsetenv("CLICKHOUSE_PASSWORD_FILE");
  EXPECT_EQ(msg.find("EnvPa55word"), std::string::npos) << msg;
  EXPECT_NE(msg.find("CLICKHOUSE_PASSWORD_FILE"), std::string::npos) << msg;
  msg = error_of("FlagPa55word");  // --password-file
  EXPECT_EQ(msg.find("FlagPa55word"), std::string::npos) << msg;
  EXPECT_NE(msg.find("command line"), std::string::npos) << msg;
  sp::set_config(saved);
}

// Issue 28 item 10: a file saved with a UTF-8 byte order mark (Notepad) failed on its first line.
TEST(Config, LeadingByteOrderMarkIsSkipped) {
  auto c = sp::Config::parse("\xEF\xBB\xBF[clickhouse]\nurl = http://h:8123\n", "bom.ini");
  EXPECT_EQ(c.get("clickhouse.url"), "http://h:8123");
  EXPECT_NO_THROW(c.check());
  auto top = sp::Config::parse("\xEF\xBB\xBF# comment\n[s3]\nregion = eu\n", "bom.ini");
  EXPECT_EQ(top.get("s3.region"), "eu");
  // only at the start: a BOM inside the file is still an error (it is no key)
  EXPECT_THROW(sp::Config::parse("[s3]\n\xEF\xBB\xBF\n", "bom.ini"), sp::ConfigError);
}

// Issue 18: a misspelt key ("pasword_file") was silently ignored: the tool then ran without it.
namespace {
std::string load_error(const std::string& text) {
  TempPath tmp("check.ini");
  const std::string& path = tmp.path;
  std::ofstream(path) << text;
  try {
    sp::Config::load(path);
  } catch (const sp::ConfigError& e) {
    EXPECT_EQ(e.code(), sp::Exit::config);
    std::string msg = e.what();
    EXPECT_EQ(msg.rfind(path + ":", 0), 0u) << msg;  // FILE:LINE: first
    return msg.substr(path.size());
  }
  return "(loaded)";
}
}  // namespace

TEST(ConfigCheck, UnknownKeyNamesLineAndNearestKnownKey) {
  EXPECT_EQ(load_error("[clickhouse]\nurl = http://h:8123\n# c\npasword_file = /etc/pw\n"),
            ":4: unknown key 'pasword_file' in [clickhouse]; did you mean 'password_file'?");
  EXPECT_EQ(load_error("[s3]\nverify-tls = false\n"), ":2: unknown key 'verify-tls' in [s3]; did you mean 'verify_tls'?");
  EXPECT_EQ(load_error("[kafka]\nbroker = k:9092\n"), ":2: unknown key 'broker' in [kafka]; did you mean 'brokers'?");
}

TEST(ConfigCheck, FarOffKeyListsTheKnownOnesOrTheirSection) {
  EXPECT_EQ(load_error("[schema]\ncolumns = 3\n"), ":2: unknown key 'columns' in [schema] (known: file)");
  EXPECT_EQ(load_error("[s3]\nurl = http://x\n"),
            ":2: unknown key 'url' in [s3]; 'url' belongs in [clickhouse]");
  EXPECT_EQ(load_error("[kafka]\nsecurity.protocol = SSL\n"),
            ":2: unknown key 'security.protocol' in [kafka]; librdkafka properties go in [librdkafka]");
  EXPECT_EQ(load_error("brokers = k:9092\n"), ":1: key 'brokers' outside any section; it belongs in [kafka]");
}

TEST(ConfigCheck, UnknownSectionNamesTheNearestOne) {
  EXPECT_EQ(load_error("[kafka]\nbrokers = k\n[clikhouse]\nurl = http://h\n"),
            ":3: unknown section [clikhouse]; did you mean [clickhouse]?");
  EXPECT_EQ(load_error("[metrics]\nx = 1\n"),
            ":1: unknown section [metrics] (known: kafka, librdkafka, clickhouse, clickhouse_settings, s3, schema)");
}

TEST(ConfigCheck, LibrdkafkaSectionIsOpen) {
  EXPECT_EQ(load_error("[librdkafka]\nsecurity.protocol = SSL\nanything.at.all = 1\n"), "(loaded)");
}

TEST(ConfigCheck, NeverEchoesAValueNorANameThatMayHoldOne) {
  // a ':' instead of '=' before a '=' in the secret: the "key" holds the secret
  for (const char* text : {"[clickhouse]\npasword = S3cr3tValue\n", "[clickhouse]\npassword: S3cr3tValue=x\n",
                           "[clickhouse]\ninsecure = S3cr3tValue\n", "[s3]\nsecret key S3cr3tValue = 1\n"}) {
    std::string msg = load_error(text);
    EXPECT_EQ(msg.find("S3cr3tValue"), std::string::npos) << msg;
    EXPECT_NE(msg, "(loaded)") << text;
  }
}

TEST(ConfigCheck, FirstProblemIsReportedWithTheCountOfOthers) {
  EXPECT_EQ(load_error("[clickhouse]\nusr = a\ndatabse = b\n"),
            ":2: unknown key 'usr' in [clickhouse]; did you mean 'user'? (and 1 more problem in the file)");
}

TEST(ConfigCheck, ExampleConfigLoadsWithoutError) {
  auto c = sp::Config::load(std::string(SOURCE_DIR) + "/examples/config.ini");
  EXPECT_EQ(c.get("clickhouse.password_file"), "/etc/sensor-pipeline/clickhouse.password");
}

// Every key the tools read is documented in examples/config.ini (commented out or not), and every
// key shown there is one the tools read.
TEST(ConfigCheck, ExampleConfigDocumentsEveryKnownKey) {
  std::ifstream in(std::string(SOURCE_DIR) + "/examples/config.ini");
  std::string line, section;
  std::set<std::string> documented;
  while (std::getline(in, line)) {
    // a commented-out key: "# key = value"
    if (std::regex_search(line, std::regex("^# [a-z_.]+ = "))) line = line.substr(2);
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '[') {
      section = line.substr(1, line.find(']') - 1);
      continue;
    }
    std::string key = line.substr(0, line.find(' '));
    if (!sp::is_open_config_section(section)) documented.insert(section + "." + key);
  }
  std::set<std::string> known;
  for (const auto& k : sp::known_config_keys())
    if (std::string(k.key) != "*") known.insert(std::string(k.section) + "." + k.key);
  EXPECT_EQ(documented, known);
}

TEST(ConfigCheck, KeysWithAFewValuesAreCheckedAtLoad) {
  EXPECT_EQ(load_error("[s3]\naddressing = virtual\n"), "(loaded)");
  EXPECT_EQ(load_error("[s3]\naddressing = paths\n"), ":2: s3.addressing must be path or virtual");
}

TEST(ConfigBool, AcceptsOnlyTrueFalseOneZeroYesNo) {
  for (const char* t : {"true", "1", "yes", "True", "YES"}) EXPECT_TRUE(sp::parse_bool(t, "x")) << t;
  for (const char* f : {"false", "0", "no", "FALSE", "No"}) EXPECT_FALSE(sp::parse_bool(f, "x")) << f;
  for (const char* bad : {"", "on", "off", "y", "n", "2", "ture", "true ", "enable"}) {
    try {
      sp::parse_bool(bad, "s3.verify_tls");
      FAIL() << bad;
    } catch (const sp::ConfigError& e) {
      EXPECT_EQ(std::string(e.what()), "s3.verify_tls must be true or false (or 1/0, yes/no)");
    }
  }
}

// Before: verify_tls = no (or 0) still verified, insecure = yes still verified; "ture" was silently true or false.
TEST(ConfigBool, FileBooleansAreCheckedAtLoadAndReadAlike) {
  EXPECT_EQ(load_error("[s3]\nverify_tls = off\n"), ":2: s3.verify_tls must be true or false (or 1/0, yes/no)");
  EXPECT_EQ(load_error("[clickhouse]\n\ninsecure = ture\n"),
            ":3: clickhouse.insecure must be true or false (or 1/0, yes/no)");
  auto c = sp::Config::parse("[s3]\nverify_tls = no\n[clickhouse]\ninsecure = yes\n", "t.ini");
  EXPECT_EQ(c.get_bool("s3.verify_tls"), false);
  EXPECT_EQ(c.get_bool("clickhouse.insecure"), true);
  EXPECT_EQ(c.get_bool("clickhouse.nothing"), std::nullopt);
}

// Before: s3.verify_tls = no (or 0) kept verifying; clickhouse.insecure = yes kept verifying.
TEST(ConfigBool, ReadSitesUseTheOneParser) {
  for (const char* v : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_CA_BUNDLE", "CLICKHOUSE_URL"})
    ::unsetenv(v);
  sp::set_config(sp::Config::parse("[s3]\nendpoint = http://127.0.0.1:1\nverify_tls = no\n[clickhouse]\ninsecure = yes\n", "t.ini"));
  EXPECT_FALSE(sp::s3::resolve(sp::s3::Flags{}, false).verify_tls);
  EXPECT_FALSE(sp::resolve_ch_connection(sp::ChFlags{}).verify_tls);
  sp::set_config(sp::Config::parse("[s3]\nendpoint = http://127.0.0.1:1\nverify_tls = 1\n[clickhouse]\ninsecure = 0\n", "t.ini"));
  EXPECT_TRUE(sp::s3::resolve(sp::s3::Flags{}, false).verify_tls);
  EXPECT_TRUE(sp::resolve_ch_connection(sp::ChFlags{}).verify_tls);
  sp::set_config(sp::Config{});
}

// One spelling for one setting: the flag is --insecure in every tool and [clickhouse] has insecure,
// so [s3] takes insecure too (verify_tls, its earlier name, still works; the two must agree).
TEST(ConfigBool, S3TakesInsecureLikeClickHouse) {
  for (const char* v : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_CA_BUNDLE"}) ::unsetenv(v);
  sp::set_config(sp::Config::parse("[s3]\nendpoint = http://127.0.0.1:1\ninsecure = yes\n", "t.ini"));
  EXPECT_FALSE(sp::s3::resolve(sp::s3::Flags{}, false).verify_tls);
  sp::set_config(sp::Config::parse("[s3]\nendpoint = http://127.0.0.1:1\ninsecure = false\n", "t.ini"));
  EXPECT_TRUE(sp::s3::resolve(sp::s3::Flags{}, false).verify_tls);
  sp::set_config(sp::Config::parse("[s3]\nendpoint = http://127.0.0.1:1\ninsecure = true\nverify_tls = true\n", "t.ini"));
  try {
    sp::s3::resolve(sp::s3::Flags{}, false);
    ADD_FAILURE() << "contradicting insecure and verify_tls accepted";
  } catch (const sp::ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "t.ini: s3.insecure = true and s3.verify_tls = true contradict each other: keep one (insecure)");
  }
  sp::set_config(sp::Config{});
}
