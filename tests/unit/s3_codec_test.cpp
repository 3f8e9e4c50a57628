#include "common/s3_codec.hpp"

#include <gtest/gtest.h>

#include "common/errors.hpp"

using namespace sp;
using namespace sp::s3;

namespace {
std::string text(size_t n) {
  std::string s;
  for (size_t i = 0; s.size() < n; ++i) s += "{\"id\":\"msg-" + std::to_string(i) + "\",\"value\":" + std::to_string(i * 7 % 1000) + "}\n";
  return s;
}
std::string compress(Codec c, const std::string& in, size_t piece = 1000) {
  auto comp = make_compressor(c);
  std::string out;
  for (size_t i = 0; i < in.size(); i += piece) comp->write(std::string_view(in).substr(i, piece), out);
  comp->finish(out);
  return out;
}
std::string decompress(Codec c, const std::string& in, size_t piece = 777) {
  auto d = make_decompressor(c, "s3://b/k");
  std::string out;
  for (size_t i = 0; i < in.size(); i += piece) d->write(std::string_view(in).substr(i, piece), out);
  d->finish();
  return out;
}
}  // namespace

TEST(S3Codec, NamesAndExtensions) {
  EXPECT_EQ(parse_codec("gzip"), Codec::gzip);
  EXPECT_EQ(parse_codec("zst"), Codec::zstd);
  EXPECT_EQ(parse_codec(""), Codec::none);
  EXPECT_THROW(parse_codec("lz4"), UsageError);
  EXPECT_EQ(codec_for_key("a/b.jsonl.gz"), Codec::gzip);
  EXPECT_EQ(codec_for_key("a/b.jsonl.zst"), Codec::zstd);
  EXPECT_EQ(codec_for_key("a/b.jsonl"), Codec::none);
  EXPECT_STREQ(codec_extension(Codec::zstd), ".zst");
}

TEST(S3Codec, RoundTripsLargeInput) {
  std::string in = text(3 << 20);
  for (Codec c : {Codec::gzip, Codec::zstd, Codec::none}) {
    std::string z = compress(c, in);
    if (c != Codec::none) {
      EXPECT_LT(z.size(), in.size() / 3);
    }
    EXPECT_EQ(decompress(c, z), in);
    EXPECT_EQ(decompress(c, z, 1), decompress(c, z, 1 << 20));
  }
}

TEST(S3Codec, ConcatenatedMembersAndFrames) {
  for (Codec c : {Codec::gzip, Codec::zstd}) {
    std::string z = compress(c, "first\n") + compress(c, "second\n");
    EXPECT_EQ(decompress(c, z), "first\nsecond\n");
  }
}

TEST(S3Codec, EmptyInputIsAValidStream) {
  for (Codec c : {Codec::gzip, Codec::zstd}) {
    std::string z = compress(c, "");
    EXPECT_FALSE(z.empty());
    EXPECT_EQ(decompress(c, z), "");
  }
}

TEST(S3Codec, TruncatedOrCorruptIsADataErrorNamingTheObject) {
  std::string in = text(100000);
  for (Codec c : {Codec::gzip, Codec::zstd}) {
    std::string z = compress(c, in);
    try {
      decompress(c, z.substr(0, z.size() / 2));
      FAIL() << "truncated stream accepted";
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find("s3://b/k"), std::string::npos);
    }
    EXPECT_THROW(decompress(c, "this is not compressed at all"), DataError);
  }
}
