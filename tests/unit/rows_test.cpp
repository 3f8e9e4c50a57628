#include "common/rows/rows.hpp"

#include <gtest/gtest.h>

#include "common/core/errors.hpp"
#include "common/core/timeutil.hpp"
#include "common/rows/row_input.hpp"

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

// The one TabSeparated unescape (rows.hpp), both ways it is used: lenient by the TSV reader and
// ch-insert's system.columns reader, strict by the RowBinary encoder.
TEST(TsvUnescape, InverseOfTheEscaperForEveryByte) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  std::string field;
  sp::append_tsv_field(field, all);
  EXPECT_EQ(sp::tsv_unescape(field), all);
  std::string out = "kept:", why;
  EXPECT_TRUE(sp::append_tsv_unescaped(out, field, sp::TsvUnescape::strict, &why)) << why;
  EXPECT_EQ(out, "kept:" + all);
}

TEST(TsvUnescape, LenientReadsAsClickHouseStrictRefuses) {
  // what ClickHouse writes but append_tsv_field never does: \' and a character escaped for no reason
  EXPECT_EQ(sp::tsv_unescape("it\\'s \\q"), "it's q");
  EXPECT_EQ(sp::tsv_unescape("end\\"), "end\\");  // a lone backslash at the end stays
  EXPECT_EQ(sp::tsv_unescape("Nullable(String)"), "Nullable(String)");
  std::string out, why;
  EXPECT_FALSE(sp::append_tsv_unescaped(out, "it\\'s", sp::TsvUnescape::strict, &why));
  EXPECT_EQ(why, "the escape '\\''");
  EXPECT_FALSE(sp::append_tsv_unescaped(out, "end\\", sp::TsvUnescape::strict, &why));
  EXPECT_EQ(why, "a lone '\\' at the end");
  EXPECT_FALSE(sp::append_tsv_unescaped(out, "a\\x41", sp::TsvUnescape::strict));  // why optional
}

TEST(TsvUnescape, TsvReaderUnescapesTopicAndValue) {
  // a TSV row as sensor-parse writes it, read back by ch-insert's TSV reader: the topic from the
  // coordinates, and the value as shard-direct hashes it (row_string_field)
  std::vector<std::string> cols{"a"};
  sp::RowShape shape(cols);
  sp::RowBuilder b(sp::RowFormat::tsv, cols);
  std::string row;
  b.begin(row);
  b.string("v\tw\\x");
  b.coords("odd\ttopic\\name", 2, 9);
  b.end();
  std::string out, why, value;
  sp::RowCoords c;
  ASSERT_EQ(sp::split_row(sp::RowFormat::tsv, row, shape, false, out, c, why), sp::RowStatus::row) << why;
  EXPECT_EQ(c.topic, "odd\ttopic\\name");
  EXPECT_EQ(c.offset, 9);
  ASSERT_TRUE(sp::row_string_field(sp::RowFormat::tsv, out, shape, 0, value));
  EXPECT_EQ(value, "v\tw\\x");
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

// RowBuilder caches the date text of the last day: every second across day changes (and a time
// before 1970, which bypasses the cache) is written as format_datetime writes it.
TEST(Rows, DatetimeAcrossDaysMatchesFormatDatetime) {
  sp::RowBuilder b(sp::RowFormat::tsv, {"ts"});
  for (int64_t t : {int64_t{86399}, int64_t{86400}, int64_t{0}, int64_t{-1}, int64_t{1751925600}, int64_t{1751925599},
                    int64_t{4102444799}, int64_t{1751925600 + 86400 * 400}}) {
    std::string out;
    b.begin(out);
    b.datetime(t);
    b.end();
    EXPECT_EQ(out, sp::format_datetime(t) + "\n") << t;
  }
}

// The row-line contract both ways: what RowBuilder writes, split_row (ch-insert's reader) reads back
// with the coordinates, in every format that carries them.
TEST(Rows, RoundTripThroughTheReader) {
  std::vector<std::string> cols{"id", "ts", "v"};
  sp::RowShape shape(cols);
  for (auto f : {sp::RowFormat::json, sp::RowFormat::tsv, sp::RowFormat::csv}) {
    sp::RowBuilder b(f, cols);
    auto row = [&](bool coords) {
      std::string out;
      b.begin(out);
      b.string("m-\t\"1\\");
      b.datetime(1751925600);
      b.number("-2.5");
      if (coords) b.coords("sensor_metrics", 4, 1234567890123);
      b.end();
      return out;
    };
    std::string line = row(true), out, why;
    line.pop_back();
    sp::RowCoords c;
    ASSERT_EQ(sp::split_row(f, line, shape, false, out, c, why), sp::RowStatus::row) << line << ": " << why;
    EXPECT_TRUE(c.present);
    EXPECT_EQ(c.topic, "sensor_metrics");
    EXPECT_EQ(c.partition, 4);
    EXPECT_EQ(c.offset, 1234567890123);
    EXPECT_EQ(out, row(false)) << static_cast<int>(f);
  }
}

// Ack markers (issue 18: rejected messages are acknowledged): written and read back in every format
// that carries coordinates, for topics that need escaping in each, and never confused with a row.
TEST(RowsAckMarker, RoundTripEveryFormat) {
  for (auto f : {sp::RowFormat::json, sp::RowFormat::tsv, sp::RowFormat::csv}) {
    for (size_t ncols : {size_t{1}, size_t{3}, size_t{6}}) {
      for (std::string topic : {"sensor_metrics", "a,b\"c\td\\e", "t\xc3\xbc", ""}) {
        std::string out;
        ASSERT_TRUE(sp::append_ack_marker(out, f, ncols, topic, 7, 123456789012));
        ASSERT_EQ(out.back(), '\n');
        ASSERT_EQ(out.find('\n'), out.size() - 1) << "one line";
        sp::Ack a;
        ASSERT_TRUE(sp::parse_ack_marker(f, std::string_view(out).substr(0, out.size() - 1), ncols, a)) << out;
        EXPECT_EQ(a.topic, topic) << out;
        EXPECT_EQ(a.partition, 7);
        EXPECT_EQ(a.offset, 123456789012);
        // TSV and CSV: read with another column count, it is no marker
        if (f != sp::RowFormat::json) {
          EXPECT_FALSE(sp::parse_ack_marker(f, std::string_view(out).substr(0, out.size() - 1), ncols + 1, a)) << out;
        }
      }
    }
  }
}

TEST(RowsAckMarker, ExactShapes) {
  std::string j, t, c;
  sp::append_ack_marker(j, sp::RowFormat::json, 6, "sensor_metrics", 3, 42);
  sp::append_ack_marker(t, sp::RowFormat::tsv, 2, "sensor_metrics", 3, 42);
  sp::append_ack_marker(c, sp::RowFormat::csv, 2, "sensor_metrics", 3, 42);
  EXPECT_EQ(j, "{\"_topic\":\"sensor_metrics\",\"_partition\":3,\"_offset\":42}\n");
  EXPECT_EQ(t, "\t\t\tsensor_metrics\t3\t42\n");
  EXPECT_EQ(c, ",,,\"sensor_metrics\",3,42\n");
  std::string v;
  EXPECT_FALSE(sp::append_ack_marker(v, sp::RowFormat::values, 6, "sensor_metrics", 3, 42));
  EXPECT_EQ(v, "");
}

TEST(RowsAckMarker, RowsAreNeverMarkers) {
  sp::Ack a;
  // rows with and without coordinates, also with every cell empty, in every format
  for (auto f : {sp::RowFormat::json, sp::RowFormat::tsv, sp::RowFormat::csv, sp::RowFormat::values}) {
    for (size_t ncols : {size_t{1}, size_t{3}}) {
      std::vector<std::string> cols;
      for (size_t i = 0; i < ncols; ++i) cols.push_back("c" + std::to_string(i));
      sp::RowBuilder b(f, cols);
      for (bool coords : {false, true}) {
        for (const char* cell : {"", "x"}) {
          std::string out;
          b.begin(out);
          for (size_t i = 0; i < ncols; ++i) b.string(cell);
          if (coords) b.coords("sensor_metrics", 3, 42);
          b.end();
          out.pop_back();
          EXPECT_FALSE(sp::parse_ack_marker(f, out, ncols, a)) << out;
        }
      }
    }
  }
  // near misses: an extra key, a missing one, a wrong type, a field too few, a bad number
  EXPECT_FALSE(sp::parse_ack_marker(sp::RowFormat::json, R"({"_topic":"t","_partition":1,"_offset":2,"id":"x"})", 1, a));
  EXPECT_FALSE(sp::parse_ack_marker(sp::RowFormat::json, R"({"_topic":"t","_partition":1})", 1, a));
  EXPECT_FALSE(sp::parse_ack_marker(sp::RowFormat::json, R"({"_topic":"t","_partition":"1","_offset":2})", 1, a));
  EXPECT_FALSE(sp::parse_ack_marker(sp::RowFormat::json, R"({"_topic":"t","_partition":-1,"_offset":2})", 1, a));
  EXPECT_FALSE(sp::parse_ack_marker(sp::RowFormat::tsv, "\t\tt\t1\t2", 2, a));
  EXPECT_FALSE(sp::parse_ack_marker(sp::RowFormat::tsv, "\t\t\tt\t1\tx2", 2, a));
  EXPECT_FALSE(sp::parse_ack_marker(sp::RowFormat::tsv, "\t\t\tt\tu\t1\t2", 2, a));
  EXPECT_FALSE(sp::parse_ack_marker(sp::RowFormat::csv, ",,,t,1,2", 2, a));  // the topic is always quoted
  EXPECT_FALSE(sp::parse_ack_marker(sp::RowFormat::csv, ",,,\"a\"b\",1,2", 2, a));
  EXPECT_FALSE(sp::parse_ack_marker(sp::RowFormat::values, "{\"_topic\":\"t\",\"_partition\":1,\"_offset\":2}", 1, a));
}
