// The shared flag plumbing (common/cli.hpp): deprecated aliases, refused habits, durations.
#include "common/core/cli.hpp"

#include <gtest/gtest.h>

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
}

}  // namespace
