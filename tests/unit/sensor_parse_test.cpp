// sensor-parse core: conversion, validation reasons, envelopes, CSV input and the run loop.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/core/errors.hpp"
#include "common/core/log.hpp"
#include "common/rows/envelope.hpp"
#include "parse.hpp"

using sp::RowFormat;
using sp::Schema;
using sp::parse::InputFormat;
using sp::parse::RecordParser;
using sp::parse::Reject;

namespace {

const std::string kSeed =
    R"({"id": "msg-123", "timestamp": "2025-07-07T22:00:00Z", "value": {"sensor_id": "sensor-001", "temperature": 23.5, "humidity": 45, "pressure": 1013}})";

// The row for one JSON line, or "REJECT: <reason>".
// Every line goes through both paths (fast and simdjson, see plain_json.hpp), which must agree.
std::string convert(const std::string& line, RowFormat f = RowFormat::json,
                    const Schema& s = Schema::default_schema()) {
  std::string results[2];
  for (bool fast : {true, false}) {
    RecordParser p(s, f, fast);
    std::string out;
    Reject r;
    if (p.json_line(line, out, r)) {
      results[fast] = out;
      continue;
    }
    EXPECT_TRUE(out.empty()) << "a reject must not leave a partial row";
    results[fast] = "REJECT: " + r.reason;
  }
  EXPECT_EQ(results[1], results[0]) << "fast path and simdjson path differ on: " << line;
  return results[0];
}

std::string msg(const std::string& id, const std::string& ts, const std::string& sensor, const std::string& t,
                const std::string& h = "45", const std::string& p = "1013") {
  return R"({"id":)" + id + R"(,"timestamp":)" + ts + R"(,"value":{"sensor_id":)" + sensor + R"(,"temperature":)" + t +
         R"(,"humidity":)" + h + R"(,"pressure":)" + p + "}}";
}

std::string with_temp(const std::string& t) { return msg("\"m\"", "\"2025-07-07T22:00:00Z\"", "\"s\"", t); }
std::string with_ts(const std::string& ts) { return msg("\"m\"", ts, "\"s\"", "1"); }

struct RunResult {
  sp::parse::Stats st;
  std::string rows, rejects;
};
RunResult run(const std::string& input, sp::parse::Options opt = {}, const Schema& s = Schema::default_schema()) {
  sp::log::set_level(sp::log::Level::error);
  std::istringstream in(input);
  std::ostringstream rows, rejects;
  RunResult res;
  {
    sp::LineReader r(in, opt.max_line);
    sp::LineWriter w(rows), rw(rejects);
    res.st = sp::parse::run(opt, s, r, w, &rw);
  }
  sp::log::set_level(sp::log::Level::info);
  res.rows = rows.str();
  res.rejects = rejects.str();
  return res;
}

}  // namespace

TEST(SensorParse, SeedExampleInEveryFormat) {
  EXPECT_EQ(convert(kSeed, RowFormat::values), "('msg-123', '2025-07-07 22:00:00', 'sensor-001', 23.5, 45, 1013)\n");
  EXPECT_EQ(
      convert(kSeed, RowFormat::json),
      R"({"id":"msg-123","ts":"2025-07-07 22:00:00","sensor_id":"sensor-001","temperature":23.5,"humidity":45,"pressure":1013})"
      "\n");
  EXPECT_EQ(convert(kSeed, RowFormat::tsv), "msg-123\t2025-07-07 22:00:00\tsensor-001\t23.5\t45\t1013\n");
  EXPECT_EQ(convert(kSeed, RowFormat::csv), "\"msg-123\",\"2025-07-07 22:00:00\",\"sensor-001\",23.5,45,1013\n");
}

TEST(SensorParse, EscapingInEveryFormat) {
  std::string m = msg(R"("a'b\\c")", "\"2025-07-07T22:00:00Z\"", R"("t\tn\nq\"é")", "1");
  EXPECT_EQ(convert(m, RowFormat::values), "('a\\'b\\\\c', '2025-07-07 22:00:00', 't\\tn\\nq\"é', 1, 45, 1013)\n");
  EXPECT_EQ(convert(m, RowFormat::tsv), "a'b\\\\c\t2025-07-07 22:00:00\tt\\tn\\nq\"é\t1\t45\t1013\n");
  EXPECT_EQ(
      convert(m, RowFormat::json),
      R"({"id":"a'b\\c","ts":"2025-07-07 22:00:00","sensor_id":"t\tn\nq\"é","temperature":1,"humidity":45,"pressure":1013})"
      "\n");
  // CSV cannot carry a line break inside one line: rejected, with a hint.
  EXPECT_EQ(convert(m, RowFormat::csv).rfind("REJECT: value.sensor_id: contains a line break", 0), 0u);
  std::string q = msg(R"("say \"hi\", ok")", "\"2025-07-07T22:00:00Z\"", "\"s\"", "1");
  EXPECT_EQ(convert(q, RowFormat::csv), "\"say \"\"hi\"\", ok\",\"2025-07-07 22:00:00\",\"s\",1,45,1013\n");
}

TEST(SensorParse, NumbersKeepTheirValue) {
  EXPECT_NE(convert(with_temp("-0.5")).find("\"temperature\":-0.5,"), std::string::npos);
  EXPECT_NE(convert(with_temp("1e1")).find("\"temperature\":10,"), std::string::npos);
  EXPECT_NE(convert(with_temp("23.50")).find("\"temperature\":23.5,"), std::string::npos);
  EXPECT_NE(convert(with_temp("0.1")).find("\"temperature\":0.1,"), std::string::npos);
  EXPECT_NE(convert(with_temp("149.99999999999997")).find("149.99999999999997"), std::string::npos);
}

TEST(SensorParse, RejectReasons) {
  auto starts = [](const std::string& got, const std::string& want) {
    EXPECT_EQ(got.rfind("REJECT: " + want, 0), 0u) << got;
  };
  starts(convert(kSeed.substr(0, 60)), "invalid JSON: truncated (unclosed string)");
  starts(convert(kSeed.substr(0, kSeed.size() - 1)), "invalid JSON: truncated (unclosed object or array)");
  starts(convert(""), "empty line");
  starts(convert("  \r"), "empty line");
  starts(convert("sensor 3 says hello"), "not JSON: starts with \"s\"");
  starts(convert("[1,2]"), "message is an array, not a JSON object");
  starts(convert("{\"id\":\"\xff\"}"), "invalid UTF-8");
  starts(convert("{\"id\":\"\xed\xa0\x80\"}"), "invalid UTF-8");  // a UTF-16 surrogate in UTF-8
  starts(convert(with_temp("NaN")), "invalid JSON: NaN is not a JSON number");
  starts(convert(with_temp("-Infinity")), "invalid JSON: Infinity is not a JSON number");
  starts(convert(with_temp("1e400")), "number out of range: 1e400");
  starts(convert(with_temp("\"23.5\"")), "value.temperature: expected a number, got a string");
  starts(convert(with_temp("null")), "value.temperature: is null but required");
  starts(convert(with_temp("true")), "value.temperature: expected a number, got a boolean");
  starts(convert(with_temp("150.1")), "value.temperature: 150.1 is above the maximum 150");
  starts(convert(with_temp("-273")), "value.temperature: -273 is below the minimum -100");
  starts(convert(msg("\"\"", "\"2025-07-07T22:00:00Z\"", "\"s\"", "1")), "id: empty string but required");
  starts(convert(msg("17", "\"2025-07-07T22:00:00Z\"", "\"s\"", "1")), "id: expected a string, got a number");
  starts(convert(msg("\"" + std::string(300, 'x') + "\"", "\"2025-07-07T22:00:00Z\"", "\"s\"", "1")),
         "id: string of 300 bytes is longer than the maximum 256");
  starts(convert(R"({"id":"m","timestamp":"2025-07-07T22:00:00Z"})"), "missing required field value.sensor_id");
  starts(convert(R"({"id":"m","timestamp":"2025-07-07T22:00:00Z","value":[1]})"),
         "value: expected an object, got an array");
  starts(convert(R"({"id":"m","timestamp":"2025-07-07T22:00:00Z","value":null})"),
         "missing required field value.sensor_id");
  std::string deep(5000, '[');
  starts(convert("{\"a\":" + deep + std::string(5000, ']') + "}"), "invalid JSON: nested deeper than 1024 levels");
  starts(convert("{\"a\":1} x"), "invalid JSON");
  starts(convert("{\"a\":1,}"), "invalid JSON");
}

TEST(SensorParse, WhitespaceCrlfAndBomAreAccepted) {
  std::string want = convert(kSeed);
  ASSERT_EQ(want.rfind("REJECT", 0), std::string::npos);
  EXPECT_EQ(convert(kSeed + "\r"), want);
  EXPECT_EQ(convert("\xEF\xBB\xBF" + kSeed), want);
  EXPECT_EQ(convert("  " + kSeed + " \t"), want);
}

TEST(SensorParse, Timestamps) {
  auto ts_of = [](const std::string& ts) {
    std::string r = convert(with_ts(ts), RowFormat::tsv);
    if (r.rfind("REJECT", 0) == 0) return r;
    return r.substr(r.find('\t') + 1, 19);
  };
  EXPECT_EQ(ts_of("\"2025-07-07T22:00:00Z\""), "2025-07-07 22:00:00");
  EXPECT_EQ(ts_of("\"2025-07-07T22:00:00.999Z\""), "2025-07-07 22:00:00");
  EXPECT_EQ(ts_of("\"2025-07-08T00:30:00+02:00\""), "2025-07-07 22:30:00");
  EXPECT_EQ(ts_of("\"2025-07-07T20:00:00-0230\""), "2025-07-07 22:30:00");
  EXPECT_EQ(ts_of("\"2025-07-07 22:00:00\""), "2025-07-07 22:00:00");
  EXPECT_EQ(ts_of("1751925600"), "2025-07-07 22:00:00");
  EXPECT_EQ(ts_of("1751925600999"), "2025-07-07 22:00:00");
  EXPECT_EQ(ts_of("1751925600.7"), "2025-07-07 22:00:00");
  EXPECT_EQ(
      ts_of("\"2025-13-45T99:00:00Z\"").rfind("REJECT: timestamp: \"2025-13-45T99:00:00Z\" is not an ISO-8601 time", 0),
      0u);
  EXPECT_EQ(
      ts_of("\"1969-12-31T23:59:59Z\"").rfind("REJECT: timestamp: \"1969-12-31T23:59:59Z\" is before 1970-01-01", 0),
      0u);
  EXPECT_EQ(
      ts_of("\"2200-01-01T00:00:00Z\"").rfind("REJECT: timestamp: \"2200-01-01T00:00:00Z\" is after 2106-02-07", 0),
      0u);
  EXPECT_EQ(ts_of("-5").rfind("REJECT: timestamp: -5 is before", 0), 0u);
  EXPECT_EQ(ts_of("{}").rfind("REJECT: timestamp: expected an ISO-8601 string or epoch number, got an object", 0), 0u);
  EXPECT_EQ(ts_of("\"\"").rfind("REJECT: timestamp: \"\" is not an ISO-8601 time", 0), 0u);
}

TEST(SensorParse, EnvelopesCarryCoordinates) {
  std::string env = R"({"topic":"sensor_metrics","partition":3,"offset":42,"timestamp":"2025-07-07T22:00:00.000Z",)"
                    R"("timestamp_ms":1751925600000,"key":"sensor-001","headers":{},"value":)" +
                    kSeed + "}";
  EXPECT_EQ(
      convert(env),
      R"({"id":"msg-123","ts":"2025-07-07 22:00:00","sensor_id":"sensor-001","temperature":23.5,"humidity":45,"pressure":1013,"_topic":"sensor_metrics","_partition":3,"_offset":42})"
      "\n");
  EXPECT_EQ(convert(env, RowFormat::tsv),
            "msg-123\t2025-07-07 22:00:00\tsensor-001\t23.5\t45\t1013\tsensor_metrics\t3\t42\n");
  EXPECT_EQ(convert(env, RowFormat::values), "('msg-123', '2025-07-07 22:00:00', 'sensor-001', 23.5, 45, 1013)\n");

  // value as a JSON string: parsed as the message on its own
  nlohmann::json e = nlohmann::json::parse(env);
  e["value"] = kSeed;
  EXPECT_EQ(convert(e.dump(), RowFormat::tsv),
            "msg-123\t2025-07-07 22:00:00\tsensor-001\t23.5\t45\t1013\tsensor_metrics\t3\t42\n");

  RecordParser p(Schema::default_schema(), RowFormat::json);
  std::string out;
  Reject r;
  e["value"] = "hello world";
  ASSERT_FALSE(p.json_line(e.dump(), out, r));
  EXPECT_EQ(r.reason, "envelope value: not JSON: starts with \"h\"");
  EXPECT_TRUE(r.has_coords);
  EXPECT_EQ(r.topic, "sensor_metrics");
  EXPECT_EQ(r.partition, 3);
  EXPECT_EQ(r.offset, 42);

  r.clear();
  e["value"] = nullptr;
  ASSERT_FALSE(p.json_line(e.dump(), out, r));
  EXPECT_EQ(r.reason, "envelope: value is null (a tombstone), not a message");
  EXPECT_EQ(r.offset, 42);

  r.clear();
  e["value"] = nlohmann::json::parse(with_temp("999"));
  ASSERT_FALSE(p.json_line(e.dump(), out, r));
  EXPECT_EQ(r.reason, "value.temperature: 999 is above the maximum 150");
  EXPECT_TRUE(r.has_coords);

  r.clear();
  e["value"] = nlohmann::json::parse(kSeed);
  e["topic"] = "bad\ntopic";
  ASSERT_FALSE(p.json_line(e.dump(), out, r));
  EXPECT_EQ(r.reason, "envelope: topic \"bad\\ntopic\" is not a Kafka topic name");
  EXPECT_FALSE(r.has_coords);
  e["topic"] = "sensor_metrics";

  r.clear();
  e["offset"] = -1;
  ASSERT_FALSE(p.json_line(e.dump(), out, r));
  EXPECT_EQ(r.reason, "envelope: offset is negative");
  e["offset"] = 42;

  r.clear();
  e.erase("partition");
  ASSERT_FALSE(p.json_line(e.dump(), out, r));
  EXPECT_EQ(r.reason, "envelope: partition is missing or not an integer");
  EXPECT_FALSE(r.has_coords);
  EXPECT_TRUE(out.empty());
}

// Issue 27: a Kafka value that is not UTF-8 reaches sensor-parse as kafka-cat-sensor --envelope writes
// it ("value_encoding":"base64"); it was rejected as 'not JSON: starts with "/"' (the base64 text's
// first letter). The line comes from append_envelope, the writer kafka-cat-sensor uses.
TEST(SensorParse, EnvelopeValueThatIsNotUtf8IsSaidSo) {
  sp::envelope::JsonTool json;
  sp::envelope::MessageView m;
  m.topic = "sensor_metrics";
  m.partition = 5;
  m.offset = 77;
  std::string bytes("\xff\xfe{\"id\":1}", 10);
  m.value = sp::envelope::bytes(bytes);
  std::string line;
  sp::envelope::append_envelope(line, m, json);
  line.pop_back();
  ASSERT_NE(line.find("\"value_encoding\":\"base64\""), std::string::npos) << line;
  RecordParser p(Schema::default_schema(), RowFormat::json);
  std::string out;
  Reject r;
  ASSERT_FALSE(p.json_line(line, out, r));
  EXPECT_EQ(r.reason, "envelope: value is not UTF-8, so not JSON (the envelope carries its bytes base64-encoded)");
  EXPECT_TRUE(r.has_coords);
  EXPECT_EQ(r.topic, "sensor_metrics");
  EXPECT_EQ(r.partition, 5);
  EXPECT_EQ(r.offset, 77);
}

// Issue 27: a Decimal column with min/max was refused as "not numeric"; it is bounded like the others,
// on both paths, whether the number came as a JSON number or a string.
TEST(SensorParse, DecimalColumnsTakeMinAndMax) {
  auto s = Schema::from_json(R"j({"columns":[{"name":"id","type":"String","path":"id"},
      {"name":"price","type":"Decimal(9, 2)","path":"value.price","min":0,"max":1000}]})j", "s.json");
  EXPECT_EQ(convert(R"({"id":"a","value":{"price":12.5}})", RowFormat::json, s), "{\"id\":\"a\",\"price\":12.50}\n");
  EXPECT_EQ(convert(R"({"id":"a","value":{"price":1000}})", RowFormat::json, s), "{\"id\":\"a\",\"price\":1000.00}\n");
  EXPECT_EQ(convert(R"({"id":"a","value":{"price":-0.01}})", RowFormat::json, s),
            "REJECT: value.price: -0.01 is below the minimum 0");
  EXPECT_EQ(convert(R"({"id":"a","value":{"price":"1000.01"}})", RowFormat::json, s),
            "REJECT: value.price: \"1000.01\" is above the maximum 1000");
}

TEST(SensorParse, SchemaFileShapes) {
  Schema s = Schema::from_json(R"({"columns":[
      {"name":"id","type":"String"},
      {"name":"ts","type":"DateTime","path":"timestamp"},
      {"name":"level","type":"UInt8","path":"data.level","min":0,"max":200},
      {"name":"count","type":"Int64","path":"data.count","required":false,"default":-1},
      {"name":"battery","type":"Float32","path":"data.battery","required":false,"default":100},
      {"name":"ok","type":"Bool","path":"data.ok","required":false,"default":true},
      {"name":"fw","type":"String","path":"meta.fw","required":false}]})",
                               "test");
  auto line = [](const std::string& data, const std::string& extra = "") {
    return R"({"id":"a","timestamp":"2025-07-07T22:00:00Z","data":{)" + data + "}" + extra + "}";
  };
  EXPECT_EQ(convert(line(R"("level":7)"), RowFormat::tsv, s), "a\t2025-07-07 22:00:00\t7\t-1\t100\t1\t\\N\n");
  EXPECT_EQ(convert(line(R"("level":7.0,"count":9007199254740993,"battery":1.5,"ok":false)", R"(,"meta":{"fw":"1.2"})"),
                    RowFormat::values, s),
            "('a', '2025-07-07 22:00:00', 7, 9007199254740993, 1.5, 0, '1.2')\n");
  EXPECT_EQ(convert(line(R"("level":7,"fw":null)", R"(,"meta":{"fw":null})"), RowFormat::json, s),
            R"({"id":"a","ts":"2025-07-07 22:00:00","level":7,"count":-1,"battery":100,"ok":1,"fw":null})"
            "\n");
  EXPECT_EQ(convert(line(R"("level":7.5)"), RowFormat::json, s),
            "REJECT: data.level: 7.5 is not an integer (column type UInt8)");
  EXPECT_EQ(convert(line(R"("level":256)"), RowFormat::json, s), "REJECT: data.level: 256 is out of range for UInt8");
  EXPECT_EQ(convert(line(R"("level":201)"), RowFormat::json, s), "REJECT: data.level: 201 is above the maximum 200");
  EXPECT_EQ(convert(line(R"("level":-1)"), RowFormat::json, s), "REJECT: data.level: -1 is out of range for UInt8");
  EXPECT_EQ(convert(line(R"("level":1,"count":18446744073709551615)"), RowFormat::json, s),
            "REJECT: data.count: 18446744073709551615 is out of range for Int64");
  EXPECT_EQ(convert(line(R"("level":1,"battery":1e39)"), RowFormat::json, s),
            "REJECT: data.battery: 1e+39 is out of range for Float32");
  EXPECT_EQ(convert(line(R"("level":1,"ok":2)"), RowFormat::json, s),
            "REJECT: data.ok: 2 is not a boolean (true, false, 0 or 1)");
  EXPECT_EQ(convert(line(R"("level":1)", R"(,"meta":{"fw":5})"), RowFormat::json, s),
            "REJECT: meta.fw: expected a string, got a number");
  // an optional String may be empty
  EXPECT_EQ(convert(line(R"("level":1)", R"(,"meta":{"fw":""})"), RowFormat::tsv, s),
            "a\t2025-07-07 22:00:00\t1\t-1\t100\t1\t\n");
}

TEST(SensorParse, BadDefaultIsAConfigError) {
  Schema s = Schema::from_json(
      R"({"columns":[{"name":"id"},{"name":"t","type":"Float64","min":0,"max":10,"default":50}]})", "test");
  EXPECT_THROW(RecordParser(s, RowFormat::json), sp::ConfigError);
}

TEST(SensorParse, CsvInput) {
  RecordParser p(Schema::default_schema(), RowFormat::values);
  auto unknown = p.csv_header("\xEF\xBB\xBFid,timestamp,sensor_id,temperature,humidity,pressure,extra\r");
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_EQ(unknown[0], "extra");
  std::string out;
  Reject r;
  ASSERT_TRUE(p.csv_line("msg-123,2025-07-07T22:00:00Z,sensor-001,23.5,45,1013,x\r", out, r)) << r.reason;
  EXPECT_EQ(out, "('msg-123', '2025-07-07 22:00:00', 'sensor-001', 23.5, 45, 1013)\n");
  out.clear();
  ASSERT_TRUE(p.csv_line(R"("a ""quoted"", id",1751925600,"s,1",-1,2,1000,)", out, r)) << r.reason;
  EXPECT_EQ(out, "('a \"quoted\", id', '2025-07-07 22:00:00', 's,1', -1, 2, 1000)\n");
  out.clear();
  auto rej = [&](const std::string& line) {
    r.clear();
    EXPECT_FALSE(p.csv_line(line, out, r)) << line;
    EXPECT_TRUE(out.empty());
    return r.reason;
  };
  EXPECT_EQ(rej("m,2025-07-07T22:00:00Z,s,1,2"), "CSV: 5 fields, the header has 7");
  // regression (found by the fuzzer): CSV fields were copied into rows without a UTF-8 check
  EXPECT_EQ(rej("msg\xD2" "1,2025-07-07T22:00:00Z,s,1,2,1000,"), "invalid UTF-8");
  EXPECT_EQ(rej("m,2025-07-07T22:00:00Z,s,warm,2,1000,"), "temperature: \"warm\" is not a number");
  EXPECT_EQ(rej("m,2025-07-07T22:00:00Z,s,NaN,2,1000,"), "temperature: \"NaN\" is not a number");
  EXPECT_EQ(rej("m,2025-07-07T22:00:00Z,s,1e999,2,1000,"), "temperature: \"1e999\" is out of range");
  EXPECT_EQ(rej("m,2025-07-07T22:00:00Z,s,,2,1000,"), "missing required field value.temperature");
  EXPECT_EQ(rej("m,2025-07-07T22:00:00Z,s,200,2,1000,"), "temperature: 200 is above the maximum 150");
  EXPECT_EQ(rej("\"m,2025"), "CSV: unterminated quoted field 1 (records must be on one line)");
  EXPECT_EQ(rej("\"m\"x,2025"), "CSV: text after the closing quote of field 1");
  EXPECT_EQ(rej(""), "empty line");

  RecordParser q(Schema::default_schema(), RowFormat::json);
  EXPECT_THROW(q.csv_header("id,sensor_id,temperature,humidity,pressure"), sp::DataError);
}

TEST(SensorParse, RunCountsEveryLine) {
  std::string input = kSeed + "\n\nnot json\n" + with_temp("500") + "\n" + kSeed + "\n";
  auto res = run(input);
  EXPECT_EQ(res.st.records, 5u);
  EXPECT_EQ(res.st.rows, 2u);
  EXPECT_EQ(res.st.rejects, 3u);
  EXPECT_TRUE(res.st.threshold.empty());
  std::istringstream rj(res.rejects);
  std::string l;
  std::vector<nlohmann::json> rejects;
  while (std::getline(rj, l)) rejects.push_back(nlohmann::json::parse(l));
  ASSERT_EQ(rejects.size(), 3u);
  EXPECT_EQ(rejects[0]["line"], 2);
  EXPECT_EQ(rejects[0]["reason"], "empty line");
  EXPECT_EQ(rejects[0]["input"], "");
  EXPECT_EQ(rejects[1]["line"], 3);
  EXPECT_EQ(rejects[1]["input"], "not json");
  EXPECT_EQ(rejects[2]["line"], 4);
  EXPECT_EQ(rejects[2]["input"], with_temp("500"));
  EXPECT_FALSE(rejects[2].contains("topic"));
}

TEST(SensorParse, RunThresholds) {
  std::string input;
  for (int i = 0; i < 10; ++i) input += (i % 5 == 4 ? std::string("bad") : kSeed) + "\n";
  sp::parse::Options o;
  o.max_rejects = 1;
  auto a = run(input, o);
  EXPECT_EQ(a.st.rejects, 2u);
  EXPECT_EQ(a.st.records, 10u);  // the second reject is the last line
  EXPECT_FALSE(a.st.threshold.empty());

  o.max_rejects = 0;
  auto b = run(input, o);
  EXPECT_EQ(b.st.records, 5u);  // stopped at the first reject
  EXPECT_EQ(b.st.rows, 4u);
  EXPECT_TRUE(b.st.stopped_early);
  EXPECT_EQ(b.st.threshold, "1 rejects exceed --max-rejects 0");

  sp::parse::Options r;
  r.max_reject_ratio = 0.2;
  EXPECT_TRUE(run(input, r).st.threshold.empty());  // exactly 20%
  r.max_reject_ratio = 0.19;
  EXPECT_EQ(run(input, r).st.threshold, "reject ratio 0.2 exceeds --max-reject-ratio 0.19");
}

TEST(SensorParse, RunOverlongLineAndInvalidUtf8InRejects) {
  sp::parse::Options o;
  o.max_line = 100;
  std::string big = "{\"id\":\"" + std::string(5000, 'x') + "\"}";
  auto res = run(big + "\n" + kSeed.substr(0, 90) + "\xff\n" + kSeed.substr(0, 99) + "\n", o);
  EXPECT_EQ(res.st.records, 3u);
  EXPECT_EQ(res.st.rejects, 3u);
  std::istringstream rj(res.rejects);
  std::string l;
  std::getline(rj, l);
  auto j = nlohmann::json::parse(l);
  EXPECT_EQ(j["reason"], "line of 5009 bytes is longer than the limit of 100 (--max-line-bytes)");
  EXPECT_EQ(j["input"].get<std::string>().size(), 100u);
  EXPECT_EQ(j["input_truncated"], true);
  EXPECT_EQ(j["input_bytes"], 5009);
  std::getline(rj, l);
  j = nlohmann::json::parse(l);
  EXPECT_EQ(j["line"], 2);
  EXPECT_EQ(j["reason"], "invalid UTF-8");
  EXPECT_EQ(j["input"], kSeed.substr(0, 90) + "\xEF\xBF\xBD");
  EXPECT_EQ(j["input_base64"].get<std::string>().size(), 124u);  // 91 bytes
}

TEST(SensorParse, RunAutoDetectsCsvAndRejectsAreComplete) {
  std::string csv =
      "id,timestamp,sensor_id,temperature,humidity,pressure\n"
      "msg-1,2025-07-07T22:00:00Z,sensor-001,23.5,45,1013\n"
      "msg-2,2025-07-07T22:00:01Z,sensor-001\n";
  sp::parse::Options o;
  o.format = RowFormat::tsv;
  auto res = run(csv, o);
  EXPECT_EQ(res.rows, "msg-1\t2025-07-07 22:00:00\tsensor-001\t23.5\t45\t1013\n");
  EXPECT_EQ(res.st.records, 2u);
  EXPECT_EQ(res.st.rejects, 1u);
  EXPECT_NE(res.rejects.find("\"line\":3,\"reason\":\"CSV: 3 fields, the header has 6\""), std::string::npos);

  o.input = InputFormat::json;  // forced: the header is then just a bad line
  auto forced = run(csv, o);
  EXPECT_EQ(forced.st.rows, 0u);
  EXPECT_EQ(forced.st.rejects, 3u);
}

TEST(SensorParse, RejectJsonHasCoordinates) {
  Reject r;
  r.reason = "x";
  r.has_coords = true;
  r.topic = "t\"1";
  r.partition = 2;
  r.offset = 99;
  EXPECT_EQ(sp::parse::reject_json(7, r, "in\tput", false, 6),
            R"({"line":7,"reason":"x","topic":"t\"1","partition":2,"offset":99,"input":"in\tput"})");
}

TEST(SensorParse, UnparsableEnvelopeKeepsItsCoordinates) {
  Reject r;
  EXPECT_TRUE(
      sp::parse::salvage_envelope_coords(R"({"topic":"sensor_metrics","partition":7,"offset":123,"value":"\xff"})", r));
  EXPECT_EQ(r.topic, "sensor_metrics");
  EXPECT_EQ(r.partition, 7);
  EXPECT_EQ(r.offset, 123);
  for (const char* bad : {R"({"topic":"t","offset":1,"partition":2})", R"({"topic":"t\"x","partition":1,"offset":1})",
                          R"({"topic":"t","partition":-1,"offset":1})", R"({"topic":"t","partition":1,"offset":12x)",
                          R"({"id":"t","partition":1,"offset":1})", R"({"topic":"t","partition":1,"offset":)"}) {
    Reject n;
    EXPECT_FALSE(sp::parse::salvage_envelope_coords(bad, n)) << bad;
    EXPECT_FALSE(n.has_coords);
  }
  // through the parser: the envelope is not valid UTF-8 as a whole
  RecordParser p(Schema::default_schema(), RowFormat::json);
  std::string out;
  Reject q;
  ASSERT_FALSE(p.json_line("{\"topic\":\"s\",\"partition\":1,\"offset\":9,\"value\":\"\xff\"}", out, q));
  EXPECT_EQ(q.reason, "invalid UTF-8");
  EXPECT_TRUE(q.has_coords);
  EXPECT_EQ(q.offset, 9);
  // and a line cut at --max-line-bytes
  sp::parse::Options o;
  o.max_line = 64;
  auto res =
      run("{\"topic\":\"s\",\"partition\":1,\"offset\":10,\"value\":{\"id\":\"" + std::string(200, 'x') + "\"}}\n", o);
  EXPECT_NE(res.rejects.find("\"topic\":\"s\",\"partition\":1,\"offset\":10,"), std::string::npos) << res.rejects;
}

TEST(SensorParse, FloatTextReadsBackExactly) {
  // Float64 without a range, so every value reaches the number writer.
  Schema s = Schema::from_json(R"({"columns":[{"name":"v","type":"Float64"}]})", "test");
  RecordParser p(s, RowFormat::tsv);
  uint64_t x = 12345;
  auto next = [&] {  // splitmix64
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  std::vector<std::string> inputs = {"0",
                                     "-0.0",
                                     "0.5",
                                     "-0.05",
                                     "23.5",
                                     "1013",
                                     "0.1",
                                     "0.3",
                                     "1e-5",
                                     "1.5e-7",
                                     "123456789012.5",
                                     "999999999999.99999",
                                     "1e15",
                                     "-1e300",
                                     "2.2250738585072014e-308",
                                     "0.000123",
                                     "100.00001",
                                     "45.123456"};
  for (int i = 0; i < 3000; ++i) {
    char buf[64];
    int decimals = static_cast<int>(next() % 8);
    double v = static_cast<double>(static_cast<int64_t>(next() % 2000000) - 1000000) / std::pow(10.0, decimals);
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    inputs.push_back(buf);
    double raw;
    uint64_t bits = next() & 0x7fefffffffffffffULL;  // finite
    std::memcpy(&raw, &bits, sizeof raw);
    std::snprintf(buf, sizeof buf, "%.17g", raw);
    inputs.push_back(buf);
  }
  std::string out;
  Reject r;
  for (const auto& in : inputs) {
    out.clear();
    ASSERT_TRUE(p.json_line("{\"v\":" + in + "}", out, r)) << in << ": " << r.reason;
    ASSERT_EQ(out.back(), '\n');
    std::string text = out.substr(0, out.size() - 1);
    double want = std::strtod(in.c_str(), nullptr), got = std::strtod(text.c_str(), nullptr);
    if (want == 0) {  // a zero is written 0 whatever its sign (NegativeZeroIsWrittenAsZero)
      EXPECT_EQ(text, "0") << in;
      continue;
    }
    EXPECT_EQ(std::memcmp(&want, &got, sizeof want), 0) << in << " was written as " << text;
    EXPECT_LE(text.size(), std::max<size_t>(in.size(), 24)) << in << " -> " << text;
  }
  out.clear();
  ASSERT_TRUE(p.json_line(R"({"v":23.50})", out, r));
  EXPECT_EQ(out, "23.5\n");
}

TEST(SensorParse, TimestampCachesGiveTheFullParsersAnswer) {
  // One long-lived parser (its hour and day caches warm) against a fresh one per line.
  RecordParser warm(Schema::default_schema(), RowFormat::tsv);
  const char* stamps[] = {"2025-07-07T22:00:00Z",     "2025-07-07T22:59:59.999Z",  "2025-07-07T22:05:07.5Z",
                          "2025-07-07T23:00:00Z",     "2025-07-07T22:30:00+01:00", "2025-07-07T22:30:00Z",
                          "2025-07-07T22:61:00Z",     "2025-07-07T22:00:60Z",      "2025-07-07T22:00:00.Z",
                          "2025-07-07T22:00:00.12xZ", "2025-07-07t22:00:00Z",      "2025-12-31T23:59:59Z",
                          "2026-01-01T00:00:00Z",     "2025-07-07T22:00:00z",      "2025-07-07T22:10:00.000000001Z",
                          "1970-01-01T00:00:00Z",     "2106-02-07T06:28:15Z",      "2106-02-07T06:28:16Z"};
  for (int round = 0; round < 2; ++round) {
    for (const char* ts : stamps) {
      std::string line = with_ts(std::string("\"") + ts + "\"");
      std::string got;
      Reject r;
      if (!warm.json_line(line, got, r)) got = "REJECT: " + r.reason;
      EXPECT_EQ(got, convert(line, RowFormat::tsv)) << ts;
    }
  }
}

// Regression (found by the fast-path fuzzer): two columns reading the same path each get the value;
// the simdjson path used to give it to the first one only and reject "missing required field".
TEST(SensorParse, TwoColumnsFromOnePath) {
  Schema s = Schema::from_json(R"({"columns": [
    {"name": "ts", "type": "DateTime", "path": "timestamp"},
    {"name": "ts_text", "type": "String", "path": "timestamp"},
    {"name": "h", "type": "Float64", "path": "value.humidity"},
    {"name": "h_int", "type": "Int32", "path": "value.humidity"}]})",
                               "test");
  EXPECT_EQ(convert(kSeed, RowFormat::tsv, s), "2025-07-07 22:00:00\t2025-07-07T22:00:00Z\t45\t45\n");
  EXPECT_EQ(convert(with_temp("21"), RowFormat::tsv, s), "2025-07-07 22:00:00\t2025-07-07T22:00:00Z\t45\t45\n");
}

// Plain lines take the fast path, others simdjson; the rows are the same either way (convert()
// checks both paths on every test line).
TEST(SensorParse, FastPathTakesPlainLinesOnly) {
  auto fast_rows = [](const std::string& line) {
    RecordParser p(Schema::default_schema(), RowFormat::json);
    std::string out;
    Reject r;
    EXPECT_TRUE(p.json_line(line, out, r)) << r.reason;
    return p.fast_rows();
  };
  EXPECT_EQ(fast_rows(kSeed), 1u);
  EXPECT_EQ(fast_rows(msg("\"m\\u0031\"", "\"2025-07-07T22:00:00Z\"", "\"s\"", "1")), 0u);  // an escape
  EXPECT_EQ(fast_rows(msg("\"m\"", "\"2025-07-07T22:00:00Z\"", "\"s\\u00e9\"", "1")), 0u);
  EXPECT_EQ(fast_rows(msg("\"m\"", "\"2025-07-07T22:00:00Z\"", "\"sé\"", "1")), 0u);  // non-ASCII
  EXPECT_EQ(fast_rows(with_temp("1." + std::string(70, '0'))), 0u);               // a very long number
  EXPECT_EQ(fast_rows(R"({"topic":"t","partition":0,"offset":5,"value":)" + kSeed + "}"), 1u);
  EXPECT_EQ(fast_rows(R"({"partition":0,"offset":5,"topic":"t","value":)" + kSeed + "}"), 0u);  // not kcs's order
  EXPECT_EQ(convert(R"({"topic":"t","partition":0,"offset":5,"value":)" + kSeed + "}", RowFormat::tsv),
            "msg-123\t2025-07-07 22:00:00\tsensor-001\t23.5\t45\t1013\tt\t0\t5\n");
}

// The fast path remembers the last valid topic name; an empty or bad one is still checked.
TEST(SensorParse, EnvelopeTopicChecksOnTheFastPath) {
  RecordParser p(Schema::default_schema(), RowFormat::tsv);
  auto line = [](const std::string& topic) {
    return R"({"topic":")" + topic + R"(","partition":0,"offset":5,"value":)" + kSeed + "}";
  };
  for (std::string topic : {"", "bad topic", "sensors", "", "sensors", "a/b"}) {
    std::string out;
    Reject r;
    bool ok = p.json_line(line(topic), out, r);
    EXPECT_EQ(ok, topic == "sensors") << topic << ": " << r.reason;
    if (!ok) {
      EXPECT_NE(r.reason.find("is not a Kafka topic name"), std::string::npos) << r.reason;
    }
    EXPECT_EQ(convert(line(topic)).rfind("REJECT", 0) == 0, !ok);
  }
}

// Shapes where the fast path must agree with simdjson (convert() runs both): whitespace, key order,
// duplicates (rejected), extra fields of every kind, nulls, trailing bytes, deep nesting.
TEST(SensorParse, FastPathEdgeShapesMatchSimdjson) {
  const std::string row = "msg-123\t2025-07-07 22:00:00\tsensor-001\t23.5\t45\t1013\n";
  auto tsv = [](const std::string& line) { return convert(line, RowFormat::tsv); };
  EXPECT_EQ(tsv(" {\t\"id\" : \"msg-123\" ,\"timestamp\":\"2025-07-07T22:00:00Z\", \"value\" : { \"sensor_id\" :"
                " \"sensor-001\", \"temperature\" : 23.5 , \"humidity\":45,\"pressure\":1013 } }\r"),
            row);
  EXPECT_EQ(tsv(R"({"value":{"pressure":1013,"humidity":45,"temperature":23.5,"sensor_id":"sensor-001"},)"
                R"("timestamp":"2025-07-07T22:00:00Z","id":"msg-123"})"),
            row);
  EXPECT_EQ(tsv(R"({"id":"msg-123","id":"other","timestamp":"2025-07-07T22:00:00Z","value":{"sensor_id":"sensor-001",)"
                R"("temperature":23.5,"temperature":99999,"humidity":45,"pressure":1013},"value":null})"),
            "REJECT: id: duplicate key");
  EXPECT_EQ(tsv(R"({"x":[1,-2.5e3,true,false,null,{"a":[]},"s"],"id":"msg-123","timestamp":"2025-07-07T22:00:00Z",)"
                R"("value":{"sensor_id":"sensor-001","temperature":23.5,"humidity":45,"pressure":1013,"extra":{}}})"),
            row);
  EXPECT_EQ(tsv(R"({"id":"msg-123","timestamp":"2025-07-07T22:00:00Z","value":null})"),
            "REJECT: missing required field value.sensor_id");
  EXPECT_EQ(tsv(kSeed + " x"), "REJECT: invalid JSON: missing or extra comma, colon, brace or bracket");
  EXPECT_EQ(tsv(with_temp("1e400")), "REJECT: number out of range: 1e400");
  EXPECT_EQ(tsv(R"({"topic":"not an envelope",)" + kSeed.substr(1)), row);  // raw, with a "topic" key
  std::string deep = std::string(100, '[') + std::string(100, ']');  // beyond the fast path's 64 levels
  EXPECT_EQ(tsv(R"({"deep":)" + deep + "," + kSeed.substr(1)), row);
  EXPECT_EQ(tsv(with_temp("-0")), "m\t2025-07-07 22:00:00\ts\t0\t45\t1013\n");  // simdjson: the integer 0
  EXPECT_EQ(tsv(with_temp("-0.0")), "m\t2025-07-07 22:00:00\ts\t0\t45\t1013\n");
}

// Issue 16 item 13: a rejected epoch time is shown as written; it was shown through a double, so
// 9223372036854775807 read ...808.
TEST(SensorParse, RejectedIntegersAreShownExactly) {
  EXPECT_EQ(convert(with_ts("9223372036854775807")),
            "REJECT: timestamp: 9223372036854775807 is after 2106-02-07 06:28:15, the end of ClickHouse DateTime");
  EXPECT_EQ(convert(with_ts("18446744073709551615")),
            "REJECT: timestamp: 18446744073709551615 is after 2106-02-07 06:28:15, the end of ClickHouse DateTime");
  EXPECT_EQ(convert(with_ts("-9223372036854775807")),
            "REJECT: timestamp: -9223372036854775807 is before 1970-01-01, the start of ClickHouse DateTime");
  // (under UBSan: -ms + 999 overflowed here)
  EXPECT_EQ(convert(with_ts("-9223372036854775808")),
            "REJECT: timestamp: -9223372036854775808 is before 1970-01-01, the start of ClickHouse DateTime");
  Schema s = Schema::from_json(R"({"columns":[{"name":"b","type":"Bool"}]})", "test");
  EXPECT_EQ(convert(R"({"b":9223372036854775807})", RowFormat::json, s),
            "REJECT: b: 9223372036854775807 is not a boolean (true, false, 0 or 1)");
}

// Issue 16 item 13: 1e400 and 2^64 are valid JSON syntax that no 64-bit number holds; they were
// called "invalid JSON".
TEST(SensorParse, NumbersOutOfRangeAreNamed) {
  EXPECT_EQ(convert(with_temp("1e400")), "REJECT: number out of range: 1e400");
  EXPECT_EQ(convert(with_temp("-1e400")), "REJECT: number out of range: -1e400");
  EXPECT_EQ(convert(with_temp("18446744073709551616")), "REJECT: number out of range: 18446744073709551616");
  EXPECT_EQ(convert(with_temp("-9223372036854775809")), "REJECT: number out of range: -9223372036854775809");
  // also in a field no column reads: the line cannot be parsed at all
  EXPECT_EQ(convert(R"({"x":[1,2e999],)" + kSeed.substr(1)), "REJECT: number out of range: 2e999");
  EXPECT_EQ(convert(with_temp("1" + std::string(80, '0'))),
            "REJECT: number out of range: 100000000000000000000000000000000000000000000000...");
  // malformed numbers are still invalid JSON
  EXPECT_EQ(convert(with_temp("01")).rfind("REJECT: invalid JSON", 0), 0u);
  EXPECT_EQ(convert(with_temp("1.e5")).rfind("REJECT: invalid JSON", 0), 0u);
  // a string holding such text is not a number
  EXPECT_EQ(convert(msg("\"2e999\"", "\"2025-07-07T22:00:00Z\"", "\"s\"", "1e400")),
            "REJECT: number out of range: 1e400");
}

// Issue 16 item 13: -0 was written as 0 but -0.0 as -0. One rule: a zero is written 0, whatever
// its sign (simdjson reads the integer -0 as 0, so the sign could not be kept for both).
TEST(SensorParse, NegativeZeroIsWrittenAsZero) {
  for (const char* z : {"-0", "-0.0", "-0e3", "-0.000", "0.0", "-0E-7"})
    EXPECT_EQ(convert(with_temp(z), RowFormat::tsv), "m\t2025-07-07 22:00:00\ts\t0\t45\t1013\n") << z;
  Schema s = Schema::from_json(R"({"columns":[{"name":"f","type":"Float32"},{"name":"i","type":"Int8"}]})", "test");
  EXPECT_EQ(convert(R"({"f":-0.0,"i":-0.0})", RowFormat::values, s), "(0, 0)\n");
  EXPECT_EQ(convert(R"({"f":-0,"i":-0})", RowFormat::values, s), "(0, 0)\n");
  RecordParser p(s, RowFormat::values);
  p.csv_header("f,i");
  std::string out;
  Reject r;
  ASSERT_TRUE(p.csv_line("-0.0,-0", out, r)) << r.reason;
  EXPECT_EQ(out, "(0, 0)\n");
}

// Issue 16 item 13: with a key twice, the first value won, where jq and Python take the last.
// A key that a column (or an envelope) reads may appear once; keys nobody reads are not checked.
TEST(SensorParse, DuplicateKeysThatAreReadAreRejected) {
  auto tsv = [](const std::string& line, const Schema& s = Schema::default_schema()) {
    return convert(line, RowFormat::tsv, s);
  };
  EXPECT_EQ(tsv(R"({"id":"a","id":"b",)" + kSeed.substr(1)), "REJECT: id: duplicate key");
  EXPECT_EQ(tsv(kSeed.substr(0, kSeed.size() - 1) + R"(,"id":"b"})"), "REJECT: id: duplicate key");
  EXPECT_EQ(tsv(with_temp("1").insert(with_temp("1").find("\"humidity\""), "\"temperature\":99999,")),
            "REJECT: value.temperature: duplicate key");
  EXPECT_EQ(tsv(kSeed.substr(0, kSeed.size() - 1) + R"(,"value":null})"), "REJECT: value: duplicate key");
  EXPECT_EQ(tsv(R"({"value":null,)" + kSeed.substr(1)), "REJECT: value: duplicate key");
  // duplicates of a key no column reads do not matter
  EXPECT_EQ(tsv(R"({"x":1,"x":{"y":2,"y":3},)" + kSeed.substr(1)),
            "msg-123\t2025-07-07 22:00:00\tsensor-001\t23.5\t45\t1013\n");
  // deeper parents, and two columns reading one key
  Schema s = Schema::from_json(R"({"columns":[{"name":"x","type":"Int32","path":"a.b.x"},
      {"name":"x2","type":"Int32","path":"a.b.x"},{"name":"y","type":"Int32","path":"a.y","required":false}]})",
                               "test");
  EXPECT_EQ(tsv(R"({"a":{"b":{"x":1}}})", s), "1\t1\t\\N\n");
  EXPECT_EQ(tsv(R"({"a":{"b":{"x":1,"x":2}}})", s), "REJECT: a.b.x: duplicate key");
  EXPECT_EQ(tsv(R"({"a":{"b":{"x":1},"b":null}})", s), "REJECT: a.b: duplicate key");
  EXPECT_EQ(tsv(R"({"a":{"b":{"x":1},"y":1,"y":null}})", s), "REJECT: a.y: duplicate key");
  EXPECT_EQ(tsv(R"({"a":{"b":{"x":1}},"a":{}})", s), "REJECT: a: duplicate key");

  // envelopes: a duplicated coordinate leaves the line without coordinates; a duplicated value keeps them
  const std::string env = R"({"topic":"t","partition":0,"offset":5,"value":)" + kSeed;
  EXPECT_EQ(tsv(env + "}"), "msg-123\t2025-07-07 22:00:00\tsensor-001\t23.5\t45\t1013\tt\t0\t5\n");
  EXPECT_EQ(tsv(env + R"(,"offset":6})"), "REJECT: envelope: duplicate key offset");
  EXPECT_EQ(tsv(env + R"(,"topic":"u"})"), "REJECT: envelope: duplicate key topic");
  EXPECT_EQ(tsv(env + R"(,"partition":0})"), "REJECT: envelope: duplicate key partition");
  EXPECT_EQ(tsv(env + R"(,"value":null})"), "REJECT: envelope: duplicate key value");
  EXPECT_EQ(tsv(env + R"(,"key":"a","key":"b"})"), "msg-123\t2025-07-07 22:00:00\tsensor-001\t23.5\t45\t1013\tt\t0\t5\n");
  RecordParser p(Schema::default_schema(), RowFormat::tsv);
  std::string out;
  Reject r;
  ASSERT_FALSE(p.json_line(env + R"(,"value":null})", out, r));
  EXPECT_TRUE(r.has_coords);
  EXPECT_EQ(r.offset, 5);
  r.clear();
  ASSERT_FALSE(p.json_line(env + R"(,"offset":6})", out, r));
  EXPECT_FALSE(r.has_coords);
}

TEST(SensorParseStats, ReasonClassTakesOutTheLinesValues) {
  using sp::parse::reason_class;
  EXPECT_EQ(reason_class("value.temperature: 9999 is above the maximum 150"),
            "value.temperature: N is above the maximum N");
  EXPECT_EQ(reason_class("value.temperature: -40.5 is below the minimum -40"),
            "value.temperature: N is below the minimum N");
  EXPECT_EQ(reason_class("number out of range: 1e400"), "number out of range: N");
  EXPECT_EQ(reason_class("data.battery: 1e+39 is out of range for Float32"), "data.battery: N is out of range for Float32");
  EXPECT_EQ(reason_class(R"(timestamp: "2025-13-45T99:00:00Z" is not an ISO-8601 time (month out of range))"),
            R"(timestamp: "..." is not an ISO-8601 time (month out of range))");
  EXPECT_EQ(reason_class(R"(not JSON: starts with "s")"), R"(not JSON: starts with "...")");
  EXPECT_EQ(reason_class(R"(x: "a \"quoted\" b" is not a number)"), R"(x: "..." is not a number)");
  EXPECT_EQ(reason_class("CSV: 5 fields, the header has 6"), "CSV: N fields, the header has N");
  // numbers inside words and times are part of the reason, not values
  EXPECT_EQ(reason_class("ts: 1 is after 2106-02-07 06:28:15, the end of ClickHouse DateTime"),
            "ts: N is after 2106-02-07 06:28:15, the end of ClickHouse DateTime");
  EXPECT_EQ(reason_class("invalid UTF-8"), "invalid UTF-8");
  EXPECT_EQ(reason_class("data.level: 7.5 is not an integer (column type UInt8)"),
            "data.level: N is not an integer (column type UInt8)");
  // bounded, and never cut inside a UTF-8 character
  std::string long_reason = "x: " + std::string(200, 'a');
  EXPECT_EQ(reason_class(long_reason).size(), 160u);
  std::string utf8 = std::string(159, 'a') + "\xC3\xA9zz";
  EXPECT_EQ(reason_class(utf8), std::string(159, 'a'));
  std::string fits = std::string(158, 'a') + "\xC3\xA9zz";
  EXPECT_EQ(reason_class(fits), std::string(158, 'a') + "\xC3\xA9");
  EXPECT_EQ(reason_class("x: \xE2\x82\xAC is not a number"), "x: \xE2\x82\xAC is not a number");  // a whole character stays
  EXPECT_EQ(reason_class("ends in \xC3\xBC"), "ends in \xC3\xBC");
}

TEST(SensorParseStats, RunCountsRejectsByReasonAndRowsBySensor) {
  auto m = [](const std::string& sensor, const std::string& t) {
    return msg("\"m\"", "\"2025-07-07T22:00:00Z\"", "\"" + sensor + "\"", t) + "\n";
  };
  // the second line is not plain (an escape): it takes the simdjson path, the others the fast path
  std::string in = m("s-1", "1") + m("s\\u002d2", "2") + m("s-1", "3") + m("s-3", "9999") + m("s-4", "500") +
                   "oops\n" + m("s-1", "\"x\"");
  sp::parse::Options opt;
  opt.stats = true;
  auto res = run(in, opt);
  EXPECT_EQ(res.st.rows, 3u);
  EXPECT_EQ(res.st.sensor_column, "sensor_id");
  std::map<std::string, uint64_t> rows{{"s-1", 2}, {"s-2", 1}};
  EXPECT_EQ(res.st.rows_by_sensor, rows);
  std::map<std::string, uint64_t> rejects{{"value.temperature: N is above the maximum N", 2},
                                          {R"(not JSON: starts with "...")", 1},
                                          {"value.temperature: expected a number, got a string", 1}};
  EXPECT_EQ(res.st.rejects_by_reason, rejects);
  // without --stats no per-row work: reasons are still counted (they feed the metric)
  auto plain = run(in);
  EXPECT_TRUE(plain.st.rows_by_sensor.empty());
  EXPECT_EQ(plain.st.rejects_by_reason, rejects);
}

TEST(SensorParseStats, RowsBySensorFromCsvAndFromTheFirstKeyColumn) {
  sp::parse::Options opt;
  opt.stats = true;
  auto csv = run("id,timestamp,sensor_id,temperature,humidity,pressure\n"
                 "a,2025-07-07T22:00:00Z,s-9,1,45,1013\nb,2025-07-07T22:00:00Z,s-9,2,45,1013\n",
                 opt);
  EXPECT_EQ(csv.st.rows_by_sensor, (std::map<std::string, uint64_t>{{"s-9", 2}}));
  // no sensor_id column: the first ORDER BY column (a number here)
  Schema s = Schema::from_json(R"({"columns":[{"name":"dev","type":"UInt32","path":"d"},
      {"name":"ts","type":"DateTime","path":"t"}],"order_by":["dev","ts"]})",
                               "test");
  auto res = run(R"({"d":7,"t":"2025-07-07T22:00:00Z"})" "\n" R"({"d":7,"t":"2025-07-07T22:00:01Z"})" "\n", opt, s);
  EXPECT_EQ(res.st.sensor_column, "dev");
  EXPECT_EQ(res.st.rows_by_sensor, (std::map<std::string, uint64_t>{{"7", 2}}));
}

TEST(SensorParseStats, ReportIsAnAlignedTableWithTheTopEntries) {
  sp::parse::Stats st;
  st.records = 10;
  st.rows = 7;
  st.rejects = 3;
  st.rejects_by_reason = {{"empty line", 1}, {"value.temperature: N is above the maximum N", 2}};
  st.sensor_column = "sensor_id";
  st.rows_by_sensor = {{"a", 1}, {"b", 4}, {"c", 1}, {"", 1}};
  EXPECT_EQ(sp::parse::stats_report(st, 3),
            "records 10, rows 7, rejects 3 (30.00%)\n"
            "\n"
            "rejects by reason (% of records)                  count       %\n"
            "value.temperature: N is above the maximum N           2   20.00\n"
            "empty line                                            1   10.00\n"
            "\n"
            "rows by sensor_id (% of rows)       count       %\n"
            "b                                       4   57.14\n"
            "(NULL)                                  1   14.29\n"
            "a                                       1   14.29\n"
            "(1 more, 1 in all)\n");
  sp::parse::Stats empty;
  EXPECT_EQ(sp::parse::stats_report(empty), "records 0, rows 0, rejects 0 (0.00%)\n\nno rejects\n\n"
                                            "rows by sensor: the schema has no sensor_id and no ORDER BY column\n");
}

// Issue 18: a rejected envelope kept in --rejects leaves an ack marker in its place, after the rows
// before it; none without coordinates, without --rejects, in VALUES, or for a line torn upstream.
TEST(SensorParse, RunAckMarkersForRejectedEnvelopes) {
  auto env = [](int offset, const std::string& value) {
    return R"({"topic":"sensor_metrics","partition":3,"offset":)" + std::to_string(offset) + R"(,"value":)" + value + "}";
  };
  std::string input = env(41, kSeed) + "\n" + env(42, "\"not json\"") + "\nnot json either\n" + env(43, "null") + "\n";
  sp::parse::Options o;
  auto r = run(input, o);
  EXPECT_EQ(r.st.rows, 1u);
  EXPECT_EQ(r.st.rejects, 3u);
  std::istringstream lines(r.rows);
  std::vector<std::string> out;
  for (std::string l; std::getline(lines, l);) out.push_back(l);
  ASSERT_EQ(out.size(), 3u) << r.rows;
  EXPECT_NE(out[0].find("\"_offset\":41"), std::string::npos);
  EXPECT_EQ(out[1], R"({"_topic":"sensor_metrics","_partition":3,"_offset":42})");
  EXPECT_EQ(out[2], R"({"_topic":"sensor_metrics","_partition":3,"_offset":43})");

  o.format = RowFormat::tsv;
  EXPECT_EQ(run(env(42, "1") + "\n", o).rows, "\t\t\t\t\t\t\tsensor_metrics\t3\t42\n");
  o.format = RowFormat::values;
  EXPECT_EQ(run(env(42, "1") + "\n", o).rows, "");
  o.format = RowFormat::json;
  // a line torn by a stage killed upstream: its message comes again whole, so no marker
  auto torn = run(env(44, kSeed).substr(0, 80), o);
  EXPECT_EQ(torn.st.rejects, 1u);
  EXPECT_NE(torn.rejects.find("\"offset\":44"), std::string::npos) << torn.rejects;
  EXPECT_EQ(torn.rows, "");
  // without --rejects the reject is only on stderr: not kept, so not acknowledged
  std::istringstream in(env(42, "1") + "\n");
  std::ostringstream rows;
  {
    sp::log::set_level(sp::log::Level::error);
    sp::LineReader lr(in);
    sp::LineWriter w(rows);
    sp::parse::run(o, Schema::default_schema(), lr, w, nullptr);
    sp::log::set_level(sp::log::Level::info);
  }
  EXPECT_EQ(rows.str(), "");
}
