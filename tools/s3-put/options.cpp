// s3-put's options: sizes, the key template (common/s3/key_template.hpp), the destination check.
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/core/errors.hpp"
#include "common/core/log.hpp"
#include "common/s3/key_template.hpp"
#include "put.hpp"

namespace sp::s3put {

bool has_seq(const std::string& tmpl) { return s3::has_field(tmpl, "seq"); }
bool has_run(const std::string& tmpl) { return s3::has_field(tmpl, "run"); }

std::string new_run_id() {
  unsigned char b[6];
  if (getrandom(b, sizeof b, 0) != static_cast<ssize_t>(sizeof b)) {
    // no entropy source: time and pid still differ between two runs on one host
    uint64_t v = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) ^
                 (static_cast<uint64_t>(getpid()) << 32);
    for (auto& c : b) c = static_cast<unsigned char>(v), v >>= 8;
  }
  static const char hex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char c : b) id += {hex[c >> 4], hex[c & 15]};
  return id;
}

std::string render_key(const std::string& tmpl, std::time_t t, const std::string& host, uint64_t seq, Codec codec,
                       const std::string& run) {
  return s3::render_key(tmpl, s3::KeyValues{t, host, run, seq}, codec_extension(codec));
}

size_t part_size_for(size_t base, int number) {
  int doublings = std::min((number - 1) / 900, 10);
  return std::min<size_t>(base << doublings, size_t(5) << 30);
}

uint64_t parse_size(const std::string& text, const std::string& flag) {
  if (text.empty()) throw UsageError(flag + ": empty size");
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(text.c_str(), &end);
  std::string unit(end);
  if (errno || end == text.c_str() || v < 0) throw UsageError(flag + ": '" + text + "' is not a size (like 8M, 512k, 1G)");
  for (const char* suf : {"iB", "B"}) {
    if (unit.size() > std::strlen(suf) && unit.ends_with(suf)) {
      unit.resize(unit.size() - std::strlen(suf));
      break;
    }
  }
  double mult = 1;
  if (unit.empty() || unit == "B") mult = 1;
  else if (unit == "k" || unit == "K") mult = 1024.0;
  else if (unit == "M" || unit == "m") mult = 1024.0 * 1024;
  else if (unit == "G" || unit == "g") mult = 1024.0 * 1024 * 1024;
  else if (unit == "T" || unit == "t") mult = 1024.0 * 1024 * 1024 * 1024;
  else throw UsageError(flag + ": unknown unit in '" + text + "' (use k, M, G, T)");
  return static_cast<uint64_t>(v * mult);
}

void check_destination(const s3::Settings& settings, const s3::Location& base) {
  // Before a byte is read (or passed on by --tee): a pipeline must not run for minutes while
  // nothing can be archived. The listing is limited to the key template's fixed start.
  std::string prefix = base.key.substr(0, base.key.find_first_of("%{"));
  s3::Client probe(settings);  // a first stop signal ends its retries: nothing was read yet
  try {
    if (!probe.check_bucket(base.bucket, prefix))
      log::warn("s3://", base.bucket, "/: listing it is not allowed (AccessDenied), so the bucket and the "
                "credentials are checked only when the first object is stored");
  } catch (const s3::S3Error& e) {
    if (e.s3_code != "NoSuchBucket") throw;
    throw s3::S3Error(e.code(), std::string(e.what()) + " (s3-put does not create buckets: create it first, "
                      "e.g. aws s3 mb s3://" + base.bucket + ")", e.status, e.s3_code, e.request_id);
  }
  log::debug("s3://", base.bucket, "/ exists and the credentials are accepted");
}

s3::Location validate(const Options& o) {
  s3::Location base = s3::Location::parse(o.url_template);
  if (base.key.empty() || base.key.back() == '/')
    throw UsageError("'" + o.url_template + "' names no object: give a key (template), like s3://bucket/dir/file.jsonl");
  bool rotating = o.rotate_bytes || o.rotate_lines || o.rotate_seconds > 0;
  if (rotating && !has_seq(base.key))
    throw UsageError("rotation writes several objects: put {seq} in the key template so they do not overwrite each other");
  // template errors (and a --host-name or --run-id that puts a control character in the key) before
  // any connection
  render_key(base.key, 0, o.host.empty() ? "host" : o.host, 0, o.codec, o.run_id.empty() ? "run" : o.run_id);
  return base;
}


void resolve(const SizeFlags& f, Options& o) {
  o.part_size = parse_size(f.part_size, "--part-size");
  if (o.part_size < kMinPartSize) throw UsageError("--part-size must be at least 5M (S3's minimum part size)");
  if (o.part_size > (5ull << 30)) throw UsageError("--part-size must be at most 5G (S3's maximum part size)");
  if (!f.rotate_bytes.empty()) o.rotate_bytes = parse_size(f.rotate_bytes, "--rotate-bytes");
  if (f.gzip + f.zstd + !f.compress.empty() > 1) throw UsageError("choose one of --compress, --gzip, --zstd");
  o.codec = f.gzip ? Codec::gzip : f.zstd ? Codec::zstd : codec::parse_codec(f.compress);
}

}  // namespace sp::s3put
