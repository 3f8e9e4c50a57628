// ch-insert's row splitting: coordinates found and stripped in every format, bad ones rejected.
#include <gtest/gtest.h>

#include <sstream>

#include "common/rows/acks.hpp"
#include "common/core/line_io.hpp"
#include "common/core/log.hpp"
#include "common/rows/rows.hpp"
#include "insert.hpp"
#include "sender.hpp"
#include "common/codec/compress.hpp"
#include "common/rows/row_input.hpp"

using sp::RowFormat;
using sp::RowCoords;
using sp::RowShape;
using sp::RowStatus;
using sp::split_row;

namespace {
const RowShape kShape({"id", "ts", "t"});  // the columns of built()'s rows

std::string built(RowFormat f, bool coords, std::string_view id = "m-1") {
  sp::RowBuilder b(f, {"id", "ts", "t"});
  std::string out;
  b.begin(out);
  b.string(id);
  b.datetime(1751925600);
  b.number("23.5");
  if (coords) b.coords("sensor_metrics", 3, 42);
  b.end();
  out.pop_back();  // the reader hands lines without '\n'
  return out;
}
}  // namespace

TEST(ChInsertRows, JsonCoordinatesStrippedFastPath) {
  std::string out, why;
  RowCoords c;
  std::string line = built(RowFormat::json, true, "a\",\"_topic\":\"x");  // a value that looks like a key
  ASSERT_EQ(split_row(RowFormat::json, line, kShape, false, out, c, why), RowStatus::row);
  EXPECT_TRUE(c.present);
  EXPECT_EQ(c.topic, "sensor_metrics");
  EXPECT_EQ(c.partition, 3);
  EXPECT_EQ(c.offset, 42);
  EXPECT_EQ(out, built(RowFormat::json, false, "a\",\"_topic\":\"x") + "\n");
}

TEST(ChInsertRows, JsonKeepCoordinates) {
  std::string out, why;
  RowCoords c;
  std::string line = built(RowFormat::json, true);
  ASSERT_EQ(split_row(RowFormat::json, line, kShape, true, out, c, why), RowStatus::row);
  EXPECT_EQ(out, line + "\n");
  EXPECT_EQ(c.offset, 42);
}

TEST(ChInsertRows, JsonCoordinatesInOtherOrder) {
  std::string out, why;
  RowCoords c;
  ASSERT_EQ(split_row(RowFormat::json, R"({"_offset": 7, "id":"x", "_topic":"t\u00e9", "_partition":1, "v":1.5})",
                      RowShape({"id", "v"}),
                      false, out, c, why),
            RowStatus::row);
  EXPECT_EQ(c.topic, "t\xc3\xa9");
  EXPECT_EQ(c.partition, 1);
  EXPECT_EQ(c.offset, 7);
  EXPECT_EQ(out, "{\"id\":\"x\",\"v\":1.5}\n");
}

TEST(ChInsertRows, JsonWithoutCoordinatesPassesThrough) {
  std::string out, why;
  RowCoords c;
  ASSERT_EQ(split_row(RowFormat::json, R"({ "t" : 1.5 , "id":"x\n", "ts":"2025-07-07 10:00:00" })", kShape, false, out, c,
                      why),
            RowStatus::row)
      << why;
  EXPECT_FALSE(c.present);
  EXPECT_EQ(out, R"({ "t" : 1.5 , "id":"x\n", "ts":"2025-07-07 10:00:00" })" "\n");
}

TEST(ChInsertRows, JsonBadCoordinatesRejected) {
  std::string out, why;
  RowCoords c;
  EXPECT_EQ(split_row(RowFormat::json, R"({"id":"x","_topic":"t","_partition":"one","_offset":1})", RowShape({"id"}), false, out, c,
                      why),
            RowStatus::invalid);
  EXPECT_NE(why.find("_partition"), std::string::npos);
  EXPECT_EQ(split_row(RowFormat::json, R"({"id":"x","_topic":"t"})", RowShape({"id"}), false, out, c, why), RowStatus::invalid);
  EXPECT_NE(why.find("together"), std::string::npos);
  EXPECT_EQ(split_row(RowFormat::json, R"({"id":"x","_topic":"t",)", RowShape({"id"}), false, out, c, why), RowStatus::invalid);
  EXPECT_EQ(split_row(RowFormat::json, R"({"id":"x","_topic":"t","_partition":-1,"_offset":1})", RowShape({"id"}), false, out, c,
                      why),
            RowStatus::invalid);
  EXPECT_TRUE(out.empty());
}

TEST(ChInsertRows, TsvTrailingCoordinates) {
  std::string out, why;
  RowCoords c;
  std::string line = built(RowFormat::tsv, true, "tab\there");
  ASSERT_EQ(split_row(RowFormat::tsv, line, kShape, false, out, c, why), RowStatus::row);
  EXPECT_EQ(c.topic, "sensor_metrics");
  EXPECT_EQ(c.offset, 42);
  EXPECT_EQ(out, built(RowFormat::tsv, false, "tab\there") + "\n");
  // no coordinates: the row as it is
  out.clear();
  ASSERT_EQ(split_row(RowFormat::tsv, built(RowFormat::tsv, false), kShape, false, out, c, why), RowStatus::row);
  EXPECT_FALSE(c.present);
  EXPECT_EQ(out, built(RowFormat::tsv, false) + "\n");
}

TEST(ChInsertRows, CsvQuotedCommasAndCoordinates) {
  std::string out, why;
  RowCoords c;
  std::string line = built(RowFormat::csv, true, "a,\"b\",c");
  ASSERT_EQ(split_row(RowFormat::csv, line, kShape, false, out, c, why), RowStatus::row);
  EXPECT_EQ(c.topic, "sensor_metrics");
  EXPECT_EQ(c.partition, 3);
  EXPECT_EQ(out, built(RowFormat::csv, false, "a,\"b\",c") + "\n");
  EXPECT_EQ(split_row(RowFormat::csv, "\"x\",1,2,\"t\",p,9", kShape, false, out, c, why), RowStatus::invalid);
  EXPECT_NE(why.find("not integers"), std::string::npos);
}

TEST(ChInsertRows, ValuesTuplesAndSeedHeader) {
  std::string out, why;
  RowCoords c;
  EXPECT_EQ(split_row(RowFormat::values, "INSERT INTO sensor_metrics VALUES", kShape, false, out, c, why), RowStatus::skip);
  ASSERT_EQ(split_row(RowFormat::values, "('a', 1, 2),", kShape, false, out, c, why), RowStatus::row);
  EXPECT_EQ(out, "('a', 1, 2)");
  EXPECT_EQ(split_row(RowFormat::values, "'a', 1", kShape, false, out, c, why), RowStatus::invalid);
  EXPECT_EQ(split_row(RowFormat::json, "   ", kShape, false, out, c, why), RowStatus::skip);
}

TEST(ChInsertRows, InsertStatements) {
  std::vector<std::string> cols = {"id", "ts", "weird col"};
  EXPECT_EQ(sp::chi::insert_statement(RowFormat::values, "default", "sensor_metrics", cols, false),
            "INSERT INTO sensor_metrics VALUES");
  EXPECT_EQ(sp::chi::insert_statement(RowFormat::json, "db", "t", cols, false),
            "INSERT INTO db.t (id, ts, `weird col`) FORMAT JSONEachRow");
  EXPECT_EQ(sp::chi::insert_statement(RowFormat::tsv, "default", "t", cols, true),
            "INSERT INTO t (id, ts, `weird col`, _topic, _partition, _offset) FORMAT TabSeparated");
  EXPECT_EQ(sp::chi::row_binary_statement(sp::chi::insert_statement(RowFormat::tsv, "default", "t", cols, true)),
            "INSERT INTO t (id, ts, `weird col`, _topic, _partition, _offset) FORMAT RowBinary");
  EXPECT_THROW(sp::chi::row_binary_statement(sp::chi::insert_statement(RowFormat::json, "db", "t", cols, false)), sp::Error);
  EXPECT_EQ(sp::ack_line("sensor_metrics", 3, 42), R"({"topic":"sensor_metrics","partition":3,"offset":42})");
}

TEST(ChInsertRows, DryRunBatchesAndRejectsOverlong) {
  auto seed = [](bool coords, std::string_view id) {  // a row of the default schema
    sp::RowBuilder b(RowFormat::json, sp::Schema::default_schema().column_names());
    std::string out;
    b.begin(out);
    b.string(id);
    b.datetime(1751925600);
    b.string("s-1");
    b.number("23.5");
    b.number("40");
    b.number("1000");
    if (coords) b.coords("sensor_metrics", 3, 42);
    b.end();
    out.pop_back();
    return out;
  };
  std::istringstream in(seed(true, "m-1") + "\n\n" + std::string(200, 'x') + "\n" + seed(true, "m-2") + "\n" +
                        seed(false, "m-3") + "\n");
  sp::LineReader reader(in, 180);
  std::ostringstream dry, rejects;
  sp::LineWriter dw(dry), rw(rejects);
  sp::chi::Outputs out;
  out.dry_run = &dw;
  out.rejects = &rw;
  sp::chi::Options o;
  o.dry_run = true;
  o.batch_rows = 2;
  o.max_line = 180;
  sp::Schema schema = sp::Schema::default_schema();
  sp::chi::Stats st;
  sp::chi::run_insert(o, schema, nullptr, reader, out, st);
  rw.flush();
  EXPECT_EQ(st.rows_in, 4u);
  EXPECT_EQ(st.rejected, 1u);
  EXPECT_EQ(st.inserted, 3u);
  EXPECT_EQ(st.batches, 2u);
  std::string stmt = "INSERT INTO sensor_metrics (id, ts, sensor_id, temperature, humidity, pressure) FORMAT JSONEachRow\n";
  EXPECT_EQ(dry.str(), "-- batch 1: 2 rows\n" + stmt + seed(false, "m-1") + "\n" + seed(false, "m-2") +
                           "\n-- batch 2: 1 rows\n" + stmt + seed(false, "m-3") + "\n");
  EXPECT_NE(rejects.str().find("\"line\":3,\"error\":\"line longer than 180 bytes (200): not sent\""), std::string::npos);
}

// Issue 16, item 10: rows that do not match the schema were sent as they were, so ClickHouse
// filled a missing column with 0 and read two tuples from one line (counted as one row).
namespace {
RowStatus check(RowFormat f, std::string_view line, std::string& why, bool keep = false,
                const RowShape& shape = kShape) {
  std::string out;
  RowCoords c;
  why.clear();
  RowStatus st = split_row(f, line, shape, keep, out, c, why);
  if (st != RowStatus::row) {
    EXPECT_TRUE(out.empty()) << line;  // all or nothing
  }
  return st;
}
bool mentions(const std::string& why, std::string_view what) { return why.find(what) != std::string::npos; }
}  // namespace

TEST(ChInsertRows, JsonMissingUnknownRepeatedColumnsRejected) {
  std::string why;
  EXPECT_EQ(check(RowFormat::json, R"({"id":"a","ts":"x"})", why), RowStatus::invalid);
  EXPECT_TRUE(mentions(why, "missing") && mentions(why, "'t'")) << why;
  EXPECT_EQ(check(RowFormat::json, R"({"id":"a","ts":"x","_topic":"s","_partition":1,"_offset":2})", why),
            RowStatus::invalid);
  EXPECT_TRUE(mentions(why, "'t'")) << why;
  EXPECT_EQ(check(RowFormat::json, R"({"id":"a","ts":"x","t":1,"extra":2})", why), RowStatus::invalid);
  EXPECT_TRUE(mentions(why, "unknown") && mentions(why, "'extra'")) << why;
  EXPECT_EQ(check(RowFormat::json, R"({"id":"a","id":"b","ts":"x","t":1})", why), RowStatus::invalid);
  EXPECT_TRUE(mentions(why, "'id'") && mentions(why, "twice")) << why;
  EXPECT_EQ(check(RowFormat::json, R"({})", why), RowStatus::invalid);
  EXPECT_EQ(why, "missing columns 'id', 'ts', 't'");
  EXPECT_EQ(check(RowFormat::json, R"({"id":"a","ts":"x","t":1,"_topic":"s","_partition":1,"_topic":"u","_offset":2})", why),
            RowStatus::invalid);
  EXPECT_EQ(why, "column '_topic' twice");
  // a key inside a nested value is not a column of the row
  EXPECT_EQ(check(RowFormat::json, R"({"id":{"t":1,"ts":2},"ts":"x"})", why), RowStatus::invalid);
  EXPECT_TRUE(mentions(why, "'t'")) << why;
  // an escaped key is the key it spells
  EXPECT_EQ(check(RowFormat::json, R"({"\u0069d":"a","ts":"x","t":1})", why), RowStatus::row) << why;
  // --keep-coordinates sends them as columns: then they are required
  EXPECT_EQ(check(RowFormat::json, R"({"id":"a","ts":"x","t":1})", why, true), RowStatus::invalid);
  EXPECT_TRUE(mentions(why, "_topic")) << why;
  // control bytes of a key are not echoed
  EXPECT_EQ(check(RowFormat::json, "{\"id\":\"a\",\"ts\":\"x\",\"t\":1,\"\x1b[2J\":2}", why), RowStatus::invalid);
  EXPECT_FALSE(mentions(why, "\x1b")) << why;
}

TEST(ChInsertRows, JsonOneObjectPerLineAndNulls) {
  std::string why;
  EXPECT_EQ(check(RowFormat::json, R"({"id":"a","ts":"x","t":1}{"id":"b","ts":"x","t":1})", why), RowStatus::invalid);
  EXPECT_TRUE(mentions(why, "more than one")) << why;
  EXPECT_EQ(check(RowFormat::json,
                  R"({"id":"a","ts":"x","t":1,"_topic":"s","_partition":1,"_offset":2} {"id":"b","ts":"x","t":1})",
                  why),
            RowStatus::invalid);
  EXPECT_EQ(check(RowFormat::json, R"({"id":"a","ts":"x","t":1} junk)", why), RowStatus::invalid);
  EXPECT_EQ(check(RowFormat::json, R"({"id":"a","ts":"x" broken)", why), RowStatus::invalid);
  EXPECT_EQ(check(RowFormat::json, R"({"id":"a","ts":"x","t":1)", why), RowStatus::invalid);
  EXPECT_EQ(check(RowFormat::json, R"(["a","x",1])", why), RowStatus::invalid);
  // null where the column is not Nullable: ClickHouse would store nan / 0
  EXPECT_EQ(check(RowFormat::json, R"({"id":"a","ts":"x","t":null})", why), RowStatus::invalid);
  EXPECT_TRUE(mentions(why, "null") && mentions(why, "'t'")) << why;
  RowShape nullable_t({"id", "ts", "t"});
  nullable_t.nullable[2] = 1;
  EXPECT_EQ(check(RowFormat::json, R"({"id":"a","ts":"x","t":null})", why, false, nullable_t), RowStatus::row);
  // values with brackets, braces and quotes inside strings do not confuse the walk
  EXPECT_EQ(check(RowFormat::json, R"({"id":"a\"}{,\\","ts":"[x","t":[1,{"a":"}"}]})", why), RowStatus::row) << why;
}

TEST(ChInsertRows, DelimitedFieldCountChecked) {
  std::string why;
  EXPECT_EQ(check(RowFormat::tsv, "a\tb", why), RowStatus::invalid);
  EXPECT_TRUE(mentions(why, "2 fields") && mentions(why, "3")) << why;
  EXPECT_EQ(check(RowFormat::tsv, "a\tb\tc\td", why), RowStatus::invalid);
  EXPECT_EQ(check(RowFormat::tsv, "a\tb\tc\ts\t1", why), RowStatus::invalid);
  EXPECT_EQ(check(RowFormat::tsv, "a\tb\tc", why), RowStatus::row);
  EXPECT_EQ(check(RowFormat::tsv, "a\tb\tc\ts\t1\t2", why), RowStatus::row);
  EXPECT_EQ(check(RowFormat::tsv, "a\tb\tc", why, true), RowStatus::invalid);  // coordinates required with keep
  EXPECT_EQ(check(RowFormat::csv, "\"a,b\",c", why), RowStatus::invalid);
  EXPECT_TRUE(mentions(why, "2 fields")) << why;
  EXPECT_EQ(check(RowFormat::csv, "\"a,b\",c,d", why), RowStatus::row);
  EXPECT_EQ(check(RowFormat::csv, "\"a,b,c,d", why), RowStatus::invalid);  // an open quote
  EXPECT_TRUE(mentions(why, "quote")) << why;
}

TEST(ChInsertRows, ValuesOneTupleOfTheRightSize) {
  std::string why;
  EXPECT_EQ(check(RowFormat::values, "('a', 1, 2), ('b', 3, 4),", why), RowStatus::invalid);
  EXPECT_TRUE(mentions(why, "more than one tuple")) << why;
  EXPECT_EQ(check(RowFormat::values, "('a', 1),", why), RowStatus::invalid);
  EXPECT_TRUE(mentions(why, "2 values") && mentions(why, "3")) << why;
  EXPECT_EQ(check(RowFormat::values, "('a', 1, 2, 3);", why), RowStatus::invalid);
  EXPECT_EQ(check(RowFormat::values, "('a', 1, 2) junk", why), RowStatus::invalid);
  EXPECT_EQ(check(RowFormat::values, "('a', 1, 2", why), RowStatus::invalid);
  EXPECT_EQ(check(RowFormat::values, "('a), (b', 1, 2", why), RowStatus::invalid);
  // commas and parentheses inside strings or calls are not separators; both quote escapes
  EXPECT_EQ(check(RowFormat::values, R"x(('a,b)', 'it''s, \'(', f(1, (2))), )x", why), RowStatus::row) << why;
  EXPECT_EQ(check(RowFormat::values, R"(('x\\', [1, 2], 3);)", why), RowStatus::row) << why;
}

TEST(ChInsertRows, PrintableEscapesControlBytes) {
  EXPECT_EQ(sp::log::printable("ok \xc3\xa9 text"), "ok \xc3\xa9 text");
  EXPECT_EQ(sp::log::printable("a\x1b[2Jb\r\n\x7f"), "a\\x1b[2Jb\\x0d\\x0a\\x7f");
  EXPECT_EQ(sp::log::printable("bad \xff\xc3 utf8"), "bad \\xff\\xc3 utf8");
  EXPECT_EQ(sp::log::printable(std::string(300, 'x'), 10), std::string(10, 'x') + "...");
}

// Issue 18: ack markers from sensor-parse (a rejected message kept in its rejects file) are read as
// markers in every format with coordinates, with nothing to send; as the first line they are no
// schema mismatch; a dry run drops them (neither a row nor a reject).
TEST(ChInsertRows, AckMarkersInEveryFormat) {
  for (auto f : {RowFormat::json, RowFormat::tsv, RowFormat::csv}) {
    std::string marker, out, why;
    ASSERT_TRUE(sp::append_ack_marker(marker, f, kShape.columns.size(), "sensor_metrics", 3, 44));
    marker.pop_back();
    RowCoords c;
    for (bool keep : {false, true}) {
      ASSERT_EQ(split_row(f, marker, kShape, keep, out, c, why), RowStatus::marker) << marker;
      EXPECT_TRUE(out.empty());
      EXPECT_TRUE(c.present);
      EXPECT_EQ(c.topic, "sensor_metrics");
      EXPECT_EQ(c.partition, 3);
      EXPECT_EQ(c.offset, 44);
    }
    // a row is still a row, and one more empty field makes a marker a bad line, not a marker
    ASSERT_EQ(split_row(f, built(f, true), kShape, false, out, c, why), RowStatus::row);
    std::string wider = (f == RowFormat::tsv ? "\t" : f == RowFormat::csv ? "," : "") + marker;
    if (f != RowFormat::json) {
      EXPECT_EQ(check(f, wider, why), RowStatus::invalid) << wider;
    }
  }
  std::string why;
  EXPECT_EQ(check(RowFormat::values, R"({"_topic":"sensor_metrics","_partition":3,"_offset":44})", why),
            RowStatus::invalid);
}

TEST(ChInsertRows, DryRunDropsAckMarkers) {
  sp::Schema schema = sp::Schema::default_schema();
  std::string input, m1, m2;
  sp::append_ack_marker(m1, RowFormat::json, schema.columns.size(), "sensor_metrics", 3, 41);
  sp::append_ack_marker(m2, RowFormat::json, schema.columns.size(), "sensor_metrics", 3, 43);
  sp::RowBuilder b(RowFormat::json, schema.column_names());
  std::string row;
  b.begin(row);
  b.string("m-1");
  b.datetime(1751925600);
  b.string("s-1");
  b.number("23.5");
  b.number("40");
  b.number("1000");
  b.coords("sensor_metrics", 3, 42);
  b.end();
  std::istringstream in(m1 + row + m2);
  sp::LineReader reader(in);
  std::ostringstream dry;
  sp::LineWriter dw(dry);
  sp::chi::Outputs out;
  out.dry_run = &dw;
  sp::chi::Options o;
  o.dry_run = true;
  sp::chi::Stats st;
  sp::chi::run_insert(o, schema, nullptr, reader, out, st);  // the first line, a marker, is no schema mismatch
  EXPECT_EQ(st.rows_in, 1u);
  EXPECT_EQ(st.rejected, 0u);
  EXPECT_EQ(st.inserted, 1u);
  EXPECT_EQ(st.batches, 1u);
  EXPECT_EQ(dry.str().find("_offset"), std::string::npos) << dry.str();
  EXPECT_NE(dry.str().find("-- batch 1: 1 rows\n"), std::string::npos) << dry.str();
}

// A marker cut short by a killed sensor-parse (no newline after it) may have lost digits of its
// offset: it is a torn line, rejected, never acknowledged.
TEST(ChInsertRows, TornAckMarkerIsRejected) {
  sp::Schema schema = sp::Schema::default_schema();
  std::string m;
  sp::append_ack_marker(m, RowFormat::json, schema.columns.size(), "sensor_metrics", 3, 42);
  m.pop_back();
  std::istringstream in(m);
  sp::LineReader reader(in);
  std::ostringstream dry, rejects;
  sp::LineWriter dw(dry), rw(rejects);
  sp::chi::Outputs out;
  out.dry_run = &dw;
  out.rejects = &rw;
  sp::chi::Options o;
  o.dry_run = true;
  sp::chi::Stats st;
  sp::log::set_level(sp::log::Level::error);
  sp::chi::run_insert(o, schema, nullptr, reader, out, st);
  sp::log::set_level(sp::log::Level::info);
  rw.flush();
  EXPECT_EQ(st.rejected, 1u);
  EXPECT_NE(rejects.str().find("input ended mid-line"), std::string::npos) << rejects.str();
  EXPECT_NE(rejects.str().find("an ack marker"), std::string::npos) << rejects.str();
}

// build_body with --send-rowbinary: the body is exactly the rows' RowBinary, uncompressed and gzip'd,
// batch after batch on one thread (its encoding buffer is handed to the body, not copied: what it
// gets back must not leak into the next body); a row that does not encode leaves the text.
TEST(ChInsertBody, RowBinaryBodyBatchAfterBatch) {
  sp::chi::Options o;
  o.format = RowFormat::tsv;
  o.row_binary = {{sp::ColType::String}, {sp::ColType::Float64}};
  auto batch = [](std::initializer_list<std::string_view> rows) {
    sp::chi::Batch b;
    for (auto r : rows) {
      b.rows.push_back({b.data.size(), b.rows.size() + 1, 0, 0, -1});
      b.data += r;
    }
    return b;
  };
  auto rb = [&](const sp::chi::Batch& b) {
    std::string want, why;
    for (size_t i = 0; i < b.rows.size(); ++i) EXPECT_TRUE(sp::append_row_binary(b.row(i), o.row_binary, want, why)) << why;
    return want;
  };
  for (int level : {0, 1}) {
    o.gzip_level = level;
    auto plain = [&](const std::string& body) { return level ? sp::codec::gunzip(body, "body") : body; };
    sp::chi::Batch b1 = batch({"a\\tb\t1.5\n", "c\t-2\n"}), b2 = batch({"d\t3\n"}), bad = batch({"e\tnope\n"});
    std::string out = "old", why;
    EXPECT_TRUE(sp::chi::build_body(o, "", b1, 0, 2, out, true));
    EXPECT_EQ(plain(out), rb(b1));
    std::string out2 = "older and longer than the next body";
    EXPECT_TRUE(sp::chi::build_body(o, "", b2, 0, 1, out2, true));
    EXPECT_EQ(plain(out2), rb(b2));
    EXPECT_TRUE(sp::chi::build_body(o, "", b1, 1, 2, out, true));  // rows [1, 2) of b1 only
    EXPECT_EQ(plain(out), rb(batch({"c\t-2\n"})));
    EXPECT_FALSE(sp::chi::build_body(o, "", bad, 0, 1, out, true, &why));
    EXPECT_EQ(plain(out), bad.data);
    EXPECT_NE(why.find("line 1: field 2 (Float64)"), std::string::npos) << why;
    EXPECT_FALSE(sp::chi::build_body(o, "", b1, 0, 2, out, false));  // not asked for RowBinary: the text
    EXPECT_EQ(plain(out), b1.data);
  }
  // the seed's VALUES: the statement, then the tuples (built here, handed over uncompressed)
  o.format = RowFormat::values;
  o.gzip_level = 0;
  sp::chi::Batch v = batch({"(1)", "(2)"});
  std::string out = "old";
  EXPECT_FALSE(sp::chi::build_body(o, "INSERT INTO t VALUES", v, 0, 2, out));
  EXPECT_EQ(out, "INSERT INTO t VALUES\n(1),\n(2)\n");
}

// The retry and failure lines name the server once, never its credentials, and say what failed there.
TEST(ChInsertLog, FailedAtNamesTheServerOnce) {
  sp::ChError ch;  // ClickHouse's own error: the text names no server
  ch.message = "Code: 252, e.displayText() = DB::Exception: Too many parts (300)";
  EXPECT_EQ(sp::chi::failed_at("INSERT of 5 rows", "https://writer:s3cret@ch2:8443", ch),
            "INSERT of 5 rows at https://ch2:8443 failed: Code: 252, e.displayText() = DB::Exception: Too many parts (300)");
  sp::ChError t;  // a transport error names it already (common/http/clickhouse.cpp)
  t.message = "ClickHouse at http://ch1:8123 did not answer: Couldn't connect to server";
  EXPECT_EQ(sp::chi::failed_at("INSERT of 5 rows", "http://ch1:8123", t),
            "INSERT of 5 rows failed: ClickHouse at http://ch1:8123 did not answer: Couldn't connect to server");
}
