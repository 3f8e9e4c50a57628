#include "common/http/ch_flags.hpp"

namespace sp::chflags {

void add(CLI::App& app, ChFlags& f) {
  app.add_option("--url", f.urls,
                 "ClickHouse HTTP(S) URL; repeat for failover (env CLICKHOUSE_URL, config clickhouse.url; "
                 "default http://127.0.0.1:8123)");
  app.add_option("-u,--user", f.user, "User (env CLICKHOUSE_USER, config clickhouse.user; default 'default')");
  app.add_option("--password-file", f.password_file,
                 "Read the password from this file's first line (else env CLICKHOUSE_PASSWORD, "
                 "CLICKHOUSE_PASSWORD_FILE, config clickhouse.password_file / clickhouse.password)");
  app.add_option("-d,--database", f.database,
                 "Database (env CLICKHOUSE_DATABASE, config clickhouse.database; default 'default')");
  app.add_option("--ca-file", f.ca_file, "Extra CA bundle for https URLs (env CLICKHOUSE_CA_FILE, config clickhouse.ca_file)");
  app.add_flag("--insecure", f.insecure, "Do not verify the server's TLS certificate");
}

}  // namespace sp::chflags
