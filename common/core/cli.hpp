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
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

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
// `exits` are the statuses this tool can return (its --help footer lists them; its man page's EXIT
// STATUS lists the same, tests/cli/check_tool.sh compares them). fetch_remote reads a --config
// s3://... location (every tool passes sp::fetch_remote_config of common/s3/s3.hpp; core itself does
// not depend on S3).
int tool_main(const char* tool, const std::string& description, std::initializer_list<Exit> exits, int argc,
              char** argv, const SetupFn& setup, const RunFn& run, const RemoteConfigFetch& fetch_remote = {});

// The statuses every tool can return through tool_main itself: 0, 2 (usage), 70 (internal), 74
// (writing stdout, --metrics-file), 78 (configuration, also a --config s3:// that cannot be read).
// tool_main adds them to the tool's own list.
inline constexpr Exit kCommonExits[] = {Exit::ok, Exit::usage, Exit::software, Exit::ioerr, Exit::config};

// Exit-status text for --help footers: "Exit status: 0 ok, 2 usage, ..." for these codes, sorted.
std::string exit_status_help(std::initializer_list<Exit> exits);

// Flag spellings shared by the tools (one family: the same concept has the same flag everywhere).
namespace cli {

// Keeps a former spelling of `now` working (scripts must not break): hidden from --help (and so from
// the completions), its values go through now's validation into now's variable, and every use prints
// "warning: OLD is deprecated; use NEW". `suffix` is appended to each value (e.g. "ms" when the old
// flag counted milliseconds and the new one takes a duration). warn=false: a quiet synonym
// (aws-cli's --endpoint-url).
void alias(CLI::App& app, const std::string& old_name, CLI::Option* now, bool warn = true,
           const std::string& suffix = "");

// The values an option takes, shown in --help as its type ("{json,tsv,csv,values}"), from where the
// shell completions (completions/gen-completions.py) offer them. Checking the value stays the tool's.
CLI::Option* choices(CLI::Option* o, const std::vector<std::string>& values);

// A habit from another client (clickhouse-client's --password x, --host...) answered with a usage
// error (exit 2) that says the right way; the value given (maybe a password) is never shown.
void refuse(CLI::App& app, const std::string& name, bool takes_value, const std::string& hint);

// A number 0 or more, refused as "'-1' is not WHAT" (CLI::NonNegativeNumber's message prints the
// upper bound, DBL_MAX, in full); the option's type converts it as usual.
CLI::Validator NonNegative(const std::string& what);

// Durations, the one parser for every duration option of every tool: a number with a unit (250ms,
// 1.5s, 2m, 1h) or a bare number in seconds; the option's variable receives seconds.
// bare_unit/bare_warning: for an option whose bare numbers always meant another unit (milliseconds =
// 0.001), a bare number keeps that meaning and warns. A value outside [lo, hi] is refused with the
// bounds as durations ("--batch-seconds: 2h is out of range (1ms to 1h)"); hi may be infinity.
CLI::Validator Duration(double bare_unit = 1.0, const std::string& bare_warning = "", double lo = 0,
                        double hi = std::numeric_limits<double>::infinity());
// A duration option in seconds [lo, hi] with its default shown as a duration: the one way tools declare
// them. Errors name the option and the accepted forms.
CLI::Option* add_duration(CLI::App& app, const std::string& name, double& seconds, const std::string& help, double lo,
                          double hi = std::numeric_limits<double>::infinity(), double bare_unit = 1.0,
                          const std::string& bare_warning = "");
// Parses one duration as Duration does (for unit tests); throws CLI::ValidationError.
double parse_duration(const std::string& text, double bare_unit = 1.0);
// Seconds as the shortest duration text: "1h", "2m", "1.5s", "250ms", "0s".
std::string duration_text(double seconds);

// The usage error for the arguments CLI11 could not place (`remaining`, in any order; `args` is argv
// without the program name, in order): each unknown option by its name only (never "=VALUE"), with the
// nearest long option ("did you mean --table?"), and stray words; a word right after an unknown option
// is taken for its value and only counted: `--pasword hunter2` must not print the password.
std::string unexpected_arguments(const CLI::App& app, const std::vector<std::string>& args,
                                 std::vector<std::string> remaining);

}  // namespace cli

}  // namespace sp
