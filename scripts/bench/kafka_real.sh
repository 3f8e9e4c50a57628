#!/usr/bin/env bash
# Benchmark: kafka-cat-sensor versus kcat and Apache Kafka's own console consumer and producer
# performance tool, on a real Apache Kafka broker (scripts/kafka.sh, 1 broker, 16 partitions), in the
# same run. Consume N seed messages with -e (counted by wc -l, the same reader on every side); produce N
# from a file, each run into a new topic, counted after every run. Timed as every row is
# (scripts/bench/lib.sh): a fresh broker's JVM is two to three times slower on its first million
# messages, so the warm-up round runs every side once on it, uncounted; then the sides in turn, the
# median of the pairs and the spread of their ratio. Not a test.
#   scripts/bench/kafka_real.sh [N_MESSAGES] [PARTITIONS]   (BIN_DIR defaults to build/bin)
set -euo pipefail
SRC_DIR=$(cd "$(dirname "$0")/../.." && pwd)
source "$SRC_DIR/scripts/bench/lib.sh"
N=${1:-$BENCH_MESSAGES}
PARTS=${2:-16}
BIN_DIR=${BIN_DIR:-$SRC_DIR/build/bin}
KCS=$BIN_DIR/kafka-cat-sensor
bench_need_ours "$KCS" "$BIN_DIR/sensor-gen"
bench_need_ref kcat /usr/bin/time java
tmp=$(mktemp -d /tmp/bench-kafka-real.XXXXXX)
cleanup() { "$SRC_DIR/scripts/kafka.sh" stop "$tmp/kafka" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
bench_init "$tmp"
bench_start "the Kafka broker (scripts/kafka.sh)" "$SRC_DIR/scripts/kafka.sh" start "$tmp/kafka" 1
BS=$KAFKA_BOOTSTRAP
topic() { "$SRC_DIR/scripts/kafka.sh" topic "$tmp/kafka" "$1" "$PARTS" >/dev/null 2>"$tmp/topic.err" ||
  bench_skip "the broker did not create topic $1: $(tail -n 2 "$tmp/topic.err" | tr '\n' ' ')"; }
# Kafka's own tools, with the broker's jars (a JVM each: its start-up is part of its time, as for a user)
ktool="SRC_DIR='$SRC_DIR' '$SRC_DIR/scripts/kafka.sh' tool '$tmp/kafka'"

"$BIN_DIR/sensor-gen" -c "$N" --sensors 1000 >"$tmp/msgs.jsonl"
count() { kcat -C -q -b "$BS" -t "$1" -e | wc -l; }
bench_server_ok() { kcat -L -b "$BS" -t seed -m 10 >/dev/null; }  # when ours fails: does the broker still answer?

# Consume: one topic holding the messages, read in turn by each side.
topic seed
kcat -P -b "$BS" -t seed -X sticky.partitioning.linger.ms=1 <"$tmp/msgs.jsonl" || bench_skip "kcat could not fill the broker"
n=$(count seed)
[ "$n" -eq "$N" ] || bench_skip "the broker holds $n of the $N messages kcat produced"
side_consume_java() {
  bench_ref consume_java sh -c "$ktool org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server '$BS' \
    --topic seed --from-beginning --max-messages $N --timeout-ms 20000 2>/dev/null | wc -l >'$tmp/n'" || return 0
  bench_check_ref consume_java "ConsoleConsumer: messages" "$(cat "$tmp/n")" "$N" || true
}
bench_rounds side_consume_ours side_consume_kcat side_consume_java

# Produce: each run into a new topic. Ours as shipped (idempotent, keyless runs of 1000 messages / 1 ms
# per partition); kcat with the sticky partitioner at 1 ms and also idempotent; Kafka's
# ProducerPerformance with the same lines as payloads (acks=all, idempotent by default in Kafka 3+ clients).
side_produce_ours() {
  local t=p_ours_$BENCH_RUN
  topic "$t"
  bench_ours produce_ours sh -c "'$KCS' -q -P -b '$BS' -t '$t' <'$tmp/msgs.jsonl'"
  bench_check_ours "kafka-cat-sensor -P: messages in $t" "$(count "$t")" "$N"
}
side_produce_kcat() {
  local t=p_kcat_$BENCH_RUN
  bench_is_broken produce_kcat && return 0
  topic "$t"
  bench_ref produce_kcat sh -c "kcat -P -b '$BS' -t '$t' -X sticky.partitioning.linger.ms=1 -X enable.idempotence=true \
    <'$tmp/msgs.jsonl'" || return 0
  bench_check_ref produce_kcat "kcat -P: messages in $t" "$(count "$t")" "$N" || true
}
side_produce_java() {
  local t=p_java_$BENCH_RUN
  bench_is_broken produce_java && return 0
  topic "$t"
  bench_ref produce_java sh -c "$ktool org.apache.kafka.tools.ProducerPerformance --topic '$t' --num-records $N \
    --throughput -1 --payload-file '$tmp/msgs.jsonl' --producer-props bootstrap.servers='$BS' acks=all >/dev/null 2>&1" ||
    return 0
  bench_check_ref produce_java "ProducerPerformance: messages in $t" "$(count "$t")" "$N" || true
}
bench_rounds side_produce_ours side_produce_kcat side_produce_java

printf '%-22s %8s %8s %8s %12s\n' what ours_s kcat_s java_s ours_rss_mb
for what in consume produce; do
  printf '%-22s %8s %8s %8s %12s\n' "$what" "$(bench_median "${what}_ours")" "$(bench_median "${what}_kcat")" \
    "$(bench_median "${what}_java")" "$(bench_rss_mb "${what}_ours")"
done
echo "($N messages, $PARTS partitions, Apache Kafka $KAFKA_VERSION, 1 broker on 127.0.0.1; java = Kafka's"
echo " ConsoleConsumer / ProducerPerformance, JVM start included; rss = peak)"
bench_about
bench_result kafka_real_consume_vs_kcat consume_ours consume_kcat
bench_result kafka_real_consume_vs_kafka_java consume_ours consume_java
bench_result kafka_real_produce_vs_kcat produce_ours produce_kcat
bench_result kafka_real_produce_vs_kafka_java produce_ours produce_java
