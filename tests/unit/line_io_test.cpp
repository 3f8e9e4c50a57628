#include "common/core/line_io.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "common/core/errors.hpp"

namespace {
std::vector<std::string> all_lines(const std::string& text, size_t max_line = 1 << 20) {
  std::istringstream in(text);
  sp::LineReader r(in, max_line);
  sp::Line l;
  std::vector<std::string> out;
  while (r.next(l)) out.emplace_back(l.text);
  return out;
}
}  // namespace

TEST(LineReader, SplitsLinesAndKeepsALastLineWithoutNewline) {
  EXPECT_EQ(all_lines("a\nbb\n\nccc"), (std::vector<std::string>{"a", "bb", "", "ccc"}));
  EXPECT_EQ(all_lines(""), std::vector<std::string>{});
  EXPECT_EQ(all_lines("\n"), std::vector<std::string>{""});
}

TEST(LineReader, KeepsCarriageReturnsForTheCallerToJudge) {
  EXPECT_EQ(all_lines("a\r\nb\r\n"), (std::vector<std::string>{"a\r", "b\r"}));
}

TEST(LineReader, NumbersLinesAndCountsBytes) {
  std::istringstream in("x\ny\nz\n");
  sp::LineReader r(in);
  sp::Line l;
  ASSERT_TRUE(r.next(l));
  ASSERT_TRUE(r.next(l));
  EXPECT_EQ(l.number, 2u);
  EXPECT_EQ(l.text, "y");
  ASSERT_TRUE(r.next(l));
  EXPECT_FALSE(r.next(l));
  EXPECT_EQ(r.bytes(), 6u);
}

TEST(LineReader, LinesAcrossManyBuffersStayWhole) {
  std::string big;
  for (int i = 0; i < 100000; ++i) big += "line-" + std::to_string(i) + "\n";
  auto lines = all_lines(big);
  ASSERT_EQ(lines.size(), 100000u);
  EXPECT_EQ(lines[54321], "line-54321");
}

TEST(LineReader, OverlongLineIsCutReportedAndTheNextLineSurvives) {
  std::string huge(10 * 1024 * 1024, 'x');  // a 10 MB line
  std::istringstream in("first\n" + huge + "\nafter\n");
  sp::LineReader r(in, 1024);
  sp::Line l;
  ASSERT_TRUE(r.next(l));
  EXPECT_EQ(l.text, "first");
  ASSERT_TRUE(r.next(l));
  EXPECT_TRUE(l.overlong);
  EXPECT_EQ(l.number, 2u);
  EXPECT_EQ(l.text.size(), 1024u);
  EXPECT_EQ(l.full_size, huge.size());
  ASSERT_TRUE(r.next(l));
  EXPECT_FALSE(l.overlong);
  EXPECT_EQ(l.text, "after");
  EXPECT_EQ(l.number, 3u);
  EXPECT_FALSE(r.next(l));
}

TEST(LineReader, OverlongLastLineWithoutNewline) {
  std::istringstream in("a\n" + std::string(5000, 'y'));
  sp::LineReader r(in, 100);
  sp::Line l;
  ASSERT_TRUE(r.next(l));
  ASSERT_TRUE(r.next(l));
  EXPECT_TRUE(l.overlong);
  EXPECT_EQ(l.full_size, 5000u);
  EXPECT_FALSE(r.next(l));
}

TEST(LineWriter, BuffersAndFlushes) {
  std::ostringstream os;
  {
    sp::LineWriter w(os, 8);
    w.line("hello");
    w.line("a much longer line than the buffer");
    w.put('x');
    w.flush();
    EXPECT_EQ(w.bytes(), 6u + 35u + 1u);
  }
  EXPECT_EQ(os.str(), "hello\na much longer line than the buffer\nx");
}

TEST(LineWriter, ClosedPipeThrowsBrokenPipe) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  close(fds[0]);
  signal(SIGPIPE, SIG_IGN);
  sp::LineWriter w(fds[1]);
  w.line("data");
  EXPECT_THROW(w.flush(), sp::BrokenPipe);
  close(fds[1]);
}

// A pipe between stages is widened to 1 MiB by the fd-based reader and writer (16x fewer
// wakeups than the 64 KiB default); other fds are left alone.
// The one write-everything loop: a closed pipe is BrokenPipe (a quiet exit 0), other failures IoError.
TEST(WriteAll, ClosedPipeIsBrokenPipeOtherErrorsAreIoErrors) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  signal(SIGPIPE, SIG_IGN);
  EXPECT_THROW(sp::write_all(fds[1], "x\n", 2, "write to stdout"), sp::BrokenPipe);
  ::close(fds[1]);
  try {
    sp::write_all(fds[1], "x\n", 2, "write to stdout");  // closed fd: EBADF
    FAIL() << "no throw";
  } catch (const sp::IoError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("write to stdout: ", 0), 0u) << e.what();
  }
  sp::write_all(1, "", 0, "write to stdout");  // nothing to write: no call, no error
}

TEST(WidenPipe, PipesGrowToOneMebibyteOtherFdsAreUntouched) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  ASSERT_LT(::fcntl(p[0], F_GETPIPE_SZ), 1 << 20);
  { sp::LineReader r(p[0]); }
  EXPECT_EQ(::fcntl(p[0], F_GETPIPE_SZ), 1 << 20);
  int q[2];
  ASSERT_EQ(::pipe(q), 0);
  { sp::LineWriter w(q[1]); }
  EXPECT_EQ(::fcntl(q[1], F_GETPIPE_SZ), 1 << 20);
  int fd = ::open("/dev/null", O_WRONLY);
  ASSERT_GE(fd, 0);
  sp::widen_pipe(fd);  // not a pipe: nothing happens, nothing fails
  EXPECT_LT(::fcntl(fd, F_GETPIPE_SZ), 0);
  for (int f : {p[0], p[1], q[0], q[1], fd}) ::close(f);
}

// Issue 28/30: a row's Kafka coordinates are at its end, past the cut of an overlong line: the line's
// last bytes come with it, whether the line is found whole in the buffer or skipped chunk by chunk.
TEST(LineReader, OverlongLineKeepsItsTail) {
  std::string end = ",\"_topic\":\"t\",\"_partition\":7,\"_offset\":99}";
  for (size_t size : {size_t{300}, size_t{5 * 1024 * 1024}}) {
    std::string line = std::string(size, 'x') + end;
    std::istringstream in(line + "\nafter\n" + line);  // the last one without its '\n'
    sp::LineReader r(in, 200);
    sp::Line l;
    ASSERT_TRUE(r.next(l));
    ASSERT_TRUE(l.overlong);
    ASSERT_GE(l.tail.size(), end.size()) << size;
    EXPECT_EQ(l.tail.substr(l.tail.size() - end.size()), end) << size;
    EXPECT_LE(l.tail.size(), sp::LineReader::kTailBytes);
    ASSERT_TRUE(r.next(l));
    EXPECT_EQ(l.text, "after");
    EXPECT_TRUE(l.tail.empty());
    ASSERT_TRUE(r.next(l));
    ASSERT_TRUE(l.overlong);
    ASSERT_GE(l.tail.size(), end.size()) << size;
    EXPECT_EQ(l.tail.substr(l.tail.size() - end.size()), end) << size;
  }
}

// Issue 28 item 5: a rejects file whose last record was torn (a full disk) gets a '\n' before the
// next run's first record; a whole file, an empty one and a new one are appended to as they are.
TEST(OpenLinesForAppend, StartsOnAFreshLineAfterATornRecord) {
  char dir[] = "/tmp/sp-append-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  auto run = [&](const std::string& name, const std::string& before) {
    std::string path = std::string(dir) + "/" + name;
    if (!before.empty() || name == "empty") {
      int f = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      EXPECT_EQ(::write(f, before.data(), before.size()), static_cast<ssize_t>(before.size()));
      ::close(f);
    }
    int fd = sp::open_lines_for_append(path, "rejects");
    EXPECT_EQ(::write(fd, "{\"b\":2}\n", 8), 8);
    ::close(fd);
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    ::unlink(path.c_str());
    return s.str();
  };
  EXPECT_EQ(run("torn", "{\"a\":1}\n{\"a\":"), "{\"a\":1}\n{\"a\":\n{\"b\":2}\n");
  EXPECT_EQ(run("whole", "{\"a\":1}\n"), "{\"a\":1}\n{\"b\":2}\n");
  EXPECT_EQ(run("empty", ""), "{\"b\":2}\n");
  EXPECT_EQ(run("new", ""), "{\"b\":2}\n");
  EXPECT_THROW(sp::open_lines_for_append(std::string(dir) + "/no/such/dir", "rejects"), sp::IoError);
  ::rmdir(dir);
}

// logrotate renames the file between two writes, even in the middle of a line: the writer goes on
// in a new file at the next line, never splitting one (examples/logrotate relies on it).
TEST(LineWriterFollowsPath, ReopensAtTheNextLineAfterARename) {
  char dir[] = "/tmp/sp-follow-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/rejects.jsonl", rotated = path + ".1";
  auto slurp = [](const std::string& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  {
    sp::LineWriter w(path, "rejects", 8);  // a tiny buffer: a line goes out in several writes
    w.line("{\"a\":1}");
    w.flush();
    w.write("{\"b\":");  // half a line out ...
    w.flush();
    ASSERT_EQ(::rename(path.c_str(), rotated.c_str()), 0);
    w.write("2}\n");  // ... its end follows it into the renamed file
    w.line("{\"c\":3}");
    w.close();
  }
  EXPECT_EQ(slurp(rotated), "{\"a\":1}\n{\"b\":2}\n");
  EXPECT_EQ(slurp(path), "{\"c\":3}\n");
  ::unlink(path.c_str());
  ::unlink(rotated.c_str());
  ::rmdir(dir);
}
