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
for t in "$KCS" "$BIN_DIR/sensor-gen" kcat /usr/bin/time; do
  command -v "$t" >/dev/null || { echo "kafka.sh: missing $t (build first; package 'time', 'kcat')" >&2; exit 1; }
done
tmp=$(mktemp -d /tmp/bench-kafka.XXXXXX)
mock=""
cleanup() { [ -n "$mock" ] && kill "$mock" 2>/dev/null && wait "$mock" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

"$BIN_DIR/sensor-gen" -n "$N" >"$tmp/msgs.jsonl"
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
  n_ours=$("$KCS" -q -b "$BS" -t seed -e | wc -l)
  [ "$n_ours" -eq "$N" ] || { echo "kafka.sh: consumed $n_ours of $N" >&2; exit 1; }
done
stop_mock

# Produce: a fresh cluster per round (the mock keeps every message in memory and slows as it
# fills, which would favour whoever goes first), each side into its own new topic, the order
# turning every round.
produce_ours() { run produce_ours sh -c "'$KCS' -q -P -b '$BS' -t ours$1 <'$tmp/msgs.jsonl'"; }
produce_kcat() { run produce_kcat sh -c "kcat -P -b '$BS' -t kcat$1 -X sticky.partitioning.linger.ms=0 <'$tmp/msgs.jsonl'"; }
# the same delivery guarantee as ours (idempotent: acks=all, no duplicates on retry)
produce_kcatidem() {
  run produce_kcatidem sh -c "kcat -P -b '$BS' -t kcatidem$1 -X sticky.partitioning.linger.ms=0 -X enable.idempotence=true <'$tmp/msgs.jsonl'"
}
for i in $(seq "$REPS"); do
  start_mock
  for t in ours kcat kcatidem; do ctl topic "$t$i" 64; done
  case $((i % 3)) in
    1) produce_ours "$i"; produce_kcat "$i"; produce_kcatidem "$i" ;;
    2) produce_kcat "$i"; produce_kcatidem "$i"; produce_ours "$i" ;;
    0) produce_kcatidem "$i"; produce_ours "$i"; produce_kcat "$i" ;;
  esac
  n_ours=$(kcat -C -q -b "$BS" -t "ours$i" -e | wc -l)
  [ "$n_ours" -eq "$N" ] || { echo "kafka.sh: produced $n_ours of $N" >&2; exit 1; }
  stop_mock
done

best() { sort -n "$tmp/$1" | head -1; }
printf '%-10s %10s %10s %8s %12s %12s\n' what ours_s kcat_s ratio ours_rss_mb kcat_rss_mb
results=()
for what in consume produce; do
  read -r o orss <<<"$(best ${what}_ours)"
  read -r k krss <<<"$(best ${what}_kcat)"
  orss_max=$(awk '{ if ($2 > m) m = $2 } END { print m }' "$tmp/${what}_ours")
  ratio=$(awk -v a="$o" -v b="$k" 'BEGIN { printf "%.2f", a / b }')
  printf '%-10s %10s %10s %8s %12d %12d\n' "$what" "$o" "$k" "$ratio" $((orss_max / 1024)) $((krss / 1024))
  results+=("RESULT kafka_$what ours=${o}s ref=${k}s ratio=$ratio rss_mb=$((orss_max / 1024))")
done
read -r o _ <<<"$(best produce_ours)"
read -r k krss <<<"$(best produce_kcatidem)"
ratio=$(awk -v a="$o" -v b="$k" 'BEGIN { printf "%.2f", a / b }')
printf '%-10s %10s %10s %8s %12s %12d\n' "produce*" "$o" "$k" "$ratio" "" $((krss / 1024))
results+=("RESULT kafka_produce_vs_idempotent_kcat ours=${o}s ref=${k}s ratio=$ratio rss_mb=")
echo "(best of $REPS runs each, $N messages, 64 partitions, 1 mock broker; rss = our peak over all runs;"
echo " produce* = against kcat -P -X enable.idempotence=true, the same delivery guarantee as ours)"
printf '%s\n' "${results[@]}"
