// The S3 client's writes: PUT and the multipart upload (create, parts, complete, abort, listings).
#include "common/core/errors.hpp"
#include "common/s3/s3.hpp"
#include "common/s3/s3_detail.hpp"
#include "common/s3/s3_xml.hpp"

namespace sp::s3 {

namespace {
void check_etag(const std::string& what, const std::string& got, const std::string& md5_raw) {
  std::string want = sigv4::hex(md5_raw);
  std::string g = unquote(got);
  // SSE-KMS / SSE-C objects have ETags that are not the MD5: only a 32-hex answer is comparable
  if (g.size() == 32 && g != want)
    throw S3Error(Exit::tempfail, what + ": server ETag " + g + " does not match the MD5 we sent (" + want + ")", 200,
                  "BadETag", "");
}
}  // namespace

std::string Client::put_object(const Location& loc, std::string_view body, const Headers& extra) {
  Call c{"PUT", loc.bucket, loc.key, {}, extra, body, nullptr, "PUT " + loc.str(), sigv4::md5(body)};
  auto r = call(c);
  std::string etag = unquote(r.header("etag"));
  check_etag(c.what, etag, c.md5_raw);
  return etag;
}

std::string Client::create_multipart(const Location& loc, const Headers& extra) {
  Call c{"POST", loc.bucket, loc.key, {{"uploads", ""}}, extra, {}, nullptr, "CreateMultipartUpload " + loc.str()};
  auto r = call(c);
  std::string id = parse_upload_id(r.body);
  if (id.empty()) throw S3Error(Exit::software, c.what + ": answer has no UploadId", r.status, "", "");
  return id;
}

std::string Client::upload_part(const Location& loc, const std::string& upload_id, int number, std::string_view body) {
  Call c{"PUT", loc.bucket, loc.key, {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}}, {}, body, nullptr,
         "UploadPart " + loc.str() + " part " + std::to_string(number), sigv4::md5(body)};
  auto r = call(c);
  std::string etag = unquote(r.header("etag"));
  check_etag(c.what, etag, c.md5_raw);
  return etag;
}

std::string Client::complete_multipart(const Location& loc, const std::string& upload_id, const std::vector<Part>& parts,
                                       const Headers& extra) {
  std::string xml = "<CompleteMultipartUpload>";
  for (const auto& p : parts)
    xml += "<Part><PartNumber>" + std::to_string(p.number) + "</PartNumber><ETag>\"" + p.etag + "\"</ETag></Part>";
  xml += "</CompleteMultipartUpload>";
  Call c{"POST", loc.bucket, loc.key, {{"uploadId", upload_id}}, {{"content-type", "application/xml"}}, xml, nullptr,
         "CompleteMultipartUpload " + loc.str()};
  c.headers.insert(c.headers.end(), extra.begin(), extra.end());
  auto r = call(c);
  return unquote(parse_complete_etag(r.body));
}

void Client::delete_object(const Location& loc) {
  Call c{"DELETE", loc.bucket, loc.key, {}, {}, {}, nullptr, "DELETE " + loc.str()};
  call(c);
}

void Client::abort_multipart(const Location& loc, const std::string& upload_id) {
  Call c{"DELETE", loc.bucket, loc.key, {{"uploadId", upload_id}}, {}, {}, nullptr,
         "AbortMultipartUpload " + loc.str() + " (upload id " + upload_id + ")"};
  call(c);
}

std::vector<Part> Client::list_parts(const Location& loc, const std::string& upload_id) {
  std::vector<Part> out;
  std::string marker;
  while (true) {
    Call c{"GET", loc.bucket, loc.key, {{"uploadId", upload_id}, {"max-parts", "1000"}}, {}, {}, nullptr,
           "ListParts " + loc.str()};
    if (!marker.empty()) c.query.emplace_back("part-number-marker", marker);
    auto r = call(c);
    PartPage page = parse_list_parts(r.body);
    out.insert(out.end(), page.parts.begin(), page.parts.end());
    if (!page.truncated || page.next_marker.empty() || page.next_marker == marker) break;
    marker = page.next_marker;
  }
  return out;
}

std::vector<Upload> Client::list_multipart_uploads(const std::string& bucket, const std::string& prefix) {
  std::vector<Upload> out;
  std::string key_marker, id_marker;
  while (true) {
    Call c{"GET", bucket, "", {{"uploads", ""}, {"prefix", prefix}}, {}, {}, nullptr, "ListMultipartUploads s3://" + bucket};
    if (!key_marker.empty()) {
      c.query.emplace_back("key-marker", key_marker);
      c.query.emplace_back("upload-id-marker", id_marker);
    }
    auto r = call(c);
    UploadPage page = parse_list_uploads(r.body);
    out.insert(out.end(), page.uploads.begin(), page.uploads.end());
    if (!page.truncated) break;
    key_marker = page.next_key_marker;
    id_marker = page.next_upload_id_marker;
    if (key_marker.empty()) break;
  }
  return out;
}

}  // namespace sp::s3
