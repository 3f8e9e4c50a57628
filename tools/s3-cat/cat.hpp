// s3-cat: objects (one, or all under a prefix in key order) to stdout, decompressed by extension;
// --list / --summarize for storage usage.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "common/core/line_io.hpp"
#include "common/s3/s3.hpp"

namespace sp::s3cat {

struct Options {
  std::vector<std::string> urls;
  bool list = false;       // print the objects instead of their content
  bool summarize = false;  // totals (objects, bytes) per URL
  bool raw = false;        // no decompression
  bool prefix = false;     // treat every URL as a prefix, even when an object has that exact name
  bool fail_if_empty = false;  // a prefix without objects is NoInputError (default: a note, exit 0)
  int page_size = 1000;    // keys per ListObjectsV2 request
  std::string hour;        // --hour: the URLs are s3-put key templates; read the objects opened in this hour
};

struct Stats {
  uint64_t objects = 0, bytes = 0, bytes_out = 0;
};

// The URL to read: with --hour, the listing prefix of the template's objects opened in that hour
// (common/s3/key_template.hpp; UsageError when the template cannot select an hour), else the URL.
s3::Location source(const Options& o, const std::string& url);

// Writes to out per the options; throws NoInputError when a URL that names an object (no --prefix,
// no trailing '/') matches nothing, or a prefix holds nothing under --fail-if-empty. Counts into metrics().
Stats run(const Options& o, s3::Client& client, LineWriter& out);

// "2025-07-07T22:00:00.000Z\t1234\ts3://b/k" (the --list line)
std::string list_line(const std::string& bucket, const s3::ObjectInfo& o);

}  // namespace sp::s3cat
