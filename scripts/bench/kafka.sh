#!/usr/bin/env bash
# Benchmark: kafka-cat-sensor versus kcat against librdkafka's mock cluster (1 broker, 64 partitions)
# in the same run: consume N seed messages with -e (alone and into sensor-parse), produce N from a file
# with a random partition per message and keyed by sensor. Timed as every row is (scripts/bench/lib.sh:
# warm-up, sides alternating, median of pairs, spread); every run's message count is checked. Not a test.
#
# The mock keeps at most 5 MiB / 100k messages per partition and silently drops the oldest beyond that,
# so every producer here spreads by construction: a random partition per message
# (sticky.partitioning.linger.ms=0: of 1M x 140 B over 64 partitions the fullest held 2.1 MiB) or by key
# (1000 sensors over 64 partitions by murmur2: the fullest holds 3.0 MiB, 22.9k messages, of 1M). Sticky
# batching (kcat's sticky.partitioning.linger.ms, ours as shipped) picks partitions by chance per run:
# kcat's at 1 ms filled the fullest to 3.6-3.8 MiB and once overfilled one (idempotent: 996805 of
# 1000000), so those rows are measured on the real broker (scripts/bench/kafka_real.sh), which has no cap.
#   scripts/bench/kafka.sh [N_MESSAGES]      (BIN_DIR defaults to build/bin; N to BENCH_MESSAGES)
set -euo pipefail
SRC_DIR=$(cd "$(dirname "$0")/../.." && pwd)
source "$SRC_DIR/scripts/bench/lib.sh"
N=${1:-$BENCH_MESSAGES}
BIN_DIR=${BIN_DIR:-$SRC_DIR/build/bin}
KCS=$BIN_DIR/kafka-cat-sensor
bench_need_ours "$KCS" "$BIN_DIR/sensor-gen" "$BIN_DIR/sensor-parse"
bench_need_ref kcat /usr/bin/time
tmp=$(mktemp -d /tmp/bench-kafka.XXXXXX)
mock=""
cleanup() { [ -n "$mock" ] && kill "$mock" 2>/dev/null && wait "$mock" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
bench_init "$tmp"

"$BIN_DIR/sensor-gen" -c "$N" --sensors 1000 >"$tmp/msgs.jsonl"
# the fullest keyed partition holds 1.4x the mean: beyond 4.5 MiB (about 1.5M messages) the mock would drop some
awk -v b="$(stat -c %s "$tmp/msgs.jsonl")" -v n="$N" 'BEGIN { exit !(1.4 * b / 64 < 4.5 * 2^20 && 1.4 * n / 64 < 90000) }' ||
  bench_skip "$N messages would overfill the mock's 5 MiB partitions (at most about 1.5M; the real broker has no cap)"
# start_mock: a fresh mock cluster (1 broker) with topic "seed" of 64 partitions; sets $BS.
start_mock() {
  rm -f "$tmp/bootstrap"
  "$KCS" --mock-cluster 1 --partitions 64 -t seed >"$tmp/bootstrap" 2>"$tmp/mock.err" &
  mock=$!
  for _ in $(seq 100); do [ -s "$tmp/bootstrap" ] && break; sleep 0.1; done
  [ -s "$tmp/bootstrap" ] || bench_fail "kafka-cat-sensor --mock-cluster did not start: $(tail -n 3 "$tmp/mock.err")"
  BS=$(head -1 "$tmp/bootstrap")
}
stop_mock() { kill "$mock" 2>/dev/null; wait "$mock" 2>/dev/null || true; mock=""; }
count() { kcat -C -q -b "$BS" -t seed -e | wc -l; }

# Consume: one cluster holding the messages, read in turn by each side; every run's output is counted
# (wc -l, the same cheap reader on both sides)
start_mock
kcat -P -b "$BS" -t seed -X sticky.partitioning.linger.ms=0 <"$tmp/msgs.jsonl" ||
  bench_skip "kcat could not fill the mock cluster"
n=$(count)
[ "$n" -eq "$N" ] || bench_skip "the mock cluster holds $n of $N messages kcat produced"
# into a pipe whose reader is about as fast: librdkafka's 1 s fetch pause shows here (FetchWaker)
side_pipe_ours() {
  bench_ours pipe_ours sh -c "'$KCS' -q -b '$BS' -t seed -e | '$BIN_DIR/sensor-parse' -q | wc -l >'$tmp/n'"
  bench_check_ours "kafka-cat-sensor -e | sensor-parse: rows" "$(cat "$tmp/n")" "$N"
}
side_pipe_kcat() {
  bench_ref pipe_kcat sh -c "kcat -C -q -b '$BS' -t seed -e | '$BIN_DIR/sensor-parse' -q | wc -l >'$tmp/n'" || return 0
  bench_check_ref pipe_kcat "kcat -C -e | sensor-parse: rows" "$(cat "$tmp/n")" "$N" || true
}
bench_rounds side_consume_ours side_consume_kcat
bench_rounds side_pipe_ours side_pipe_kcat
stop_mock

# Produce: every run on a fresh mock cluster (the mock keeps every message in memory and slows as it
# fills, which would favour whoever goes first), the sides alternating.
#   spread:  a random partition per message on both sides (ours: the same librdkafka setting)
#   keyed:   by sensor, as the pipeline produces: ours from the JSON field, kcat from KEY<TAB>VALUE
#            lines prepared beforehand (kcat has no field extraction), both with Java's partitioner
sed -E 's/^(.*"sensor_id":"([^"]*)".*)$/\2\t\1/' "$tmp/msgs.jsonl" >"$tmp/keyed.tsv"
SPREAD="-X sticky.partitioning.linger.ms=0"
declare -A OURS=(
  [spread]="'$KCS' -q -P -b BS -t seed $SPREAD <'$tmp/msgs.jsonl'"
  [keyed]="'$KCS' -q -P -b BS -t seed --key-field value.sensor_id <'$tmp/msgs.jsonl'"
)
declare -A KCAT=(
  [spread]="kcat -P -b BS -t seed $SPREAD <'$tmp/msgs.jsonl'"
  [keyed]="kcat -P -b BS -t seed -K \$'\\t' -X partitioner=murmur2_random <'$tmp/keyed.tsv'"
)
side_produce_ours() {
  start_mock
  bench_ours "p_${mode}_ours" bash -c "${OURS[$mode]//BS/$BS}"
  bench_check_ours "$mode: kafka-cat-sensor -P: messages in the mock" "$(count)" "$N"
  stop_mock
}
side_produce_kcat() {
  bench_is_broken "p_${mode}_kcat" && return 0
  start_mock
  if bench_ref "p_${mode}_kcat" bash -c "${KCAT[$mode]//BS/$BS}"; then
    bench_check_ref "p_${mode}_kcat" "$mode: kcat -P: messages in the mock" "$(count)" "$N" || true
  fi
  stop_mock
}
for mode in spread keyed; do bench_rounds side_produce_ours side_produce_kcat; done

printf '%-16s %8s %8s %12s %12s\n' what ours_s kcat_s ours_rss_mb kcat_rss_mb
for r in consume:consume_ours:consume_kcat "consume | parse:pipe_ours:pipe_kcat" \
  "produce spread:p_spread_ours:p_spread_kcat" "produce keyed:p_keyed_ours:p_keyed_kcat"; do
  IFS=: read -r what o k <<<"$r"
  printf '%-16s %8s %8s %12s %12s\n' "$what" "$(bench_median "$o")" "$(bench_median "$k")" "$(bench_rss_mb "$o")" "$(bench_rss_mb "$k")"
done
echo "($N messages, 64 partitions, 1 mock broker; rss = peak over the counted runs; consume | parse: the"
echo " whole pipe into sensor-parse, rss of its larger stage; spread: a random partition per message on"
echo " both sides; keyed: by sensor_id, ours from the JSON field, kcat from prepared -K lines)"
bench_about
bench_result kafka_consume consume_ours consume_kcat
bench_result kafka_consume_into_sensor_parse pipe_ours pipe_kcat
bench_result kafka_produce_spread p_spread_ours p_spread_kcat
bench_result kafka_produce_keyed p_keyed_ours p_keyed_kcat
