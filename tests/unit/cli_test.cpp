// The shared flag plumbing (common/cli.hpp): deprecated aliases, refused habits, durations.
#include "common/core/cli.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace {

int parse(CLI::App& app, std::vector<std::string> args) {
  std::reverse(args.begin(), args.end());
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return e.get_exit_code();
  }
  return 0;
}

TEST(Cli, AliasFillsTheNewOptionThroughItsValidation) {
  CLI::App app;
  int n = 0;
  auto* now = app.add_option("--count", n)->check(CLI::Range(1, 10));
  sp::cli::alias(app, "-n", now);
  EXPECT_EQ(parse(app, {"-n", "7"}), 0);
  EXPECT_EQ(n, 7);
  CLI::App app2;
  auto* now2 = app2.add_option("--count", n)->check(CLI::Range(1, 10));
  sp::cli::alias(app2, "-n", now2);
  EXPECT_NE(parse(app2, {"-n", "70"}), 0);  // the new option's range applies to the old spelling
}

TEST(Cli, AliasOfAFlagAndSuffix) {
  CLI::App app;
  bool dry = false;
  double secs = 0;
  sp::cli::alias(app, "-n", app.add_flag("--dry-run", dry));
  sp::cli::alias(app, "--interval-ms", app.add_option("--interval", secs)->transform(sp::cli::Duration()), true, "ms");
  EXPECT_EQ(parse(app, {"-n", "--interval-ms", "1500"}), 0);
  EXPECT_TRUE(dry);
  EXPECT_DOUBLE_EQ(secs, 1.5);
  EXPECT_EQ(app.help().find("-n"), std::string::npos);  // hidden
}

TEST(Cli, RefusedOptionNeverShowsItsValue) {
  CLI::App app;
  sp::cli::refuse(app, "--password", true, "use CLICKHOUSE_PASSWORD");
  try {
    app.parse(std::vector<std::string>{"hunter2", "--password"});
    FAIL() << "accepted";
  } catch (const CLI::ParseError& e) {
    EXPECT_EQ(e.get_exit_code(), static_cast<int>(CLI::ExitCodes::ValidationError));
    EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("CLICKHOUSE_PASSWORD"), std::string::npos) << e.what();
  }
}

TEST(Cli, Durations) {
  EXPECT_DOUBLE_EQ(sp::cli::parse_duration("250ms"), 0.25);
  EXPECT_DOUBLE_EQ(sp::cli::parse_duration("1.5"), 1.5);
  EXPECT_DOUBLE_EQ(sp::cli::parse_duration("2m"), 120);
  EXPECT_DOUBLE_EQ(sp::cli::parse_duration("1h"), 3600);
  EXPECT_DOUBLE_EQ(sp::cli::parse_duration("500", 0.001), 0.5);
  EXPECT_THROW(sp::cli::parse_duration("5 minutes"), CLI::ValidationError);
  EXPECT_THROW(sp::cli::parse_duration("s"), CLI::ValidationError);
  EXPECT_THROW(sp::cli::parse_duration("inf"), CLI::ValidationError);
  EXPECT_EQ(sp::cli::duration_text(3600), "1h");
  EXPECT_EQ(sp::cli::duration_text(90), "90s");
  EXPECT_EQ(sp::cli::duration_text(120), "2m");
  EXPECT_EQ(sp::cli::duration_text(0.25), "250ms");
  EXPECT_EQ(sp::cli::duration_text(0), "0s");
}

// Issue 27: --batch-seconds 500ms and --rotate-seconds 1m were refused (not declared as durations), one
// with DBL_MAX in full (CLI::NonNegativeNumber's bound). Every duration option is an add_duration.
std::string duration_error(double lo, double hi, const std::string& value) {
  CLI::App app;
  double secs = 1;
  if (std::isinf(hi))
    sp::cli::add_duration(app, "--wait", secs, "", lo);
  else
    sp::cli::add_duration(app, "--wait", secs, "", lo, hi);
  try {
    app.parse(std::vector<std::string>{value, "--wait"});
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  return "(ok " + std::to_string(secs) + ")";
}

TEST(Cli, DurationOptionsTakeUnitsAndSayTheirBoundsAsDurations) {
  EXPECT_EQ(duration_error(0.001, 3600, "500ms"), "(ok 0.500000)");
  EXPECT_EQ(duration_error(0, INFINITY, "1m"), "(ok 60.000000)");
  EXPECT_EQ(duration_error(0, INFINITY, "90"), "(ok 90.000000)");
  EXPECT_EQ(duration_error(0.001, 3600, "2h"), "--wait: 2h is out of range (1ms to 1h)");
  EXPECT_EQ(duration_error(0, INFINITY, "-1m"), "--wait: -1m is out of range (at least 0s)");
  EXPECT_EQ(duration_error(0.001, INFINITY, "0"), "--wait: 0 is out of range (at least 1ms)");
  EXPECT_EQ(duration_error(0, INFINITY, "1x"),
            "--wait: '1x' is not a duration: give a number with a unit (250ms, 1.5s, 2m, 1h) or a bare number of seconds");
  CLI::App app;
  double secs = 1.5;
  sp::cli::add_duration(app, "--wait", secs, "", 0);
  EXPECT_NE(app.help().find("DURATION=1.5s"), std::string::npos) << app.help();
}

// Issue 28 item 11 (the command line's share): CLI11 listed every stray word, so a password given to a
// misspelt option (`--pasword hunter2`, `--pasword=hunter2`) was printed. Issue 27: "did you mean".
std::string extras_error(CLI::App& app, const std::vector<std::string>& args) {
  std::vector<std::string> rev(args.rbegin(), args.rend());
  try {
    app.parse(rev);
  } catch (const CLI::ExtrasError&) {
    return sp::cli::unexpected_arguments(app, args, app.remaining());
  }
  return "(parsed)";
}

TEST(Cli, UnexpectedArgumentsNeverShowAValueAndSuggestTheNearestOption) {
  CLI::App app;
  std::string table, user;
  app.add_option("--table", table);
  app.add_option("-u,--user", user);
  app.allow_extras(false);
  std::string msg = extras_error(app, {"--user", "writer", "--pasword", "hunter2"});
  EXPECT_EQ(msg, "unknown option --pasword; 1 value after an unknown option not shown (it may be a secret)");
  msg = extras_error(app, {"--pasword=hunter2", "--tabel", "t"});
  EXPECT_EQ(msg.find("hunter2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unknown option --tabel (did you mean --table?)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("2 values"), std::string::npos) << msg;
  // a word not after an unknown option is shown: `sensor-parse rows.json`
  EXPECT_EQ(extras_error(app, {"--table", "t", "rows.json"}), "unexpected argument 'rows.json'");
  // the parser's own words are not extras even when an extra has the same text
  EXPECT_EQ(extras_error(app, {"--table", "x", "--tabel", "x"}),
            "unknown option --tabel (did you mean --table?); 1 value after an unknown option not shown (it may be a secret)");
}

}  // namespace
