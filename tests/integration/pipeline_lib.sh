# Shared by the pipeline tests (sourced after lib.sh): a real ClickHouse and a Kafka mock cluster in
# the test's temp dir, stopped when the test ends.

# start_servers PARTITIONS: sets CH_* (and exports CLICKHOUSE_URL/USER/PASSWORD) and B (bootstrap servers).
start_servers() {
  cd "$TEST_TMP"
  eval "$("$SRC_DIR/scripts/clickhouse.sh" start "$TEST_TMP/ch")"
  on_exit "$SRC_DIR/scripts/clickhouse.sh stop $TEST_TMP/ch"
  export CLICKHOUSE_URL=$CH_URL CLICKHOUSE_USER=$CH_USER CLICKHOUSE_PASSWORD=$CH_PASSWORD
  kafka-cat-sensor --mock-cluster 1 --partitions "$1" -t sensor_metrics >kafka.out 2>kafka.log &
  on_exit "kill $!"
  wait_until 20 test -s kafka.out || fail "mock cluster did not start: $(cat kafka.log)"
  B=$(head -1 kafka.out)
}

# q SQL: runs a query as the password user, prints the answer (fails the test on an HTTP error).
q() { curl -sS --fail-with-body -H "X-ClickHouse-User: $CH_USER" -H "X-ClickHouse-Key: $CH_PASSWORD" "$CH_URL/" --data-binary "$1"; }
