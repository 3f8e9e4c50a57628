// The S3 connection flags s3-put and s3-cat share (--endpoint, --region, --profile, addressing, TLS, retries).
#pragma once
#include <CLI/CLI.hpp>
#include <string>

#include "common/s3/s3.hpp"

namespace sp::s3flags {

struct Flags {
  s3::Flags conn;
  bool path_style = false, virtual_host = false;
  int retries = 9;  // after the first attempt, as ch-insert's --retries; -1 = no limit
  double retry_time = 300;
};

void add(CLI::App& app, Flags& f);
// Resolves the connection settings (flags > env > files); throws UsageError/ConfigError.
s3::Settings settings(Flags& f);

}  // namespace sp::s3flags
