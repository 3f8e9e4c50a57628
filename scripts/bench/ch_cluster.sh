#!/usr/bin/env bash
# Benchmark (not a test): N seed rows (JSONEachRow, as sensor-parse writes them) into one
# clickhouse-server and into a 2 shards x 2 replicas cluster (scripts/clickhouse.sh cluster), side by
# side in the same run:
#   one        ch-insert into one server (ReplacingMergeTree)
#   cluster    one ch-insert --balance over the four members, through the Distributed table
#   cluster_x2 two ch-inserts at once (half the rows each), as two pipelines of one consumer group
#   shard_direct     one ch-insert --shard (shard-direct): each batch split by cityHash64(sensor_id) as
#                    the Distributed table splits it, each part straight into its shard's
#                    sensor_metrics_local (--balance over the shard's two replicas)
#   shard_direct_x2  two of those at once (half the rows each), as cluster_x2
#   pipeline_x1 / pipeline_x2   whole pipelines from a real Kafka broker (16 partitions): one, then
#                    two in one consumer group (kafka-cat-sensor -G -e --envelope --commit-acks |
#                    sensor-parse | ch-insert --balance through the Distributed table), as the README's
#                    scale-out runs them; the time includes the group join
# Timed as every row is (scripts/bench/lib.sh: warm-up, in turn, median of pairs, spread); rows counted
# under FINAL after every run, and each shard checked to hold only the rows the Distributed table would
# put there. On one machine the cluster shares the same cores (and writes every row twice, once per
# replica): this measures its overhead, not the write capacity that more machines add.
# Usage: scripts/bench/ch_cluster.sh [ROWS]    (BIN_DIR defaults to build/bin; ROWS to BENCH_MESSAGES)
set -euo pipefail
SRC_DIR=$(cd "$(dirname "$0")/../.." && pwd)
source "$SRC_DIR/scripts/bench/lib.sh"
BIN_DIR=${BIN_DIR:-$SRC_DIR/build/bin}
ROWS=${1:-$BENCH_MESSAGES}
export PATH="$BIN_DIR:$PATH" LC_ALL=C
bench_need_ours "$BIN_DIR/ch-insert" "$BIN_DIR/sensor-gen" "$BIN_DIR/sensor-parse" "$BIN_DIR/kafka-cat-sensor"
bench_need_ref clickhouse-server
CH="$SRC_DIR/scripts/clickhouse.sh"
tmp=$(mktemp -d /tmp/sp-bench-ch-cluster.XXXXXX)
cleanup() {
  "$CH" stop "$tmp/one" >/dev/null 2>&1 || true
  "$CH" stop "$tmp/cl" >/dev/null 2>&1 || true
  "$SRC_DIR/scripts/kafka.sh" stop "$tmp/kafka" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
bench_init "$tmp"
bench_start "clickhouse-server" "$CH" start "$tmp/one"
ONE=$CH_URL
s=$(date +%s.%N)
bench_start "the ClickHouse cluster (4 servers + ZooKeeper)" "$CH" cluster "$tmp/cl"
started=$(awk -v s="$s" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e - s}')
urls=()
for u in $CH_URLS; do urls+=(--url "$u"); done
q() { curl -sS --fail-with-body "$1/" --data-binary "$2"; }

sensor-gen -c "$ROWS" | sensor-parse -q >"$tmp/rows.jsonl"
half=$((ROWS / 2))
head -n "$half" "$tmp/rows.jsonl" >"$tmp/a.jsonl"
tail -n +$((half + 1)) "$tmp/rows.jsonl" >"$tmp/b.jsonl"
# when ours fails: does every server still answer?
bench_server_ok() { local u; for u in $ONE $CH_URLS; do [ "$(q "$u" 'SELECT 1')" = 1 ] || return 1; done; }
shards=(--shard "$CH_URL_S1R1,$CH_URL_S1R2" --shard "$CH_URL_S2R1,$CH_URL_S2R2")
echo "rows: $ROWS; cluster of 4 + ZooKeeper started in ${started}s; $(nproc) cores"

fresh_cluster_table() {
  q "$CH_URL" "DROP TABLE IF EXISTS sensor_metrics ON CLUSTER $CH_CLUSTER" >/dev/null
  q "$CH_URL" "DROP TABLE IF EXISTS sensor_metrics_local ON CLUSTER $CH_CLUSTER" >/dev/null
  ch-insert -q "${urls[@]}" --cluster "$CH_CLUSTER" --create-table --no-acks </dev/null
}
# rows NAME URL: every row once under FINAL (a Distributed SELECT may read a replica still fetching
# the last part: wait for it)
rows() {
  local n
  for _ in $(seq 1 100); do
    n=$(q "$2" "SELECT count() FROM sensor_metrics FINAL")
    [ "$n" = "$ROWS" ] && break
    sleep 0.2
  done
  bench_check_ours "$1: rows under FINAL" "$n" "$ROWS"
}
two() {
  ch-insert -q "${urls[@]}" --balance --cluster "$CH_CLUSTER" --no-acks <"$tmp/a.jsonl" &
  local p=$!
  ch-insert -q "${urls[@]}" --balance --cluster "$CH_CLUSTER" --no-acks <"$tmp/b.jsonl" || return 1
  wait "$p"
}
shard_direct() { ch-insert -q "${shards[@]}" --cluster "$CH_CLUSTER" --balance --no-acks <"$1"; }
shard_direct_x2() {
  shard_direct "$tmp/a.jsonl" &
  local p=$!
  shard_direct "$tmp/b.jsonl" || return 1
  wait "$p"
}
# whole pipelines: the messages in a real broker, keyed by sensor like a producer would; without a
# broker only the pipeline rows are skipped
kafka_out=$("$SRC_DIR/scripts/kafka.sh" start "$tmp/kafka" 1 2>"$tmp/kafka.err") && eval "$kafka_out" &&
  "$SRC_DIR/scripts/kafka.sh" topic "$tmp/kafka" sensor_metrics 16 >/dev/null 2>>"$tmp/kafka.err" ||
  bench_broken pipeline_x1 "cannot run: the Kafka broker did not start: $(tail -n 2 "$tmp/kafka.err" | tr '\n' ' ')"
bench_is_broken pipeline_x1 ||
  sensor-gen -c "$ROWS" | kafka-cat-sensor -q -P -b "$KAFKA_BOOTSTRAP" -t sensor_metrics --key-field value.sensor_id
pipeline() {  # GROUP I: one pipeline member of GROUP, to the end of the topic, commits what ClickHouse acked
  local fifo="$tmp/acks.$1.$2"
  rm -f "$fifo" && mkfifo "$fifo"
  kafka-cat-sensor -q -b "$KAFKA_BOOTSTRAP" -t sensor_metrics -G "$1" -e --envelope --commit-acks "$fifo" |
    sensor-parse -q | ch-insert -q "${urls[@]}" --balance --cluster "$CH_CLUSTER" >"$fifo"
}
pipeline_x2() {
  pipeline "$1" 1 &
  local p=$!
  pipeline "$1" 2 || return 1
  wait "$p"
}
side_one() {
  q "$ONE" "DROP TABLE IF EXISTS sensor_metrics" >/dev/null
  ch-insert -q --url "$ONE" --create-table --no-acks </dev/null
  bench_ours one sh -c "ch-insert -q --url '$ONE' --no-acks <'$tmp/rows.jsonl'"
  rows one "$ONE"
}
side_cluster() {
  fresh_cluster_table
  bench_ours cluster sh -c "ch-insert -q ${urls[*]} --balance --cluster $CH_CLUSTER --no-acks <'$tmp/rows.jsonl'"
  rows cluster "$CH_URL"
}
side_cluster_x2() { fresh_cluster_table; bench_ours cluster_x2 two; rows cluster_x2 "$CH_URL"; }
side_pipeline_x1() {
  bench_is_broken pipeline_x1 && return 0
  fresh_cluster_table; bench_ours pipeline_x1 pipeline "p1$BENCH_RUN" 1; rows pipeline_x1 "$CH_URL"
}
side_pipeline_x2() {
  bench_is_broken pipeline_x1 && return 0
  fresh_cluster_table; bench_ours pipeline_x2 pipeline_x2 "p2$BENCH_RUN"; rows pipeline_x2 "$CH_URL"
}
shard_check() {  # MODE: the split was the Distributed table's: each shard holds only its own sensors
  local sh u n
  for sh in 1 2; do
    u=CH_URL_S${sh}R1
    n=$(q "${!u}" "SELECT count() FROM sensor_metrics_local WHERE cityHash64(sensor_id) % 2 != $((sh - 1))")
    bench_check_ours "$1: rows on shard $sh that the Distributed table puts elsewhere" "$n" 0
  done
}
side_shard_direct() {
  fresh_cluster_table; bench_ours shard_direct shard_direct "$tmp/rows.jsonl"
  rows shard_direct "$CH_URL"; shard_check shard_direct
}
side_shard_direct_x2() {
  fresh_cluster_table; bench_ours shard_direct_x2 shard_direct_x2
  rows shard_direct_x2 "$CH_URL"; shard_check shard_direct_x2
}
bench_rounds side_one side_cluster side_cluster_x2 side_pipeline_x1 side_pipeline_x2 side_shard_direct side_shard_direct_x2
printf '%-34s %9s %10s\n' target seconds rows_per_s
for n in one cluster cluster_x2 shard_direct shard_direct_x2 pipeline_x1 pipeline_x2; do
  t=$(bench_median $n)
  printf '%-34s %9s %10s\n' "$n" "$t" "$(awk -v t="$t" -v r="$ROWS" 'BEGIN{ if (t + 0 > 0) printf "%.0f", r / t; else print "-" }')"
done
bench_about
bench_result ch-insert-2x2-cluster-vs-one cluster one -
bench_result ch-insert-x2-2x2-cluster-vs-one cluster_x2 one -
bench_result ch-insert-2x2-shard-direct-vs-distributed shard_direct cluster -
bench_result ch-insert-x2-2x2-shard-direct-vs-distributed shard_direct_x2 cluster_x2 -
bench_result pipelines-x2-vs-x1-2x2-cluster pipeline_x2 pipeline_x1 -
