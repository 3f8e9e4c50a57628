#!/usr/bin/env bash
# ctest-label: slow
# Consumer-group rebalances under --commit-acks on a real Apache Kafka broker: pipeline 1 starts alone,
# pipeline 2 joins mid-stream, pipeline 3 joins, pipeline 1 leaves (SIGTERM), pipeline 2 is SIGKILLed,
# and pipeline 3 finishes the topic. Afterwards every message is in ClickHouse (FINAL), and no pipeline
# committed an offset that its own ch-insert had not acknowledged (each commit in a kafka-cat-sensor
# log is matched against the ack lines of its ch-insert).
source "$(dirname "$0")/lib.sh"
N=${REBALANCE_MESSAGES:-120000}
source "$(dirname "$0")/pipeline_lib.sh"
start_servers 8
# Messages arrive over ~40 s (4% a second), so that every join, leave and kill lands mid-stream.
sensor-gen -c "$N" --seed 8 --sensors 64 | awk -v every=$((N / 25)) '{print} NR % every == 0 {fflush(); system("sleep 1")}' |
  kafka-cat-sensor -P -b "$B" -t sensor_metrics --key-field value.sensor_id 2>produce.log &
producer=$!
on_exit "kill $producer"

start_one() {  # start_one I: pipeline I in the group; its kafka-cat-sensor pid in kc$I.pid, acks also in acks$I.log
  local i=$1
  rm -f "acks$i"
  mkfifo "acks$i"
  (
    bash -c 'echo $$ >"$0"; exec "$@"' "kc$i.pid" kafka-cat-sensor -v -b "$B" -t sensor_metrics -G rebalance \
      --envelope --commit-acks "acks$i" "${GROUP_PROPS[@]}" 2>"kc$i.log" |
      sensor-parse 2>"sp$i.log" |
      ch-insert --create-table --batch-rows 2000 --batch-seconds 0.2 2>"ch$i.log" | tee "acks$i.log" >"acks$i"
  ) &
  eval "pipe$i=\$!"
}
rows() { q "SELECT count() FROM sensor_metrics FINAL"; }
rows_ge() { [ "$(rows)" -ge "$1" ]; }
stopped() { ! kill -0 "$1" 2>/dev/null; }

start_one 1
wait_until 120 rows_ge $((N / 10)) || fail "pipeline 1 stored only $(rows) rows"
start_one 2
wait_until 120 rows_ge $((N * 3 / 10)) || fail "only $(rows) rows after pipeline 2 joined"
start_one 3
wait_until 120 rows_ge $((N / 2)) || fail "only $(rows) rows after pipeline 3 joined"
kill -TERM "$(cat kc1.pid)"
wait_until 60 stopped "$pipe1" || fail "pipeline 1 did not leave on SIGTERM"
wait_until 120 rows_ge $((N * 6 / 10)) || fail "only $(rows) rows after pipeline 1 left"
grep -q 'assigned [1-9]' kc2.log || fail "pipeline 2 never got partitions: $(grep -h assigned kc*.log | tail -5)"
kill -KILL "$(cat kc2.pid)"
wait_until 60 stopped "$pipe2" || fail "pipeline 2 did not end after its consumer was killed"
wait $producer || fail "produce failed: $(tail -3 produce.log)"
wait_until 240 rows_ge "$N" || fail "only $(rows) of $N rows after pipeline 2 was killed"
kill -TERM "$(cat kc3.pid)"
wait_until 60 stopped "$pipe3" || fail "pipeline 3 did not stop on SIGTERM"

assert_eq "$(rows)" "$N" "rows under FINAL"
assert_eq "$(q 'SELECT uniqExact(id) FROM sensor_metrics')" "$N" "distinct ids"
for i in 1 2 3; do
  [ "$(grep -c '"offset"' "acks$i.log" || true)" -gt 0 ] || fail "pipeline $i acknowledged nothing"
done

# Every commit a pipeline logged ("topic[p]=next offset") is covered by an ack of its own ch-insert
# for that partition with offset >= next - 1.
bad=0
for i in 1 2 3; do
  jq -r '"\(.partition) \(.offset)"' "acks$i.log" | sort -k1,1n -k2,2n |
    awk '{max[$1] = $2} END {for (p in max) print p, max[p]}' >"acked$i"
  grep -o 'sensor_metrics\[[0-9]*\]=[0-9]*' "kc$i.log" | sed 's/sensor_metrics\[\([0-9]*\)\]=/\1 /' >"committed$i" || true
  # pipelines 1 and 3 stop with SIGTERM, which commits; 2 may be killed before its first commit
  [ -s "committed$i" ] || [ "$i" = 2 ] || fail "pipeline $i logged no commit"
  while read -r p next; do
    acked=$(awk -v p="$p" '$1 == p {print $2}' "acked$i")
    if [ -z "$acked" ] || [ "$next" -gt $((acked + 1)) ]; then
      echo "pipeline $i committed sensor_metrics[$p]=$next but acknowledged only up to ${acked:-nothing}" >&2
      bad=$((bad + 1))
    fi
  done <"committed$i"
done
assert_eq "$bad" 0 "commits beyond the pipeline's own acknowledgements"
pass "join, join, leave, SIGKILL under --commit-acks: $N rows, every commit acknowledged first"
