// The one base64 (RFC 4648, with '=' padding) of the toolkit: Content-MD5 headers (S3), bytes that are
// not UTF-8 in kafka-cat-sensor's envelopes, the input of sensor-parse's reject reports.
#pragma once
#include <string>
#include <string_view>

namespace sp::codec {

// Appends the base64 text of bytes to out.
void append_base64(std::string& out, std::string_view bytes);
// The base64 text of bytes.
std::string base64(std::string_view bytes);

}  // namespace sp::codec
