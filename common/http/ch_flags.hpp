// The ClickHouse connection flags (--url, --user, --password-file, --database, TLS) and the answers to
// clickhouse-client's habits (--password x, --host, --port, --query, --secure): one home for them.
#pragma once
#include <CLI/CLI.hpp>

#include "common/http/clickhouse.hpp"

namespace sp::chflags {

void add(CLI::App& app, ChFlags& f);

}  // namespace sp::chflags
