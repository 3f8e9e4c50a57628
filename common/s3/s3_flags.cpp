#include "common/s3/s3_flags.hpp"

#include <chrono>

namespace sp::s3flags {

void add(CLI::App& app, Flags& f) {
  app.add_option("--endpoint", f.conn.endpoint, "S3 endpoint URL, like http://127.0.0.1:9000 (default: AWS)");
  app.add_option("--region", f.conn.region, "Region for signing (default us-east-1)");
  app.add_option("--profile", f.conn.profile, "Profile of ~/.aws/credentials and ~/.aws/config");
  app.add_flag("--path-style", f.path_style, "Bucket in the URL path (default for custom endpoints)");
  app.add_flag("--virtual-host", f.virtual_host, "Bucket in the host name (default for AWS)");
  app.add_flag("--no-verify-tls", f.conn.no_verify_tls, "Do not check the server's TLS certificate");
  app.add_option("--retries", f.retries, "Attempts per request before giving up")->capture_default_str()->check(CLI::Range(1, 1000000));
  app.add_option("--retry-time", f.retry_time, "Seconds to keep retrying one request")->capture_default_str()->check(CLI::PositiveNumber);
}

s3::Settings settings(Flags& f) {
  if (f.path_style && f.virtual_host) throw UsageError("choose one of --path-style and --virtual-host");
  if (f.path_style) f.conn.path_style = true;
  if (f.virtual_host) f.conn.path_style = false;
  s3::Settings s = s3::resolve(f.conn);
  s.max_attempts = f.retries;
  s.retry_time = std::chrono::milliseconds(static_cast<int64_t>(f.retry_time * 1000));
  return s;
}

}  // namespace sp::s3flags
