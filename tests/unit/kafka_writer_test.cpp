// kafka-cat-sensor's stdout writer thread: bytes arrive whole and in order, a submit waits for the
// previous buffer, and a closed reader surfaces as BrokenPipe on the next call.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "common/errors.hpp"
#include "writer.hpp"

using sp::kcs::BackgroundWriter;

TEST(BackgroundWriter, WritesEveryBufferWholeAndInOrder) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  std::string got;
  std::thread reader([&] {
    char buf[65536];
    for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;) got.append(buf, static_cast<size_t>(n));
  });
  std::string want;
  {
    BackgroundWriter w(p[1]);
    for (int i = 0; i < 200; ++i) {
      std::string chunk(static_cast<size_t>(1000 + i * 997), static_cast<char>('a' + i % 26));
      want += chunk;
      w.submit(chunk);
      EXPECT_TRUE(chunk.empty()) << "the buffer is handed over";
    }
    w.wait();
    EXPECT_TRUE(w.idle());
  }
  ::close(p[1]);
  reader.join();
  ::close(p[0]);
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want);
}

TEST(BackgroundWriter, ClosedReaderIsBrokenPipeOnTheNextCall) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  ::close(p[0]);
  BackgroundWriter w(p[1]);
  std::string data(1000, 'x');
  w.submit(data);  // the write fails in the thread...
  EXPECT_THROW(w.wait(), sp::BrokenPipe);  // ...and is reported here, once
  EXPECT_NO_THROW(w.wait());
  ::close(p[1]);
}
