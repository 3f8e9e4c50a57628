// The plain-JSON lexer of sensor-parse's fast path: it accepts exactly the plain subset (ASCII, no
// escapes) and well-formed syntax, with and without the 16-byte scan over padded input.
#include <gtest/gtest.h>

#include <string>

#include "common/rows/plain_json.hpp"

using sp::parse::PlainJson;

namespace {

// Runs f over s twice: unpadded (byte and word scans) and padded (16-byte scan). Both must agree.
template <class F>
bool both(const std::string& s, F f) {
  std::string padded = s + std::string(64, '"');  // padding of quotes: a scan trusting it would stop there
  PlainJson a(s), b(std::string_view(padded.data(), s.size()), 64);
  bool ra = f(a), rb = f(b);
  EXPECT_EQ(ra, rb) << "padded and unpadded scans differ on: " << s;
  return ra;
}

std::string read_string(const std::string& s) {
  std::string got[2];
  int k = 0;
  both(s, [&](PlainJson& j) {
    std::string_view v;
    bool ok = j.string(v) && j.at_end();
    got[k++] = ok ? std::string(v) : "<no>";
    return ok;
  });
  EXPECT_EQ(got[0], got[1]);
  return got[0];
}

bool valid(const std::string& s) {
  return both(s, [](PlainJson& j) { return j.skip_value(0) && j.at_end(); });
}

}  // namespace

TEST(PlainJson, StringsOfEveryLengthAroundTheScanWidths) {
  for (size_t n = 0; n < 40; ++n) {
    std::string text(n, 'a');
    EXPECT_EQ(read_string("\"" + text + "\""), text) << n;
    EXPECT_EQ(read_string("\"" + text), "<no>") << "unclosed, " << n;
  }
}

TEST(PlainJson, EscapesControlAndNonAsciiBytesLeaveThePlainSubset) {
  for (size_t pos = 0; pos < 20; ++pos) {
    for (std::string bad : {std::string("\\n"), std::string("\\\""), std::string("\x01", 1), std::string("\t"),
                            std::string("\x7f\xc3\xa9"), std::string("\0", 1)}) {
      std::string text = std::string(pos, 'x') + bad + "yy";
      // DEL (0x7f) is plain ASCII and allowed; the é after it is not
      EXPECT_EQ(read_string("\"" + text + "\""), "<no>") << pos << " " << bad;
    }
  }
  EXPECT_EQ(read_string("\"a\x7f\""), "a\x7f");
}

TEST(PlainJson, NumbersFollowTheJsonGrammar) {
  for (std::string ok : {"0", "-0", "12", "-12.5", "1e5", "1E+5", "2.5e-3", "0.0"}) EXPECT_TRUE(valid(ok)) << ok;
  for (std::string bad : {"01", "-", "1.", ".5", "+1", "1e", "1e+", "0x10", "1.5.2", "NaN", "Infinity", "--1"})
    EXPECT_FALSE(valid(bad)) << bad;
  PlainJson j("-2.5e3,");
  std::string_view t;
  bool integral = true;
  ASSERT_TRUE(j.number(t, integral));
  EXPECT_EQ(t, "-2.5e3");
  EXPECT_FALSE(integral);
  PlainJson k("42}");
  ASSERT_TRUE(k.number(t, integral));
  EXPECT_EQ(t, "42");
  EXPECT_TRUE(integral);
}

TEST(PlainJson, ValuesAndStructure) {
  for (std::string ok : {"{}", "[]", " { \"a\" : [1, true, false, null, {\"b\": \"c\"}] } ", "\"s\"", "null",
                         "{\"a\":{}}\r", "[[],[{}]]"})
    EXPECT_TRUE(valid(ok)) << ok;
  for (std::string bad : {"{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{1:2}", "tru", "nul", "truex", "[1 2]", "{\"a\":1}}",
                          "{'a':1}", "", "\xef\xbb\xbf{}", "{\"a\":1}x"})
    EXPECT_FALSE(valid(bad)) << bad;
}

TEST(PlainJson, NestingIsBounded) {
  std::string ok = std::string(PlainJson::kMaxDepth, '[') + std::string(PlainJson::kMaxDepth, ']');
  std::string deep = std::string(PlainJson::kMaxDepth + 1, '[') + std::string(PlainJson::kMaxDepth + 1, ']');
  EXPECT_TRUE(valid(ok));
  EXPECT_FALSE(valid(deep));
  std::string very_deep(1 << 20, '[');  // no stack overflow: it gives up at kMaxDepth
  EXPECT_FALSE(valid(very_deep));
}
