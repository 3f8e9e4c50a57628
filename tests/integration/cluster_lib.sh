# The one setup of every cluster test (sourced after lib.sh): a real ClickHouse cluster in the test's
# temp dir (scripts/clickhouse.sh cluster), stopped when the test ends, and q URL SQL to ask one member.
# (ch_lib.sh, for the single-server tests, has q SQL against $CH_URL: a cluster test names the member.)

# start_cluster SHARDS REPLICAS: sets CH_CLUSTER, CH_URL, CH_URL_S<s>R<r>... (see clickhouse.sh)
start_cluster() {
  eval "$("$SRC_DIR/scripts/clickhouse.sh" cluster "$TEST_TMP/cl" "$1" "$2")"
  on_exit "'$SRC_DIR/scripts/clickhouse.sh' stop '$TEST_TMP/cl'"
}

# q URL SQL: the answer of one member (fails the test on an HTTP error)
q() { curl -sS --fail-with-body "$1/" --data-binary "$2"; }

# same_as_distributed ROWS SHARDS: ROWS inserted through the Distributed table (database viadist)
# land on each of the first SHARDS shards exactly as they are in database metrics (shard-direct)
same_as_distributed() {
  ch-insert --url "$CH_URL" --cluster "$CH_CLUSTER" --create-table -d viadist --batch-rows 5000 --no-acks -q \
    <"$1" || fail "the Distributed insert"
  local sh u
  for ((sh = 1; sh <= $2; sh++)); do
    u=CH_URL_S${sh}R1
    ids() { q "${!u}" "SELECT id FROM $1.sensor_metrics_local ORDER BY id"; }
    same() { [ "$(ids metrics | md5sum)" = "$(ids viadist | md5sum)" ]; }
    wait_until 30 same || fail "shard $sh: rows differ from the Distributed table's: $(diff <(ids metrics) <(ids viadist) | head -5)"
  done
}
