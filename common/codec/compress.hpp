// The one gzip (zlib) and zstd (libzstd) of the toolkit. Streaming, for S3 objects: s3-put compresses
// what it uploads, s3-cat decompresses by key extension. One-shot (gzip_compress, gunzip), for
// ClickHouse request bodies. Memory: a few hundred KiB of codec state per stream, plus the
// decompressed output of one member held for its check (at most kVerifyHold).
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace sp::codec {

enum class Codec { none, gzip, zstd };

// "gzip"/"gz" -> gzip, "zstd"/"zst" -> zstd, "none"/"" -> none; UsageError otherwise.
Codec parse_codec(const std::string& name);
// ".gz", ".zst" or "".
const char* codec_extension(Codec c);
// The codec a key's extension implies (".gz" -> gzip, ".zst" -> zstd, else none).
Codec codec_for_key(std::string_view key);

// Appends compressed bytes to an output string. finish() ends the stream (one gzip member / zstd frame).
class Compressor {
 public:
  virtual ~Compressor() = default;
  virtual void write(std::string_view in, std::string& out) = 0;
  virtual void finish(std::string& out) = 0;
};
// level: 0 = the codec's default (gzip 6, zstd 1).
std::unique_ptr<Compressor> make_compressor(Codec c, int level = 0);

// s3-put ends a gzip member / zstd frame (each with its own checksum) at the first line end after this
// many input bytes, so a reader can check each piece before it writes it (kVerifyHold).
inline constexpr size_t kMemberBytes = 8u << 20;
// A decompressor holds a member's / frame's output until its checksum (gzip CRC-32 and size, zstd
// content checksum) matched, up to this many bytes; past it, the member is written as it is
// decompressed (a single-member gzip of a large file), so memory stays bounded.
inline constexpr size_t kVerifyHold = 64u << 20;

// Appends decompressed bytes to out. Concatenated gzip members / zstd frames are read as one stream.
// The output of a member is appended only once the member ended and its check passed (see
// kVerifyHold for larger ones): a corrupt or truncated member throws DataError (naming `what`) and
// none of its bytes reach out (what out got from earlier members in the same call passed their
// checks: write it before reporting the error). finish() throws DataError when the input ended inside a member/frame.
// A zstd frame written without a checksum can only fail on undecodable data.
class Decompressor {
 public:
  virtual ~Decompressor() = default;
  virtual void write(std::string_view in, std::string& out) = 0;
  virtual void finish() = 0;
};
std::unique_ptr<Decompressor> make_decompressor(Codec c, const std::string& what, size_t hold = kVerifyHold);

// Appends one gzip member holding all of data to out (level 1-9; ch-insert's request bodies).
void gzip_compress(std::string_view data, std::string& out, int level = 1);
// The bytes of a whole gzip buffer (all its members); DataError naming `what` when it is not gzip or
// ends early.
std::string gunzip(std::string_view gz, const std::string& what);

}  // namespace sp::codec
