#include "common/core/signals.hpp"

#include <gtest/gtest.h>

#include <csignal>

#include <unistd.h>

// Death tests: each case runs in a child process, as the signal state is process-wide.
TEST(SignalsDeathTest, SecondSignalEndsTheProcessAtOnce) {
  EXPECT_EXIT(
      {
        sp::install_stop_signals();
        std::raise(SIGTERM);
        if (!sp::stop_requested() || sp::stop_signal() != SIGTERM) _exit(1);
        std::raise(SIGINT);
        _exit(0);
      },
      testing::ExitedWithCode(130), "");
}

// Issue 16, item 5: s3-put must abort its multipart upload after a second signal, not _exit.
TEST(SignalsDeathTest, SecondSignalAbandonsWhenAskedAndTheThirdEnds) {
  EXPECT_EXIT(
      {
        sp::install_stop_signals();
        sp::second_signal_abandons();
        std::raise(SIGTERM);
        if (!sp::stop_requested() || sp::abandon_requested()) _exit(1);
        std::raise(SIGINT);
        if (!sp::abandon_requested()) _exit(2);
        std::raise(SIGTERM);
        _exit(3);
      },
      testing::ExitedWithCode(130), "");
}

// A tool's own stop (s3-put on a closed --tee stdout) is not the user insisting: the user's first
// signal after it is still a first one.
TEST(SignalsDeathTest, RequestStopIsNotASignal) {
  EXPECT_EXIT(
      {
        sp::install_stop_signals();
        sp::second_signal_abandons();
        sp::request_stop(SIGPIPE);
        std::raise(SIGTERM);
        if (!sp::stop_requested() || sp::abandon_requested() || sp::stop_signal() != SIGTERM) _exit(1);
        _exit(0);
      },
      testing::ExitedWithCode(0), "");
}
