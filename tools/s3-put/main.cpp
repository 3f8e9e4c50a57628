// s3-put: stdin to S3 objects (see man/s3-put.1.scd).
#include <malloc.h>

#include "common/core/cli.hpp"
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
  sp::s3put::SizeFlags sf;
  return sp::tool_main(
      "s3-put", "Stream stdin to S3 objects: multipart, key templates, rotation, gzip/zstd, --tee",
      {sp::Exit::data, sp::Exit::noinput, sp::Exit::unavailable, sp::Exit::tempfail, sp::Exit::noperm, sp::Exit::interrupted},
      argc, argv,
      [&](CLI::App& app) {
        app.add_option("url", o.url_template,
                       "s3://bucket/key-template (strftime fields in UTC, {host}, {run}, {seq}, {seq:N})")->required();
        // -T is kcat's tee; -t is kcat's topic
        sp::cli::alias(app, "-t", app.add_flag("-T,--tee", o.tee, "Copy stdin to stdout unchanged as it is read"));
        app.add_option("--part-size", sf.part_size, "Multipart part size, at least 5M (doubles every 900 parts)")
            ->capture_default_str();
        // -j,--parallel as ch-insert's: requests in flight at once
        sp::cli::alias(app, "--concurrency", app.add_option("-j,--parallel", o.concurrency, "Parts uploaded in parallel")
            ->capture_default_str()->check(CLI::Range(1, 64)));
        app.add_option("--rotate-bytes", sf.rotate_bytes, "Start a new object after this many input bytes (at a line end)");
        app.add_option("--rotate-lines", o.rotate_lines, "Start a new object after this many lines");
        sp::cli::add_duration(app, "--rotate-seconds", o.rotate_seconds, "Start a new object after this long (seconds, or 500ms, 2m; at a line end)", 0);
        app.add_option("--seq-start", o.seq_start, "First {seq} number")->capture_default_str();
        sp::cli::choices(app.add_option("-z,--compress", sf.compress, "gzip, zstd or none (adds .gz / .zst to the key)"),
                         {"gzip", "zstd", "none"});
        app.add_flag("--gzip", sf.gzip, "Same as --compress gzip");
        app.add_flag("--zstd", sf.zstd, "Same as --compress zstd");
        app.add_option("--level", o.level, "Compression level (0 = default: gzip 6, zstd 1)")->check(CLI::Range(0, 22));
        app.add_option("--content-type", o.content_type, "Content-Type of the objects");
        app.add_option("--storage-class", o.storage_class, "x-amz-storage-class (STANDARD, STANDARD_IA, ...)");
        sp::cli::add_duration(app, "--abort-time", o.abort_seconds, "How long to keep trying to abort a failed multipart upload (seconds, or 2m)", 0.001);
        app.add_option("--host-name", o.host, "Value of {host} (default: this machine's name)");
        app.add_option("--run-id", o.run_id, "Value of {run} (default: 12 random hex digits, new for every run)");
        app.add_option("--acks", o.acks,
                       "Write ack lines (topic, partition, highest offset) for the envelope lines of each completed object to FILE (a FIFO read by kafka-cat-sensor --commit-acks)");
        sp::s3flags::add(app, f);
      },
      [&](const sp::CommonOptions&) {
        // a second SIGINT/SIGTERM aborts the multipart upload in progress rather than leaving it behind
        sp::second_signal_abandons();
        sp::s3put::resolve(sf, o);
        sp::s3put::validate(o);
        return sp::s3put::run_command(o, sp::s3flags::settings(f));
      },
      sp::fetch_remote_config);
}
