// The S3 client's reads of one object: HEAD, GET resumed after a broken transfer, small objects.
#include "common/core/log.hpp"
#include "common/core/retry.hpp"
#include "common/s3/s3.hpp"
#include "common/s3/s3_detail.hpp"

namespace sp::s3 {

std::optional<ObjectInfo> Client::head_object(const Location& loc) {
  Call c{"HEAD", loc.bucket, loc.key, {}, {}, {}, nullptr, "HEAD " + loc.str()};
  try {
    auto r = call(c);
    ObjectInfo o;
    o.key = loc.key;
    o.size = std::strtoull(r.header("content-length").c_str(), nullptr, 10);
    o.etag = unquote(r.header("etag"));
    o.last_modified = r.header("last-modified");
    return o;
  } catch (const S3Error& e) {
    if (e.status == 404 && e.s3_code == "NoSuchKey") return std::nullopt;
    throw;
  }
}

uint64_t Client::get_object(const Location& loc, const std::function<bool(const char*, size_t)>& sink, uint64_t offset) {
  uint64_t delivered = 0;
  // The first answer's ETag: which version of the object is being read. Every resumed request asks
  // for it (If-Match), so a replaced object is an error, never spliced onto what was delivered.
  std::string etag;
  bool answered = false;  // a first 2xx answer started
  Retry retry = request_retry(s_);
  while (true) {
    Call c{"GET", loc.bucket, loc.key, {}, {}, {}, nullptr, "GET " + loc.str()};
    uint64_t from = offset + delivered;
    if (from > 0) c.headers.emplace_back("range", "bytes=" + std::to_string(from) + "-");
    if (!etag.empty()) c.headers.emplace_back("if-match", "\"" + etag + "\"");
    ResumeSkip resume(from);  // a server may ignore Range
    c.on_stream_start = [&](const HttpResponse& head) {
      std::string got = unquote(head.header("etag"));
      if (!answered) {
        answered = true;
        etag = got;
      } else if (!etag.empty() && !got.empty() && got != etag) {  // a server that ignores If-Match
        throw S3Error(Exit::tempfail, c.what + ": the object changed while it was being read (ETag " + got +
                                          ", not " + etag + ")", head.status, "PreconditionFailed", "");
      }
      resume.start(head.status);
    };
    c.on_body = [&](const char* p, size_t n) {
      size_t drop = resume.drop(n);
      if (drop == n) return true;
      if (!sink(p + drop, n - drop)) return false;
      delivered += n - drop;
      return true;
    };
    std::string problem;
    try {
      HttpResponse r = send_once(c, sigv4::kEmptySha256, "", retry);
      if (r.status / 100 == 2) {
        if (resume.short_body())
          throw S3Error(Exit::tempfail, c.what + ": resumed at byte " + std::to_string(from) +
                                            " but the server sent a shorter whole object: it changed while it was being read",
                        r.status, "", "");
        return delivered;
      }
      if (r.status == 416 && from > 0) return delivered;  // resumed exactly at the end
      ErrorBody e = parse_error(r.body);
      if (r.status == 412)
        throw S3Error(Exit::tempfail, c.what + ": the object changed while it was being read (ETag no longer " + etag + ")",
                      412, "PreconditionFailed", e.request_id);
      if (!retriable(r.status, e.code) || retry.spent()) fail(c, r);
      problem = std::to_string(r.status) + " " + e.code;
    } catch (const HttpTransportError& e) {
      problem = e.what();
      if (retry.spent(e.never_reached))
        give_up(c.what + ": giving up after " + std::to_string(retry.retries() + 1) + " attempts at byte " +
                std::to_string(offset + delivered) + ": " + problem + never_reached_hint(e));
    }
    auto d = retry.next();
    ++retries_;
    log::warn(c.what, ": ", problem, " after ", offset + delivered, " bytes; resuming in ", d.count(), " ms");
    retry.wait(d, c.what + ": interrupted while retrying: " + problem);
  }
}

std::string Client::get_small(const Location& loc, size_t max_bytes) {
  std::string out;
  bool too_big = false;
  try {
    get_object(loc, [&](const char* p, size_t n) {
      if (out.size() + n > max_bytes) {
        too_big = true;
        return false;
      }
      out.append(p, n);
      return true;
    });
  } catch (const IoError&) {
    if (too_big) throw DataError(loc.str() + " is larger than " + std::to_string(max_bytes) + " bytes");
    throw;
  }
  return out;
}

}  // namespace sp::s3
