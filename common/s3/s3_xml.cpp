#include "common/s3/s3_xml.hpp"

#include <pugixml.hpp>

#include <cstdlib>
#include <cstring>

#include "common/s3/s3_detail.hpp"

namespace sp::s3 {

namespace {
// pugixml's defaults (entities and character references decoded, CDATA read), and a text that is only
// whitespace kept when it is an element's whole content: a key may be "   ".
constexpr unsigned kParse = pugi::parse_default | pugi::parse_ws_pcdata_single;

// The document's root element, or an empty node when the body is not well-formed XML (an HTML error
// page of a proxy, a truncated answer): what is asked of it then reads as empty.
struct Doc {
  pugi::xml_document doc;
  pugi::xml_node root;
  explicit Doc(std::string_view xml) {
    if (doc.load_buffer(xml.data(), xml.size(), kParse, pugi::encoding_utf8)) root = doc.document_element();
  }
};

// An element's name without its namespace prefix ("s3:Key" -> "Key").
const char* local_name(const pugi::xml_node& n) {
  const char* name = n.name();
  const char* colon = std::strchr(name, ':');
  return colon ? colon + 1 : name;
}

bool is(const pugi::xml_node& n, const char* name) {
  return n.type() == pugi::node_element && std::strcmp(local_name(n), name) == 0;
}

// The first child element of `parent` named `name` (local name).
pugi::xml_node child(const pugi::xml_node& parent, const char* name) {
  for (auto c : parent.children())
    if (is(c, name)) return c;
  return {};
}

// The text of that child (decoded; CDATA included), "" when there is none.
std::string text(const pugi::xml_node& parent, const char* name) {
  std::string out;
  for (auto n : child(parent, name).children())
    if (n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata) out += n.value();
  return out;
}

bool truncated(const pugi::xml_node& root) { return text(root, "IsTruncated") == "true"; }

uint64_t number(const std::string& s) { return std::strtoull(s.c_str(), nullptr, 10); }
}  // namespace

ErrorBody parse_error(std::string_view xml) {
  Doc d(xml);
  ErrorBody e;
  if (!is(d.root, "Error")) return e;
  e.code = text(d.root, "Code");
  e.message = text(d.root, "Message");
  e.request_id = text(d.root, "RequestId");
  return e;
}

bool is_error_body(std::string_view xml) { return is(Doc(xml).root, "Error"); }

std::string parse_upload_id(std::string_view xml) { return text(Doc(xml).root, "UploadId"); }

std::string parse_complete_etag(std::string_view xml) { return text(Doc(xml).root, "ETag"); }

ObjectPage parse_list_objects(std::string_view xml) {
  Doc d(xml);
  ObjectPage page;
  for (auto c : d.root.children()) {
    if (!is(c, "Contents")) continue;
    ObjectInfo o;
    o.key = text(c, "Key");
    o.size = number(text(c, "Size"));
    o.etag = unquote(text(c, "ETag"));
    o.last_modified = text(c, "LastModified");
    page.objects.push_back(std::move(o));
  }
  page.truncated = truncated(d.root);
  page.next_token = text(d.root, "NextContinuationToken");
  return page;
}

PartPage parse_list_parts(std::string_view xml) {
  Doc d(xml);
  PartPage page;
  for (auto c : d.root.children()) {
    if (!is(c, "Part")) continue;
    Part p;
    p.number = std::atoi(text(c, "PartNumber").c_str());
    p.etag = unquote(text(c, "ETag"));
    p.size = number(text(c, "Size"));
    page.parts.push_back(p);
  }
  page.truncated = truncated(d.root);
  page.next_marker = text(d.root, "NextPartNumberMarker");
  return page;
}

UploadPage parse_list_uploads(std::string_view xml) {
  Doc d(xml);
  UploadPage page;
  for (auto c : d.root.children())
    if (is(c, "Upload")) page.uploads.push_back({text(c, "Key"), text(c, "UploadId"), text(c, "Initiated")});
  page.truncated = truncated(d.root);
  page.next_key_marker = text(d.root, "NextKeyMarker");
  page.next_upload_id_marker = text(d.root, "NextUploadIdMarker");
  return page;
}

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace sp::s3
