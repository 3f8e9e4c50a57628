#!/usr/bin/env bash
# Benchmark: kafka-cat-sensor versus kcat against one mock cluster (1 broker, 64 partitions) in the
# same run. Consume 1M seed messages with -e to /dev/null; produce 1M from a file. Each side runs
# REPS times, alternating, and the best wall time counts (the machine is shared). Not a test.
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
mkfifo "$tmp/ctl"
"$KCS" --mock-cluster 1 --partitions 64 -t seed --mock-control "$tmp/ctl" >"$tmp/bootstrap" 2>"$tmp/mock.err" &
mock=$!
for _ in $(seq 50); do [ -s "$tmp/bootstrap" ] && break; sleep 0.1; done
BS=$(head -1 "$tmp/bootstrap")
ctl() {
  local before; before=$(grep -c "mock cluster: " "$tmp/mock.err" || true)
  echo "$*" >"$tmp/ctl"
  for _ in $(seq 100); do [ "$(grep -c "mock cluster: " "$tmp/mock.err")" -gt "$before" ] && return; sleep 0.05; done
}
kcat -P -b "$BS" -t seed -X sticky.partitioning.linger.ms=0 <"$tmp/msgs.jsonl"

# run NAME CMD... : appends "seconds rss_kb" of one run to $tmp/NAME
run() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$tmp/t" "$@" || { echo "kafka.sh: $name failed" >&2; exit 1; }
  cat "$tmp/t" >>"$tmp/$name"
}
for i in $(seq "$REPS"); do
  run consume_ours sh -c "'$KCS' -q -b '$BS' -t seed -e >/dev/null"
  run consume_kcat sh -c "kcat -C -q -b '$BS' -t seed -e >/dev/null"
  n_ours=$("$KCS" -q -b "$BS" -t seed -e | wc -l)
  [ "$n_ours" -eq "$N" ] || { echo "kafka.sh: consumed $n_ours of $N" >&2; exit 1; }
  ctl topic ours$i 64
  ctl topic kcat$i 64
  run produce_ours sh -c "'$KCS' -q -P -b '$BS' -t ours$i <'$tmp/msgs.jsonl'"
  run produce_kcat sh -c "kcat -P -b '$BS' -t kcat$i -X sticky.partitioning.linger.ms=0 <'$tmp/msgs.jsonl'"
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
echo "(best of $REPS runs each, $N messages, 64 partitions, 1 mock broker; rss = our peak over all runs)"
printf '%s\n' "${results[@]}"
