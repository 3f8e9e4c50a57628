// Placeholder until the S3 client lands: --config s3://... is reported as unsupported.
#include "common/config.hpp"
#include "common/errors.hpp"

namespace sp {
std::string fetch_remote_config(const std::string& url) {
  throw ConfigError("cannot read configuration from " + url + ": S3 support is not built in yet");
}
}  // namespace sp
