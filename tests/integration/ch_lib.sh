# Shared by the tests with one ClickHouse server (sourced after lib.sh): a real server from
# scripts/clickhouse.sh in the test's temp dir, stopped when the test ends. (Clusters: cluster_lib.sh.)

# start_clickhouse: sets CH_URL, CH_TCP_PORT, CH_USER and CH_PASSWORD (the password user), ... (see
# scripts/clickhouse.sh); CH_TLS=1 in the environment adds CH_HTTPS_URL.
start_clickhouse() {
  eval "$("$SRC_DIR/scripts/clickhouse.sh" start "$TEST_TMP/ch")"
  on_exit "'$SRC_DIR/scripts/clickhouse.sh' stop '$TEST_TMP/ch'"
}

# start_clickhouse_for_ch_insert: start_clickhouse in the test's temp dir (also the current one), with
# ch-insert's CLICKHOUSE_URL/USER/PASSWORD exported for it.
start_clickhouse_for_ch_insert() {
  cd "$TEST_TMP"
  start_clickhouse
  export CLICKHOUSE_URL=$CH_URL CLICKHOUSE_USER=$CH_USER CLICKHOUSE_PASSWORD=$CH_PASSWORD
}

# make_rows COUNT SEED: rows.jsonl, sensor-parse's rows of COUNT generated messages in envelopes of
# topic t, partition 0, offsets 0.. (so ch-insert acknowledges them); sets n to its line count.
make_rows() {
  sensor-gen -c "$1" --seed "$2" | grep -v '^$' | sed 's/^/{"topic":"t","partition":0,"offset":0,"value":/; s/$/}/' |
    awk '{sub(/"offset":0/, "\"offset\":" NR - 1); print}' | sensor-parse -q >rows.jsonl 2>/dev/null
  n=$(wc -l <rows.jsonl)
  [ "$n" -gt 100 ] || fail "expected rows to insert, got $n"
}

# q SQL: the server's answer to one query, as the user without a password (the same rights as the
# password user); fails the test on an HTTP error.
q() { curl -sS --fail-with-body "$CH_URL/" --data-binary "$1"; }
