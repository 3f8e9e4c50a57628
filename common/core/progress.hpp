// Progress on long work when stderr is a terminal (never in pipes/logs), and the one-line exit summary.
// In a pipeline on a terminal every stage shares that terminal: only the last stage draws (the one whose
// stdout does not feed another stage through a pipe), so one line shows the pipeline's progress instead of
// several stages overwriting each other's line (issue 27). See progress_wanted().
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace sp {

class Progress {
 public:
  explicit Progress(std::string unit = "records");
  ~Progress();
  // Cheap enough per record: looks at the clock every 4096 calls, redraws at most twice a second.
  void update(uint64_t records, uint64_t bytes) {
    if (!tty_ || (++calls_ & 4095) != 0) return;
    redraw(records, bytes);
  }
  void done();  // erase the progress line
  double elapsed_seconds() const;

 private:
  void redraw(uint64_t records, uint64_t bytes);
  std::string unit_;
  bool tty_;
  bool drawn_ = false;
  uint64_t calls_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
};

// Whether a stage draws a progress line: stderr is a terminal and stdout is not an anonymous pipe
// (`tool | next-stage`). stdout on the terminal, a file or a named FIFO (ch-insert > acks.fifo) is the
// pipeline's end.
bool progress_wanted(bool stderr_is_tty, bool stdout_is_pipe);
// Whether fd is an anonymous pipe ("pipe:[N]" in /proc/self/fd; any FIFO when /proc cannot tell).
bool is_anonymous_pipe(int fd);

// "1.2M", "532", "12.5k"
std::string human_count(double n);
// "12.3 MiB"
std::string human_bytes(double n);
// "0.03 s", "12.35 s": durations in summaries, the same everywhere
std::string human_seconds(double seconds);
// "1000000 records, 130.2 MiB in 1.23 s (813.0k records/s)"
std::string summary_text(uint64_t records, uint64_t bytes, double seconds, const std::string& unit = "records");

}  // namespace sp
