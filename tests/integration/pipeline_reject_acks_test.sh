#!/usr/bin/env bash
# Issue 18: messages sensor-parse rejects are acknowledged once they are in its rejects file. On a
# real Apache Kafka broker, the last messages of the partition are malformed: the README's streaming
# pipeline (--commit-acks, sensor-parse --rejects, ch-insert) is stopped with SIGTERM; afterwards the
# group's committed offset (read with Kafka's own ConsumerGroupCommand) covers the rejected messages,
# and a restart of the pipeline reads nothing again: no reject is appended twice. Before, the
# rejected tail was never acknowledged: the stop waited 30 s for it, the offset stayed before the
# rejects, and every restart appended them again.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pipeline_lib.sh"
start_servers 1
N=20
{ sensor-gen -c "$N" --seed 5; printf 'not json 1\nnot json 2\n{"id":"no-fields"}\n'; } |
  kafka-cat-sensor -P -b "$B" -t sensor_metrics 2>produce.log || fail "produce: $(cat produce.log)"
END=$((N + 3))

pipeline() {  # pipeline I [kafka-cat-sensor flags...]: run I of the pipeline; kafka-cat-sensor's pid in kc$I.pid
  local i=$1; shift
  rm -f acks && mkfifo acks
  bash -c 'echo $$ >"$0"; exec "$@"' "kc$i.pid" kafka-cat-sensor -v -b "$B" -t sensor_metrics -G rejects \
    --envelope --commit-acks acks "${GROUP_PROPS[@]}" "$@" 2>"kc$i.log" |
    sensor-parse --rejects rejects.jsonl 2>"sp$i.log" |
    ch-insert --create-table --batch-seconds 0.2 2>"ch$i.log" >acks
}
rows() { q "SELECT count() FROM sensor_metrics FINAL"; }
rows_ge() { [ "$(rows)" -ge "$1" ]; }
lines_ge() { [ "$(count_lines "$1")" -ge "$2" ]; }
stopped() { ! kill -0 "$1" 2>/dev/null; }
committed() {  # the group's committed offset of sensor_metrics[0], as Kafka reports it
  kafka_sh tool org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --bootstrap-server "$B" \
    --describe --group rejects 2>/dev/null | awk '$2 == "sensor_metrics" && $3 == 0 {print $4}'
}

pipeline 1 &
pipe=$!
wait_until 90 rows_ge "$N" || fail "only $(rows) of $N rows stored: $(tail -3 ch1.log)"
wait_until 30 lines_ge rejects.jsonl 3 || fail "rejects.jsonl: $(cat rejects.jsonl)"
kill -TERM "$(cat kc1.pid)"
wait_until 60 stopped "$pipe" || fail "the pipeline did not stop on SIGTERM"
wait "$pipe" || true
assert_eq "$(committed)" "$END" "committed offset after SIGTERM (the 3 rejected messages are acknowledged)"
grep -q "not fully acknowledged" kc1.log && fail "stop waited for acknowledgements: $(grep -i acknowledg kc1.log)"
pass "SIGTERM: committed offset $END covers the rejected tail, no wait for acknowledgements"

# The restart reads from the committed offset: nothing again, no duplicate reject.
pipeline 2 -e &
pipe=$!
wait_until 90 stopped "$pipe" || fail "the restarted pipeline did not reach the end"
assert_eq "$(count_lines rejects.jsonl)" 3 "rejects after a restart (none appended twice)"
assert_eq "$(rows)" "$N" "rows"
assert_eq "$(committed)" "$END" "committed offset after the restart"
pass "restart: no reject appended again"

# Issue 28 item 1: rows ClickHouse refuses, without ch-insert --rejects (as the README's streaming
# pipeline and the shipped unit run it): a table whose id column is FixedString(5), so msg-1..msg-9 are
# stored and msg-10 on refused (Code 131, too long). The group's committed offset must stop at the first message stored nowhere (neither in the
# table nor in sensor-parse's rejects file); before, ch-insert acknowledged every offset and the
# refused messages were committed, existing only in stderr warnings.
q "CREATE TABLE refused (id FixedString(5), ts DateTime, sensor_id String, temperature Float64, humidity Float64, pressure Float64) ENGINE = ReplacingMergeTree ORDER BY (sensor_id, ts, id)"
committed_refused() {
  kafka_sh tool org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --bootstrap-server "$B" \
    --describe --group refused 2>/dev/null | awk '$2 == "sensor_metrics" && $3 == 0 {print $4}'
}
rm -f acks3 && mkfifo acks3
kafka-cat-sensor -b "$B" -t sensor_metrics -G refused --envelope --commit-acks acks3 --ack-timeout 2 -e \
  "${GROUP_PROPS[@]}" 2>kc3.log | sensor-parse --rejects rejects3.jsonl 2>sp3.log | tee rows3.jsonl |
  ch-insert --table refused --batch-seconds 0.2 2>ch3.log >acks3 || true
stored3=$(q "SELECT count() FROM refused")
[ "$stored3" -lt "$N" ] || fail "expected ClickHouse to refuse rows, $stored3 of $N stored"
want=$(q "SELECT id FROM refused" | python3 -c '
import json, sys
stored = set(sys.stdin.read().split())
kept = {json.loads(l)["offset"] for l in open("rejects3.jsonl")}
ok = {r["_offset"] for r in map(json.loads, open("rows3.jsonl")) if "id" in r and r["id"] in stored} | kept
o = 0
while o in ok: o += 1
print(o)')
[ "$want" -gt 0 ] && [ "$want" -lt "$END" ] || fail "want a refused row after stored ones, before the end: $want"
assert_eq "$(committed_refused)" "$want" "committed offset with rows refused and kept nowhere (first one stored nowhere)"
assert_contains "$(cat ch3.log)" "kept nowhere (no --rejects)" "ch-insert's summary"
pass "rows refused by ClickHouse without --rejects: committed offset $want stops at the first one ($stored3 of $N stored)"
