// s3-put: stdin to S3 objects (single PUT or parallel multipart), key templates, rotation at line
// boundaries, gzip/zstd, --tee.
#pragma once
#include <cstdint>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "common/s3/s3.hpp"
#include "common/codec/compress.hpp"

namespace sp::s3put {
using codec::Codec;
using codec::Compressor;
using codec::codec_extension;
using codec::kMemberBytes;
using codec::make_compressor;

inline constexpr size_t kMinPartSize = 5u << 20;  // S3's minimum for all but the last part
inline constexpr int kMaxParts = 10000;

struct Options {
  std::string url_template;  // s3://bucket/key-template
  bool tee = false;
  size_t part_size = 8u << 20;
  int concurrency = 4;
  uint64_t rotate_bytes = 0;    // 0 = off (uncompressed bytes)
  uint64_t rotate_lines = 0;    // 0 = off
  double rotate_seconds = 0;    // 0 = off
  Codec codec = Codec::none;
  int level = 0;
  std::string content_type;  // empty = by codec
  std::string storage_class;
  uint64_t seq_start = 0;
  std::string host;  // for {host}; empty = gethostname()
  std::string run_id;  // for {run}; empty = new_run_id()
  std::string acks;  // --acks FILE: ack lines for the envelope lines of each completed object
  double abort_seconds = 120;  // how long to keep trying AbortMultipartUpload after a failure
};

// Expands a key template (common/s3/key_template.hpp, shared with s3-cat --hour): strftime fields
// (UTC, at `t`), {host}, {run} (this run's id), {seq} (6 digits, zero-padded, so keys sort in upload
// order) and {seq:N} (N digits), and appends the codec's extension unless already there.
std::string render_key(const std::string& tmpl, std::time_t t, const std::string& host, uint64_t seq, Codec codec,
                       const std::string& run = "run");
// True when the template has a {seq} field (rotation needs one so objects never overwrite each other).
bool has_seq(const std::string& tmpl);
// True when the template has {run}.
bool has_run(const std::string& tmpl);
// A new run id: 12 random lowercase hex digits. {seq} starts again on every run; with {run} in the
// key two runs never write the same key, even within one second on one host.
std::string new_run_id();

// Part size for part `number` (1-based): doubles every 900 parts, capped at S3's 5 GiB part limit, so
// 10,000 parts hold more than S3's 5 TiB object limit even from the 5 MiB minimum.
size_t part_size_for(size_t base, int number);

struct Stats {
  uint64_t objects = 0, bytes_in = 0, bytes_out = 0, parts = 0, lines = 0, retries = 0;
};

// Parses a size: 1234, 64k, 8M, 1G (binary units, optional "iB"/"B").
uint64_t parse_size(const std::string& text, const std::string& flag);

// The size and codec flags as typed; resolve() turns them into Options (UsageError when they are wrong).
struct SizeFlags {
  std::string part_size = "8M", rotate_bytes, compress;
  bool gzip = false, zstd = false;
};
void resolve(const SizeFlags& f, Options& o);

// Checks the URL and key template (UsageError); returns the bucket and the template.
s3::Location validate(const Options& o);

// One cheap signed request before anything is read: throws when the bucket is missing (66) or the
// credentials are refused (77); an endpoint that does not answer is retried like any request.
void check_destination(const s3::Settings& settings, const s3::Location& base);

// Reads fd `in` to the end (or until a stop signal), uploading per the options; with tee, every chunk
// read is written to `out` before it is uploaded. Starts with check_destination. Throws the
// client's errors after aborting any multipart upload in progress.
Stats run(const Options& o, const s3::Settings& settings, int in, int out);

// The command: run() on stdin/stdout with progress and the summary line; the exit status (SIGINT
// 130; SIGTERM, how a service manager stops it, 0 once everything read is stored).
int run_command(const Options& o, const s3::Settings& settings);

}  // namespace sp::s3put
