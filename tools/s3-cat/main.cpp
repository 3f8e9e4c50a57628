// s3-cat: S3 objects to stdout (see man/s3-cat.1.scd).
#include "cat.hpp"
#include "common/core/cli.hpp"
#include "common/core/log.hpp"
#include "common/core/metrics.hpp"
#include "common/core/progress.hpp"
#include "common/s3/s3_flags.hpp"

int main(int argc, char** argv) {
  sp::s3cat::Options o;
  sp::s3flags::Flags f;
  return sp::tool_main(
      "s3-cat", "Write S3 objects (one, or all under a prefix in key order) to stdout, decompressing .gz/.zst",
      {sp::Exit::data, sp::Exit::noinput, sp::Exit::unavailable, sp::Exit::tempfail, sp::Exit::noperm, sp::Exit::interrupted},
      argc, argv,
      [&](CLI::App& app) {
        app.add_option("url", o.urls, "s3://bucket/key, s3://bucket/prefix/, or with --hour s3://bucket/key-template (several allowed)")->required();
        app.add_flag("-l,--list", o.list, "List the objects (last modified, size, URL) instead of reading them");
        // aws s3 ls's --summarize; no -s (sensor-parse's -s was its schema: neither has a letter now)
        sp::cli::alias(app, "-s", app.add_flag("--summarize", o.summarize, "Print the number of objects and total bytes (also as metrics)"));
        app.add_flag("--raw", o.raw, "Do not decompress .gz / .zst objects");
        app.add_flag("--prefix", o.prefix, "Read the URL as a prefix even if an object has exactly that name");
        app.add_flag("--fail-if-empty", o.fail_if_empty, "Exit 66 when a prefix holds no objects (default: a note, exit 0)");
        app.add_option("--hour", o.hour,
                       "Read the objects an s3-put key template (the URL) stored in this hour, like 2025-07-07T22 (UTC, when each object was opened)")
            ->type_name("HOUR");
        app.add_option("--page-size", o.page_size, "Keys per listing request (S3's maximum is 1000)")
            ->capture_default_str()->check(CLI::Range(1, 1000));
        sp::s3flags::add(app, f);
      },
      [&](const sp::CommonOptions&) {
        for (const auto& u : o.urls) sp::s3cat::source(o, u);  // usage errors before any connection
        auto settings = sp::s3flags::settings(f);
        sp::s3::Client client(settings);
        sp::LineWriter out(1, 1 << 20);
        sp::Progress progress("bytes");
        auto st = sp::s3cat::run(o, client, out);
        out.flush();
        progress.done();
        if (!o.list && !o.summarize)
          sp::log::info(st.objects, " object(s), ", sp::human_bytes(static_cast<double>(st.bytes_out)), " written in ",
                        sp::human_seconds(progress.elapsed_seconds()), client.retries() ? ", " + std::to_string(client.retries()) + " retries" : "");
        return 0;
      },
      sp::fetch_remote_config);
}
