// s3-put: stdin to S3 objects (see man/s3-put.1.scd).
#include <malloc.h>
#include <unistd.h>

#include <csignal>

#include "common/core/cli.hpp"
#include "common/core/log.hpp"
#include "common/core/metrics.hpp"
#include "common/core/progress.hpp"
#include "common/core/signals.hpp"
#include "put.hpp"
#include "common/s3/s3_flags.hpp"

int main(int argc, char** argv) {
  // Part buffers are large and short-lived: a fixed mmap threshold hands each one back to the kernel
  // when freed (glibc's adaptive threshold would keep them in per-thread heaps and grow RSS past the
  // part size x (concurrency + 1) bound).
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  sp::s3put::Options o;
  sp::s3flags::Flags f;
  std::string part_size = "8M", rotate_bytes, compress;
  bool gzip = false, zstd = false;
  return sp::tool_main(
      "s3-put", "Stream stdin to S3 objects: multipart, key templates, rotation, gzip/zstd, --tee",
      {sp::Exit::data, sp::Exit::noinput, sp::Exit::unavailable, sp::Exit::tempfail, sp::Exit::noperm, sp::Exit::interrupted},
      argc, argv,
      [&](CLI::App& app) {
        app.add_option("url", o.url_template,
                       "s3://bucket/key-template (strftime fields in UTC, {host}, {run}, {seq}, {seq:N})")->required();
        // -T is kcat's tee; -t is kcat's topic
        sp::cli::alias(app, "-t", app.add_flag("-T,--tee", o.tee, "Copy stdin to stdout unchanged as it is read"));
        app.add_option("--part-size", part_size, "Multipart part size, at least 5M (doubles every 900 parts)")
            ->capture_default_str();
        // -j,--parallel as ch-insert's: requests in flight at once
        sp::cli::alias(app, "--concurrency", app.add_option("-j,--parallel", o.concurrency, "Parts uploaded in parallel")
            ->capture_default_str()->check(CLI::Range(1, 64)));
        app.add_option("--rotate-bytes", rotate_bytes, "Start a new object after this many input bytes (at a line end)");
        app.add_option("--rotate-lines", o.rotate_lines, "Start a new object after this many lines");
        app.add_option("--rotate-seconds", o.rotate_seconds, "Start a new object after this many seconds (at a line end)")
            ->check(CLI::NonNegativeNumber);
        app.add_option("--seq-start", o.seq_start, "First {seq} number")->capture_default_str();
        app.add_option("-z,--compress", compress, "gzip, zstd or none (adds .gz / .zst to the key)");
        app.add_flag("--gzip", gzip, "Same as --compress gzip");
        app.add_flag("--zstd", zstd, "Same as --compress zstd");
        app.add_option("--level", o.level, "Compression level (0 = default: gzip 6, zstd 3)")->check(CLI::Range(0, 22));
        app.add_option("--content-type", o.content_type, "Content-Type of the objects");
        app.add_option("--storage-class", o.storage_class, "x-amz-storage-class (STANDARD, STANDARD_IA, ...)");
        app.add_option("--abort-time", o.abort_seconds, "How long to keep trying to abort a failed multipart upload (seconds, or 2m)")
            ->capture_default_str()->transform(sp::cli::Duration())->type_name("DURATION")->check(CLI::PositiveNumber);
        app.add_option("--host-name", o.host, "Value of {host} (default: this machine's name)");
        app.add_option("--run-id", o.run_id, "Value of {run} (default: 12 random hex digits, new for every run)");
        app.add_option("--acks", o.acks,
                       "Write ack lines (topic, partition, highest offset) for the envelope lines of each completed object to FILE (a FIFO read by kafka-cat-sensor --commit-acks)");
        sp::s3flags::add(app, f);
      },
      [&](const sp::CommonOptions&) {
        // a second SIGINT/SIGTERM aborts the multipart upload in progress rather than leaving it behind
        sp::second_signal_abandons();
        o.part_size = sp::s3put::parse_size(part_size, "--part-size");
        if (o.part_size < sp::s3put::kMinPartSize) throw sp::UsageError("--part-size must be at least 5M (S3's minimum part size)");
        if (o.part_size > (5ull << 30)) throw sp::UsageError("--part-size must be at most 5G (S3's maximum part size)");
        if (!rotate_bytes.empty()) o.rotate_bytes = sp::s3put::parse_size(rotate_bytes, "--rotate-bytes");
        if (gzip + zstd + !compress.empty() > 1) throw sp::UsageError("choose one of --compress, --gzip, --zstd");
        o.codec = gzip ? sp::codec::Codec::gzip : zstd ? sp::codec::Codec::zstd : sp::codec::parse_codec(compress);
        sp::s3put::validate(o);
        auto settings = sp::s3flags::settings(f);
        if (o.tee && isatty(1)) sp::log::debug("--tee to a terminal");
        sp::Progress progress("bytes");
        auto st = sp::s3put::run(o, settings, 0, 1);
        progress.done();
        double secs = progress.elapsed_seconds();
        sp::log::info(st.objects, " object(s), ", sp::human_bytes(static_cast<double>(st.bytes_in)), " in ", sp::human_seconds(secs), " (",
                      sp::human_bytes(secs > 0 ? static_cast<double>(st.bytes_in) / secs : 0.0), "/s), ",
                      sp::human_bytes(static_cast<double>(st.bytes_out)), " stored", st.parts ? ", " + std::to_string(st.parts) + " parts" : "",
                      st.retries ? ", " + std::to_string(st.retries) + " retries" : "");
        int sig = sp::stop_signal();
        // SIGTERM is how a service manager stops s3-put: everything read is stored, a clean exit
        if (sig == SIGINT) return sp::code(sp::Exit::interrupted);
        return 0;
      },
      sp::fetch_remote_config);
}
