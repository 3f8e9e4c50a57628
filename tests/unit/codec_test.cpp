#include "common/codec/compress.hpp"
#include "common/codec/base64.hpp"

#include <gtest/gtest.h>

#include "common/core/errors.hpp"

using namespace sp;
using namespace sp::codec;

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

namespace {
// Feeds z in pieces; returns what was written before the error (the error is expected).
std::string written_before_error(Codec c, const std::string& z, size_t hold = kVerifyHold) {
  auto d = make_decompressor(c, "s3://b/k", hold);
  std::string out;
  try {
    for (size_t i = 0; i < z.size(); i += 4096) d->write(std::string_view(z).substr(i, 4096), out);
    d->finish();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("s3://b/k"), std::string::npos);
    return out;
  }
  ADD_FAILURE() << "corrupt stream accepted";
  return out;
}
}  // namespace

// Issue 16: a corrupt object streamed thousands of garbage lines before the CRC error.
TEST(S3Codec, NothingOfAMemberThatFailsItsCheckIsWritten) {
  std::string first = text(300000), second = text(200000);
  for (Codec c : {Codec::gzip, Codec::zstd}) {
    std::string good = compress(c, first), bad = compress(c, second);
    // gzip: CRC-32 in the 8-byte trailer; zstd: the frame's 4-byte content checksum at the end
    std::string crc = bad;
    crc[crc.size() - (c == Codec::gzip ? 7 : 2)] ^= 0x55;
    EXPECT_EQ(written_before_error(c, good + crc), first);
    EXPECT_EQ(written_before_error(c, crc), "");
    std::string mid = bad;
    mid[mid.size() / 2] ^= 0x55;
    EXPECT_EQ(written_before_error(c, good + mid), first);
    EXPECT_EQ(written_before_error(c, good + bad.substr(0, bad.size() - 10)), first);  // truncated
    // all in one write: out holds the good member when the bad one throws
    auto d = make_decompressor(c, "s3://b/k");
    std::string out;
    EXPECT_THROW(d->write(good + crc, out), DataError);
    EXPECT_EQ(out, first);
  }
}

TEST(S3Codec, AMemberLargerThanTheHoldIsWrittenAsItIsDecompressed) {
  std::string in = text(300000);
  for (Codec c : {Codec::gzip, Codec::zstd}) {
    std::string z = compress(c, in);
    auto d = make_decompressor(c, "s3://b/k", 64 * 1024);
    std::string out;
    d->write(std::string_view(z).substr(0, z.size() - 8), out);
    EXPECT_GE(out.size(), 64u * 1024) << "held beyond the bound";
    d->write(std::string_view(z).substr(z.size() - 8), out);
    d->finish();
    EXPECT_EQ(out, in);
  }
}

TEST(Base64, Rfc4648Vectors) {
  const char* in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char* want[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (int i = 0; i < 7; ++i) {
    std::string out = "x";
    append_base64(out, in[i]);
    EXPECT_EQ(out, std::string("x") + want[i]);
    EXPECT_EQ(base64(in[i]), want[i]);
  }
}

TEST(Gzip, OneShotRoundTrip) {
  std::string in = text(300000), gz = "prefix";
  gzip_compress(in, gz, 1);
  ASSERT_EQ(gz.compare(0, 6, "prefix"), 0);  // appended
  EXPECT_EQ(gunzip(std::string_view(gz).substr(6), "batch"), in);
  // what the streaming reader reads, and the other way round
  EXPECT_EQ(decompress(Codec::gzip, gz.substr(6)), in);
  EXPECT_EQ(gunzip(compress(Codec::gzip, in), "batch"), in);
  std::string empty;
  gzip_compress("", empty, 6);
  EXPECT_EQ(gunzip(empty, "batch"), "");
}

TEST(Gzip, GunzipOfTruncatedDataThrowsNamingIt) {
  std::string gz;
  gzip_compress(text(10000), gz, 1);
  gz.resize(gz.size() / 2);
  try {
    gunzip(gz, "batch 7");
    FAIL() << "no throw";
  } catch (const sp::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("batch 7"), std::string::npos) << e.what();
  }
}
