#!/usr/bin/env bash
# Benchmark: kafka-cat-sensor versus kcat and Apache Kafka's own console consumer and producer
# performance tool, on a real Apache Kafka broker (scripts/kafka.sh, 1 broker, 16 partitions), in the
# same run. Consume N seed messages with -e to /dev/null; produce N from a file, each run into a new
# topic. Every side runs REPS times, alternating; the median wall time counts. Not a test.
#   scripts/bench/kafka_real.sh [N_MESSAGES] [REPS] [PARTITIONS]   (BIN_DIR defaults to build/bin)
set -euo pipefail
N=${1:-1000000}
REPS=${2:-3}
PARTS=${3:-16}
SRC_DIR=$(cd "$(dirname "$0")/../.." && pwd)
BIN_DIR=${BIN_DIR:-$SRC_DIR/build/bin}
KCS=$BIN_DIR/kafka-cat-sensor
for t in "$KCS" "$BIN_DIR/sensor-gen" kcat /usr/bin/time java; do
  command -v "$t" >/dev/null || { echo "kafka_real.sh: missing $t (build first; packages 'time', 'kcat')" >&2; exit 1; }
done
tmp=$(mktemp -d /tmp/bench-kafka-real.XXXXXX)
cleanup() { "$SRC_DIR/scripts/kafka.sh" stop "$tmp/kafka" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
eval "$("$SRC_DIR/scripts/kafka.sh" start "$tmp/kafka" 1)"
BS=$KAFKA_BOOTSTRAP
topic() { "$SRC_DIR/scripts/kafka.sh" topic "$tmp/kafka" "$1" "$PARTS"; }
# Kafka's own tools, with the broker's jars (a JVM each: its start-up is part of its time, as for a user)
ktool() { "$SRC_DIR/scripts/kafka.sh" tool "$tmp/kafka" "$@"; }

"$BIN_DIR/sensor-gen" -c "$N" --sensors 1000 >"$tmp/msgs.jsonl"
# run NAME CMD... : appends "seconds rss_kb" of one run to $tmp/NAME
run() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$tmp/t" "$@" || { echo "kafka_real.sh: $name failed" >&2; exit 1; }
  cat "$tmp/t" >>"$tmp/$name"
}
count() { kcat -C -q -b "$BS" -t "$1" -e | wc -l; }
check() { local n; n=$(count "$1"); [ "$n" -eq "$N" ] || { echo "kafka_real.sh: $1 holds $n of $N" >&2; exit 1; }; }

# Consume: one topic holding the messages, read in turn by each side.
topic seed
kcat -P -b "$BS" -t seed -X sticky.partitioning.linger.ms=1 <"$tmp/msgs.jsonl"
check seed
for i in $(seq "$REPS"); do
  run consume_ours sh -c "'$KCS' -q -b '$BS' -t seed -e >/dev/null"
  run consume_kcat sh -c "kcat -C -q -b '$BS' -t seed -e >/dev/null"
  run consume_java bash -c "$(declare -f ktool); SRC_DIR='$SRC_DIR' tmp='$tmp'; ktool org.apache.kafka.tools.consumer.ConsoleConsumer \
    --bootstrap-server '$BS' --topic seed --from-beginning --max-messages $N --timeout-ms 20000 >/dev/null 2>&1"
done

# Produce: each run into a new topic, the order turning every round. Ours as shipped (idempotent,
# keyless runs of 1000 messages / 1 ms per partition); kcat with the sticky partitioner at 1 ms and
# also idempotent; Kafka's ProducerPerformance with the same lines as payloads (acks=all, idempotent
# by default in Kafka 3+ clients).
perf_payload="$tmp/msgs.jsonl"
for i in $(seq "$REPS"); do
  order=(ours kcat java); [ $((i % 2)) -eq 0 ] && order=(java kcat ours)
  for side in "${order[@]}"; do
    t="p_${side}_$i"
    topic "$t"
    case $side in
      ours) run produce_ours sh -c "'$KCS' -q -P -b '$BS' -t '$t' <'$tmp/msgs.jsonl'" ;;
      kcat) run produce_kcat sh -c "kcat -P -b '$BS' -t '$t' -X sticky.partitioning.linger.ms=1 -X enable.idempotence=true <'$tmp/msgs.jsonl'" ;;
      java) run produce_java bash -c "$(declare -f ktool); SRC_DIR='$SRC_DIR' tmp='$tmp'; ktool org.apache.kafka.tools.ProducerPerformance \
              --topic '$t' --num-records $N --throughput -1 --payload-file '$perf_payload' \
              --producer-props bootstrap.servers='$BS' acks=all >/dev/null 2>&1" ;;
    esac
    check "$t"
  done
done

median() { sort -n "$tmp/$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
maxrss() { awk '{ if ($2 > m) m = $2 } END { printf "%d", m / 1024 }' "$tmp/$1"; }
printf '%-22s %8s %8s %7s %8s %7s %12s\n' what ours_s kcat_s ratio java_s ratio ours_rss_mb
results=()
row() {  # row LABEL PREFIX RESULT_NAME
  local o k j
  o=$(median "${2}_ours"); k=$(median "${2}_kcat"); j=$(median "${2}_java")
  local rk rj
  rk=$(awk -v a="$o" -v b="$k" 'BEGIN { printf "%.2f", a / b }')
  rj=$(awk -v a="$o" -v b="$j" 'BEGIN { printf "%.2f", a / b }')
  printf '%-22s %8s %8s %7s %8s %7s %12s\n' "$1" "$o" "$k" "$rk" "$j" "$rj" "$(maxrss "${2}_ours")"
  results+=("RESULT ${3}_vs_kcat ours=${o}s ref=${k}s ratio=$rk rss_mb=$(maxrss "${2}_ours")")
  results+=("RESULT ${3}_vs_kafka_java ours=${o}s ref=${j}s ratio=$rj rss_mb=$(maxrss "${2}_ours")")
}
row "consume -e" consume kafka_real_consume
row "produce" produce kafka_real_produce
echo "(median of $REPS runs each, $N messages, $PARTS partitions, Apache Kafka $KAFKA_VERSION, 1 broker on"
echo " 127.0.0.1; java = Kafka's ConsoleConsumer / ProducerPerformance, JVM start included; rss = peak)"
printf '%s\n' "${results[@]}"
