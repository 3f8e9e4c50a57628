#include "common/core/errors.hpp"

#include <gtest/gtest.h>

#include "common/core/cli.hpp"

using sp::Exit;

// The exit codes are a documented interface (man pages, README): this pins them.
TEST(Errors, ExitCodeTableIsStable) {
  EXPECT_EQ(sp::code(Exit::ok), 0);
  EXPECT_EQ(sp::code(Exit::rejects), 1);
  EXPECT_EQ(sp::code(Exit::usage), 2);
  EXPECT_EQ(sp::code(Exit::data), 65);
  EXPECT_EQ(sp::code(Exit::noinput), 66);
  EXPECT_EQ(sp::code(Exit::unavailable), 69);
  EXPECT_EQ(sp::code(Exit::software), 70);
  EXPECT_EQ(sp::code(Exit::ioerr), 74);
  EXPECT_EQ(sp::code(Exit::tempfail), 75);
  EXPECT_EQ(sp::code(Exit::noperm), 77);
  EXPECT_EQ(sp::code(Exit::config), 78);
  EXPECT_EQ(sp::code(Exit::interrupted), 130);
}

TEST(Errors, TypedErrorsCarryTheirCodeAndMessage) {
  try {
    throw sp::TempFailError("ClickHouse still down after 10 retries");
  } catch (const sp::Error& e) {
    EXPECT_EQ(e.code(), Exit::tempfail);
    EXPECT_STREQ(e.what(), "ClickHouse still down after 10 retries");
  }
  EXPECT_EQ(sp::UsageError("x").code(), Exit::usage);
  EXPECT_EQ(sp::AuthError("x").code(), Exit::noperm);
  EXPECT_EQ(sp::UnavailableError("x").code(), Exit::unavailable);
  EXPECT_EQ(sp::BrokenPipe().code(), Exit::ok);
}

TEST(Errors, HelpFooterListsTheToolsCodesAndTheCommonOnes) {
  std::string h = sp::exit_status_help({Exit::rejects, Exit::interrupted});
  EXPECT_EQ(h, "Exit status: 0 ok, 1 rejects over threshold, 2 usage error, 70 internal error, 74 I/O error, "
               "78 configuration error, 130 interrupted.");
}
