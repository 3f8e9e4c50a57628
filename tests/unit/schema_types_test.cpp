// The newer schema types (Date, DateTime64, LowCardinality(String), UUID, Enum8/16, Nullable(T)):
// the type text in the schema, the DDL, the server-version check, and sensor-parse's checks and
// output in every row format, from JSON and from CSV input.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "common/core/errors.hpp"
#include "common/rows/row_input.hpp"
#include "common/rows/schema.hpp"
#include "parse.hpp"

using sp::RowFormat;
using sp::Schema;
using sp::parse::RecordParser;
using sp::parse::Reject;

namespace {

// Columns k (String) and x of `type`; `extra` adds fields to x's object (",\"default\":...").
Schema one(const std::string& type, const std::string& extra = "") {
  return Schema::from_json(
      R"({"columns":[{"name":"k"},{"name":"x","type":)" + nlohmann::json(type).dump() + extra + "}]}", "s.json");
}

// The row for {"k":"a","x":<x>} (x absent when empty), or "REJECT: <reason>"; both parser paths.
std::string row(const Schema& s, const std::string& x, RowFormat f = RowFormat::json) {
  std::string line = x.empty() ? R"({"k":"a"})" : R"({"k":"a","x":)" + x + "}";
  std::string results[2];
  for (bool fast : {true, false}) {
    RecordParser p(s, f, fast);
    std::string out;
    Reject r;
    results[fast] = p.json_line(line, out, r) ? out : "REJECT: " + r.reason;
  }
  EXPECT_EQ(results[0], results[1]) << line;
  return results[0];
}

// The row for CSV input "k,x\na,<field>".
std::string csv_row(const Schema& s, const std::string& field, RowFormat f = RowFormat::json) {
  RecordParser p(s, f);
  p.csv_header("k,x");
  std::string out;
  Reject r;
  return p.csv_line("a," + field, out, r) ? out : "REJECT: " + r.reason;
}

}  // namespace

TEST(SchemaTypes, TypeTextsAndTheirDdl) {
  auto ddl = [](const std::string& type, const std::string& extra = "") { return one(type, extra).columns[1].clickhouse_type(); };
  EXPECT_EQ(ddl("Date"), "Date");
  EXPECT_EQ(ddl("UUID"), "UUID");
  EXPECT_EQ(ddl("DateTime64(3)"), "DateTime64(3)");
  EXPECT_EQ(ddl(" DateTime64( 6 , 'Europe/Berlin' ) "), "DateTime64(6, 'Europe/Berlin')");
  EXPECT_EQ(ddl("LowCardinality(String)"), "LowCardinality(String)");
  EXPECT_EQ(ddl("Enum8('ok' = 1, 'it\\'s' = -2)"), "Enum8('ok' = 1, 'it\\'s' = -2)");
  EXPECT_EQ(ddl("Enum16('a'=1000,'b\\\\'=-1000)"), "Enum16('a' = 1000, 'b\\\\' = -1000)");
  EXPECT_EQ(ddl("Nullable(Date)"), "Nullable(Date)");
  EXPECT_EQ(ddl("Nullable(DateTime64(3, 'UTC'))"), "Nullable(DateTime64(3, 'UTC'))");
  EXPECT_EQ(ddl("Nullable(Int32)"), "Nullable(Int32)");
  // ClickHouse has LowCardinality(Nullable(String)) and refuses Nullable(LowCardinality(String)).
  EXPECT_EQ(ddl("Nullable(LowCardinality(String))"), "LowCardinality(Nullable(String))");
  EXPECT_EQ(ddl("LowCardinality(Nullable(String))"), "LowCardinality(Nullable(String))");
  EXPECT_EQ(ddl("LowCardinality(String)", R"(,"required":false)"), "LowCardinality(Nullable(String))");
  EXPECT_EQ(ddl("Enum8('ok' = 1, 'bad' = 2)", R"(,"default":"bad")"), "Enum8('ok' = 1, 'bad' = 2) DEFAULT 'bad'");
  EXPECT_EQ(ddl("Nullable(Date)", R"(,"default":"2025-01-01")"), "Nullable(Date) DEFAULT '2025-01-01'");
  EXPECT_EQ(ddl("Date", R"(,"required":false)"), "Nullable(Date)");
  // Optional without a default stays Nullable, as before; an explicit Nullable is optional by itself.
  EXPECT_FALSE(one("Nullable(String)").columns[1].required);
  EXPECT_TRUE(one("Nullable(String)").columns[1].nullable());
}

TEST(SchemaTypes, DdlDefaultsAreTheValuesSensorParseWrites) {
  // ClickHouse's DDL reads neither ISO-8601 times nor, for DateTime64, a time zone-free text: the
  // default is written as sensor-parse writes the value.
  auto ddl = [](const std::string& type, const std::string& def) {
    return one(type, R"(,"default":")" + def + "\"").columns[1].clickhouse_type();
  };
  EXPECT_EQ(ddl("Date", "2025-07-07T23:30:00-01:00"), "Date DEFAULT '2025-07-08'");
  EXPECT_EQ(ddl("DateTime64(3, 'Asia/Tokyo')", "2025-07-07T22:00:00.5Z"),
            "DateTime64(3, 'Asia/Tokyo') DEFAULT '1751925600.500'");
  EXPECT_EQ(ddl("DateTime64(0)", "2025-07-07T22:00:00.5Z"), "DateTime64(0) DEFAULT '1751925600'");
  EXPECT_EQ(ddl("UUID", "123E4567-E89B-12D3-A456-42661417400F"), "UUID DEFAULT '123e4567-e89b-12d3-a456-42661417400f'");
  EXPECT_EQ(ddl("LowCardinality(String)", "it's"), "LowCardinality(String) DEFAULT 'it\\'s'");
  for (const char* bad : {"soon", "1969-12-31", "2150-01-01"})
    EXPECT_THROW(one("Date", std::string(R"(,"default":")") + bad + "\""), sp::ConfigError) << bad;
  for (const char* bad : {"soon", "1969-12-31"})
    EXPECT_THROW(one("DateTime64(3)", std::string(R"(,"default":")") + bad + "\""), sp::ConfigError) << bad;
  EXPECT_THROW(one("DateTime64(3)", R"(,"default":"2290-01-01")"), sp::ConfigError);
}

TEST(SchemaTypes, BadTypeTextsSayWhatIsWrong) {
  auto err = [](const std::string& type, const std::string& extra = "") {
    try {
      one(type, extra);
    } catch (const sp::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(err("DateTime64").find("type 'DateTime64': expected '(' at the end"), std::string::npos) << err("DateTime64");
  EXPECT_NE(err("Enum8").find("type 'Enum8': expected '('"), std::string::npos) << err("Enum8");
  EXPECT_NE(err("Decimal256(2)").find("unknown type 'Decimal256(2)'"), std::string::npos) << err("Decimal256(2)");
  EXPECT_NE(err("DateTime64(10)").find("precision must be 0 to 9"), std::string::npos);
  EXPECT_NE(err("DateTime64(3, 'UTC; DROP')").find("time zone must be a name"), std::string::npos);
  EXPECT_NE(err("DateTime64(3").find("expected ')'"), std::string::npos);
  EXPECT_NE(err("DateTime64(3) x").find("unexpected text after the type"), std::string::npos);
  EXPECT_NE(err("Enum8('a' = 200)").find("value 200 of 'a' is outside Enum8 (-128 to 127)"), std::string::npos);
  EXPECT_NE(err("Enum16('a' = 40000)").find("outside Enum16"), std::string::npos);
  EXPECT_NE(err("Enum8('a' = 1, 'a' = 2)").find("name 'a' is listed twice"), std::string::npos);
  EXPECT_NE(err("Enum8('a' = 1, 'b' = 1)").find("value 1 is listed twice"), std::string::npos);
  EXPECT_NE(err("Enum8(a = 1)").find("expected a 'quoted' name"), std::string::npos);
  EXPECT_NE(err("Enum8('a\\nb' = 1)").find("accepted"), std::string::npos);  // \n is the letter n here
  EXPECT_NE(err("Enum8('a\nb' = 1)").find("must not contain a line break"), std::string::npos);
  EXPECT_NE(err("LowCardinality(Int32)").find("only LowCardinality(String)"), std::string::npos);
  EXPECT_NE(err("Nullable(Nullable(Date))").find("Nullable(Nullable"), std::string::npos);
  EXPECT_NE(err("Nullable(Date)", R"(,"required":true)").find("cannot be required"), std::string::npos);
  EXPECT_NE(err("Date", R"(,"default":1)").find("does not fit type Date"), std::string::npos);
  // A default of the right JSON kind but not a value of the type: sensor-parse refuses the schema.
  try {
    RecordParser p(one("Enum8('ok' = 1)", R"(,"default":"nope")"), RowFormat::json);
    ADD_FAILURE() << "a default that is not an Enum name was accepted";
  } catch (const sp::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("the default does not pass its own checks: x: \"nope\" is not one of"),
              std::string::npos)
        << e.what();
  }
  EXPECT_NE(err("UUID", R"(,"min":1)").find("min/max only apply to numeric"), std::string::npos);
}

TEST(SchemaTypes, ServerVersionCheckNamesTheFirstMissingType) {
  auto s = one("DateTime64(3)");
  EXPECT_EQ(s.type_unsupported_by(18, 16), "column 'x': type DateTime64(3) needs ClickHouse 20.1 or newer");
  EXPECT_EQ(s.type_unsupported_by(20, 1), "");
  EXPECT_EQ(one("Nullable(LowCardinality(String))").type_unsupported_by(18, 16),
            "column 'x': type LowCardinality(String) needs ClickHouse 19.0 or newer");
  EXPECT_EQ(one("LowCardinality(String)").type_unsupported_by(19, 0), "");
  for (const char* t : {"Date", "UUID", "Enum8('a' = 1)", "Enum16('a' = 1)", "Nullable(Date)"})
    EXPECT_EQ(one(t).type_unsupported_by(18, 16), "") << t;
  EXPECT_EQ(Schema::default_schema().type_unsupported_by(1, 1), "");
}

TEST(SchemaTypes, PartitionByTakesDateAndDateTime64) {
  auto s = Schema::from_json(R"J({"columns":[{"name":"d","type":"Date"},{"name":"t","type":"DateTime64(3)"}],
    "partition_by":"toYYYYMM(d), toYear(t)"})J", "s.json");
  EXPECT_EQ(s.partition_by, "(toYYYYMM(d), toYear(t))");
}

TEST(SchemaTypes, DateFromDatesAndTimes) {
  auto s = one("Date");
  EXPECT_EQ(row(s, R"("2025-07-07")"), R"({"k":"a","x":"2025-07-07"})" "\n");
  // A time is the date it falls on in UTC.
  EXPECT_EQ(row(s, R"("2025-07-07T23:30:00-01:00")"), R"({"k":"a","x":"2025-07-08"})" "\n");
  EXPECT_EQ(row(s, R"("2149-06-06")"), R"({"k":"a","x":"2149-06-06"})" "\n");
  EXPECT_EQ(row(s, R"("2149-06-07")"), R"(REJECT: x: "2149-06-07" is after 2149-06-06, the end of ClickHouse Date)");
  EXPECT_EQ(row(s, R"("1969-12-31T23:59:59Z")"),
            R"(REJECT: x: "1969-12-31T23:59:59Z" is before 1970-01-01, the start of ClickHouse Date)");
  EXPECT_EQ(row(s, R"("2025-02-30")"), R"(REJECT: x: "2025-02-30" is not a date (day out of range))");
  EXPECT_EQ(row(s, "20250707"), "REJECT: x: expected a string, got a number");
  EXPECT_EQ(row(s, ""), "REJECT: missing required field x");
  EXPECT_EQ(row(s, R"("2025-07-07")", RowFormat::tsv), "a\t2025-07-07\n");
  EXPECT_EQ(row(s, R"("2025-07-07")", RowFormat::csv), "\"a\",\"2025-07-07\"\n");
  EXPECT_EQ(row(s, R"("2025-07-07")", RowFormat::values), "('a', '2025-07-07')\n");
  EXPECT_EQ(csv_row(s, "2025-07-07T12:00:00Z"), R"({"k":"a","x":"2025-07-07"})" "\n");
}

TEST(SchemaTypes, DateTime64KeepsTheFraction) {
  auto s = one("DateTime64(3, 'Asia/Tokyo')");
  // Written as 10-digit epoch seconds with the column's digits: an instant whatever the time zone.
  EXPECT_EQ(row(s, R"("2025-07-07T22:00:00.123Z")"), R"({"k":"a","x":"1751925600.123"})" "\n");
  EXPECT_EQ(row(s, R"("2025-07-08T00:00:00.5+02:00")"), R"({"k":"a","x":"1751925600.500"})" "\n");
  EXPECT_EQ(row(s, R"("2025-07-07T22:00:00Z")"), R"({"k":"a","x":"1751925600.000"})" "\n");
  EXPECT_EQ(row(s, R"("2025-07-07T22:00:00.123999Z")"), R"({"k":"a","x":"1751925600.123"})" "\n");  // cut
  EXPECT_EQ(row(s, R"("1970-01-01T00:00:01Z")"), R"({"k":"a","x":"0000000001.000"})" "\n");
  // Integers: epoch milliseconds (at or above 1e11), else seconds, as for DateTime.
  EXPECT_EQ(row(s, "1751925600123"), R"({"k":"a","x":"1751925600.123"})" "\n");
  EXPECT_EQ(row(s, "1751925600"), R"({"k":"a","x":"1751925600.000"})" "\n");
  EXPECT_EQ(row(s, "1751925600.5"),
            "REJECT: x: expected an ISO-8601 string or epoch milliseconds (an integer), got a number");
  EXPECT_EQ(row(s, "-1"), "REJECT: x: -1 is before 1970-01-01, the start of DateTime64 in sensor-parse");
  EXPECT_EQ(row(s, "18446744073709551615"), "REJECT: x: epoch time 18446744073709551615 is out of range");
  EXPECT_EQ(row(s, R"("2286-11-20T17:46:40Z")"),
            R"(REJECT: x: "2286-11-20T17:46:40Z" is after the end of ClickHouse DateTime64(3, 'Asia/Tokyo') (2286-11-20 17:46:39))");
  EXPECT_EQ(row(s, R"("noon")"), R"(REJECT: x: "noon" is not an ISO-8601 time (expected YYYY-MM-DD at the start))");
  EXPECT_EQ(row(s, "true"), "REJECT: x: expected an ISO-8601 string or epoch milliseconds (an integer), got a boolean");

  auto ns = one("DateTime64(9)");
  EXPECT_EQ(row(ns, R"("2025-07-07T22:00:00.123456789Z")"), R"({"k":"a","x":"1751925600.123456789"})" "\n");
  EXPECT_EQ(row(ns, R"("2025-07-07T22:00:00.1Z")"), R"({"k":"a","x":"1751925600.100000000"})" "\n");
  EXPECT_EQ(row(ns, R"("2262-04-11T23:47:17Z")").substr(0, 40), R"(REJECT: x: "2262-04-11T23:47:17Z" is aft)");
  auto s0 = one("DateTime64(0)");
  EXPECT_EQ(row(s0, R"("2025-07-07T22:00:00.999Z")"), R"({"k":"a","x":"1751925600"})" "\n");

  EXPECT_EQ(row(s, R"("2025-07-07T22:00:00.123Z")", RowFormat::tsv), "a\t1751925600.123\n");
  EXPECT_EQ(row(s, R"("2025-07-07T22:00:00.123Z")", RowFormat::csv), "\"a\",\"1751925600.123\"\n");
  EXPECT_EQ(row(s, R"("2025-07-07T22:00:00.123Z")", RowFormat::values), "('a', '1751925600.123')\n");
  EXPECT_EQ(csv_row(s, "2025-07-07T22:00:00.123Z"), R"({"k":"a","x":"1751925600.123"})" "\n");
  EXPECT_EQ(csv_row(s, "1751925600123"), R"({"k":"a","x":"1751925600.123"})" "\n");
  EXPECT_EQ(csv_row(s, "99999999999999999999"), R"(REJECT: x: "99999999999999999999" is out of range)");
}

TEST(SchemaTypes, UuidIsCanonicalTextWrittenInLowerCase) {
  auto s = one("UUID");
  EXPECT_EQ(row(s, R"("123E4567-E89B-12D3-A456-426614174000")"),
            R"({"k":"a","x":"123e4567-e89b-12d3-a456-426614174000"})" "\n");
  for (const char* bad : {"123e4567e89b12d3a456426614174000", "123e4567-e89b-12d3-a456-42661417400",
                          "123e4567-e89b-12d3-a456-4266141740000", "g23e4567-e89b-12d3-a456-426614174000",
                          "123e4567_e89b-12d3-a456-426614174000", "{123e4567-e89b-12d3-a456-42661417400}"})
    EXPECT_EQ(row(s, std::string("\"") + bad + "\""),
              std::string("REJECT: x: \"") + bad +
                  "\" is not a UUID (8-4-4-4-12 hex digits, like 123e4567-e89b-12d3-a456-426614174000)");
  EXPECT_EQ(row(s, "1"), "REJECT: x: expected a string, got a number");
  EXPECT_EQ(row(s, R"("00000000-0000-0000-0000-00000000000a")", RowFormat::tsv), "a\t00000000-0000-0000-0000-00000000000a\n");
  EXPECT_EQ(row(s, R"("00000000-0000-0000-0000-00000000000a")", RowFormat::values),
            "('a', '00000000-0000-0000-0000-00000000000a')\n");
  EXPECT_EQ(csv_row(s, "00000000-0000-0000-0000-00000000000A", RowFormat::csv),
            "\"a\",\"00000000-0000-0000-0000-00000000000a\"\n");
}

TEST(SchemaTypes, EnumTakesListedNamesAndValues) {
  auto s = one("Enum8('ok' = 1, 'it\\'s \\\\odd' = -2)");
  EXPECT_EQ(row(s, R"("ok")"), R"({"k":"a","x":"ok"})" "\n");
  EXPECT_EQ(row(s, "-2"), R"({"k":"a","x":"it's \\odd"})" "\n");  // a value is written as its name
  EXPECT_EQ(row(s, R"("it's \\odd")", RowFormat::tsv), "a\tit's \\\\odd\n");
  EXPECT_EQ(row(s, R"("it's \\odd")", RowFormat::csv), "\"a\",\"it's \\odd\"\n");
  EXPECT_EQ(row(s, R"("it's \\odd")", RowFormat::values), "('a', 'it\\'s \\\\odd')\n");
  EXPECT_EQ(row(s, R"("OK")"), R"(REJECT: x: "OK" is not one of the Enum8 names ("ok", "it's \\odd"))");
  EXPECT_EQ(row(s, "3"), "REJECT: x: 3 is not a value of Enum8('ok' = 1, 'it\\'s \\\\odd' = -2)");
  EXPECT_EQ(row(s, "1.5"), "REJECT: x: expected a string (an Enum name) or an integer (its value), got a number");
  EXPECT_EQ(csv_row(s, "ok"), R"({"k":"a","x":"ok"})" "\n");
  EXPECT_EQ(csv_row(s, "1"), R"({"k":"a","x":"ok"})" "\n");
  EXPECT_EQ(csv_row(s, "nope"), R"(REJECT: x: "nope" is not one of the Enum8 names ("ok", "it's \\odd"))");
  auto d = one("Enum16('th-100' = 1000, 'th-200' = 2000)", R"(,"default":"th-200")");
  EXPECT_EQ(row(d, ""), R"({"k":"a","x":"th-200"})" "\n");
  EXPECT_EQ(row(d, "1000"), R"({"k":"a","x":"th-100"})" "\n");
}

TEST(SchemaTypes, LowCardinalityIsAStringWithItsChecks) {
  auto s = one("LowCardinality(String)", R"(,"max_length":4)");
  EXPECT_EQ(row(s, R"("s-1")"), R"({"k":"a","x":"s-1"})" "\n");
  EXPECT_EQ(row(s, R"("")"), "REJECT: x: empty string but required");
  EXPECT_EQ(row(s, R"("s-100")"), "REJECT: x: string of 5 bytes is longer than the maximum 4");
  EXPECT_EQ(row(s, R"("a\nb")", RowFormat::csv).substr(0, 42), "REJECT: x: contains a line break, which CS");
  EXPECT_EQ(row(s, R"("a\tb")", RowFormat::tsv), "a\ta\\tb\n");
  EXPECT_EQ(row(s, "1"), "REJECT: x: expected a string, got a number");
}

TEST(SchemaTypes, NullableTakesNullOrAbsence) {
  for (const char* t : {"Nullable(Date)", "Nullable(DateTime64(3))", "Nullable(UUID)", "Nullable(Enum8('a' = 1))",
                        "Nullable(LowCardinality(String))", "Nullable(String)", "Nullable(Float64)"}) {
    auto s = one(t);
    EXPECT_EQ(row(s, ""), R"({"k":"a","x":null})" "\n") << t;
    EXPECT_EQ(row(s, "null"), R"({"k":"a","x":null})" "\n") << t;
    EXPECT_EQ(row(s, "null", RowFormat::tsv), "a\t\\N\n") << t;
    EXPECT_EQ(row(s, "null", RowFormat::csv), "\"a\",\\N\n") << t;
    EXPECT_EQ(row(s, "null", RowFormat::values), "('a', NULL)\n") << t;
    EXPECT_EQ(csv_row(s, ""), R"({"k":"a","x":null})" "\n") << t;
  }
  // The checks of T still apply to a value.
  EXPECT_EQ(row(one("Nullable(Date)"), R"("x")").substr(0, 30), R"(REJECT: x: "x" is not a date ()");
  EXPECT_EQ(row(one("Nullable(Float64)"), "1.5"), R"({"k":"a","x":1.5})" "\n");
}

TEST(SchemaTypes, ChInsertRowShapeTakesNullOnlyInNullableColumns) {
  auto s = Schema::from_json(R"J({"columns":[{"name":"k"},{"name":"d","type":"Nullable(Date)"},{"name":"u","type":"UUID"}]})J",
                             "s.json");
  auto shape = sp::RowShape::of(s);
  std::string out, why;
  sp::RowCoords c;
  EXPECT_EQ(sp::split_row(RowFormat::json, R"({"k":"a","d":null,"u":"00000000-0000-0000-0000-000000000000"})", shape,
                          false, out, c, why),
            sp::RowStatus::row)
      << why;
  out.clear();
  EXPECT_EQ(sp::split_row(RowFormat::json, R"({"k":"a","d":"2025-01-01","u":null})", shape, false, out, c, why),
            sp::RowStatus::invalid);
  EXPECT_NE(why.find("u"), std::string::npos) << why;
}

TEST(SchemaTypes, DecimalTypeTexts) {
  auto ddl = [](const std::string& type, const std::string& extra = "") { return one(type, extra).columns[1].clickhouse_type(); };
  EXPECT_EQ(ddl("Decimal(9, 2)"), "Decimal(9, 2)");
  EXPECT_EQ(ddl("Decimal( 38 ,0 )"), "Decimal(38, 0)");
  EXPECT_EQ(ddl("Decimal32(4)"), "Decimal(9, 4)");
  EXPECT_EQ(ddl("Decimal64(3)"), "Decimal(18, 3)");
  EXPECT_EQ(ddl("Decimal128(10)"), "Decimal(38, 10)");
  EXPECT_EQ(ddl("Nullable(Decimal(5, 1))"), "Nullable(Decimal(5, 1))");
  // A default is a JSON string: a JSON number would pass through a double on the way.
  EXPECT_EQ(ddl("Decimal(9, 2)", R"(,"default":"1.5")"), "Decimal(9, 2) DEFAULT '1.50'");
  auto err = [](const std::string& type, const std::string& extra = "") {
    try {
      one(type, extra);
    } catch (const sp::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(err("Decimal(0, 0)").find("precision must be 1 to 38"), std::string::npos) << err("Decimal(0, 0)");
  EXPECT_NE(err("Decimal(39, 2)").find("precision must be 1 to 38"), std::string::npos);
  EXPECT_NE(err("Decimal(9, 10)").find("scale must be 0 to the precision (9)"), std::string::npos) << err("Decimal(9, 10)");
  EXPECT_NE(err("Decimal32(10)").find("scale must be 0 to the precision (9)"), std::string::npos);
  EXPECT_NE(err("Decimal(9)").find("expected ','"), std::string::npos) << err("Decimal(9)");
  EXPECT_NE(err("Decimal(9, 2)", R"(,"default":1.5)").find("a Decimal default is a JSON string"), std::string::npos)
      << err("Decimal(9, 2)", R"(,"default":1.5)");
  EXPECT_NE(err("Decimal(3, 2)", R"(,"default":"10")").find("is not a Decimal(3, 2) value"), std::string::npos)
      << err("Decimal(3, 2)", R"(,"default":"10")");
  EXPECT_EQ(one("Decimal(9, 2)").type_unsupported_by(18, 16), "");
}

TEST(SchemaTypes, DecimalIsWrittenExactlyFromTheNumbersText) {
  auto s = one("Decimal(19, 2)");
  // Beyond a double's 15-17 digits, and 0.1, arrive as written, padded to the scale.
  EXPECT_EQ(row(s, "12345678901234567.89"), R"({"k":"a","x":12345678901234567.89})" "\n");
  EXPECT_EQ(row(s, "0.1"), R"({"k":"a","x":0.10})" "\n");
  EXPECT_EQ(row(s, "-7"), R"({"k":"a","x":-7.00})" "\n");
  EXPECT_EQ(row(s, "-0.00"), R"({"k":"a","x":0.00})" "\n");
  EXPECT_EQ(row(s, "1.2300"), R"({"k":"a","x":1.23})" "\n");  // zeros past the scale change nothing
  // Exponents shift the point exactly.
  EXPECT_EQ(row(s, "1.5e3"), R"({"k":"a","x":1500.00})" "\n");
  EXPECT_EQ(row(s, "125E-2"), R"({"k":"a","x":1.25})" "\n");
  EXPECT_EQ(row(s, "1e-400"), "REJECT: x: 1e-400 has more fraction digits than Decimal(19, 2) keeps (2): not rounded");
  // A JSON string holding a number is taken too (as ClickHouse does).
  EXPECT_EQ(row(s, R"("99999999999999999.99")"), R"({"k":"a","x":99999999999999999.99})" "\n");
  EXPECT_EQ(row(s, "1.234"), "REJECT: x: 1.234 has more fraction digits than Decimal(19, 2) keeps (2): not rounded");
  EXPECT_EQ(row(s, "123456789012345678"),
            "REJECT: x: 123456789012345678 is out of range for Decimal(19, 2) (at most 17 digits before the point)");
  EXPECT_EQ(row(s, "1e17"), "REJECT: x: 1e17 is out of range for Decimal(19, 2) (at most 17 digits before the point)");
  // Past a double's range the JSON parser refuses the line itself; as a string it gets the Decimal's reason.
  EXPECT_EQ(row(s, "1e999999999999"), "REJECT: number out of range: 1e999999999999");
  EXPECT_EQ(row(s, R"("1e999999999999")"),
            R"(REJECT: x: "1e999999999999" is out of range for Decimal(19, 2) (at most 17 digits before the point))");
  EXPECT_EQ(row(s, R"("1,5")"), R"(REJECT: x: "1,5" is not a decimal number)");
  EXPECT_EQ(row(s, R"(" 1")"), R"(REJECT: x: " 1" is not a decimal number)");
  EXPECT_EQ(row(s, "true"), "REJECT: x: expected a number or a string holding one, got a boolean");
  auto s0 = one("Decimal(3, 0)");
  EXPECT_EQ(row(s0, "999"), R"({"k":"a","x":999})" "\n");
  EXPECT_EQ(row(s0, "-999.000"), R"({"k":"a","x":-999})" "\n");
  EXPECT_EQ(row(s0, "1000").substr(0, 33), "REJECT: x: 1000 is out of range f");
  auto s38 = one("Decimal(38, 38)");
  EXPECT_EQ(row(s38, "-0.12345678901234567890123456789012345678"),
            R"({"k":"a","x":-0.12345678901234567890123456789012345678})" "\n");
  // Every format writes the number as is (ClickHouse 18.16 reads no quoted Decimal in CSV or JSON).
  EXPECT_EQ(row(s, "0.1", RowFormat::tsv), "a\t0.10\n");
  EXPECT_EQ(row(s, "0.1", RowFormat::csv), "\"a\",0.10\n");
  EXPECT_EQ(row(s, "0.1", RowFormat::values), "('a', 0.10)\n");
  EXPECT_EQ(csv_row(s, "12345678901234567.89"), R"({"k":"a","x":12345678901234567.89})" "\n");
  EXPECT_EQ(csv_row(s, "1.234"), R"(REJECT: x: "1.234" has more fraction digits than Decimal(19, 2) keeps (2): not rounded)");
  // In an envelope, and as an envelope's JSON-in-a-string value.
  std::string out;
  Reject r;
  auto s20 = one("Decimal(38, 20)");
  RecordParser p20(s20, RowFormat::tsv);
  ASSERT_TRUE(p20.json_line(R"({"topic":"t","partition":0,"offset":1,"value":{"k":"a","x":0.30000000000000004441}})", out, r))
      << r.reason;
  EXPECT_EQ(out, "a\t0.30000000000000004441\tt\t0\t1\n");
  out.clear();
  ASSERT_TRUE(p20.json_line(R"({"topic":"t","partition":0,"offset":2,"value":"{\"k\":\"a\",\"x\":1.00000000000000000001}"})", out, r))
      << r.reason;
  EXPECT_EQ(out, "a\t1.00000000000000000001\tt\t0\t2\n");
  // Default and Nullable
  auto d = one("Decimal(9, 2)", R"(,"default":"2.5")");
  EXPECT_EQ(row(d, ""), R"({"k":"a","x":2.50})" "\n");
  EXPECT_EQ(row(one("Nullable(Decimal(9, 2))"), "null"), R"({"k":"a","x":null})" "\n");
}

TEST(SchemaTypes, ArrayAndMapTypeTexts) {
  auto ddl = [](const std::string& type, const std::string& extra = "") { return one(type, extra).columns[1].clickhouse_type(); };
  EXPECT_EQ(ddl("Array(Float64)"), "Array(Float64)");
  EXPECT_EQ(ddl("Array( Nullable(Int32) )"), "Array(Nullable(Int32))");
  EXPECT_EQ(ddl("Array(Nullable(LowCardinality(String)))"), "Array(LowCardinality(Nullable(String)))");
  EXPECT_EQ(ddl("Array(Decimal32(2))"), "Array(Decimal(9, 2))");
  EXPECT_EQ(ddl("Array(Enum8('a' = 1, 'b,)' = 2))"), "Array(Enum8('a' = 1, 'b,)' = 2))");
  EXPECT_EQ(ddl("Map(String, Float64)"), "Map(String, Float64)");
  EXPECT_EQ(ddl("Map(String,Nullable(DateTime64(3, 'UTC')))"), "Map(String, Nullable(DateTime64(3, 'UTC')))");
  // Never Nullable: absent (when not required) it is written empty.
  EXPECT_EQ(ddl("Array(String)", R"(,"required":false)"), "Array(String)");
  EXPECT_FALSE(one("Map(String, UInt8)", R"(,"required":false)").columns[1].nullable());
  auto err = [](const std::string& type, const std::string& extra = "") {
    try {
      one(type, extra);
    } catch (const sp::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(err("Nullable(Array(Int8))").find("no Nullable Array or Map"), std::string::npos) << err("Nullable(Array(Int8))");
  EXPECT_NE(err("Array(Array(Int8))").find("inside an Array or Map is not supported"), std::string::npos);
  EXPECT_NE(err("Map(String, Map(String, Int8))").find("inside an Array or Map"), std::string::npos);
  EXPECT_NE(err("Map(UInt8, Int8)").find("only Map(String, T)"), std::string::npos);
  EXPECT_NE(err("Array(Int8").find("expected ')'"), std::string::npos) << err("Array(Int8");
  EXPECT_NE(err("Array(Int8) x").find("unexpected text after the type"), std::string::npos) << err("Array(Int8) x");
  EXPECT_NE(err("Array(Foo)").find("unknown type 'Foo'"), std::string::npos) << err("Array(Foo)");
  EXPECT_NE(err("Array(Int8)", R"(,"default":[])").find("takes no default"), std::string::npos);
  // The server check looks inside: a Map needs 21.8 (21.1-21.7 refuse CREATE TABLE without an
  // experimental setting), an Array of DateTime64 20.1.
  EXPECT_EQ(one("Map(String, Float64)").type_unsupported_by(20, 12),
            "column 'x': type Map(String, Float64) needs ClickHouse 21.8 or newer");
  EXPECT_EQ(one("Map(String, Float64)").type_unsupported_by(21, 7),
            "column 'x': type Map(String, Float64) needs ClickHouse 21.8 or newer (21.1-21.7 have it as an "
            "experimental type: create the table yourself with SET allow_experimental_map_type = 1)");
  EXPECT_EQ(one("Map(String, Float64)").type_unsupported_by(21, 8), "");
  EXPECT_EQ(one("Array(DateTime64(3))").type_unsupported_by(18, 16),
            "column 'x': type DateTime64(3) needs ClickHouse 20.1 or newer");
  EXPECT_EQ(one("Array(Nullable(Float64))").type_unsupported_by(18, 16), "");
}

TEST(SchemaTypes, ArrayElementsAreCheckedAndWrittenInEveryFormat) {
  auto s = one("Array(Nullable(String))");
  const std::string in = R"(["a\tb", "it's", "back\\x", "q\"", "", null, "nl\nx"])";
  EXPECT_EQ(row(s, in), R"({"k":"a","x":["a\tb","it's","back\\x","q\"","",null,"nl\nx"]})" "\n");
  EXPECT_EQ(row(s, in, RowFormat::tsv), R"(a	['a\tb','it\'s','back\\x','q"','',NULL,'nl\nx'])" "\n");
  // CSV: one quoted field, its quotes doubled; a line break in an element is \n, so CSV can carry it.
  EXPECT_EQ(row(s, in, RowFormat::csv), R"("a","['a\tb','it\'s','back\\x','q""','',NULL,'nl\nx']")" "\n");
  EXPECT_EQ(row(s, in, RowFormat::values), R"(('a', ['a\tb','it\'s','back\\x','q"','',NULL,'nl\nx']))" "\n");
  EXPECT_EQ(row(s, "[]"), R"({"k":"a","x":[]})" "\n");
  EXPECT_EQ(row(s, ""), "REJECT: missing required field x");
  EXPECT_EQ(row(s, "null"), "REJECT: x: is null but required");
  EXPECT_EQ(row(s, R"("a")"), "REJECT: x: expected an array, got a string");

  auto f = one("Array(Float64)", R"(,"required":false)");
  EXPECT_EQ(row(f, "[1, -2.5, 1e3, 0]"), R"({"k":"a","x":[1,-2.5,1000,0]})" "\n");
  EXPECT_EQ(row(f, "[1, -2.5]", RowFormat::csv), R"("a","[1,-2.5]")" "\n");
  EXPECT_EQ(row(f, ""), R"({"k":"a","x":[]})" "\n");  // absent: empty
  EXPECT_EQ(row(f, "null", RowFormat::tsv), "a\t[]\n");
  EXPECT_EQ(row(f, "null", RowFormat::csv), "\"a\",\"[]\"\n");
  EXPECT_EQ(row(f, R"([1, "2"])"), "REJECT: x element 1: expected a number, got a string");
  EXPECT_EQ(row(f, "[1, null]"),
            "REJECT: x element 1: is null, and the elements of Array(Float64) are not Nullable (use Nullable(Float64))");
  EXPECT_EQ(row(f, "[[1]]"), "REJECT: x element 0: expected a number, got an array");

  auto t = one("Array(DateTime)");
  EXPECT_EQ(row(t, R"(["2025-07-07T22:00:00Z", 1751925601])", RowFormat::values),
            "('a', ['2025-07-07 22:00:00','2025-07-07 22:00:01'])\n");
  EXPECT_EQ(row(t, R"(["2025-07-07T22:00:00Z"])"), R"({"k":"a","x":["2025-07-07 22:00:00"]})" "\n");
  EXPECT_EQ(row(one("Array(UInt8)"), "[1, 256]"), "REJECT: x element 1: 256 is out of range for UInt8");
  EXPECT_EQ(row(one("Array(Enum8('ok' = 1))"), R"(["ok", 1, "no"])"),
            R"(REJECT: x element 2: "no" is not one of the Enum8 names ("ok"))");
  EXPECT_EQ(row(one("Array(UUID)"), R"(["123E4567-E89B-12D3-A456-426614174000"])", RowFormat::tsv),
            "a\t['123e4567-e89b-12d3-a456-426614174000']\n");
  EXPECT_EQ(row(one("Array(Bool)"), "[true, false, 1]"), R"({"k":"a","x":[1,0,1]})" "\n");
  // Decimal elements from their text, each at its own index.
  auto d = one("Array(Decimal(20, 2))");
  EXPECT_EQ(row(d, R"([0.1, "2", 123456789012345678.99, -1.5e1])"),
            R"({"k":"a","x":[0.10,2.00,123456789012345678.99,-15.00]})" "\n");
  EXPECT_EQ(row(d, "[0.1, 0.123]"),
            "REJECT: x element 1: 0.123 has more fraction digits than Decimal(20, 2) keeps (2): not rounded");
  // CSV input: the field is the JSON array.
  EXPECT_EQ(csv_row(d, R"("[0.1,12345678901234567.89]")", RowFormat::tsv), "a\t[0.10,12345678901234567.89]\n");
  EXPECT_EQ(csv_row(f, "[1;2]").substr(0, 40), R"(REJECT: x: "[1;2]" is not a JSON array ()");
  EXPECT_EQ(csv_row(f, ""), R"({"k":"a","x":[]})" "\n");
}

TEST(SchemaTypes, MapKeysAndValuesAreCheckedAndWrittenInEveryFormat) {
  auto s = one("Map(String, Nullable(Float64))");
  const std::string in = R"({"t":21.5,"k\"'\\":null,"":-1})";
  EXPECT_EQ(row(s, in), R"({"k":"a","x":{"t":21.5,"k\"'\\":null,"":-1}})" "\n");
  EXPECT_EQ(row(s, in, RowFormat::tsv), R"(a	{'t':21.5,'k"\'\\':NULL,'':-1})" "\n");
  EXPECT_EQ(row(s, in, RowFormat::csv), R"("a","{'t':21.5,'k""\'\\':NULL,'':-1}")" "\n");
  EXPECT_EQ(row(s, in, RowFormat::values), R"(('a', {'t':21.5,'k"\'\\':NULL,'':-1}))" "\n");
  EXPECT_EQ(row(s, "{}", RowFormat::values), "('a', {})\n");
  EXPECT_EQ(row(s, R"({"t":"warm"})"), R"(REJECT: x key "t": expected a number, got a string)");
  EXPECT_EQ(row(s, R"({"t":1,"t":2})"), R"(REJECT: x: key "t" appears twice)");
  EXPECT_EQ(row(s, "[1]"), "REJECT: x: expected an object, got an array");
  auto o = one("Map(String, String)", R"(,"required":false)");
  EXPECT_EQ(row(o, "", RowFormat::csv), "\"a\",\"{}\"\n");
  EXPECT_EQ(row(o, R"({"a/b~c":"x"})", RowFormat::tsv), "a\t{'a/b~c':'x'}\n");
  // A Decimal value is found by its key, whatever the key holds (JSON pointer escapes ~0 ~1).
  auto d = one("Map(String, Decimal(38, 20))");
  EXPECT_EQ(row(d, R"({"a/b~c":0.30000000000000004441,"z":1})"),
            R"({"k":"a","x":{"a/b~c":0.30000000000000004441,"z":1.00000000000000000000}})" "\n");
  EXPECT_EQ(csv_row(d, R"("{""p"":0.1}")", RowFormat::values), "('a', {'p':0.10000000000000000000})\n");
}

TEST(SchemaTypes, ChInsertCountsTheValuesOfATupleWithMapsAndArrays) {
  auto s = Schema::from_json(
      R"J({"columns":[{"name":"k"},{"name":"m","type":"Map(String, Float64)"},{"name":"a","type":"Array(String)"}]})J",
      "s.json");
  auto shape = sp::RowShape::of(s);
  std::string out, why;
  sp::RowCoords c;
  const std::string tuple = R"(('a', {'x,':1,'y':2}, ['a,b','c']))";
  EXPECT_EQ(sp::split_row(RowFormat::values, tuple, shape, false, out, c, why), sp::RowStatus::row) << why;
  EXPECT_EQ(out, tuple);
  // What sensor-parse writes, in every format, is one row of the shape.
  for (RowFormat f : {RowFormat::json, RowFormat::tsv, RowFormat::csv, RowFormat::values}) {
    RecordParser p(s, f);
    std::string line;
    Reject r;
    ASSERT_TRUE(p.json_line(R"({"k":"a","m":{"x,":1,"y\t":2},"a":["a,b","c\"d"]})", line, r)) << r.reason;
    line.pop_back();
    out.clear();
    EXPECT_EQ(sp::split_row(f, line, shape, false, out, c, why), sp::RowStatus::row) << line << ": " << why;
  }
}

TEST(SchemaTypes, DecimalLinesKeepTheFastPath) {
  // The fast path reads the number's text itself; the simdjson path must look it up again.
  auto s = one("Decimal(12, 3)");
  RecordParser p(s, RowFormat::tsv);
  std::string out;
  Reject r;
  ASSERT_TRUE(p.json_line(R"({"k":"a","x":123456789.125})", out, r)) << r.reason;
  ASSERT_TRUE(p.json_line(R"({"k":"a","x":"0.1"})", out, r)) << r.reason;
  EXPECT_EQ(out, "a\t123456789.125\na\t0.100\n");
  EXPECT_EQ(p.fast_rows(), 2u);
  // An Array or Map column sends the schema's lines to the simdjson path.
  RecordParser q(one("Array(Int8)"), RowFormat::tsv);
  ASSERT_TRUE(q.json_line(R"({"k":"a","x":[1]})", out, r)) << r.reason;
  EXPECT_EQ(q.fast_rows(), 0u);
}

TEST(SchemaTypes, DecimalTextShiftsThePointExactly) {
  auto text = [](const std::string& in, int p, int s) {
    char buf[48];
    sp::DecimalFault f = sp::DecimalFault::none;
    size_t n = sp::decimal_text(in, p, s, buf, &f);
    if (n) return std::string(buf, n);
    return std::string(f == sp::DecimalFault::syntax ? "syntax" : f == sp::DecimalFault::fraction ? "fraction" : "range");
  };
  EXPECT_EQ(text("0", 1, 0), "0");
  EXPECT_EQ(text("-0", 3, 2), "0.00");
  EXPECT_EQ(text("0e999999999999999999", 3, 2), "0.00");  // zero whatever the exponent
  EXPECT_EQ(text("12.5", 3, 1), "12.5");
  EXPECT_EQ(text("12.5", 3, 2), "range");
  EXPECT_EQ(text("12.50", 4, 1), "12.5");
  EXPECT_EQ(text("12.51", 4, 1), "fraction");
  EXPECT_EQ(text("1.25E+2", 3, 0), "125");
  EXPECT_EQ(text("12500e-2", 3, 0), "125");
  EXPECT_EQ(text("125e-4", 5, 4), "0.0125");
  EXPECT_EQ(text("125e-5", 5, 4), "fraction");
  EXPECT_EQ(text("1e-99999999999", 38, 38), "fraction");
  EXPECT_EQ(text("1e99999999999", 38, 0), "range");
  EXPECT_EQ(text("0.000", 1, 0), "0");
  EXPECT_EQ(text("007.50", 2, 1), "7.5");  // leading zeros (in a string) are no digits
  EXPECT_EQ(text("99999999999999999999999999999999999999", 38, 0), "99999999999999999999999999999999999999");
  EXPECT_EQ(text("-0.00000000000000000000000000000000000001", 38, 38), "-0.00000000000000000000000000000000000001");
  for (const char* bad : {"", "-", "1.", ".5", "+1", "1e", "1e+", "--1", "1,5", " 1", "1 ", "0x10", "1.2.3", "NaN", "inf"})
    EXPECT_EQ(text(bad, 9, 2), "syntax") << bad;
}

TEST(SchemaTypes, DecimalUnderAnEscapedKey) {
  // simdjson On Demand compares keys as written, so a key with \u escapes on the path hides the
  // number's text: an integer is still exact, a fraction is a reject that says why.
  auto s = one("Decimal(9, 2)");
  RecordParser p(s, RowFormat::tsv);
  std::string out;
  Reject r;
  EXPECT_TRUE(p.json_line(R"({"k":"a","\u0078":15})", out, r)) << r.reason;
  EXPECT_EQ(out, "a\t15.00\n");
  EXPECT_FALSE(p.json_line(R"({"k":"a","\u0078":1.5})", out, r));
  EXPECT_EQ(r.reason, "x: the number's text is not found again in the line (a key on its path written with \\u escapes): "
                      "write the key plainly, or the number as a string");
}
