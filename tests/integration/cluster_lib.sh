# The one setup of every cluster test (sourced after lib.sh): a real ClickHouse cluster in the test's
# temp dir (scripts/clickhouse.sh cluster), stopped when the test ends, and q URL SQL to ask one member.
# (ch_lib.sh, for the single-server tests, has q SQL against $CH_URL: a cluster test names the member.)

# start_cluster SHARDS REPLICAS: sets CH_CLUSTER, CH_URL, CH_URL_S<s>R<r>... (see clickhouse.sh)
start_cluster() {
  eval "$("$SRC_DIR/scripts/clickhouse.sh" cluster "$TEST_TMP/cl" "$1" "$2")"
  on_exit "'$SRC_DIR/scripts/clickhouse.sh' stop '$TEST_TMP/cl'"
}

# start_cluster_and_kafka TOPIC...: the Kafka-to-cluster pipeline tests' servers: 2 shards x 2 replicas
# (start_cluster) and one Kafka broker with each TOPIC in 4 partitions (start_kafka: kafka_lib.sh, sourced
# first). Sets CH (scripts/clickhouse.sh, to act on a member), B (the bootstrap servers) and, for
# ch-insert, urls (a --url per server) and shards (a --shard per shard with its replicas, in order).
start_cluster_and_kafka() {
  start_cluster 2 2
  CH="$SRC_DIR/scripts/clickhouse.sh"
  start_kafka 1 4 "$@"
  B=$BS
  local u
  urls=()
  for u in $CH_URLS; do urls+=(--url "$u"); done
  shards=(--shard "$CH_URL_S1R1,$CH_URL_S1R2" --shard "$CH_URL_S2R1,$CH_URL_S2R2")
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
