#!/usr/bin/env bash
# Issue 28 item 12: a --commit-acks pipeline whose rows carry no Kafka coordinates never commits
# (sensor-parse --format values has no place for them, so ch-insert stores the rows and acknowledges
# nothing). On real Kafka and ClickHouse: kafka-cat-sensor says so once, --ack-timeout after its
# first message reached the output, instead of streaming on with nothing committed and no word.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pipeline_lib.sh"
start_servers 1
N=50
sensor-gen -c "$N" --seed 9 | kafka-cat-sensor -q -P -b "$B" -t sensor_metrics || fail "produce"
mkfifo acks
bash -c 'echo $$ >"$0"; exec "$@"' kc.pid kafka-cat-sensor -b "$B" -t sensor_metrics -G noacks --envelope \
  --commit-acks acks --ack-timeout 2 "${GROUP_PROPS[@]}" 2>kc.log |
  sensor-parse --format values 2>sp.log |
  ch-insert --format values --create-table --batch-seconds 0.2 2>ch.log >acks &
pipe=$!
on_exit "kill $pipe; kill \$(cat kc.pid)"
rows_ge() { [ "$(q "SELECT count() FROM sensor_metrics FINAL")" -ge "$1" ]; }
wait_until 90 rows_ge "$N" || fail "rows not stored: $(tail -3 ch.log)"
warned() { grep -q "not one acknowledgement in 2 s" kc.log; }
wait_until 60 warned || fail "no warning that nothing is committed: $(tail -3 kc.log)"
assert_contains "$(cat kc.log)" "$N messages written, and not one acknowledgement in 2 s (--ack-timeout): nothing is committed" "the warning"
assert_contains "$(cat kc.log)" "--format values, which has no place for them" "the likely cause"
assert_eq "$(grep -c 'not one acknowledgement' kc.log)" 1 "said once"
kill -TERM "$(cat kc.pid)"
wait "$pipe" || true
pass "rows without coordinates: stored, never acknowledged, and kafka-cat-sensor says so"
