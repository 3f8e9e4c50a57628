// --commit-acks: the ack reader (warnings escaped, one per bad line; a FIFO's writers leaving) and the tracker.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "common/core/errors.hpp"
#include "common/core/log.hpp"
#include "kcs.hpp"
#include "temp_path.hpp"

using namespace sp::kcs;

namespace {

// Runs an AckReader over a regular file holding `content` until it counted `bad` bad lines, and
// returns what it wrote to stderr.
std::string reader_stderr(const std::string& content, uint64_t bad) {
  TempPath tmp("acks.txt");
  const std::string& path = tmp.path;
  {
    std::ofstream f(path, std::ios::binary);
    f << content;
  }
  AckTracker t;
  ::testing::internal::CaptureStderr();
  {
    AckReader r(path, t);
    for (int i = 0; i < 500 && r.bad_lines() < bad; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // anything more it would say
  }
  std::string err = ::testing::internal::GetCapturedStderr();
  std::remove(path.c_str());
  return err;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

}  // namespace

TEST(KafkaAckReader, EchoesBadLinesEscaped) {
  std::string err = reader_stderr("junk \x1b[2J\xff\x01 here\\\n", 1);
  EXPECT_NE(err.find("line 1: not a JSON object: junk \\x1b[2J\\xff\\x01 here\\\\"), std::string::npos) << err;
  EXPECT_EQ(err.find('\x1b'), std::string::npos) << "a raw escape byte reached stderr";
  EXPECT_EQ(err.find('\xff'), std::string::npos);
  EXPECT_EQ(err.find('\x01'), std::string::npos);
}

TEST(KafkaAckReader, OneHugeLineIsOneWarning) {
  std::string huge(5 * 1000 * 1000, 'a');
  std::string err = reader_stderr(huge + "\nsecond\n", 2);
  EXPECT_EQ(count(err, "warning:"), 2u) << err.substr(0, 2000);
  EXPECT_EQ(count(err, "line 1"), 1u) << err.substr(0, 2000);
  EXPECT_NE(err.find("line 1: 5000000 bytes, longer than 1 MiB: skipped"), std::string::npos) << err.substr(0, 2000);
  EXPECT_NE(err.find("line 2: not a JSON object: second"), std::string::npos) << err.substr(0, 2000);
}

// Only offsets this process wrote in the current assignment can be committed (issue 16: an ack for
// 19000 after 4,096 written committed 19001, and a restarted group skipped the rest for good).
TEST(KafkaAckTracker, TakesOnlyWhatThisProcessWrote) {
  AckTracker t({"lossy"});
  t.assign("lossy", 0);
  EXPECT_EQ(t.ack("lossy", 0, 0).verdict, AckTracker::Verdict::nothing_written);
  t.wrote("lossy", 0, 0, 4096);
  EXPECT_EQ(t.ack("lossy", 0, 99).verdict, AckTracker::Verdict::taken);
  EXPECT_EQ(t.acked("lossy", 0), 100);
  auto beyond = t.ack("lossy", 0, 19000);
  EXPECT_EQ(beyond.verdict, AckTracker::Verdict::outside);
  EXPECT_EQ(AckTracker::reason(beyond), "this process wrote offsets 0 to 4095 of it");
  EXPECT_EQ(t.ack("lossy", 0, 4096).verdict, AckTracker::Verdict::outside);  // one past the last written
  EXPECT_EQ(t.acked("lossy", 0), 100);
  EXPECT_EQ(t.ack("lossy", 0, 4095).verdict, AckTracker::Verdict::taken);
  EXPECT_EQ(t.acked("lossy", 0), 4096);  // at most one past the last offset written
  EXPECT_EQ(t.ack("lossy", 3, 5).verdict, AckTracker::Verdict::not_assigned);
  EXPECT_EQ(t.ack("other", 0, 5).verdict, AckTracker::Verdict::other_topic);
  EXPECT_EQ(t.acked("lossy", 3), -1);
  EXPECT_EQ(t.acked("other", 0), -1);
  EXPECT_EQ(t.count(), 2u);  // only the acks taken wake waiters
}

TEST(KafkaAckTracker, RefusesOffsetsWrittenBeforeThisProcessStarted) {
  AckTracker t({"lossy"});
  t.assign("lossy", 0);
  t.wrote("lossy", 0, 1000, 4096);  // started at the committed offset 1000
  auto stale = t.ack("lossy", 0, 499);  // from a FIFO a previous run left behind
  EXPECT_EQ(stale.verdict, AckTracker::Verdict::outside);
  EXPECT_EQ(AckTracker::reason(stale), "this process wrote offsets 1000 to 4095 of it");
  EXPECT_EQ(t.acked("lossy", 0), -1);  // committing 500 would read 500-999 again
  EXPECT_EQ(t.ack("lossy", 0, 1000).verdict, AckTracker::Verdict::taken);
}

TEST(KafkaAckTracker, ARebalanceStartsTheWindowAgain) {
  AckTracker t({"s"});
  t.assign("s", 0);
  t.wrote("s", 0, 0, 200);
  t.ack("s", 0, 49);
  t.revoke("s", 0);
  EXPECT_EQ(t.acked("s", 0), -1);  // given up: nothing more is committed for it
  // late acks for what was written before: expected, refused quietly
  EXPECT_EQ(t.ack("s", 0, 150).verdict, AckTracker::Verdict::given_up);
  EXPECT_EQ(t.ack("s", 0, 500).verdict, AckTracker::Verdict::not_assigned);
  // the partition comes back, from the committed offset 50: what was written before does not count
  t.assign("s", 0);
  EXPECT_EQ(t.ack("s", 0, 150).verdict, AckTracker::Verdict::given_up);
  EXPECT_EQ(t.acked("s", 0), -1);
  t.wrote("s", 0, 50, 120);
  EXPECT_EQ(t.ack("s", 0, 150).verdict, AckTracker::Verdict::given_up);  // written before, not now
  EXPECT_EQ(t.ack("s", 0, 300).verdict, AckTracker::Verdict::outside);
  EXPECT_EQ(t.ack("s", 0, 60).verdict, AckTracker::Verdict::taken);
  EXPECT_EQ(t.acked("s", 0), 61);
  // given up again: the late acks of the latest window with something written are the expected ones
  t.revoke("s", 0);
  t.assign("s", 0);
  t.revoke("s", 0);  // nothing written this time
  EXPECT_EQ(t.ack("s", 0, 100).verdict, AckTracker::Verdict::given_up);
  EXPECT_EQ(t.ack("s", 0, 150).verdict, AckTracker::Verdict::not_assigned);
}

// A manual assignment (-G with -p) opens its windows once and never revokes them.
TEST(KafkaAckTracker, ManualAssignmentWithoutAGroupRebalance) {
  AckTracker t({"s"});
  t.assign("s", 2);
  t.wrote("s", 2, 10, 20);
  EXPECT_EQ(t.ack("s", 0, 15).verdict, AckTracker::Verdict::not_assigned);
  EXPECT_EQ(t.ack("s", 2, 15).verdict, AckTracker::Verdict::taken);
  EXPECT_EQ(t.acked("s", 2), 16);
}

// Several sinks (ch-insert and s3-put --acks, issue 11): an offset counts as acknowledged once
// every source acknowledged it; each source's ack implies its lower offsets of that partition.
TEST(KafkaAckTracker, SeveralSourcesCommitWhatAllAcknowledged) {
  AckTracker t({"s"}, 2);
  t.assign("s", 0);
  t.assign("s", 1);
  t.wrote("s", 0, 0, 1000);
  t.wrote("s", 1, 0, 1000);
  EXPECT_EQ(t.ack("s", 0, 499, 0).verdict, AckTracker::Verdict::taken);  // ClickHouse holds 0..499
  EXPECT_EQ(t.acked("s", 0), -1);  // the archive holds nothing yet
  EXPECT_EQ(t.ack("s", 0, 199, 1).verdict, AckTracker::Verdict::taken);  // the archive: 0..199
  EXPECT_EQ(t.acked("s", 0), 200);
  t.ack("s", 0, 899, 1);
  EXPECT_EQ(t.acked("s", 0), 500);  // now ClickHouse is behind
  t.ack("s", 0, 300, 0);            // an older ack changes nothing
  EXPECT_EQ(t.acked("s", 0), 500);
  t.ack("s", 0, 999, 0);
  EXPECT_EQ(t.acked("s", 0), 900);
  EXPECT_EQ(t.acked("s", 1), -1);  // partitions apart
  t.ack("s", 1, 9, 1);
  EXPECT_EQ(t.acked("s", 1), -1);
  // the window is the same for every source: an offset this process did not write is refused
  EXPECT_EQ(t.ack("s", 1, 5000, 1).verdict, AckTracker::Verdict::outside);
  // a rebalance starts every source's acks again
  t.revoke("s", 0);
  t.assign("s", 0);
  t.wrote("s", 0, 900, 1000);
  t.ack("s", 0, 950, 0);
  EXPECT_EQ(t.acked("s", 0), -1);
  t.ack("s", 0, 920, 1);
  EXPECT_EQ(t.acked("s", 0), 921);
  EXPECT_EQ(t.sources(), 2);
}

TEST(KafkaAckReader, RefusedAcksAreWarnedOnceEachThenCounted) {
  TempPath tmp("acks_refused.txt");
  const std::string& path = tmp.path;
  {
    std::ofstream f(path);
    for (int i = 0; i < 8; ++i) f << "{\"topic\":\"t\",\"partition\":0,\"offset\":" << 1000 + i << "}\n";
    f << "{\"topic\":\"t\",\"partition\":0,\"offset\":5}\n";
  }
  AckTracker t({"t"});
  t.assign("t", 0);
  t.wrote("t", 0, 0, 10);
  ::testing::internal::CaptureStderr();
  uint64_t refused = 0;
  {
    AckReader r(path, t);
    for (int i = 0; i < 500 && t.acked("t", 0) != 6; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    refused = r.refused();
  }
  std::string err = ::testing::internal::GetCapturedStderr();
  std::remove(path.c_str());
  EXPECT_EQ(t.acked("t", 0), 6);
  EXPECT_EQ(refused, 8u);
  EXPECT_EQ(count(err, ": refused: "), AckReader::kShown) << err;
  EXPECT_NE(err.find("line 1: t [0] offset 1000: refused: this process wrote offsets 0 to 9 of it (not committed)"),
            std::string::npos) << err;
  EXPECT_NE(err.find("more refused acks are counted once a minute"), std::string::npos) << err;
  EXPECT_NE(err.find(": 3 more refused acks"), std::string::npos) << err;  // at the end
}

TEST(KafkaAckReader, Printable) {
  EXPECT_EQ(sp::log::printable("plain {\"a\":1}", 100), "plain {\"a\":1}");
  EXPECT_EQ(sp::log::printable("\x1b[31m\r\n\t\x7f\xc3\xa9\xff", 100), "\\x1b[31m\\x0d\\x0a\\x09\\x7f\xc3\xa9\\xff");
  EXPECT_EQ(sp::log::printable("abcdef", 3), "abc...");
}

// At exit kafka-cat-sensor waits for the last acks; once every writer of an ack FIFO has closed it
// none can come (systemctl stop ends all stages at once), so the wait must not run to --ack-timeout.
TEST(KafkaAckReader, NoticesTheFifoWritersLeavingOnlyOnceAskedAndAfterALine) {
  TempPath tmp("acks_fifo");
  const std::string& path = tmp.path;
  ::unlink(path.c_str());
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  AckTracker t({"t"});
  t.assign("t", 0);
  t.wrote("t", 0, 0, 10);
  // a writer's end; fails (-1) rather than blocking when no reader holds the FIFO for 2 s
  auto open_writer = [&path] {
    for (int i = 0; i < 200; ++i) {
      int w = ::open(path.c_str(), O_WRONLY | O_NONBLOCK);
      if (w >= 0 || errno != ENXIO) return w;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  };
  auto wait_gone = [](const AckReader& r) {
    for (int i = 0; i < 200 && !r.writers_gone(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return r.writers_gone();
  };
  {
    AckReader r(path, t);
    r.expect_end();
    EXPECT_FALSE(wait_gone(r)) << "no writer yet: one may still be starting";
    int w = open_writer();
    ASSERT_GE(w, 0);
    std::string ack = "{\"topic\":\"t\",\"partition\":0,\"offset\":4}\n";
    ASSERT_EQ(::write(w, ack.data(), ack.size()), static_cast<ssize_t>(ack.size()));
    ::close(w);
    EXPECT_TRUE(wait_gone(r));
    EXPECT_EQ(t.acked("t", 0), 5) << "what the writer wrote before leaving is read";
  }
  {
    AckReader r(path, t);  // not asked: a writer may come and go (a restarted ch-insert)
    int w = open_writer();
    ASSERT_GE(w, 0);
    std::string ack = "{\"topic\":\"t\",\"partition\":0,\"offset\":6}\n";
    ASSERT_EQ(::write(w, ack.data(), ack.size()), static_cast<ssize_t>(ack.size()));
    ::close(w);
    EXPECT_FALSE(wait_gone(r));
    EXPECT_EQ(t.acked("t", 0), 7);
  }
  ::unlink(path.c_str());
}

// issue 28 item 6 / issue 30 item 3: a path that cannot be read is refused when the reader is made
// (the consumer then refuses to start), and a reader that dies says so (the consumer stops on it).
TEST(KafkaAckReader, RefusesADirectoryAtOnce) {
  AckTracker t;
  try {
    AckReader r(::testing::TempDir(), t);
    FAIL() << "a directory was taken";
  } catch (const sp::NoInputError& e) {
    EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos) << e.what();
  }
}

TEST(KafkaAckReader, AReadErrorIsReportedNotSwallowed) {
  // /proc/self/mem opens, and reading it at offset 0 (never mapped) fails with EIO: a read error
  // like a failing disk's
  AckTracker t;
  AckReader r("/proc/self/mem", t);
  for (int i = 0; i < 500 && !r.failed(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.error(), "--commit-acks /proc/self/mem: read: Input/output error");
}
