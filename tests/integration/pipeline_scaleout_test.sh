#!/usr/bin/env bash
# Scale-out: two pipelines in one consumer group share the topic's partitions (Kafka balances them),
# both insert into one ClickHouse table, and nothing is read twice: the table holds exactly N rows
# even before FINAL collapses anything. Stopped with SIGTERM (the graceful path: commit, exit).
source "$(dirname "$0")/lib.sh"
N=20000
source "$(dirname "$0")/pipeline_lib.sh"
start_servers 8

start_one() {  # start_one I: pipeline I in the group, its kafka-cat-sensor pid in kc$I.pid
  local i=$1
  rm -f "acks$i"
  mkfifo "acks$i"
  (
    bash -c 'echo $$ >"$0"; exec "$@"' "kc$i.pid" kafka-cat-sensor -v -b "$B" -t sensor_metrics -G scale --envelope \
      --commit-acks "acks$i" -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 -X max.poll.interval.ms=10000 \
      2>"kc$i.log" |
      sensor-parse 2>"sp$i.log" |
      ch-insert --create-table --batch-rows 1000 --batch-seconds 0.2 >"acks$i" 2>"ch$i.log"
  ) &
  eval "pipe$i=\$!"
}
start_one 1
start_one 2
# both members must hold partitions before data arrives, so no rebalance moves work mid-stream
both_assigned() { grep -q 'assigned [1-9]' kc1.log && grep -q 'assigned [1-9]' kc2.log; }
wait_until 60 both_assigned || fail "the group did not give both pipelines partitions: $(grep -h assigned kc1.log kc2.log)"

sensor-gen -c "$N" --seed 5 --sensors 64 | kafka-cat-sensor -P -b "$B" -t sensor_metrics --key-field value.sensor_id 2>produce.log
wait_until 120 bash -c "[ \"\$(curl -s -H 'X-ClickHouse-User: $CH_USER' -H 'X-ClickHouse-Key: $CH_PASSWORD' '$CH_URL/' --data-binary 'SELECT count() FROM sensor_metrics')\" -ge $N ]" ||
  fail "only $(q 'SELECT count() FROM sensor_metrics') of $N rows arrived"
kill -TERM "$(cat kc1.pid)" "$(cat kc2.pid)"
wait_until 60 bash -c "! kill -0 $pipe1 2>/dev/null && ! kill -0 $pipe2 2>/dev/null" || fail "pipelines did not stop on SIGTERM"

raw=$(q "SELECT count() FROM sensor_metrics")
assert_eq "$raw" "$N" "rows without FINAL (a message read twice would show here)"
assert_eq "$(q 'SELECT uniqExact(id) FROM sensor_metrics')" "$N" "distinct ids"
r1=$(grep -o '[0-9]* inserted' ch1.log | tail -1 | cut -d' ' -f1)
r2=$(grep -o '[0-9]* inserted' ch2.log | tail -1 | cut -d' ' -f1)
[ "${r1:-0}" -gt 0 ] && [ "${r2:-0}" -gt 0 ] || fail "one pipeline did all the work: $r1 / $r2 rows"
assert_eq "$((r1 + r2))" "$N" "rows inserted by the two pipelines"
pass "two pipelines in one group shared $N messages ($r1 + $r2), none read twice"
