#!/usr/bin/env bash
# Benchmark: kafka-cat-sensor versus kcat against librdkafka's mock cluster (1 broker, 64 partitions)
# in the same run. Consume 1M seed messages with -e to /dev/null; produce 1M from a file. Each side
# runs REPS times, alternating, and the best wall time counts (the machine is shared). Not a test.
#   scripts/bench/kafka.sh [N_MESSAGES] [REPS]      (BIN_DIR defaults to build/bin)
set -euo pipefail
N=${1:-1000000}
REPS=${2:-3}
SRC_DIR=$(cd "$(dirname "$0")/../.." && pwd)
BIN_DIR=${BIN_DIR:-$SRC_DIR/build/bin}
KCS=$BIN_DIR/kafka-cat-sensor
for t in "$KCS" "$BIN_DIR/sensor-gen" "$BIN_DIR/sensor-parse" kcat /usr/bin/time; do
  command -v "$t" >/dev/null || { echo "kafka.sh: missing $t (build first; package 'time', 'kcat')" >&2; exit 1; }
done
tmp=$(mktemp -d /tmp/bench-kafka.XXXXXX)
mock=""
cleanup() { [ -n "$mock" ] && kill "$mock" 2>/dev/null && wait "$mock" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# 1000 sensors: keyed by sensor, 100 would put ~3 sensors (over 5 MiB) on some mock partitions
"$BIN_DIR/sensor-gen" -c "$N" --sensors 1000 >"$tmp/msgs.jsonl"
# start_mock: a fresh mock cluster (1 broker) with topic "seed" of 64 partitions; sets $BS.
start_mock() {
  rm -f "$tmp/ctl" "$tmp/bootstrap"
  mkfifo "$tmp/ctl"
  "$KCS" --mock-cluster 1 --partitions 64 -t seed --mock-control "$tmp/ctl" >"$tmp/bootstrap" 2>"$tmp/mock.err" &
  mock=$!
  for _ in $(seq 50); do [ -s "$tmp/bootstrap" ] && break; sleep 0.1; done
  BS=$(head -1 "$tmp/bootstrap")
}
stop_mock() { kill "$mock" 2>/dev/null; wait "$mock" 2>/dev/null || true; mock=""; }
ctl() {
  local before; before=$(grep -c "mock cluster: " "$tmp/mock.err" || true)
  echo "$*" >"$tmp/ctl"
  for _ in $(seq 100); do [ "$(grep -c "mock cluster: " "$tmp/mock.err")" -gt "$before" ] && return; sleep 0.05; done
}

# run NAME CMD... : appends "seconds rss_kb" of one run to $tmp/NAME
run() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$tmp/t" "$@" || { echo "kafka.sh: $name failed" >&2; exit 1; }
  cat "$tmp/t" >>"$tmp/$name"
}

# Consume: one cluster holding the messages, read in turn by each side.
start_mock
kcat -P -b "$BS" -t seed -X sticky.partitioning.linger.ms=0 <"$tmp/msgs.jsonl"
for i in $(seq "$REPS"); do
  run consume_ours sh -c "'$KCS' -q -b '$BS' -t seed -e >/dev/null"
  run consume_kcat sh -c "kcat -C -q -b '$BS' -t seed -e >/dev/null"
  # into a pipe whose reader is about as fast: librdkafka's 1 s fetch pause shows here (FetchWaker)
  run pipe_ours sh -c "'$KCS' -q -b '$BS' -t seed -e | '$BIN_DIR/sensor-parse' -q >/dev/null"
  run pipe_kcat sh -c "kcat -C -q -b '$BS' -t seed -e | '$BIN_DIR/sensor-parse' -q >/dev/null"
  n_ours=$("$KCS" -q -b "$BS" -t seed -e | wc -l)
  [ "$n_ours" -eq "$N" ] || { echo "kafka.sh: consumed $n_ours of $N" >&2; exit 1; }
done
stop_mock

# Produce: pairs of (ours, kcat) with the same partitioning, each pair on a fresh cluster (the mock
# keeps every message in memory and slows as it fills, which would favour whoever goes first), each
# side into its own new topic, who goes first turning every round.
#   default: ours as shipped (keyless lines: runs of up to 1000 messages / 1 ms on each partition in
#            turn) against kcat with the nearest it has: librdkafka's sticky partitioner switching
#            every 1 ms (kcat's own 10 ms overfills some of the mock's 5 MiB partitions, which then
#            drop messages)
#   spread:  a random partition per message on both sides (every batch 64 times thinner)
#   idem:    kcat with the same delivery guarantee as ours (idempotent: acks=all, no duplicates)
#   keyed:   by sensor, as the pipeline produces: ours from the JSON field, kcat from KEY<TAB>VALUE
#            lines prepared beforehand (kcat has no field extraction), both with Java's partitioner
sed -E 's/^(.*"sensor_id":"([^"]*)".*)$/\2\t\1/' "$tmp/msgs.jsonl" >"$tmp/keyed.tsv"
SPREAD="-X sticky.partitioning.linger.ms=0"
STICKY="-X sticky.partitioning.linger.ms=1"
declare -A OURS=(
  [default]="'$KCS' -q -P -b BS -t TOPIC <'$tmp/msgs.jsonl'"
  [spread]="'$KCS' -q -P -b BS -t TOPIC $SPREAD <'$tmp/msgs.jsonl'"
  [idem]="'$KCS' -q -P -b BS -t TOPIC <'$tmp/msgs.jsonl'"
  [keyed]="'$KCS' -q -P -b BS -t TOPIC --key-field value.sensor_id <'$tmp/msgs.jsonl'"
)
declare -A KCAT=(
  [default]="kcat -P -b BS -t TOPIC $STICKY <'$tmp/msgs.jsonl'"
  [spread]="kcat -P -b BS -t TOPIC $SPREAD <'$tmp/msgs.jsonl'"
  [idem]="kcat -P -b BS -t TOPIC $STICKY -X enable.idempotence=true <'$tmp/msgs.jsonl'"
  [keyed]="kcat -P -b BS -t TOPIC -K \$'\\t' -X partitioner=murmur2_random <'$tmp/keyed.tsv'"
)
PAIRS=(default spread idem keyed)
# produce NAME CMD: one run of CMD into a new topic on the current cluster
produce() {
  local name=$1 cmd=${2//BS/$BS}
  ctl topic "$name" 64
  run "$name" bash -c "${cmd//TOPIC/$name}"
}
for i in $(seq "$REPS"); do
  for pair in "${PAIRS[@]}"; do
    start_mock
    if [ $((i % 2)) -eq 1 ]; then
      produce "p_${pair}_ours" "${OURS[$pair]}"; produce "p_${pair}_kcat" "${KCAT[$pair]}"
    else
      produce "p_${pair}_kcat" "${KCAT[$pair]}"; produce "p_${pair}_ours" "${OURS[$pair]}"
    fi
    for side in ours kcat; do
      n=$(kcat -C -q -b "$BS" -t "p_${pair}_$side" -e | wc -l)
      [ "$n" -eq "$N" ] || { echo "kafka.sh: $pair/$side produced $n of $N" >&2; exit 1; }
    done
    stop_mock
  done
done

best() { sort -n "$tmp/$1" | head -1; }
maxrss() { awk '{ if ($2 > m) m = $2 } END { printf "%d", m / 1024 }' "$tmp/$1"; }
printf '%-16s %8s %8s %7s %12s %12s\n' what ours_s kcat_s ratio ours_rss_mb kcat_rss_mb
results=()
row() {  # row LABEL OURS_FILE KCAT_FILE RESULT_NAME
  local o k ratio
  read -r o _ <<<"$(best "$2")"
  read -r k _ <<<"$(best "$3")"
  ratio=$(awk -v a="$o" -v b="$k" 'BEGIN { printf "%.2f", a / b }')
  printf '%-16s %8s %8s %7s %12s %12s\n' "$1" "$o" "$k" "$ratio" "$(maxrss "$2")" "$(maxrss "$3")"
  results+=("RESULT $4 ours=${o}s ref=${k}s ratio=$ratio rss_mb=$(maxrss "$2")")
}
row consume consume_ours consume_kcat kafka_consume
row "consume | parse" pipe_ours pipe_kcat kafka_consume_into_sensor_parse
row produce p_default_ours p_default_kcat kafka_produce
row "produce spread" p_spread_ours p_spread_kcat kafka_produce_spread
row "produce idem" p_idem_ours p_idem_kcat kafka_produce_vs_idempotent_kcat
row "produce keyed" p_keyed_ours p_keyed_kcat kafka_produce_keyed
echo "(best of $REPS runs each, $N messages, 64 partitions, 1 mock broker; rss = peak over all runs;"
echo " consume | parse: the whole pipe into sensor-parse, rss of its larger stage)"
echo " produce: ours as shipped, kcat sticky every 1 ms (the nearest it has); spread: a random partition"
echo " per message on both sides; idem: kcat -X enable.idempotence=true, ours' delivery guarantee;"
echo " keyed: by sensor_id, ours from the JSON field, kcat from prepared -K lines)"
printf '%s\n' "${results[@]}"
