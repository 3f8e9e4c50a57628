#include "common/rows/rows.hpp"

#include <gtest/gtest.h>

#include "common/core/errors.hpp"

TEST(Rows, SeedExampleInValues) {
  sp::RowBuilder b(sp::RowFormat::values, {"id", "ts", "sensor_id", "temperature", "humidity", "pressure"});
  std::string out;
  b.begin(out);
  b.string("msg-123");
  b.datetime(1751925600);
  b.string("sensor-001");
  b.number("23.5");
  b.number("45");
  b.number("1013");
  b.end();
  EXPECT_EQ(out, "('msg-123', '2025-07-07 22:00:00', 'sensor-001', 23.5, 45, 1013)\n");
}

TEST(Rows, JsonEachRowWithCoordinates) {
  sp::RowBuilder b(sp::RowFormat::json, {"id", "ts", "v"});
  std::string out;
  b.begin(out);
  b.string("a\"b\\c\n\t\x01");
  b.datetime(0);
  b.null();
  b.coords("sensor_metrics", 3, 42);
  b.end();
  EXPECT_EQ(out,
            "{\"id\":\"a\\\"b\\\\c\\n\\t\\u0001\",\"ts\":\"1970-01-01 00:00:00\",\"v\":null,"
            "\"_topic\":\"sensor_metrics\",\"_partition\":3,\"_offset\":42}\n");
}

TEST(Rows, TsvEscapesEverythingThatCouldBreakFraming) {
  sp::RowBuilder b(sp::RowFormat::tsv, {"a", "b"});
  std::string out;
  b.begin(out);
  b.string("tab\there\nnl\\bs\rcr");
  b.null();
  b.coords("t", 0, 7);
  b.end();
  EXPECT_EQ(out, "tab\\there\\nnl\\\\bs\\rcr\t\\N\tt\t0\t7\n");
}

TEST(Rows, CsvQuotesAndDoublesQuotes) {
  sp::RowBuilder b(sp::RowFormat::csv, {"a", "b"});
  std::string out;
  b.begin(out);
  b.string("say \"hi\", ok");
  b.number("1.5");
  b.end();
  EXPECT_EQ(out, "\"say \"\"hi\"\", ok\",1.5\n");
}

TEST(Rows, SqlStringCannotEscapeItsQuotes) {
  std::string out;
  sp::append_sql_string(out, "'); DROP TABLE sensor_metrics; --\\");
  EXPECT_EQ(out, "'\\'); DROP TABLE sensor_metrics; --\\\\'");
}

TEST(Rows, FormatNames) {
  EXPECT_EQ(sp::parse_row_format("JSONEachRow"), sp::RowFormat::json);
  EXPECT_EQ(sp::parse_row_format("tsv"), sp::RowFormat::tsv);
  EXPECT_EQ(sp::parse_row_format("CSV"), sp::RowFormat::csv);
  EXPECT_EQ(sp::parse_row_format("values"), sp::RowFormat::values);
  EXPECT_THROW(sp::parse_row_format("xml"), sp::UsageError);
  EXPECT_STREQ(sp::clickhouse_format_name(sp::RowFormat::tsv), "TabSeparated");
}
