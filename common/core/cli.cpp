#include "common/core/cli.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <set>

#include "common/core/config.hpp"
#include "common/core/log.hpp"
#include "common/core/metrics.hpp"
#include "common/core/signals.hpp"

namespace sp {

std::string exit_status_help(std::initializer_list<Exit> exits) {
  std::set<int> codes;
  for (Exit e : kCommonExits) codes.insert(code(e));
  for (Exit e : exits) codes.insert(code(e));
  std::string text = "Exit status:";
  for (int c : codes) text += (c == *codes.begin() ? " " : ", ") + std::to_string(c) + " " + exit_name(static_cast<Exit>(c));
  return text + ".";
}

namespace cli {

void alias(CLI::App& app, const std::string& old_name, CLI::Option* now, bool warn, const std::string& suffix) {
  std::string new_name = now->get_name();
  auto note = [old_name, new_name, warn] {
    if (warn) log::warn(old_name, " is deprecated; use ", new_name);
  };
  CLI::Option* o;
  if (now->get_expected_min() == 0) {
    o = app.add_flag_callback(old_name, [now, note] {
      note();
      now->add_result("true");
    });
  } else {
    o = app.add_option(old_name, [now, note, suffix](const CLI::results_t& res) {
      note();
      for (const auto& r : res) now->add_result(r + suffix);
      return true;
    });
    o->type_name(now->get_type_name());
  }
  // at once, while parsing: now's own callback (validation, storing) runs after the parse and must see
  // the value
  o->trigger_on_parse()->group("");
}

CLI::Option* choices(CLI::Option* o, const std::vector<std::string>& values) {
  std::string list;
  for (const auto& v : values) list += (list.empty() ? "" : ",") + v;
  return o->type_name("{" + list + "}");
}

void refuse(CLI::App& app, const std::string& name, bool takes_value, const std::string& hint) {
  auto fail = [name, hint] { throw CLI::ValidationError(name, hint); };
  CLI::Option* o = takes_value ? app.add_option(name, [fail](const CLI::results_t&) { fail(); return true; })
                                     ->expected(0, 1)
                               : app.add_flag_callback(name, fail);
  o->trigger_on_parse()->group("");
}

namespace {
std::string not_a_duration(const std::string& text, double bare_unit) {
  return "'" + text + "' is not a duration: give a number with a unit (250ms, 1.5s, 2m, 1h) or a bare number of " +
         (bare_unit == 1.0 ? "seconds" : bare_unit == 0.001 ? "milliseconds (deprecated)" : "units");
}
}  // namespace

double parse_duration(const std::string& text, double bare_unit) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    throw CLI::ValidationError(not_a_duration(text, bare_unit));
  }
  std::string unit = text.substr(used);
  double scale = unit.empty() ? bare_unit : unit == "ms" ? 0.001 : unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : -1;
  if (scale < 0 || !std::isfinite(v)) throw CLI::ValidationError(not_a_duration(text, bare_unit));
  return v * scale;
}

CLI::Validator NonNegative(const std::string& what) {
  return CLI::Validator(
      [what](std::string& s) -> std::string {
        char* end = nullptr;
        double v = std::strtod(s.c_str(), &end);
        if (s.empty() || end == nullptr || *end != '\0' || !(v >= 0)) return "'" + log::printable(s, 40) + "' is not " + what;
        return "";
      },
      "");
}

std::string duration_text(double seconds) {
  char buf[40];
  double whole = std::round(seconds);
  if (seconds != 0 && whole == seconds && std::fmod(whole, 3600) == 0)
    std::snprintf(buf, sizeof buf, "%gh", seconds / 3600);
  else if (seconds != 0 && whole == seconds && std::fmod(whole, 60) == 0)
    std::snprintf(buf, sizeof buf, "%gm", seconds / 60);
  else if (seconds == 0 || std::fabs(seconds) >= 1)
    std::snprintf(buf, sizeof buf, "%gs", seconds);
  else
    std::snprintf(buf, sizeof buf, "%gms", seconds * 1000);
  return buf;
}

CLI::Validator Duration(double bare_unit, const std::string& bare_warning, double lo, double hi) {
  return CLI::Validator(
      [bare_unit, bare_warning, lo, hi](std::string& s) -> std::string {
        std::string in = s;
        double secs = 0;
        try {
          secs = parse_duration(s, bare_unit);
        } catch (const CLI::ValidationError& e) {
          return e.what();
        }
        // the bounds in the same units, never CLI::Range's "0 to 1.797...e+308" (DBL_MAX in full)
        if (secs < lo || secs > hi)
          return in + " is out of range (" +
                 (std::isinf(hi) ? "at least " + duration_text(lo) : duration_text(lo) + " to " + duration_text(hi)) + ")";
        if (!bare_warning.empty() && in.find_first_not_of("0123456789.+-eE") == std::string::npos) log::warn(bare_warning);
        char buf[40];
        std::snprintf(buf, sizeof buf, "%.17g", secs);
        s = buf;
        return "";
      },
      "");
}

CLI::Option* add_duration(CLI::App& app, const std::string& name, double& seconds, const std::string& help, double lo,
                          double hi, double bare_unit, const std::string& bare_warning) {
  return app.add_option(name, seconds, help)
      ->default_str(duration_text(seconds))
      ->transform(Duration(bare_unit, bare_warning, lo, hi))
      ->type_name("DURATION");
}

namespace {
// The long names of every option of app ("--table"), hidden ones too (a former spelling answers).
std::vector<std::string> long_names(const CLI::App& app) {
  std::vector<std::string> out;
  for (const CLI::Option* o : app.get_options())
    for (const auto& n : o->get_lnames()) out.push_back("--" + n);
  return out;
}
}  // namespace

std::string unexpected_arguments(const CLI::App& app, const std::vector<std::string>& args,
                                 std::vector<std::string> remaining) {
  std::vector<std::string> names = long_names(app);
  std::string out;
  auto add = [&out](const std::string& part) { out += (out.empty() ? "" : "; ") + part; };
  size_t hidden = 0;
  bool after_unknown = false;  // the previous argument was an unknown option without "=VALUE"
  const CLI::Option* taking = nullptr;  // the previous argument was a known option that takes a value
  for (const auto& a : args) {
    auto it = std::find(remaining.begin(), remaining.end(), a);
    bool value_of_known = taking != nullptr && !(a.size() > 1 && a[0] == '-');
    taking = nullptr;
    if (it == remaining.end() || value_of_known) {  // placed by the parser
      const CLI::Option* o = a.size() > 1 && a[0] == '-' ? app.get_option_no_throw(a) : nullptr;
      if (o && o->get_expected_min() > 0) taking = o;
      after_unknown = false;
      continue;
    }
    remaining.erase(it);
    if (a.size() > 1 && a[0] == '-' && !(a.size() > 1 && (std::isdigit(static_cast<unsigned char>(a[1])) || a[1] == '.'))) {
      size_t eq = a.find('=');
      std::string name = a.substr(0, eq);
      if (eq != std::string::npos) ++hidden;
      std::string part = "unknown option " + log::printable(name, 60);
      if (name.starts_with("--")) {
        if (std::string near = nearest_name(name, names); !near.empty()) part += " (did you mean " + near + "?)";
      }
      add(part);
      after_unknown = eq == std::string::npos;
    } else if (after_unknown) {
      ++hidden;  // most likely the unknown option's value: a password given to a misspelt --password
      after_unknown = false;
    } else {
      add("unexpected argument '" + log::printable(a, 60) + "'");
    }
  }
  hidden += remaining.size();  // not found in args (cannot happen): not shown either
  if (hidden)
    add(std::to_string(hidden) + (hidden == 1 ? " value" : " values") +
        " after an unknown option not shown (it may be a secret)");
  return out;
}

}  // namespace cli

int tool_main(const char* tool, const std::string& description, std::initializer_list<Exit> exits, int argc,
              char** argv, const SetupFn& setup, const RunFn& run, const RemoteConfigFetch& fetch_remote) {
  log::init(tool);
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{description, tool};
  app.set_version_flag("--version", std::string(tool) + " " SENSOR_VERSION);
  app.footer(exit_status_help(exits) + "\nSee man " + tool + "(1).");
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
  } catch (const CLI::ExtrasError& e) {
    // CLI11's own text lists every stray word: `--pasword hunter2` would show the password
    log::error(cli::unexpected_arguments(app, std::vector<std::string>(argv + 1, argv + argc), app.remaining()));
    std::cerr << "Try '" << tool << " --help' for more information.\n";
    return code(Exit::usage);
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
    rethrow_kept_failure();  // a callback's or helper thread's failure (signals.hpp) outranks rc
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
