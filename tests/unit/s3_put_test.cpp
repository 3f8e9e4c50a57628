// s3-put's pure helpers: key templates, part sizes, size parsing.
#include <gtest/gtest.h>

#include "put.hpp"

using namespace sp;
using namespace sp::s3put;

TEST(S3PutKey, TemplateFields) {
  std::time_t t = 1751925600;  // 2025-07-07 22:00:00 UTC
  EXPECT_EQ(render_key("raw/%Y/%m/%d/%H%M%S-{host}-{seq}.jsonl", t, "edge1", 7, Codec::gzip),
            "raw/2025/07/07/220000-edge1-000007.jsonl.gz");
  EXPECT_EQ(render_key("a-{seq:3}.zst", t, "h", 12, Codec::zstd), "a-012.zst");  // extension not doubled
  EXPECT_EQ(render_key("plain key.txt", t, "h", 0, Codec::none), "plain key.txt");
  EXPECT_EQ(render_key("100%%-{host}", t, "h%x", 0, Codec::none), "100%-h%x");  // host is not a format
  EXPECT_THROW(render_key("a-{nope}", t, "h", 0, Codec::none), UsageError);
  EXPECT_THROW(render_key("a-{seq:0}", t, "h", 0, Codec::none), UsageError);
  EXPECT_TRUE(has_seq("x-{seq:4}"));
  EXPECT_FALSE(has_seq("x-%H"));
}

TEST(S3PutKey, RunIdKeepsRunsApart) {
  std::time_t t = 1751925600;
  EXPECT_EQ(render_key("raw/%H%M%S-{host}-{run}-{seq}.jsonl", t, "edge1", 1, Codec::none, "0a1b2c3d4e5f"),
            "raw/220000-edge1-0a1b2c3d4e5f-000001.jsonl");
  EXPECT_TRUE(has_run("x-{run}-{seq}"));
  EXPECT_FALSE(has_run("x-{seq}"));
  std::string a = new_run_id(), b = new_run_id();
  EXPECT_EQ(a.size(), 12u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, b);  // two runs in the same second: different keys
  EXPECT_NE(render_key("k-{run}-{seq}", t, "h", 1, Codec::none, a), render_key("k-{run}-{seq}", t, "h", 1, Codec::none, b));
}

TEST(S3PutKey, SeqKeysSortInWriteOrder) {
  std::string a = render_key("k-{seq}", 0, "h", 9, Codec::none), b = render_key("k-{seq}", 0, "h", 10, Codec::none);
  EXPECT_LT(a, b);
}

TEST(S3PutParts, SizeGrowsSoTenThousandPartsHoldFiveTebibytes) {
  size_t base = 5u << 20;
  EXPECT_EQ(part_size_for(base, 1), base);
  EXPECT_EQ(part_size_for(base, 900), base);
  EXPECT_EQ(part_size_for(base, 901), 2 * base);
  EXPECT_EQ(part_size_for(base, 10000), base << 10);
  EXPECT_EQ(part_size_for(64u << 20, 10000), 5ull << 30);  // never over S3's part limit
  long double total = 0;
  for (int n = 1; n <= kMaxParts; ++n) total += part_size_for(base, n);
  EXPECT_GT(total, 5.0L * (1ull << 40));
  for (int n = 1; n <= kMaxParts; ++n) ASSERT_LE(part_size_for(base, n), 5ull << 30) << n;
}

TEST(S3PutSize, Units) {
  EXPECT_EQ(parse_size("8M", "--part-size"), 8u << 20);
  EXPECT_EQ(parse_size("512k", "x"), 512u << 10);
  EXPECT_EQ(parse_size("1GiB", "x"), 1ull << 30);
  EXPECT_EQ(parse_size("1.5M", "x"), 3u << 19);
  EXPECT_EQ(parse_size("100", "x"), 100u);
  EXPECT_THROW(parse_size("8Q", "x"), UsageError);
  EXPECT_THROW(parse_size("", "x"), UsageError);
  EXPECT_THROW(parse_size("-1M", "x"), UsageError);
}
