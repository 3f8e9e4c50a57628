// CLI plumbing shared by every tool: common flags, the guarded entry that maps errors to exit codes.
//
//   int main(int argc, char** argv) {
//     Options o;
//     return sp::tool_main("sensor-parse", "Validate sensor JSON into rows", argc, argv,
//         [&](CLI::App& app) { app.add_option(...); },     // declare flags into a plain struct
//         [&](const sp::CommonOptions& c) { return run(o, c); });  // do the work, return an exit code
//   }
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "common/core/config.hpp"
#include "common/core/errors.hpp"

namespace sp {

struct CommonOptions {
  std::string config_path;     // --config
  int verbose = 0;             // -v (repeatable)
  bool quiet = false;          // -q
  std::string metrics_file;    // --metrics-file: node_exporter textfile, written atomically
  std::string metrics_listen;  // --metrics-listen HOST:PORT: serve /metrics over HTTP
};

using SetupFn = std::function<void(CLI::App&)>;
using RunFn = std::function<int(const CommonOptions&)>;

// Parses argv (CLI11 errors -> exit 2 with "Try 'tool --help'"), sets the log level, loads the
// configuration file, ignores SIGPIPE (writes then fail with EPIPE -> quiet exit), installs the
// SIGINT/SIGTERM stop flag, runs `run`, flushes stdout, and maps exceptions to exit codes:
// sp::Error -> its code, BrokenPipe -> 0 quietly, anything else -> 70.
// fetch_remote reads a --config s3://... location (every tool passes sp::fetch_remote_config of
// common/s3/s3.hpp; core itself does not depend on S3).
int tool_main(const char* tool, const std::string& description, int argc, char** argv, const SetupFn& setup,
              const RunFn& run, const RemoteConfigFetch& fetch_remote = {});

// Exit-status table text for --help footers: "Exit status: 0 ok, 1 ...".
std::string exit_status_help();

}  // namespace sp
