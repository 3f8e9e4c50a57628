#!/usr/bin/env bash
# End-to-end benchmark (not a test): N seed messages in a real Apache Kafka broker (16 partitions;
# BENCH_KAFKA=mock: librdkafka's mock cluster, 64 partitions) into a real ClickHouse, in the same run:
#   plain     kafka-cat-sensor -e | sensor-parse | ch-insert (the reference's job: every partition to the end)
#   acked     the production shape: consumer group, envelopes, commits only what ClickHouse acknowledged
#             (acks FIFO; the group join included)
#   archived  the same with the raw archive in a real S3 (MinIO; BENCH_S3_SERVER=swift: Swift's S3 layer):
#             s3-put --tee --zstd --acks as a second
#             ack source (committed once S3 holds it too)
#   floor     the acked pipeline with only the archive's compression on the side (zstd -1 to /dev/null, no
#             S3): what compressing the stream alone costs on this machine
#   acked_tsv the acked pipeline with --format tsv between sensor-parse and ch-insert, as the README's
#             Streaming block has it: the reference of the exactly-once row
#   eo        the same with ch-insert --exactly-once (its state emptied before each round); for both,
#             ClickHouse's CPU seconds and INSERT count are printed too (robust on a loaded machine)
#   ref       kcat -C -e | jq -c '{...flatten...}' | clickhouse-client --query 'INSERT ... FORMAT JSONEachRow'
# Timed as every row is (scripts/bench/lib.sh: warm-up, sides in turn, median of pairs, spread); every
# run's rows are counted in ClickHouse (and the archive's lines in S3). Prints per-stage peak RSS.
# Usage: scripts/bench/e2e.sh [BUILD_DIR] [N]   (N defaults to BENCH_MESSAGES or 1000000)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/scripts/bench/lib.sh"
build=${1:-build} n=${2:-$BENCH_MESSAGES}
bin=$(cd "$build/bin" && pwd)
export PATH="$bin:$PATH"
for t in kafka-cat-sensor sensor-parse ch-insert s3-put s3-cat sensor-gen; do bench_need_ours "$bin/$t"; done
bench_need_ref kcat jq clickhouse-client /usr/bin/aws zstd /usr/bin/time
case "${BENCH_S3_SERVER:-minio}" in
  minio) s3_script=$here/scripts/minio.sh ;;
  swift) s3_script=$here/scripts/swift.sh ;;
  *) echo "bench e2e: BENCH_S3_SERVER must be minio or swift, not '$BENCH_S3_SERVER'" >&2; exit 2 ;;
esac
work=$(mktemp -d /tmp/sp-bench-e2e.XXXXXX)
cleanup() {
  [ -n "${kpid:-}" ] && kill "$kpid" 2>/dev/null
  bench_stop_servers "$work" "$s3_script"
  rm -rf "$work"
}
trap cleanup EXIT
bench_init "$work"
bench_ch_s3 "$work" "$s3_script"
if [ "${BENCH_KAFKA:-real}" = mock ]; then
  kafka-cat-sensor --mock-cluster 1 --partitions 64 -t sensor_metrics >"$work/k.out" 2>"$work/k.log" &
  kpid=$!
  for _ in $(seq 100); do [ -s "$work/k.out" ] && break; sleep 0.1; done
  [ -s "$work/k.out" ] || bench_fail "kafka-cat-sensor --mock-cluster did not start: $(tail -n 3 "$work/k.log")"
  B=$(head -1 "$work/k.out")
  kafka_what="librdkafka's mock cluster, 64 partitions"
else
  bench_kafka "$work"
  kafka_what="Apache Kafka $KAFKA_VERSION, 1 broker, 16 partitions"
fi
sensor-gen -c "$n" --seed 3 --sensors 1000 | kafka-cat-sensor -q -P -b "$B" -t sensor_metrics --key-field value.sensor_id

q() { curl -sS -H "X-ClickHouse-User: $CH_USER" -H "X-ClickHouse-Key: $CH_PASSWORD" "$CH_URL/" --data-binary "$1"; }
for t in sensor_metrics ref_metrics acked_metrics; do ch-insert -q --create-table --table $t </dev/null >/dev/null; done
ch-insert -q --create-table --exactly-once --table eo_metrics </dev/null >/dev/null  # with the coordinates, and its state
# when ours fails: do the servers still answer reference clients?
bench_server_ok() {
  [ "$(q 'SELECT 1')" = 1 ] && kcat -L -b "$B" -t sensor_metrics -m 10 >/dev/null &&
    /usr/bin/aws --endpoint-url "$S3_ENDPOINT" s3 ls s3://raw/ >/dev/null
}
empty() { q "TRUNCATE TABLE $1" >/dev/null; }
rows() { q "SELECT count() FROM $1"; }
T() { /usr/bin/time -f "%M" -o "$work/rss.$1" "${@:2}"; }
mkfifo "$work/acks" "$work/s3acks"

plain_run() {  # ours, the same job as the reference: read every partition to the end, no group
  T kc kafka-cat-sensor -q -b "$B" -t sensor_metrics -e \
    | T sp sensor-parse -q \
    | T ch ch-insert -q --table sensor_metrics --no-acks
}
acked_run() {  # GROUP: the acked pipeline without the archive
  kafka-cat-sensor -q -b "$B" -t sensor_metrics -G "$1" -e --envelope --commit-acks "$work/acks" \
    | sensor-parse -q | ch-insert -q --table acked_metrics >"$work/acks"
}
acked_tsv_run() {  # GROUP: the acked pipeline as deployed (the Streaming block: --format tsv)
  kafka-cat-sensor -q -b "$B" -t sensor_metrics -G "$1" -e --envelope --commit-acks "$work/acks" \
    | sensor-parse -q --format tsv | ch-insert -q --format tsv --table acked_metrics >"$work/acks"
}
eo_run() {  # GROUP: the same with --exactly-once (issue 26)
  kafka-cat-sensor -q -b "$B" -t sensor_metrics -G "$1" -e --envelope --commit-acks "$work/acks" \
    | sensor-parse -q --format tsv | ch-insert -q --format tsv --exactly-once --table eo_metrics >"$work/acks"
}
archived_run() {  # GROUP: the same with the archive
  kafka-cat-sensor -q -b "$B" -t sensor_metrics -G "$1" -e --envelope --commit-acks "$work/acks" --commit-acks "$work/s3acks" \
    | s3-put -q --tee --zstd --level 1 --part-size 16M --rotate-seconds 60 --acks "$work/s3acks" "s3://raw/$1/%Y%m%d%H%M%S-{run}-{seq}.jsonl" \
    | sensor-parse -q | ch-insert -q --table acked_metrics >"$work/acks"
}
floor_run() {  # GROUP: the acked pipeline with only the archive's compression on the side
  kafka-cat-sensor -q -b "$B" -t sensor_metrics -G "$1" -e --envelope --commit-acks "$work/acks" \
    | tee >(zstd -q -1 -T1 >/dev/null) | sensor-parse -q | ch-insert -q --table acked_metrics >"$work/acks"
}
jqflat='{id:.id, ts:.timestamp, sensor_id:.value.sensor_id, temperature:.value.temperature, humidity:.value.humidity, pressure:.value.pressure}'
ref_run() {
  kcat -q -C -b "$B" -t sensor_metrics -e -o beginning \
    | jq -c "$jqflat" \
    | clickhouse-client --host 127.0.0.1 --port "$CH_TCP_PORT" --user "$CH_USER" --password "$CH_PASSWORD" \
        --date_time_input_format best_effort --query 'INSERT INTO ref_metrics FORMAT JSONEachRow'
}
side_plain() { empty sensor_metrics; bench_ours plain plain_run; bench_check_ours "plain pipeline: rows" "$(rows sensor_metrics)" "$n"; }
side_acked() { empty acked_metrics; bench_ours acked acked_run "acked$BENCH_RUN"; bench_check_ours "acked pipeline: rows" "$(rows acked_metrics)" "$n"; }
side_archived() {
  empty acked_metrics
  bench_ours archived archived_run "archive$BENCH_RUN"
  bench_check_ours "archived pipeline: rows" "$(rows acked_metrics)" "$n"
  bench_check_ours "archived pipeline: lines in the archive" "$(s3-cat -q --prefix "s3://raw/archive$BENCH_RUN/" | wc -l)" "$n"
}
side_acked_tsv() {
  empty acked_metrics
  local s0; s0=$(bench_server_now)
  bench_ours acked_tsv acked_tsv_run "ackedtsv$BENCH_RUN"
  bench_server_note acked_tsv "$s0"
  bench_check_ours "acked pipeline (TSV): rows" "$(rows acked_metrics)" "$n"
}
side_eo() {  # the state emptied too: each round stores every row anew, none found stored
  empty eo_metrics
  empty eo_metrics_kafka_offsets
  local s0; s0=$(bench_server_now)
  bench_ours eo eo_run "eo$BENCH_RUN"
  bench_server_note eo "$s0"
  bench_check_ours "exactly-once pipeline: rows" "$(rows eo_metrics)" "$n"
}
side_floor() { empty acked_metrics; bench_ours floor floor_run "floor$BENCH_RUN"; bench_check_ours "floor pipeline: rows" "$(rows acked_metrics)" "$n"; }
side_ref() {
  empty ref_metrics
  bench_ref ref ref_run || return 0
  bench_check_ref ref "kcat | jq | clickhouse-client: rows" "$(rows ref_metrics)" "$n" || true
}
bench_rounds side_acked side_archived side_floor side_plain side_ref side_acked_tsv side_eo

# s3-put's peak RSS in a run of its own: /usr/bin/time around it in the timed runs would hold its
# --tee output open (time keeps its own stdout) and delay the end of the pipe
kafka-cat-sensor -q -b "$B" -t sensor_metrics -e --envelope \
  | T s3 s3-put -q --tee --zstd --level 1 --part-size 16M "s3://raw/rss/{run}.jsonl" >/dev/null

mb() { awk -v k="$(cat "$work/rss.$1")" 'BEGIN{printf "%.1f", k/1024}'; }
ours=$(bench_median plain) acked=$(bench_median acked) archived=$(bench_median archived) floor=$(bench_median floor)
eo=$(bench_median eo) acked_tsv=$(bench_median acked_tsv)
printf 'end to end, %d messages, %s, %d CPUs\n' "$n" "$kafka_what" "$(nproc)"
printf '  ours (kafka-cat-sensor -e | sensor-parse | ch-insert):         %6ss  %s msg/s\n' "$ours" \
  "$(awk -v n="$n" -v s="$ours" 'BEGIN{printf "%.0f", n/s}')"
printf '  ours, group + envelopes + acks FIFO (incl. group join):         %6ss\n' "$acked"
printf '  the same + raw archive (s3-put --tee --zstd --level 1 --acks):  %6ss; +%s%%, s3-put peak RSS %s MiB\n' \
  "$archived" "$(awk -v a="$acked" -v b="$archived" 'BEGIN{printf "%.0f", (b/a-1)*100}')" "$(mb s3)"
printf '  the acked pipeline + only zstd -1 of the stream (no S3):        %6ss; +%s%%\n' \
  "$floor" "$(awk -v a="$acked" -v b="$floor" 'BEGIN{printf "%.0f", (b/a-1)*100}')"
printf '  the acked pipeline with --format tsv (the Streaming block):     %6ss\n' "$acked_tsv"
printf '  the same with ch-insert --exactly-once:                         %6ss; +%s%%\n' \
  "$eo" "$(awk -v a="$acked_tsv" -v b="$eo" 'BEGIN{printf "%.0f", (b/a-1)*100}')"
for s in acked_tsv eo; do
  printf '    %-9s ClickHouse %s CPU-s, %s INSERTs per run\n' "$s" "$(bench_server_median $s 1)" "$(bench_server_median $s 2)"
done
printf '  reference (kcat | jq | clickhouse-client):                      %6ss\n' "$(bench_median ref)"
printf '  peak RSS kafka-cat-sensor %s MiB, sensor-parse %s MiB, ch-insert %s MiB\n' "$(mb kc)" "$(mb sp)" "$(mb ch)"
maxrss=$(for s in kc sp ch; do cat "$work/rss.$s"; done | sort -n | tail -1)
maxrss=$(awk -v k="$maxrss" 'BEGIN{printf "%.1f", k/1024}')
bench_about
bench_result e2e-archived-vs-acked-pipeline archived acked - | sed "s/rss_mb=-/rss_mb=$(mb s3)/"
bench_result e2e-compression-only-vs-acked-pipeline floor acked -
bench_result e2e-exactly-once-vs-acked-pipeline eo acked_tsv -
bench_result e2e-acked-pipeline-vs-kcat-jq-client acked ref -
bench_result e2e-pipeline-vs-kcat-jq-client plain ref - | sed "s/rss_mb=-/rss_mb=$maxrss/"
