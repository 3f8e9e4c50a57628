// Private to common/s3: the helpers the S3 client's files (s3.cpp, s3_write.cpp, s3_get.cpp,
// s3_xml.cpp) share.
#pragma once
#include <string>

#include "common/core/retry.hpp"
#include "common/http/http.hpp"
#include "common/s3/s3.hpp"

namespace sp::s3 {

// Throws the error for a request given up after transport failures: 75 (TempFailError) once any S3
// answer was seen by this process, 69 (UnavailableError) before.
[[noreturn]] void give_up(const std::string& msg);
// A request's retry budget from the settings (--retries, --retry-time; the wait an abandonable
// client keeps up after a first stop signal).
Retry request_retry(const Settings& s);
// Why a request was given up sooner than --retries / --retry-time say ("" when it was not).
std::string never_reached_hint(const HttpTransportError& e);
// An ETag without its quotes.
std::string unquote(std::string s);

}  // namespace sp::s3
