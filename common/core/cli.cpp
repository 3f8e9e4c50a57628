#include "common/core/cli.hpp"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>

#include "common/core/config.hpp"
#include "common/core/log.hpp"
#include "common/core/metrics.hpp"
#include "common/core/signals.hpp"

namespace sp {

std::string exit_status_help() {
  return "Exit status: 0 ok, 1 rejects over threshold, 2 usage, 65 bad data, 66 missing input, "
         "69 unavailable, 70 internal, 74 I/O, 75 temporary failure, 77 permission, 78 config, 130 interrupted.";
}

int tool_main(const char* tool, const std::string& description, int argc, char** argv, const SetupFn& setup,
              const RunFn& run, const RemoteConfigFetch& fetch_remote) {
  log::init(tool);
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{description, tool};
  app.set_version_flag("--version", std::string(tool) + " " SENSOR_VERSION);
  app.footer(exit_status_help() + "\nSee man " + tool + "(1).");
  CommonOptions common;
  app.add_option("--config", common.config_path,
                 "Configuration file (INI; or s3://bucket/key). Default: $SENSOR_PIPELINE_CONFIG, "
                 "~/.config/sensor-pipeline/config.ini, /etc/sensor-pipeline/config.ini");
  app.add_flag("-v,--verbose", common.verbose, "More messages on stderr (-vv for trace)");
  app.add_flag("-q,--quiet", common.quiet, "Only errors on stderr (no summary)");
  app.add_option("--metrics-file", common.metrics_file,
                 "Write Prometheus metrics to this file on exit and every few seconds (atomic rename)");
  app.add_option("--metrics-listen", common.metrics_listen, "Serve Prometheus /metrics over HTTP at HOST:PORT");

  try {
    setup(app);
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    std::cout << app.help() << std::flush;
    return 0;
  } catch (const CLI::CallForAllHelp& e) {
    std::cout << app.help("", CLI::AppFormatMode::All) << std::flush;
    return 0;
  } catch (const CLI::CallForVersion& e) {
    std::cout << e.what() << std::endl;
    return 0;
  } catch (const CLI::ParseError& e) {
    log::error(e.what());
    std::cerr << "Try '" << tool << " --help' for more information.\n";
    return code(Exit::usage);
  } catch (const Error& e) {
    log::error(e.what());
    return code(e.code());
  }

  if (common.quiet)
    log::set_level(log::Level::error);
  else if (common.verbose >= 2)
    log::set_level(log::Level::trace);
  else if (common.verbose == 1)
    log::set_level(log::Level::debug);

  install_stop_signals();
  int rc = 0;
  try {
    set_config(Config::load(common.config_path, fetch_remote));
    if (!config().origin().empty()) log::debug("configuration from ", config().origin());
    MetricsExporter exporter(common.metrics_file, common.metrics_listen);
    rc = run(common);
    exporter.finish();
    std::cout.flush();
    if (!std::cout) throw IoError("write error on stdout");
  } catch (const BrokenPipe&) {
    return 0;
  } catch (const Error& e) {
    log::error(e.what());
    return code(e.code());
  } catch (const std::bad_alloc&) {
    log::error("out of memory");
    return code(Exit::software);
  } catch (const std::exception& e) {
    log::error("internal error: ", e.what());
    return code(Exit::software);
  }
  return rc;
}

}  // namespace sp
