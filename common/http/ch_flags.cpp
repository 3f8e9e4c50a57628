#include "common/http/ch_flags.hpp"

#include "common/core/cli.hpp"

namespace sp::chflags {

void add(CLI::App& app, ChFlags& f) {
  app.add_option("--url", f.urls,
                 "ClickHouse HTTP(S) URL; repeat for failover (env CLICKHOUSE_URL, config clickhouse.url, "
                 "http://$CLICKHOUSE_HOST:8123; default http://127.0.0.1:8123)");
  app.add_option("-u,--user", f.user, "User (env CLICKHOUSE_USER, config clickhouse.user; default 'default')");
  app.add_option("--password-file", f.password_file,
                 "Read the password from this file's first line (else env CLICKHOUSE_PASSWORD, "
                 "CLICKHOUSE_PASSWORD_FILE, config clickhouse.password_file / clickhouse.password)");
  app.add_option("-d,--database", f.database, "Database (env CLICKHOUSE_DATABASE, config clickhouse.database; default 'default')");
  // the same TLS flags as s3-put's and s3-cat's (s3_flags.cpp)
  app.add_flag("--insecure", f.insecure, "Do not verify the server's TLS certificate");
  app.add_option("--ca-file", f.ca_file, "Extra CA bundle for https URLs (env CLICKHOUSE_CA_FILE, config clickhouse.ca_file)");

  // clickhouse-client's spellings: a clear pointer instead of CLI11's "unexpected argument hunter2"
  // (which would echo a password)
  cli::refuse(app, "--password", true,
              "a password on the command line is visible to every user of this machine; give it in "
              "CLICKHOUSE_PASSWORD or with --password-file FILE");
  const std::string url_hint = "ch-insert speaks ClickHouse's HTTP interface: give --url http://HOST:8123 (or "
                               "https://HOST:8443; env CLICKHOUSE_URL)";
  cli::refuse(app, "--host", true, url_hint);
  cli::refuse(app, "--port", true, url_hint);
  cli::refuse(app, "--secure", false, "use an https:// --url (env CLICKHOUSE_URL)");
  cli::refuse(app, "--query", true,
              "ch-insert runs no query: it inserts stdin's rows into --table (in --format); use clickhouse-client "
              "for other queries");
}

}  // namespace sp::chflags
