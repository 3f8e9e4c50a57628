// The ClickHouse connection flags (--url, --user, --password-file, --database, --ca-file, --insecure),
// declared once as s3_flags.hpp declares S3's; resolve_ch_connection (clickhouse.hpp) resolves them
// against the environment and the config file.
#pragma once
#include <CLI/CLI.hpp>

#include "common/http/clickhouse.hpp"

namespace sp::chflags {

void add(CLI::App& app, ChFlags& f);

}  // namespace sp::chflags
