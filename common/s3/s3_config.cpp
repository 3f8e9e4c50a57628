// --config s3://bucket/key: every tool reads its configuration through the S3 client. Connection
// settings come from the environment and ~/.aws only (the config file cannot configure its own fetch).
#include "common/core/errors.hpp"
#include "common/core/log.hpp"
#include "common/s3/s3.hpp"

namespace sp {
std::string fetch_remote_config(const std::string& url) {
  s3::Location loc;
  try {
    loc = s3::Location::parse(url);
  } catch (const UsageError& e) {
    throw ConfigError(std::string("config location: ") + e.what());
  }
  if (loc.key.empty() || loc.key.back() == '/') throw ConfigError("config location " + url + " names no object");
  s3::Settings settings;
  try {
    settings = s3::resolve(s3::Flags{});
  } catch (const ConfigError& e) {
    throw ConfigError("cannot read configuration from " + url + ": " + e.what());
  }
  s3::Client client(settings);
  log::debug("reading configuration from ", url);
  // a config file is small; a huge object here is a mistake, not a config
  try {
    return client.get_small(loc, 1 << 20);
  } catch (const ConfigError&) {
    throw;
  } catch (const Error& e) {
    // a tool that cannot read its configuration is not configured (78), whatever the tool's own
    // statuses for S3 are: every tool's list of exit statuses stays its own
    throw ConfigError("cannot read configuration from " + url + ": " + e.what());
  }
}
}  // namespace sp
