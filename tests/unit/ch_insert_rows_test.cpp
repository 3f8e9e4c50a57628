// ch-insert's row splitting: coordinates found and stripped in every format, bad ones rejected.
#include <gtest/gtest.h>

#include <sstream>

#include "common/line_io.hpp"
#include "common/rows.hpp"
#include "insert.hpp"
#include "row_input.hpp"

using sp::RowFormat;
using sp::chi::Coords;
using sp::chi::RowStatus;
using sp::chi::split_row;

namespace {
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
  Coords c;
  std::string line = built(RowFormat::json, true, "a\",\"_topic\":\"x");  // a value that looks like a key
  ASSERT_EQ(split_row(RowFormat::json, line, 3, false, out, c, why), RowStatus::row);
  EXPECT_TRUE(c.present);
  EXPECT_EQ(c.topic, "sensor_metrics");
  EXPECT_EQ(c.partition, 3);
  EXPECT_EQ(c.offset, 42);
  EXPECT_EQ(out, built(RowFormat::json, false, "a\",\"_topic\":\"x") + "\n");
}

TEST(ChInsertRows, JsonKeepCoordinates) {
  std::string out, why;
  Coords c;
  std::string line = built(RowFormat::json, true);
  ASSERT_EQ(split_row(RowFormat::json, line, 3, true, out, c, why), RowStatus::row);
  EXPECT_EQ(out, line + "\n");
  EXPECT_EQ(c.offset, 42);
}

TEST(ChInsertRows, JsonCoordinatesInOtherOrder) {
  std::string out, why;
  Coords c;
  ASSERT_EQ(split_row(RowFormat::json, R"({"_offset": 7, "id":"x", "_topic":"t\u00e9", "_partition":1, "v":1.5})", 2,
                      false, out, c, why),
            RowStatus::row);
  EXPECT_EQ(c.topic, "t\xc3\xa9");
  EXPECT_EQ(c.partition, 1);
  EXPECT_EQ(c.offset, 7);
  EXPECT_EQ(out, "{\"id\":\"x\",\"v\":1.5}\n");
}

TEST(ChInsertRows, JsonWithoutCoordinatesPassesThrough) {
  std::string out, why;
  Coords c;
  ASSERT_EQ(split_row(RowFormat::json, R"({"id":"x" broken)", 2, false, out, c, why), RowStatus::row);
  EXPECT_FALSE(c.present);
  EXPECT_EQ(out, "{\"id\":\"x\" broken\n");
}

TEST(ChInsertRows, JsonBadCoordinatesRejected) {
  std::string out, why;
  Coords c;
  EXPECT_EQ(split_row(RowFormat::json, R"({"id":"x","_topic":"t","_partition":"one","_offset":1})", 1, false, out, c,
                      why),
            RowStatus::invalid);
  EXPECT_NE(why.find("_partition"), std::string::npos);
  EXPECT_EQ(split_row(RowFormat::json, R"({"id":"x","_topic":"t"})", 1, false, out, c, why), RowStatus::invalid);
  EXPECT_NE(why.find("together"), std::string::npos);
  EXPECT_EQ(split_row(RowFormat::json, R"({"id":"x","_topic":"t",)", 1, false, out, c, why), RowStatus::invalid);
  EXPECT_EQ(split_row(RowFormat::json, R"({"id":"x","_topic":"t","_partition":-1,"_offset":1})", 1, false, out, c,
                      why),
            RowStatus::invalid);
  EXPECT_TRUE(out.empty());
}

TEST(ChInsertRows, TsvTrailingCoordinates) {
  std::string out, why;
  Coords c;
  std::string line = built(RowFormat::tsv, true, "tab\there");
  ASSERT_EQ(split_row(RowFormat::tsv, line, 3, false, out, c, why), RowStatus::row);
  EXPECT_EQ(c.topic, "sensor_metrics");
  EXPECT_EQ(c.offset, 42);
  EXPECT_EQ(out, built(RowFormat::tsv, false, "tab\there") + "\n");
  // no coordinates: the row as it is
  out.clear();
  ASSERT_EQ(split_row(RowFormat::tsv, built(RowFormat::tsv, false), 3, false, out, c, why), RowStatus::row);
  EXPECT_FALSE(c.present);
  EXPECT_EQ(out, built(RowFormat::tsv, false) + "\n");
}

TEST(ChInsertRows, CsvQuotedCommasAndCoordinates) {
  std::string out, why;
  Coords c;
  std::string line = built(RowFormat::csv, true, "a,\"b\",c");
  ASSERT_EQ(split_row(RowFormat::csv, line, 3, false, out, c, why), RowStatus::row);
  EXPECT_EQ(c.topic, "sensor_metrics");
  EXPECT_EQ(c.partition, 3);
  EXPECT_EQ(out, built(RowFormat::csv, false, "a,\"b\",c") + "\n");
  EXPECT_EQ(split_row(RowFormat::csv, "\"x\",1,2,\"t\",p,9", 3, false, out, c, why), RowStatus::invalid);
  EXPECT_NE(why.find("not integers"), std::string::npos);
}

TEST(ChInsertRows, ValuesTuplesAndSeedHeader) {
  std::string out, why;
  Coords c;
  EXPECT_EQ(split_row(RowFormat::values, "INSERT INTO sensor_metrics VALUES", 3, false, out, c, why), RowStatus::skip);
  ASSERT_EQ(split_row(RowFormat::values, "('a', 1),", 3, false, out, c, why), RowStatus::row);
  EXPECT_EQ(out, "('a', 1)");
  EXPECT_EQ(split_row(RowFormat::values, "'a', 1", 3, false, out, c, why), RowStatus::invalid);
  EXPECT_EQ(split_row(RowFormat::json, "   ", 3, false, out, c, why), RowStatus::skip);
}

TEST(ChInsertRows, InsertStatements) {
  std::vector<std::string> cols = {"id", "ts", "weird col"};
  EXPECT_EQ(sp::chi::insert_statement(RowFormat::values, "default", "sensor_metrics", cols, false),
            "INSERT INTO sensor_metrics VALUES");
  EXPECT_EQ(sp::chi::insert_statement(RowFormat::json, "db", "t", cols, false),
            "INSERT INTO db.t (id, ts, `weird col`) FORMAT JSONEachRow");
  EXPECT_EQ(sp::chi::insert_statement(RowFormat::tsv, "default", "t", cols, true),
            "INSERT INTO t (id, ts, `weird col`, _topic, _partition, _offset) FORMAT TabSeparated");
  EXPECT_EQ(sp::chi::ack_line("sensor_metrics", 3, 42), R"({"topic":"sensor_metrics","partition":3,"offset":42})");
}

TEST(ChInsertRows, DryRunBatchesAndRejectsOverlong) {
  std::istringstream in(built(RowFormat::json, true) + "\n\n" + std::string(200, 'x') + "\n" +
                        built(RowFormat::json, true, "m-2") + "\n" + built(RowFormat::json, false, "m-3") + "\n");
  sp::LineReader reader(in, 128);
  std::ostringstream dry, rejects;
  sp::LineWriter dw(dry), rw(rejects);
  sp::chi::Outputs out;
  out.dry_run = &dw;
  out.rejects = &rw;
  sp::chi::Options o;
  o.dry_run = true;
  o.batch_rows = 2;
  o.max_line = 128;
  sp::Schema schema = sp::Schema::default_schema();
  sp::chi::Stats st;
  sp::chi::run_insert(o, schema, nullptr, reader, out, st);
  rw.flush();
  EXPECT_EQ(st.rows_in, 4u);
  EXPECT_EQ(st.rejected, 1u);
  EXPECT_EQ(st.inserted, 3u);
  EXPECT_EQ(st.batches, 2u);
  std::string stmt = "INSERT INTO sensor_metrics (id, ts, sensor_id, temperature, humidity, pressure) FORMAT JSONEachRow\n";
  EXPECT_EQ(dry.str(), "-- batch 1: 2 rows\n" + stmt + built(RowFormat::json, false) + "\n" +
                           built(RowFormat::json, false, "m-2") + "\n-- batch 2: 1 rows\n" + stmt +
                           built(RowFormat::json, false, "m-3") + "\n");
  EXPECT_NE(rejects.str().find("\"line\":3,\"error\":\"line longer than 128 bytes (200): not sent\""), std::string::npos);
}
