# Shared by the tests with one ClickHouse server (sourced after lib.sh): a real server from
# scripts/clickhouse.sh in the test's temp dir, stopped when the test ends. (Clusters: cluster_lib.sh.)

# start_clickhouse: sets CH_URL, CH_TCP_PORT, CH_USER and CH_PASSWORD (the password user), ... (see
# scripts/clickhouse.sh); CH_TLS=1 in the environment adds CH_HTTPS_URL.
start_clickhouse() {
  eval "$("$SRC_DIR/scripts/clickhouse.sh" start "$TEST_TMP/ch")"
  on_exit "'$SRC_DIR/scripts/clickhouse.sh' stop '$TEST_TMP/ch'"
}

# q SQL: the server's answer to one query, as the user without a password (the same rights as the
# password user); fails the test on an HTTP error.
q() { curl -sS --fail-with-body "$CH_URL/" --data-binary "$1"; }
