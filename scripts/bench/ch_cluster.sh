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
# Rounds interleave them; best time kept; rows counted under FINAL, and each shard checked to hold
# only the rows the Distributed table would put there. On one machine the cluster
# shares the same cores (and writes every row twice, once per replica): this measures its overhead,
# not the write capacity that more machines add.
# Usage: scripts/bench/ch_cluster.sh [ROWS] [RUNS]    (BIN_DIR defaults to build/bin)
set -euo pipefail
SRC_DIR=$(cd "$(dirname "$0")/../.." && pwd)
BIN_DIR=${BIN_DIR:-$SRC_DIR/build/bin}
ROWS=${1:-1000000}
RUNS=${2:-2}
export PATH="$BIN_DIR:$PATH" LC_ALL=C
CH="$SRC_DIR/scripts/clickhouse.sh"
tmp=$(mktemp -d /tmp/sp-bench-ch-cluster.XXXXXX)
cleanup() {
  "$CH" stop "$tmp/one" >/dev/null 2>&1 || true
  "$CH" stop "$tmp/cl" >/dev/null 2>&1 || true
  "$SRC_DIR/scripts/kafka.sh" stop "$tmp/kafka" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
ONE=$(eval "$("$CH" start "$tmp/one")"; echo "$CH_URL")
s=$(date +%s.%N)
eval "$("$CH" cluster "$tmp/cl")"
started=$(awk -v s="$s" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e - s}')
urls=()
for u in $CH_URLS; do urls+=(--url "$u"); done
q() { curl -sS --fail-with-body "$1/" --data-binary "$2"; }

sensor-gen -c "$ROWS" | sensor-parse -q >"$tmp/rows.jsonl"
half=$((ROWS / 2))
head -n "$half" "$tmp/rows.jsonl" >"$tmp/a.jsonl"
tail -n +$((half + 1)) "$tmp/rows.jsonl" >"$tmp/b.jsonl"
shards=(--shard "$CH_URL_S1R1,$CH_URL_S1R2" --shard "$CH_URL_S2R1,$CH_URL_S2R2")
echo "rows: $ROWS; cluster of 4 + ZooKeeper started in ${started}s; $(nproc) cores; best of $RUNS"

fresh_cluster_table() {
  q "$CH_URL" "DROP TABLE IF EXISTS sensor_metrics ON CLUSTER $CH_CLUSTER" >/dev/null
  q "$CH_URL" "DROP TABLE IF EXISTS sensor_metrics_local ON CLUSTER $CH_CLUSTER" >/dev/null
  ch-insert -q "${urls[@]}" --cluster "$CH_CLUSTER" --create-table --no-acks </dev/null
}
timed() {  # name url command...: one run, time appended to $tmp/t.name, rows checked under FINAL
  local name=$1 url=$2; shift 2
  local s e n
  s=$(date +%s.%N)
  "$@" || { echo "bench: $name failed" >&2; exit 1; }
  e=$(date +%s.%N)
  # a Distributed SELECT may read a replica still fetching the last part: wait for it
  for _ in $(seq 1 100); do
    n=$(q "$url" "SELECT count() FROM sensor_metrics FINAL")
    [ "$n" = "$ROWS" ] && break
    sleep 0.2
  done
  [ "$n" = "$ROWS" ] || { echo "bench: $name: $n rows under FINAL, want $ROWS" >&2; exit 1; }
  awk -v s="$s" -v e="$e" 'BEGIN{print e - s}' >>"$tmp/t.$name"
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
# whole pipelines: the messages in a real broker, keyed by sensor like a producer would
eval "$("$SRC_DIR/scripts/kafka.sh" start "$tmp/kafka" 1)"
"$SRC_DIR/scripts/kafka.sh" topic "$tmp/kafka" sensor_metrics 16 >/dev/null
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
for round in $(seq 1 "$RUNS"); do
  q "$ONE" "DROP TABLE IF EXISTS sensor_metrics" >/dev/null
  timed one "$ONE" sh -c "ch-insert -q --url '$ONE' --create-table --no-acks <'$tmp/rows.jsonl'"
  fresh_cluster_table
  timed cluster "$CH_URL" sh -c "ch-insert -q ${urls[*]} --balance --cluster $CH_CLUSTER --no-acks <'$tmp/rows.jsonl'"
  fresh_cluster_table
  timed cluster_x2 "$CH_URL" two
  fresh_cluster_table
  fresh_cluster_table
  timed pipeline_x1 "$CH_URL" pipeline "p1r$round" 1
  fresh_cluster_table
  timed pipeline_x2 "$CH_URL" pipeline_x2 "p2r$round"
  for mode in shard_direct shard_direct_x2; do
    fresh_cluster_table
    if [ $mode = shard_direct ]; then timed $mode "$CH_URL" shard_direct "$tmp/rows.jsonl"; else timed $mode "$CH_URL" $mode; fi
    for sh in 1 2; do  # the split was the Distributed table's: each shard holds only its own sensors
      u=CH_URL_S${sh}R1
      n=$(q "${!u}" "SELECT count() FROM sensor_metrics_local WHERE cityHash64(sensor_id) % 2 != $((sh - 1))")
      [ "$n" = 0 ] || { echo "bench: $mode: $n rows on shard $sh that the Distributed table puts elsewhere" >&2; exit 1; }
    done
  done
done
printf '%-34s %9s %10s\n' target seconds rows_per_s
declare -A T
for n in one cluster cluster_x2 shard_direct shard_direct_x2 pipeline_x1 pipeline_x2; do
  T[$n]=$(sort -g "$tmp/t.$n" | head -n 1)
  printf '%-34s %9.2f %10.0f\n' "$n" "${T[$n]}" "$(awk -v t="${T[$n]}" -v r="$ROWS" 'BEGIN{print r / t}')"
done
div() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a / b}'; }
printf 'RESULT ch-insert-2x2-cluster-vs-one ours=%.2fs ref=%.2fs ratio=%s rss_mb=0\n' "${T[cluster]}" "${T[one]}" \
  "$(div "${T[cluster]}" "${T[one]}")"
printf 'RESULT ch-insert-x2-2x2-cluster-vs-one ours=%.2fs ref=%.2fs ratio=%s rss_mb=0\n' "${T[cluster_x2]}" "${T[one]}" \
  "$(div "${T[cluster_x2]}" "${T[one]}")"
printf 'RESULT ch-insert-2x2-shard-direct-vs-distributed ours=%.2fs ref=%.2fs ratio=%s rss_mb=0\n' "${T[shard_direct]}" \
  "${T[cluster]}" "$(div "${T[shard_direct]}" "${T[cluster]}")"
printf 'RESULT ch-insert-x2-2x2-shard-direct-vs-distributed ours=%.2fs ref=%.2fs ratio=%s rss_mb=0\n' "${T[shard_direct_x2]}" \
  "${T[cluster_x2]}" "$(div "${T[shard_direct_x2]}" "${T[cluster_x2]}")"
printf 'RESULT pipelines-x2-vs-x1-2x2-cluster ours=%.2fs ref=%.2fs ratio=%s rss_mb=0\n' "${T[pipeline_x2]}" \
  "${T[pipeline_x1]}" "$(div "${T[pipeline_x2]}" "${T[pipeline_x1]}")"
