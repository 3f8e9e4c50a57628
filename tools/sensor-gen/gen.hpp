// Synthetic seed-format sensor messages: reproducible (fixed seed -> same bytes on every machine),
// realistic values per sensor (slow drift + noise), and a chosen fraction of malformed lines.
#pragma once
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

namespace sp::gen {

struct Options {
  uint64_t count = 1000;             // 0: no end (until stopped)
  uint64_t seed = 42;
  uint32_t sensors = 100;
  double bad_fraction = 0.0;         // 0..1, share of malformed lines
  int64_t start_ms = 1751925600000;  // 2025-07-07T22:00:00Z, the seed's example time
  int64_t interval_ms = 1000;        // between consecutive messages of the whole stream
  bool csv = false;                  // CSV with a header instead of JSON lines
  uint64_t first_id = 1;             // ids are msg-<first_id + i>
  bool envelope = false;             // kafka-cat-sensor --envelope lines instead of raw messages
  uint32_t partitions = 4;           // envelope partitions: sensor number modulo this
  double rate = 0;                   // lines per second, paced (output flushed as it goes); 0 = at once
  std::function<bool()> stop;        // asked every few thousand lines (every line when paced); true ends the output early
};

struct Stats {
  uint64_t good = 0, bad = 0;
  bool stopped = false;  // opt.stop ended it before opt.count lines (every line written is whole)
};

// Writes opt.count lines (plus a header in CSV mode) to out. Line i is the same for a seed whatever
// bad_fraction is, or it is malformed: which lines are bad comes from a random stream of its own.
Stats generate(const Options& opt, std::ostream& out);

// "100", "100/s", "600/m", "3600/h" -> messages per second (> 0); UsageError otherwise.
double parse_rate(const std::string& text);

// The kinds of malformed lines produced, in order of the cycle (for docs and tests).
extern const char* const kBadKinds[];
extern const int kBadKindCount;

}  // namespace sp::gen
