// The S3 client's bucket listing (ListObjectsV2, every page) and the bucket check built on it.
#include "common/s3/s3.hpp"
#include "common/s3/s3_xml.hpp"

namespace sp::s3 {

bool Client::check_bucket(const std::string& bucket, const std::string& prefix) {
  Call c{"GET", bucket, "", {{"list-type", "2"}, {"prefix", prefix}, {"max-keys", "1"}}, {}, {}, nullptr,
         "checking s3://" + bucket + "/ (ListObjectsV2)"};
  try {
    call(c);
    return true;
  } catch (const S3Error& e) {
    if (e.s3_code == "AccessDenied") return false;
    throw;
  }
}

void Client::list_objects(const std::string& bucket, const std::string& prefix,
                          const std::function<bool(const ObjectInfo&)>& fn, int page_size) {
  std::string token;
  while (true) {
    Call c{"GET", bucket, "", {{"list-type", "2"}, {"prefix", prefix}, {"max-keys", std::to_string(page_size)}}, {}, {},
           nullptr, "ListObjectsV2 s3://" + bucket + "/" + prefix};
    if (!token.empty()) c.query.emplace_back("continuation-token", token);
    auto r = call(c);
    ObjectPage page = parse_list_objects(r.body);
    for (const auto& o : page.objects)
      if (!fn(o)) return;
    const std::string& next = page.next_token;
    if (!page.truncated) break;
    if (next.empty() || next == token)
      throw S3Error(Exit::software, c.what + ": truncated listing without a continuation token", r.status, "", "");
    token = next;
  }
}

}  // namespace sp::s3
