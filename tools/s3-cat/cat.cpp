#include "cat.hpp"

#include <exception>

#include "common/core/errors.hpp"
#include "common/core/log.hpp"
#include "common/core/metrics.hpp"
#include "common/codec/compress.hpp"
#include "common/s3/key_template.hpp"

namespace sp::s3cat {

std::string list_line(const std::string& bucket, const s3::ObjectInfo& o) {
  return o.last_modified + "\t" + std::to_string(o.size) + "\ts3://" + bucket + "/" + o.key;
}

namespace {
uint64_t cat_object(s3::Client& client, const s3::Location& loc, bool raw, LineWriter& out) {
  codec::Codec codec = raw ? codec::Codec::none : codec::codec_for_key(loc.key);
  auto dec = codec::make_decompressor(codec, loc.str());
  std::string buf;
  uint64_t written = 0;
  // An exception must not unwind through libcurl's C frames (it would leak the transfer's state):
  // the sink keeps it, stops the download, and it is rethrown here.
  std::exception_ptr failed;
  auto sink = [&](const char* p, size_t n) {
    try {
      buf.clear();
      try {
        dec->write(std::string_view(p, n), buf);
      } catch (const DataError&) {
        out.write(buf);  // the members before the bad one passed their checks
        throw;
      }
      out.write(buf);
      written += buf.size();
      return true;
    } catch (...) {
      failed = std::current_exception();
      return false;
    }
  };
  try {
    client.get_object(loc, sink);
  } catch (const IoError&) {
    if (failed) std::rethrow_exception(failed);
    throw;
  }
  dec->finish();
  return written;
}
}  // namespace

s3::Location source(const Options& o, const std::string& url) {
  s3::Location loc = s3::Location::parse(url);
  if (!o.hour.empty()) loc.key = s3::hour_prefix(loc.key, s3::parse_hour(o.hour));
  return loc;
}

Stats run(const Options& o, s3::Client& client, LineWriter& out) {
  // registered before any work so that --metrics-file holds them (as zeros) after a quiet run too
  Counter& objects_read = metrics().counter("s3_cat_objects_total", "Objects read and written to stdout");
  Counter& bytes_written = metrics().counter("s3_cat_bytes_total", "Bytes written to stdout (after decompression)");
  Counter& empty = metrics().counter("s3_cat_empty_prefixes_total", "Prefixes read that held no objects");
  Counter& retries = metrics().counter("s3_cat_retries_total", "S3 requests retried after a temporary failure");
  Stats total;
  for (const auto& url : o.urls) {
    s3::Location loc = source(o, url);
    if (!o.hour.empty()) log::debug("hour ", o.hour, " of ", url, ": the objects under ", loc.str());
    // an exact object name wins over the prefix reading (s3://b/day.jsonl vs s3://b/day.jsonl.1)
    bool as_prefix = o.prefix || !o.hour.empty() || loc.key.empty() || loc.key.back() == '/';
    if (!as_prefix && !o.list && !o.summarize) {
      // GET first rather than HEAD: one round trip, and error answers keep their reason
      // (a HEAD 403 cannot say SignatureDoesNotMatch)
      try {
        log::debug("reading ", loc.str());
        uint64_t n = cat_object(client, loc, o.raw, out);
        total.bytes_out += n;
        total.objects++;
        objects_read.inc();
        bytes_written.inc(static_cast<double>(n));
        continue;
      } catch (const s3::S3Error& e) {
        if (e.s3_code != "NoSuchKey") throw;
      }
    }
    Stats st;
    client.list_objects(loc.bucket, loc.key, [&](const s3::ObjectInfo& info) {
      st.objects++;
      st.bytes += info.size;
      if (o.list) {
        out.line(list_line(loc.bucket, info));
      } else if (!o.summarize) {
        if (info.key.back() == '/' && info.size == 0) return true;  // a "directory" marker
        s3::Location obj{loc.bucket, info.key};
        log::debug("reading ", obj.str(), " (", info.size, " bytes)");
        uint64_t n = cat_object(client, obj, o.raw, out);
        st.bytes_out += n;
        objects_read.inc();
        bytes_written.inc(static_cast<double>(n));
      }
      return true;
    }, o.page_size);
    if (st.objects == 0 && !o.summarize) {
      // A name that is neither an object nor a prefix is a mistake; an empty prefix is an hour, a day
      // with no data yet (a backfill of a quiet hour must not fail), unless the caller says otherwise.
      // --list lists by prefix: an empty listing is noted the same way.
      std::string where = o.hour.empty() ? url : loc.str() + " (hour " + o.hour + " of " + url + ")";
      if (!as_prefix && !o.list) throw NoInputError("no object " + url + " and no objects under that prefix");
      if (o.fail_if_empty) throw NoInputError("no objects under " + where + " (--fail-if-empty)");
      empty.inc();
      log::info("no objects under ", where, o.list ? ": nothing to list" : ": nothing to read",
                " (--fail-if-empty makes this exit 66)");
    }
    if (o.summarize) {
      if (o.list) out.line("");
      out.line("Total Objects: " + std::to_string(st.objects) + "\t" + url);
      out.line("Total Size: " + std::to_string(st.bytes) + "\t" + url);
      std::string lbl = label("bucket", loc.bucket) + "," + label("prefix", loc.key);
      metrics().gauge("s3_prefix_objects", "Objects under an S3 prefix (s3-cat --summarize)", lbl).set(static_cast<double>(st.objects));
      metrics().gauge("s3_prefix_bytes", "Bytes stored under an S3 prefix (s3-cat --summarize)", lbl).set(static_cast<double>(st.bytes));
    }
    total.objects += st.objects;
    total.bytes += st.bytes;
    total.bytes_out += st.bytes_out;
  }
  retries.inc(static_cast<double>(client.retries()));
  return total;
}

}  // namespace sp::s3cat
