// The S3 client's XML: reading the answers (errors, listings, multipart) with pugixml, and the one
// request body it writes (CompleteMultipartUpload). Elements are matched by local name, whatever their
// namespace prefix (s3:Key) or attributes, and only where the answer's schema puts them: a listing's
// IsTruncated and Next* are the root's own children, never an element of the same name deeper down.
// Text is decoded by the parser (&amp;, &#38;, &#x26;, ...). A body that is not XML reads as empty.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "common/s3/s3.hpp"

namespace sp::s3 {

// Whether the body is an <Error> document (CompleteMultipartUpload may answer 200 with one).
bool is_error_body(std::string_view xml);

// InitiateMultipartUploadResult's UploadId; CompleteMultipartUploadResult's ETag (quotes kept).
std::string parse_upload_id(std::string_view xml);
std::string parse_complete_etag(std::string_view xml);

// One ListObjectsV2 page.
struct ObjectPage {
  std::vector<ObjectInfo> objects;  // ETags without quotes
  bool truncated = false;
  std::string next_token;  // NextContinuationToken
};
ObjectPage parse_list_objects(std::string_view xml);

// One ListParts page.
struct PartPage {
  std::vector<Part> parts;  // ETags without quotes
  bool truncated = false;
  std::string next_marker;  // NextPartNumberMarker
};
PartPage parse_list_parts(std::string_view xml);

// One ListMultipartUploads page.
struct UploadPage {
  std::vector<Upload> uploads;
  bool truncated = false;
  std::string next_key_marker, next_upload_id_marker;
};
UploadPage parse_list_uploads(std::string_view xml);

}  // namespace sp::s3
