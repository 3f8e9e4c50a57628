#!/usr/bin/env bash
# End-to-end benchmark (not a test): N seed messages in a real Apache Kafka broker (16 partitions;
# BENCH_KAFKA=mock: librdkafka's mock cluster, 64 partitions) into a real ClickHouse,
# through our pipe (the production shape: group, envelopes, acks FIFO; and the same with the raw
# archive in a real S3 (Swift): s3-put --tee --acks as a second ack source) versus
#   kcat -C -e | jq -c '{...flatten...}' | clickhouse-client --query 'INSERT ... FORMAT JSONEachRow'
# Prints per-stage peak RSS and one RESULT line.
# Usage: scripts/bench/e2e.sh [BUILD_DIR] [N]
set -euo pipefail
build=${1:-build} n=${2:-1000000}
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(cd "$build/bin" && pwd)
export PATH="$bin:$PATH"
work=$(mktemp -d /tmp/sp-bench-e2e.XXXXXX)
cleanup() {
  [ -n "${kpid:-}" ] && kill "$kpid" 2>/dev/null
  "$here/scripts/kafka.sh" stop "$work/kafka" >/dev/null 2>&1 || true
  "$here/scripts/clickhouse.sh" stop "$work/ch" >/dev/null 2>&1 || true
  "$here/scripts/swift.sh" stop "$work/swift" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
eval "$("$here/scripts/clickhouse.sh" start "$work/ch")"
export CLICKHOUSE_URL=$CH_URL CLICKHOUSE_USER=$CH_USER CLICKHOUSE_PASSWORD=$CH_PASSWORD
eval "$("$here/scripts/swift.sh" start "$work/swift")"
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY AWS_REGION=$S3_REGION AWS_ENDPOINT_URL=$S3_ENDPOINT
/usr/bin/aws --endpoint-url "$S3_ENDPOINT" s3 mb s3://raw >/dev/null
if [ "${BENCH_KAFKA:-real}" = mock ]; then
  kafka-cat-sensor --mock-cluster 1 --partitions 64 -t sensor_metrics >"$work/k.out" 2>"$work/k.log" &
  kpid=$!
  for _ in $(seq 100); do [ -s "$work/k.out" ] && break; sleep 0.1; done
  B=$(head -1 "$work/k.out")
  kafka_what="librdkafka's mock cluster, 64 partitions"
else
  eval "$("$here/scripts/kafka.sh" start "$work/kafka" 1)"
  "$here/scripts/kafka.sh" topic "$work/kafka" sensor_metrics 16
  B=$KAFKA_BOOTSTRAP
  kafka_what="Apache Kafka $KAFKA_VERSION, 1 broker, 16 partitions"
fi
sensor-gen -c "$n" --seed 3 --sensors 1000 | kafka-cat-sensor -q -P -b "$B" -t sensor_metrics --key-field value.sensor_id

q() { curl -sS -H "X-ClickHouse-User: $CH_USER" -H "X-ClickHouse-Key: $CH_PASSWORD" "$CH_URL/" --data-binary "$1"; }
ch-insert -q --create-table --table sensor_metrics </dev/null >/dev/null
ch-insert -q --create-table --table ref_metrics </dev/null >/dev/null
T() { /usr/bin/time -f "%M" -o "$work/rss.$1" "${@:2}"; }

# ours, the same job as the reference: read every partition to the end, no group
t0=$(date +%s.%N)
T kc kafka-cat-sensor -q -b "$B" -t sensor_metrics -e \
  | T sp sensor-parse -q \
  | T ch ch-insert -q --table sensor_metrics --no-acks
t1=$(date +%s.%N)
ours=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')
# ours in the production shape: consumer group, envelopes, commits only what ClickHouse acknowledged;
# and the same with the raw archive (s3-put --tee --zstd --acks, committed once S3 holds it too).
# Side by side, alternating, median of 5 each (one run in a busy moment moves a median of 3): the archive's cost is the difference.
ch-insert -q --create-table --table acked_metrics </dev/null >/dev/null
mkfifo "$work/acks" "$work/s3acks"
# timed CMD...: runs CMD (one of the pipelines below, stdout discarded), prints its wall seconds
timed() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}'
}
acked_run() {  # GROUP: the acked pipeline without the archive
  kafka-cat-sensor -q -b "$B" -t sensor_metrics -G "$1" -e --envelope --commit-acks "$work/acks" \
    | sensor-parse -q | ch-insert -q --table acked_metrics >"$work/acks"
}
archived_run() {  # GROUP: the same with the archive
  kafka-cat-sensor -q -b "$B" -t sensor_metrics -G "$1" -e --envelope --commit-acks "$work/acks" --commit-acks "$work/s3acks" \
    | s3-put -q --tee --zstd --level 1 --part-size 16M --rotate-seconds 60 --acks "$work/s3acks" "s3://raw/$1/%Y%m%d%H%M%S-{run}-{seq}.jsonl" \
    | sensor-parse -q | ch-insert -q --table acked_metrics >"$work/acks"
}
floor_run() {  # GROUP: the acked pipeline with only the archive's compression on the side (zstd -1 to
  # /dev/null, no S3): what compressing the stream alone costs on this machine
  kafka-cat-sensor -q -b "$B" -t sensor_metrics -G "$1" -e --envelope --commit-acks "$work/acks" \
    | tee >(zstd -q -1 -T1 >/dev/null) | sensor-parse -q | ch-insert -q --table acked_metrics >"$work/acks"
}
median() { printf '%s\n' "$@" | sort -n | sed -n 3p; }
a=() r=() z=()
for i in 1 2 3 4 5; do
  q "TRUNCATE TABLE acked_metrics" >/dev/null
  a+=("$(timed acked_run "bench$i")")
  q "TRUNCATE TABLE acked_metrics" >/dev/null
  r+=("$(timed archived_run "archive$i")")
  q "TRUNCATE TABLE acked_metrics" >/dev/null
  z+=("$(timed floor_run "floor$i")")
done
acked=$(median "${a[@]}")
archived=$(median "${r[@]}")
floor=$(median "${z[@]}")
archrows=$(s3-cat -q --prefix s3://raw/archive3/ | wc -l)
# s3-put's peak RSS in a run of its own: /usr/bin/time around it in the timed runs would hold its
# --tee output open (time keeps its own stdout) and delay the end of the pipe
kafka-cat-sensor -q -b "$B" -t sensor_metrics -e --envelope \
  | T s3 s3-put -q --tee --zstd --level 1 --part-size 16M "s3://raw/rss/{run}.jsonl" >/dev/null
[ "$archrows" = "$n" ] || { echo "e2e bench: the archive holds $archrows lines, want $n" >&2; exit 1; }
rows=$(q "SELECT count() FROM sensor_metrics")

jqflat='{id:.id, ts:.timestamp, sensor_id:.value.sensor_id, temperature:.value.temperature, humidity:.value.humidity, pressure:.value.pressure}'
t0=$(date +%s.%N)
kcat -q -C -b "$B" -t sensor_metrics -e -o beginning \
  | jq -c "$jqflat" \
  | clickhouse-client --host 127.0.0.1 --port "$CH_TCP_PORT" --user "$CH_USER" --password "$CH_PASSWORD" \
      --date_time_input_format best_effort --query 'INSERT INTO ref_metrics FORMAT JSONEachRow'
t1=$(date +%s.%N)
ref=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')
refrows=$(q "SELECT count() FROM ref_metrics")
ackedrows=$(q "SELECT count() FROM acked_metrics")
[ "$rows" = "$n" ] && [ "$refrows" = "$n" ] && [ "$ackedrows" = "$n" ] || { echo "e2e bench: rows ours=$rows ref=$refrows, want $n" >&2; exit 1; }

mb() { awk -v k="$(cat "$work/rss.$1")" 'BEGIN{printf "%.1f", k/1024}'; }
rate=$(awk -v n="$n" -v s="$ours" 'BEGIN{printf "%.0f", n/s}')
printf 'end to end, %d messages, %s, %d CPUs\n' "$n" "$kafka_what" "$(nproc)"
printf '  ours (kafka-cat-sensor -e | sensor-parse | ch-insert):         %6ss  %s msg/s\n' "$ours" "$rate"
printf '  ours, group + envelopes + acks FIFO (incl. group join), median of 5: %6ss (%s)\n' "$acked" "${a[*]}"
printf '  the same + raw archive (s3-put --tee --zstd --level 1 --acks), median of 5: %6ss (%s); +%s%%, s3-put peak RSS %s MiB\n' \
  "$archived" "${r[*]}" "$(awk -v a="$acked" -v b="$archived" 'BEGIN{printf "%.0f", (b/a-1)*100}')" "$(mb s3)"
printf '  the acked pipeline + only zstd -1 of the stream to /dev/null (no S3), median of 5: %6ss (%s); +%s%%\n' \
  "$floor" "${z[*]}" "$(awk -v a="$acked" -v b="$floor" 'BEGIN{printf "%.0f", (b/a-1)*100}')"
printf '  reference (kcat | jq | clickhouse-client):                   %6ss\n' "$ref"
printf '  speedup %.1fx; peak RSS kafka-cat-sensor %s MiB, sensor-parse %s MiB, ch-insert %s MiB\n' \
  "$(awk -v a="$ours" -v b="$ref" 'BEGIN{print b/a}')" "$(mb kc)" "$(mb sp)" "$(mb ch)"
maxrss=$(for s in kc sp ch; do cat "$work/rss.$s"; done | sort -n | tail -1)
echo "RESULT e2e-archived-vs-acked-pipeline ours=${archived}s ref=${acked}s ratio=$(awk -v a="$archived" -v b="$acked" 'BEGIN{printf "%.3f", a/b}') rss_mb=$(mb s3)"
echo "RESULT e2e-compression-only-vs-acked-pipeline ours=${floor}s ref=${acked}s ratio=$(awk -v a="$floor" -v b="$acked" 'BEGIN{printf "%.3f", a/b}') rss_mb=-"
echo "RESULT e2e-acked-pipeline-vs-kcat-jq-client ours=${acked}s ref=${ref}s ratio=$(awk -v a="$acked" -v b="$ref" 'BEGIN{printf "%.3f", a/b}') rss_mb=-"
echo "RESULT e2e-pipeline-vs-kcat-jq-client ours=${ours}s ref=${ref}s ratio=$(awk -v a="$ours" -v b="$ref" 'BEGIN{printf "%.3f", a/b}') rss_mb=$(awk -v k="$maxrss" 'BEGIN{printf "%.1f", k/1024}')"
