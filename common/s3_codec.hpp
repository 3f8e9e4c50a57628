// Streaming gzip (zlib) and zstd (libzstd) for S3 objects: s3-put compresses what it uploads,
// s3-cat decompresses by key extension. Memory is a few hundred KiB per stream whatever the size.
#pragma once
#include <memory>
#include <string>
#include <string_view>

namespace sp::s3 {

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
// level: 0 = the codec's default (gzip 6, zstd 3).
std::unique_ptr<Compressor> make_compressor(Codec c, int level = 0);

// Appends decompressed bytes to out. Concatenated gzip members / zstd frames are read as one stream.
// finish() throws DataError (naming `what`) when the input ended inside a member/frame.
class Decompressor {
 public:
  virtual ~Decompressor() = default;
  virtual void write(std::string_view in, std::string& out) = 0;
  virtual void finish() = 0;
};
std::unique_ptr<Decompressor> make_decompressor(Codec c, const std::string& what);

}  // namespace sp::s3
