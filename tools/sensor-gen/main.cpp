// sensor-gen: write N synthetic seed-format sensor messages to stdout.
#include <chrono>
#include <cmath>
#include <iostream>

#include "common/core/cli.hpp"
#include "common/core/errors.hpp"
#include "common/core/log.hpp"
#include "common/core/signals.hpp"
#include "common/core/timeutil.hpp"
#include "common/s3/s3.hpp"
#include "gen.hpp"

int main(int argc, char** argv) {
  sp::gen::Options o;
  std::string start;
  double interval = 1;
  std::string rate;
  CLI::Option* interval_opt = nullptr;
  return sp::tool_main(
      "sensor-gen", "Write synthetic seed-format sensor messages (JSON lines or CSV) to stdout", {sp::Exit::interrupted}, argc, argv,
      [&](CLI::App& app) {
        // -c as kafka-cat-sensor's (kcat's) count
        sp::cli::alias(app, "-n", app.add_option("-c,--count", o.count, "Number of messages (0: no end, until stopped)")->capture_default_str());
        app.add_option("--rate", rate, "Write this many messages per second, paced (N, N/s, N/m, N/h); timestamps then step 1/rate unless --interval is given");
        app.add_option("--seed", o.seed, "Random seed (same seed, same output)")->capture_default_str();
        // a Range, not CLI::PositiveNumber, whose message prints DBL_MAX in full
        app.add_option("--sensors", o.sensors, "Number of distinct sensors")
            ->capture_default_str()
            ->check(CLI::Range(uint32_t{1}, UINT32_MAX));
        app.add_option("--bad-fraction", o.bad_fraction, "Share of malformed lines, 0..1")
            ->capture_default_str()
            ->check(CLI::Range(0.0, 1.0));
        app.add_option("--start", start, "Timestamp of the first message (ISO-8601, or now; default 2025-07-07T22:00:00Z)");
        sp::cli::alias(app, "--interval-ms",
                       interval_opt = sp::cli::add_duration(app, "--interval", interval, "Time between messages' timestamps (seconds, or 100ms, 1m)", 0),
                       true, "ms");
        app.add_option("--first-id", o.first_id, "Number of the first id (msg-N)")->capture_default_str();
        app.add_flag("--csv", o.csv, "CSV with a header instead of JSON lines");
        app.add_flag("--envelope", o.envelope, "kafka-cat-sensor --envelope lines (topic, partition, offset, value)");
        app.add_option("--partitions", o.partitions, "Partitions in --envelope mode (sensor number modulo this)")
            ->capture_default_str()
            ->check(CLI::Range(uint32_t{1}, uint32_t{100000}));
      },
      [&](const sp::CommonOptions&) {
        if (!rate.empty()) {
          o.rate = sp::gen::parse_rate(rate);
          if (interval_opt->count() == 0) interval = 1 / o.rate;  // timestamps keep pace with the clock
        }
        o.interval_ms = static_cast<int64_t>(std::llround(interval * 1000));
        if (o.envelope && o.csv) throw sp::UsageError("--envelope and --csv exclude each other");
        if (start == "now") {
          o.start_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
        } else if (!start.empty()) {
          std::string why;
          auto ms = sp::parse_iso8601_ms(start, &why);
          if (!ms) throw sp::UsageError("--start: '" + start + "': " + why);
          o.start_ms = *ms;
        }
        std::ios::sync_with_stdio(false);
        o.stop = sp::stop_requested;  // Ctrl-C or SIGTERM ends the stream at a line end
        auto st = sp::gen::generate(o, std::cout);
        std::cout.flush();
        if (!std::cout) {
          if (errno == EPIPE) throw sp::BrokenPipe();
          throw sp::IoError("write error on stdout");
        }
        sp::log::debug(st.good, " good and ", st.bad, " malformed lines written");
        if (st.stopped) {
          sp::log::warn("stopped by signal ", sp::stop_signal(), " after ", st.good + st.bad, " messages (of ", o.count, ")");
          return sp::code(sp::Exit::interrupted);
        }
        return 0;
      },
      sp::fetch_remote_config);
}
