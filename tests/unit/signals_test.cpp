#include "common/core/signals.hpp"

#include <gtest/gtest.h>

#include <pthread.h>

#include <csignal>
#include <stdexcept>
#include <string>
#include <thread>

#include "common/core/errors.hpp"

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

// Issue 30 item 7: helper threads leave SIGINT/SIGTERM to the main thread, whose blocking reads
// then return EINTR; the starting thread's own mask is as before.
static bool stop_signals_blocked() {
  sigset_t now;
  pthread_sigmask(SIG_BLOCK, nullptr, &now);
  return sigismember(&now, SIGINT) == 1 && sigismember(&now, SIGTERM) == 1;
}

TEST(Signals, HelperThreadsBlockTheStopSignals) {
  ASSERT_FALSE(stop_signals_blocked());
  bool in_thread = false;
  std::thread t = sp::start_thread("test", [&] { in_thread = stop_signals_blocked(); });
  t.join();
  EXPECT_TRUE(in_thread);
  EXPECT_FALSE(stop_signals_blocked()) << "the starting thread's mask was not restored";
}

// Issue 30 item 6: an exception in a callback or a thread body is kept, stops the tool like a
// signal, and is thrown again from the main thread (exit code of its type), never std::terminate.
TEST(SignalsDeathTest, AGuardedFailureStopsTheToolAndIsThrownAgain) {
  EXPECT_EXIT(
      {
        std::thread t = sp::start_thread("test", [] { throw sp::IoError("disk gone"); });
        t.join();
        if (!sp::stop_requested() || !sp::failure_kept()) _exit(1);
        bool ok = sp::guarded("callback", [] { throw std::runtime_error("second"); });
        if (ok) _exit(2);
        try {
          sp::rethrow_kept_failure();
        } catch (const sp::IoError& e) {
          _exit(std::string(e.what()) == "disk gone" ? 42 : 3);  // the first failure, its type kept
        }
        _exit(4);
      },
      testing::ExitedWithCode(42), "");
}
