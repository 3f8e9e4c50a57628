#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/core/errors.hpp"
#include "format.hpp"

using namespace sp::kcs;

namespace {
std::string envelope(const MessageView& m) {
  JsonTool json;
  std::string out;
  append_envelope(out, m, json);
  return out;
}
MessageView msg(std::string_view value) {
  MessageView m;
  m.topic = "sensor_metrics";
  m.partition = 3;
  m.offset = 42;
  m.timestamp_ms = 1751925600000;
  m.value = bytes(value);
  return m;
}
}  // namespace

TEST(KafkaEnvelope, EmbedsJsonValuesCompactedWithAllCoordinates) {
  auto m = msg("{ \"id\" : \"msg-1\",\n  \"value\": {\"t\": 23.5} }");
  m.key = bytes("sensor-001");
  m.headers.push_back({"h", bytes("v")});
  EXPECT_EQ(envelope(m),
            "{\"topic\":\"sensor_metrics\",\"partition\":3,\"offset\":42,\"timestamp\":\"2025-07-07T22:00:00.000Z\","
            "\"timestamp_ms\":1751925600000,\"key\":\"sensor-001\",\"headers\":{\"h\":\"v\"},"
            "\"value\":{\"id\":\"msg-1\",\"value\":{\"t\":23.5}}}\n");
}

TEST(KafkaEnvelope, NullKeyNoTimestampAndTextValue) {
  auto m = msg("hello \"world\"\nline2");
  m.timestamp_ms.reset();
  auto line = envelope(m);
  EXPECT_EQ(line,
            "{\"topic\":\"sensor_metrics\",\"partition\":3,\"offset\":42,\"timestamp\":null,\"timestamp_ms\":null,"
            "\"key\":null,\"headers\":{},\"value\":\"hello \\\"world\\\"\\nline2\"}\n");
}

TEST(KafkaEnvelope, NullValueIsNullAndEmptyValueIsEmptyString) {
  MessageView m = msg("");
  m.value = Bytes{};
  EXPECT_NE(envelope(m).find("\"value\":null}"), std::string::npos);
  m.value = bytes("");
  EXPECT_NE(envelope(m).find("\"value\":\"\"}"), std::string::npos);
}

TEST(KafkaEnvelope, InvalidUtf8IsBase64WithAnEncodingField) {
  std::string bin("\xff\x00\x01hi\n", 6);
  auto m = msg(bin);
  std::string badkey("\xc3\x28", 2);
  m.key = bytes(badkey);
  auto line = envelope(m);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["value_encoding"], "base64");
  EXPECT_EQ(j["value"], "/wABaGkK");
  EXPECT_EQ(j["key_encoding"], "base64");
  EXPECT_EQ(j["key"], "wyg=");
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

TEST(KafkaEnvelope, ValidUtf8BinaryIsAnEscapedString) {
  std::string v("a\x01\tb\xc3\xa9", 6);
  auto j = nlohmann::json::parse(envelope(msg(v)));
  EXPECT_EQ(j["value"], v);
  EXPECT_FALSE(j.contains("value_encoding"));
}

TEST(KafkaEnvelope, HeadersNullBinaryAndRepeatedNames) {
  auto m = msg("1");
  m.headers.push_back({"a", bytes("x")});
  m.headers.push_back({"n", Bytes{}});
  std::string bin("\xfe", 1);
  m.headers.push_back({"b", bytes(bin)});
  m.headers.push_back({"a", bytes("y")});
  auto j = nlohmann::json::parse(envelope(m));
  EXPECT_EQ(j["headers"]["a"], nlohmann::json::array({"x", "y"}));
  EXPECT_TRUE(j["headers"]["n"].is_null());
  EXPECT_EQ(j["headers"]["b"]["base64"], "/g==");
  EXPECT_EQ(j["value"], 1);
}

TEST(KafkaEnvelope, ScalarsAndDeepOrBrokenJsonStayFramed) {
  EXPECT_NE(envelope(msg("  42 ")).find("\"value\":42}"), std::string::npos);
  EXPECT_NE(envelope(msg("{\"a\":")).find("\"value\":\"{\\\"a\\\":\"}"), std::string::npos);
  std::string deep(5000, '[');
  auto line = envelope(msg(deep));
  EXPECT_TRUE(nlohmann::json::accept(line));
}

TEST(KafkaRaw, WritesAsIsCompactsMultilineJsonAndRefusesBrokenFraming) {
  JsonTool json;
  std::string out;
  EXPECT_EQ(append_raw(out, bytes("{\"a\": 1}"), json), RawResult::written);
  EXPECT_EQ(out, "{\"a\": 1}\n");
  out.clear();
  EXPECT_EQ(append_raw(out, bytes("{\"a\":\n 1,\n \"s\": \"x y\"}"), json), RawResult::compacted);
  EXPECT_EQ(out, "{\"a\":1,\"s\":\"x y\"}\n");
  out.clear();
  EXPECT_EQ(append_raw(out, bytes("not json\nat all"), json), RawResult::breaks_framing);
  EXPECT_EQ(append_raw(out, Bytes{}, json), RawResult::null_value);
  EXPECT_EQ(out, "");
  std::string bin("\xff\x00\x01", 3);
  EXPECT_EQ(append_raw(out, bytes(bin), json), RawResult::written);
  EXPECT_EQ(out, bin + "\n");
}


// -f: the bytes kcat 1.7's format.c writes for the same message and format string.
namespace {
std::string formatted(std::string_view spec, const MessageView& m) {
  std::string out;
  append_formatted(out, parse_format(spec), m);
  return out;
}
}  // namespace

TEST(KafkaFormatString, EveryTokenAsKcatWritesIt) {
  auto m = msg("{\"t\":1}");
  m.key = bytes("sensor-001");
  m.headers.push_back({"trace", bytes("abc")});
  m.headers.push_back({"empty", bytes("")});
  m.headers.push_back({"gone", Bytes{}});
  EXPECT_EQ(formatted("Topic %t [%p] at offset %o: key %k: %s\\n", m),
            "Topic sensor_metrics [3] at offset 42: key sensor-001: {\"t\":1}\n");
  EXPECT_EQ(formatted("%T|%S|%K|%h|100%%\\t%s\\r\\n", m),
            "1751925600000|7|10|trace=abc,empty=,gone=NULL|100%\t{\"t\":1}\r\n");
  EXPECT_EQ(formatted("%R", m), std::string("\0\0\0\7", 4));
}

TEST(KafkaFormatString, NullKeyNullValueNoTimestampNoHeaders) {
  MessageView m;
  m.topic = "t";
  EXPECT_EQ(formatted("[%k][%s][%K][%S][%T][%h]", m), "[][][-1][-1][-1][]");
  EXPECT_EQ(formatted("%R", m), "\xff\xff\xff\xff");
  m.key = bytes("");
  m.value = bytes("");
  EXPECT_EQ(formatted("[%K][%S]", m), "[0][0]");
}

TEST(KafkaFormatString, EscapesAndLiteralsWithoutTokens) {
  auto m = msg("v");
  EXPECT_EQ(formatted("\\x41\\101\\0101\\x4a\\q\\\\%s\\", m), "Ae" "AJq\\v\\");
  EXPECT_EQ(formatted("no tokens", m), "no tokens");
  EXPECT_EQ(formatted("", m), "");
  EXPECT_EQ(formatted("%s\\000|", m), std::string("v\0|", 3));
}

TEST(KafkaFormatString, RefusesWhatKcatRefuses) {
  EXPECT_THROW(parse_format("%s%"), sp::UsageError);
  EXPECT_THROW(parse_format("%x"), sp::UsageError);
  EXPECT_TRUE(needs_headers(parse_format("%h")));
  EXPECT_FALSE(needs_headers(parse_format("%s %k")));
}
