#include "common/s3/s3_flags.hpp"

#include <chrono>
#include <climits>

#include "common/core/cli.hpp"

namespace sp::s3flags {

void add(CLI::App& app, Flags& f) {
  auto* endpoint = app.add_option("--endpoint", f.conn.endpoint, "S3 endpoint URL, like http://127.0.0.1:9000 (default: AWS; env AWS_ENDPOINT_URL)");
  cli::alias(app, "--endpoint-url", endpoint, false);  // aws-cli's spelling, a synonym
  app.add_option("--region", f.conn.region, "Region for signing (default us-east-1)");
  app.add_option("--profile", f.conn.profile, "Profile of ~/.aws/credentials and ~/.aws/config");
  app.add_flag("--path-style", f.path_style, "Bucket in the URL path (default for custom endpoints)");
  app.add_flag("--virtual-host", f.virtual_host, "Bucket in the host name (default for AWS)");
  // the same TLS flags as ch-insert's (ch_flags.cpp)
  auto* insecure = app.add_flag("--insecure", f.conn.insecure, "Do not verify the server's TLS certificate");
  cli::alias(app, "--no-verify-tls", insecure);
  app.add_option("--ca-file", f.conn.ca_file, "Extra CA bundle for https endpoints (env AWS_CA_BUNDLE, config s3.ca_file)");
  app.add_option("--retries", f.retries, "Retries per request after the first attempt (-1 = no limit; --retry-time still bounds them)")
      ->capture_default_str()->check(CLI::Range(-1, 1000000));
  cli::add_duration(app, "--retry-time", f.retry_time, "How long to keep retrying one request, a hung attempt included (seconds, or 500ms, 2m, 1h)", 0.001);
}

s3::Settings settings(Flags& f) {
  if (f.path_style && f.virtual_host) throw UsageError("choose one of --path-style and --virtual-host");
  if (f.path_style) f.conn.path_style = true;
  if (f.virtual_host) f.conn.path_style = false;
  s3::Settings s = s3::resolve(f.conn);
  s.max_attempts = f.retries < 0 ? INT_MAX : f.retries + 1;
  s.retry_time = std::chrono::milliseconds(static_cast<int64_t>(f.retry_time * 1000));
  return s;
}

}  // namespace sp::s3flags
