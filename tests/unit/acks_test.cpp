// Ack lines (common/rows/acks.hpp): written by ch-insert and s3-put --acks, read by kafka-cat-sensor.
#include <gtest/gtest.h>

#include "common/rows/acks.hpp"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "common/core/errors.hpp"
#include "common/core/line_io.hpp"
#include "common/rows/rows.hpp"

using sp::Ack;

TEST(AckLine, RoundTrips) {
  std::string l = sp::ack_line("sensor_metrics", 3, 42);
  EXPECT_EQ(l, R"({"topic":"sensor_metrics","partition":3,"offset":42})");
  Ack a;
  std::string why;
  ASSERT_TRUE(sp::parse_ack(l, a, &why)) << why;
  EXPECT_EQ(a.topic, "sensor_metrics");
  EXPECT_EQ(a.partition, 3);
  EXPECT_EQ(a.offset, 42);
}

TEST(AckLine, EnvelopeCoordinatesFromThePrefix) {
  Ack a;
  ASSERT_TRUE(sp::envelope_coordinates(
      R"({"topic":"sensor_metrics","partition":63,"offset":9007199254740993,"timestamp":null,"value":{"id":"x")", a));
  EXPECT_EQ(a.topic, "sensor_metrics");
  EXPECT_EQ(a.partition, 63);
  EXPECT_EQ(a.offset, 9007199254740993);  // no trip through a double
}

TEST(AckLine, EnvelopeCoordinatesOtherShapesParsedWhole) {
  Ack a;
  ASSERT_TRUE(sp::envelope_coordinates(R"({"offset":7,"partition":1,"topic":"t\u0041","value":1})", a));
  EXPECT_EQ(a.topic, "tA");
  EXPECT_EQ(a.partition, 1);
  EXPECT_EQ(a.offset, 7);
  EXPECT_FALSE(sp::envelope_coordinates(R"({"id":"msg-1","value":{}})", a));  // a raw message
  EXPECT_FALSE(sp::envelope_coordinates(R"({"topic":"t","partition":1,"offs)", a));  // torn
  EXPECT_FALSE(sp::envelope_coordinates(R"({"topic":"t","partition":-1,"offset":3})", a));
  EXPECT_FALSE(sp::envelope_coordinates(R"({"topic":"t","partition":99999999999,"offset":3})", a));
  EXPECT_FALSE(sp::envelope_coordinates("", a));
}

TEST(AckHighWater, HighestPerPartitionInOrder) {
  sp::AckHighWater h;
  EXPECT_TRUE(h.empty());
  h.add("b", 2, 10);
  h.add("a", 5, 3);
  h.add("b", 2, 12);
  h.add("b", 2, 11);  // a lower one (a re-delivery) never lowers it
  h.add("b", 0, 1);
  EXPECT_FALSE(h.empty());
  EXPECT_EQ(h.lines(),
            "{\"topic\":\"a\",\"partition\":5,\"offset\":3}\n"
            "{\"topic\":\"b\",\"partition\":0,\"offset\":1}\n"
            "{\"topic\":\"b\",\"partition\":2,\"offset\":12}\n");
  h.clear();
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.lines(), "");
  h.add("a", 1, 0);
  EXPECT_EQ(h.lines(), "{\"topic\":\"a\",\"partition\":1,\"offset\":0}\n");
}

// A row refused by ch-insert's own checks names its message by the coordinates sensor-parse puts at
// the row's end (RowBuilder::coords), read here from the whole line or from just its end.
TEST(RowLineCoordinates, ReadFromTheEndOfARowInEachFormat) {
  Ack a;
  ASSERT_TRUE(sp::row_line_coordinates(sp::RowFormat::json,
                                       R"({"id":"x","extra":1,"_topic":"sensor_metrics","_partition":3,"_offset":42})", a));
  EXPECT_EQ(a.topic, "sensor_metrics");
  EXPECT_EQ(a.partition, 3);
  EXPECT_EQ(a.offset, 42);
  ASSERT_TRUE(sp::row_line_coordinates(sp::RowFormat::json, R"(xxxx","_topic":"t.1","_partition":0,"_offset":7})", a));
  EXPECT_EQ(a.topic, "t.1");
  EXPECT_EQ(a.offset, 7);
  ASSERT_TRUE(sp::row_line_coordinates(sp::RowFormat::tsv, "a\tb\tsensor_metrics\t2\t5", a));
  EXPECT_EQ(a.topic, "sensor_metrics");
  EXPECT_EQ(a.partition, 2);
  EXPECT_EQ(a.offset, 5);
  ASSERT_TRUE(sp::row_line_coordinates(sp::RowFormat::csv, "a,\"b,c\",\"sensor_metrics\",1,9\r", a));
  EXPECT_EQ(a.topic, "sensor_metrics");
  EXPECT_EQ(a.partition, 1);
  EXPECT_EQ(a.offset, 9);
  // not there, or only inside a string value, or followed by more: no coordinates
  EXPECT_FALSE(sp::row_line_coordinates(sp::RowFormat::json, R"({"id":"x"})", a));
  EXPECT_FALSE(sp::row_line_coordinates(sp::RowFormat::json, R"({"s":"\"_topic\":\"t\",\"_partition\":1,\"_offset\":2}"})", a));
  EXPECT_FALSE(sp::row_line_coordinates(sp::RowFormat::json, R"({"_topic":"t","_partition":1,"_offset":2,"x":1})", a));
  EXPECT_FALSE(sp::row_line_coordinates(sp::RowFormat::json, R"({"_topic":"t","_partition":-1,"_offset":2})", a));
  EXPECT_FALSE(sp::row_line_coordinates(sp::RowFormat::tsv, "a\tb\tc", a));
  EXPECT_FALSE(sp::row_line_coordinates(sp::RowFormat::tsv, "a\tt\t1\tx", a));
  EXPECT_FALSE(sp::row_line_coordinates(sp::RowFormat::values, "('a', 1)", a));
}

// One writer for several threads: each partition's acks leave in rising order, whole, whichever thread
// writes, and the last is the highest queued.
TEST(AckWriter, WritesQueuedAcksInOrderFromManyThreads) {
  std::ostringstream os;
  sp::LineWriter w(os);
  sp::AckWriter acks(&w);
  std::mutex order;  // callers queue under their own lock, in the order acks must leave
  int next = 0;
  std::vector<std::thread> th;
  for (int t = 0; t < 4; ++t)
    th.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        {
          std::lock_guard<std::mutex> lk(order);
          acks.queue("t", next % 2, next);
          ++next;
        }
        acks.write_queued();
      }
    });
  for (auto& t : th) t.join();
  acks.write_queued();
  EXPECT_FALSE(acks.failed());
  std::istringstream in(os.str());
  std::string line;
  int64_t last[2] = {-1, -1};
  while (std::getline(in, line)) {
    Ack a;
    ASSERT_TRUE(sp::parse_ack(line, a, nullptr)) << line;
    ASSERT_TRUE(a.partition == 0 || a.partition == 1) << line;
    EXPECT_GT(a.offset, last[a.partition]) << line;
    last[a.partition] = a.offset;
  }
  EXPECT_EQ(last[0], 1998);
  EXPECT_EQ(last[1], 1999);
}

// A reader that stalls: what waits for it is one ack per partition, the highest, however many
// batches were acknowledged meanwhile (memory bounded by the partitions, not by the stall).
TEST(AckWriter, AcksWaitingForTheReaderCollapsePerPartition) {
  std::ostringstream os;
  sp::LineWriter w(os);
  sp::AckWriter acks(&w);
  for (int64_t off = 0; off < 10000; ++off) acks.queue("t", static_cast<int32_t>(off % 3), off);
  acks.queue("u", 0, 5);
  acks.write_queued();
  EXPECT_EQ(os.str(), sp::ack_line("t", 0, 9999) + "\n" + sp::ack_line("t", 1, 9997) + "\n" +
                          sp::ack_line("t", 2, 9998) + "\n" + sp::ack_line("u", 0, 5) + "\n");
}

TEST(AckWriter, AFailedOutputIsReportedAndNothingMoreIsWritten) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);  // the reader is gone
  auto old = ::signal(SIGPIPE, SIG_IGN);
  {
    sp::LineWriter w(fds[1]);
    sp::AckWriter acks(&w);
    acks.queue("t", 0, 1);
    acks.write_queued();
    EXPECT_TRUE(acks.failed());
    EXPECT_THROW(std::rethrow_exception(acks.error()), sp::BrokenPipe);
    acks.queue("t", 0, 2);
    acks.write_queued();  // nothing written, nothing thrown
  }
  ::signal(SIGPIPE, old);
  ::close(fds[1]);
}

// s3-put --acks (AckWriter::Unblocked): moved from s3-put's own writer (issue 30 item 12).
namespace {
struct TempFifo {
  std::string dir, path;
  TempFifo() {
    char tmpl[] = "/tmp/acks_test.XXXXXX";
    dir = ::mkdtemp(tmpl);
    path = dir + "/acks";
    if (::mkfifo(path.c_str(), 0600) != 0) throw std::runtime_error("mkfifo");
  }
  ~TempFifo() {
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
  }
};

std::string drain(int fd) {
  std::string got;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}
}  // namespace

TEST(AckWriterUnblocked, ANonReadingFifoGetsWholeLinesOrNoneAndLaterAcksAgain) {
  TempFifo f;
  sp::AckWriter acks(f.path, sp::AckWriter::Unblocked{0, 0});  // nobody reads: drop at once
  size_t total = 0;
  for (int32_t p = 0; p < 4000; ++p) {  // ~180 KB: more than the pipe holds
    acks.queue("sensor_metrics", p, 1000000 + p);
    total += sp::ack_line("sensor_metrics", p, 1000000 + p).size() + 1;
  }
  acks.write_queued();
  EXPECT_FALSE(acks.failed());
  EXPECT_GT(acks.dropped_bytes(), 0u);

  int rd = ::open(f.path.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(rd, 0);
  std::string got = drain(rd);
  ASSERT_FALSE(got.empty());
  ASSERT_EQ(got.back(), '\n');
  EXPECT_EQ(got.size() + acks.dropped_bytes(), total);
  std::istringstream in(got);
  std::string line;
  int32_t next = 0;
  while (std::getline(in, line)) {  // whole lines, in order, each the ack queued
    Ack a;
    std::string why;
    ASSERT_TRUE(sp::parse_ack(line, a, &why)) << line;
    EXPECT_EQ(a.partition, next);
    EXPECT_EQ(a.offset, 1000000 + next);
    ++next;
  }
  EXPECT_LT(next, 4000);

  acks.queue("sensor_metrics", 7, 2000000);  // a reader drains again: acks flow again
  acks.write_queued();
  EXPECT_EQ(drain(rd), sp::ack_line("sensor_metrics", 7, 2000000) + "\n");
  ::close(rd);
}

TEST(AckWriterUnblocked, ALineStartedAndNotFinishedFailsRatherThanTear) {
  TempFifo f;
  sp::AckWriter acks(f.path, sp::AckWriter::Unblocked{0, 0});
  int fd = ::open(f.path.c_str(), O_RDWR | O_NONBLOCK);
  ASSERT_GE(fd, 0);
  std::string fill(65536, 'x');
  while (::write(fd, fill.data(), fill.size()) > 0 || ::write(fd, fill.data(), 1) > 0) {
  }
  char page[4096];
  ASSERT_EQ(::read(fd, page, sizeof page), 4096);  // one page free: part of a long line fits
  std::string topic(2 * PIPE_BUF, 't');  // a line longer than PIPE_BUF: a pipe may take part of it
  acks.queue(topic, 0, 1);
  acks.write_queued();
  EXPECT_TRUE(acks.failed());
  EXPECT_THROW(std::rethrow_exception(acks.error()), sp::IoError);
  ::close(fd);
}

TEST(AckWriterUnblocked, ARegularFileIsAppendedTo) {
  TempFifo f;
  std::string file = f.dir + "/acks.jsonl";
  { std::ofstream(file) << "earlier\n"; }
  {
    sp::AckWriter acks(file, sp::AckWriter::Unblocked{});
    sp::AckHighWater hw;
    hw.add("t", 1, 5);
    hw.add("t", 1, 9);
    hw.add("s", 0, 3);
    acks.queue(hw);
    acks.write_queued();
    EXPECT_FALSE(acks.failed());
  }
  std::ifstream in(file);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all, "earlier\n" + sp::ack_line("s", 0, 3) + "\n" + sp::ack_line("t", 1, 9) + "\n");
  ::unlink(file.c_str());
}
