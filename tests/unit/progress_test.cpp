#include "common/core/progress.hpp"

#include <gtest/gtest.h>

#include "common/http/http.hpp"

TEST(Progress, HumanUnits) {
  EXPECT_EQ(sp::human_count(532), "532");
  EXPECT_EQ(sp::human_count(12500), "12.5k");
  EXPECT_EQ(sp::human_count(1.25e6), "1.2M");
  EXPECT_EQ(sp::human_bytes(512), "512 B");
  EXPECT_EQ(sp::human_bytes(1536), "1.5 KiB");
  EXPECT_EQ(sp::human_bytes(130.2 * 1024 * 1024), "130.2 MiB");
}

TEST(Progress, SummaryLine) {
  EXPECT_EQ(sp::summary_text(1000000, 136314880, 1.25), "1000000 records, 130.0 MiB in 1.25 s (800.0k records/s)");
  EXPECT_EQ(sp::summary_text(0, 0, 0), "0 records, 0 B in 0.00 s (0 records/s)");
}

TEST(Http, UrlEncodeAndLogSafeUrls) {
  EXPECT_EQ(sp::url_encode("a b/c~d"), "a%20b%2Fc~d");
  EXPECT_EQ(sp::url_encode("a b/c", true), "a%20b/c");
  EXPECT_EQ(sp::url_encode("ü"), "%C3%BC");
  EXPECT_EQ(sp::url_for_log("http://user:secret@host:8123/?q=1"), "http://host:8123/?q=1");
  EXPECT_EQ(sp::url_for_log("http://host/a@b"), "http://host/a@b");
}
