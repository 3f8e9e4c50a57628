#include "common/rows/row_binary.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "common/rows/rows.hpp"

using sp::RbColumn;
using sp::ColType;

namespace {

std::string enc(std::string_view row, std::vector<RbColumn> cols) {
  std::string out, why;
  EXPECT_TRUE(sp::append_row_binary(row, cols, out, why)) << why;
  return out;
}

std::string fails(std::string_view row, std::vector<RbColumn> cols) {
  std::string out = "kept", why;
  EXPECT_FALSE(sp::append_row_binary(row, cols, out, why));
  EXPECT_EQ(out, "kept");  // nothing appended on failure
  return why;
}

template <class T>
std::string le(T v) {
  std::string s(sizeof v, '\0');
  std::memcpy(&s[0], &v, sizeof v);
  return s;
}

}  // namespace

TEST(RowBinary, SeedRowExactBytes) {
  auto plan = sp::row_binary_plan(sp::Schema::default_schema(), false);
  ASSERT_TRUE(plan.ok()) << plan.unsupported;
  EXPECT_TRUE(plan.has_datetime);
  // what sensor-parse's RowBuilder writes in TSV for the seed's example
  sp::RowBuilder b(sp::RowFormat::tsv, sp::Schema::default_schema().column_names());
  std::string row;
  b.begin(row);
  b.string("msg-123");
  b.datetime(1751925600);
  b.string("sensor-001");
  b.number("23.5");
  b.number("45");
  b.number("1013");
  b.end();
  std::string want = std::string("\x07msg-123") + le<uint32_t>(1751925600) + "\x0asensor-001" + le<double>(23.5);
  // humidity and pressure are Float64 in the seed's schema
  want += le<double>(45) + le<double>(1013);
  EXPECT_EQ(enc(row, plan.columns), want);
}

TEST(RowBinary, IntegersEachWidth) {
  EXPECT_EQ(enc("-128\t255\t-32768\t65535", {{ColType::Int8}, {ColType::UInt8}, {ColType::Int16}, {ColType::UInt16}}),
            le<int8_t>(-128) + le<uint8_t>(255) + le<int16_t>(-32768) + le<uint16_t>(65535));
  EXPECT_EQ(enc("-2147483648\t4294967295\t-9223372036854775808\t18446744073709551615",
                {{ColType::Int32}, {ColType::UInt32}, {ColType::Int64}, {ColType::UInt64}}),
            le<int32_t>(INT32_MIN) + le<uint32_t>(UINT32_MAX) + le<int64_t>(INT64_MIN) + le<uint64_t>(UINT64_MAX));
  EXPECT_EQ(enc("+7", {{ColType::Int32}}), le<int32_t>(7));
  EXPECT_NE(fails("256", {{ColType::UInt8}}), "");  // ClickHouse's text reader would wrap: left to it
  fails("-1", {{ColType::UInt32}});
  fails("1.5", {{ColType::Int64}});
  fails("", {{ColType::Int64}});
  fails("12a", {{ColType::Int64}});
}

// The types RowBinary writes as another's: Bool as UInt8, LowCardinality(String) as String; a type
// without an encoding (a hand-made column list: the plan never has one) fails, naming it.
TEST(RowBinary, AliasedTypesAndTypesWithoutEncoding) {
  EXPECT_EQ(enc("1\t0\tab", {{ColType::Bool}, {ColType::UInt8}, {ColType::LowCardinalityString}}),
            std::string("\x01\x00\x02" "ab", 5));
  EXPECT_NE(fails("1.50", {{ColType::Decimal}}).find("field 1 (Decimal)"), std::string::npos);
}

TEST(RowBinary, FloatsExactAndSpecial) {
  EXPECT_EQ(enc("0.1\t0.1", {{ColType::Float64}, {ColType::Float32}}), le<double>(0.1) + le<float>(0.1f));
  EXPECT_EQ(enc("-1.5e-300\t3.4028235e38", {{ColType::Float64}, {ColType::Float32}}),
            le<double>(-1.5e-300) + le<float>(3.4028235e38f));
  EXPECT_EQ(enc("inf\t-inf", {{ColType::Float64}, {ColType::Float32}}),
            le<double>(HUGE_VAL) + le<float>(-HUGE_VALF));
  std::string nan = enc("nan", {{ColType::Float64}});
  double d;
  std::memcpy(&d, nan.data(), 8);
  EXPECT_TRUE(std::isnan(d));
  fails("1,5", {{ColType::Float64}});
  fails("0x10", {{ColType::Float64}});
  fails("infinity", {{ColType::Float64}});
}

TEST(RowBinary, StringsUnescapedWithVarintLength) {
  EXPECT_EQ(enc("a\\tb\\nc\\\\d\\re\\0f\\bg\\fh", {{ColType::String}}),
            std::string("\x0f" "a\tb\nc\\d\re", 10) + std::string("\0f\bg\fh", 6));
  EXPECT_EQ(enc("", {{ColType::String}}), std::string(1, '\0'));
  EXPECT_EQ(enc("h\xc3\xa9llo \xe2\x82\xac", {{ColType::String}}), "\x0ah\xc3\xa9llo \xe2\x82\xac");
  std::string big(300, 'x');  // a two-byte length: 300 = 0xac 0x02
  EXPECT_EQ(enc(big, {{ColType::String}}), "\xac\x02" + big);
  std::string field;
  sp::append_tsv_field(field, std::string("tab\there\nnew\\slash\r\b\f") + '\0');
  std::string want = std::string("tab\there\nnew\\slash\r\b\f") + '\0';
  EXPECT_EQ(enc(field, {{ColType::String}}), std::string(1, static_cast<char>(want.size())) + want);
  fails("\\N", {{ColType::String}});  // NULL in a column that has none: ClickHouse decides
  fails("a\\", {{ColType::String}});
  fails("a\\x41", {{ColType::String}});
}

TEST(RowBinary, NullableFlagThenValue) {
  std::vector<RbColumn> cols = {{ColType::String, true}, {ColType::Float32, true}, {ColType::Int64, true}};
  EXPECT_EQ(enc("\\N\t\\N\t\\N\n", cols), std::string("\1\1\1"));
  EXPECT_EQ(enc("x\t1.5\t-2\n", cols), std::string("\0\1x\0", 4) + le<float>(1.5f) + std::string(1, '\0') + le<int64_t>(-2));
  EXPECT_EQ(enc("\\\\N", {{ColType::String, true}}), std::string("\0\2\\N", 4));  // the text \N, not NULL
}

TEST(RowBinary, DateTimeAndDateUtc) {
  EXPECT_EQ(enc("1970-01-01 00:00:00\t2025-07-07 22:00:00\t2106-02-07 06:28:15",
                {{ColType::DateTime}, {ColType::DateTime}, {ColType::DateTime}}),
            le<uint32_t>(0) + le<uint32_t>(1751925600) + le<uint32_t>(UINT32_MAX));
  EXPECT_EQ(enc("1970-01-01\t2024-02-29\t2149-06-06", {{ColType::Date}, {ColType::Date}, {ColType::Date}}),
            le<uint16_t>(0) + le<uint16_t>(19782) + le<uint16_t>(65535));
  fails("2106-02-07 06:28:16", {{ColType::DateTime}});
  fails("1969-12-31 23:59:59", {{ColType::DateTime}});
  fails("2025-07-07T22:00:00", {{ColType::DateTime}});
  fails("2025-02-29 00:00:00", {{ColType::DateTime}});
  fails("2025-07-07 24:00:00", {{ColType::DateTime}});
  fails("1751925600", {{ColType::DateTime}});
  fails("2149-06-07", {{ColType::Date}});
  fails("2023-13-01", {{ColType::Date}});
}

TEST(RowBinary, FieldCountAndCoordinates) {
  auto plan = sp::row_binary_plan(sp::Schema::default_schema(), true);
  ASSERT_EQ(plan.columns.size(), 9u);
  std::string row = "m\t2025-07-07 22:00:00\ts\t1\t2\t3\tsensor_metrics\t4\t42\n";
  std::string out = enc(row, plan.columns);
  EXPECT_EQ(out.substr(out.size() - 12), le<int32_t>(4) + le<int64_t>(42));
  EXPECT_NE(fails("m\t2025-07-07 22:00:00\ts\t1\t2\t3\n", plan.columns).find("fewer fields"), std::string::npos);
  EXPECT_NE(fails(row.substr(0, row.size() - 1) + "\textra\n", plan.columns).find("more fields"), std::string::npos);
  EXPECT_NE(fails("m\tnope\ts\t1\t2\t3\tt\t4\t42", plan.columns).find("field 2 (DateTime)"), std::string::npos);
}

TEST(RowBinary, PlanRefusesOtherTypes) {
  auto s = sp::Schema::from_json(
      R"J({"columns":[{"name":"id","type":"String","path":"id"},{"name":"d","type":"Decimal(9, 2)","path":"d"}],
          "order_by":["id"]})J", "test");
  auto plan = sp::row_binary_plan(s, false);
  EXPECT_FALSE(plan.ok());
  EXPECT_NE(plan.unsupported.find("column d is Decimal(9, 2)"), std::string::npos);
  auto n = sp::Schema::from_json(
      R"J({"columns":[{"name":"id","type":"String","path":"id"},{"name":"fw","type":"String","path":"fw","required":false},
          {"name":"ok","type":"Bool","path":"ok"},{"name":"day","type":"Nullable(Date)","path":"day"}],"order_by":["id"]})J",
      "test");
  auto np = sp::row_binary_plan(n, false);
  ASSERT_TRUE(np.ok()) << np.unsupported;
  EXPECT_FALSE(np.has_datetime);
  EXPECT_TRUE(np.columns[1].nullable);
  EXPECT_EQ(np.columns[2].type, ColType::Bool);
  EXPECT_TRUE(np.columns[3].nullable);
  EXPECT_EQ(np.columns[3].type, ColType::Date);
}
