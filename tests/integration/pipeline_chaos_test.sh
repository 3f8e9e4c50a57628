#!/usr/bin/env bash
# ctest-label: slow
# The delivery guarantee, proven: kafka-cat-sensor --envelope --commit-acks FIFO | sensor-parse | ch-insert > FIFO
# against a real ClickHouse and a real Apache Kafka broker. Each round restarts the pipeline and kills one stage
# with SIGKILL at a random moment (kafka-cat-sensor, sensor-parse, ch-insert in turn), or stops ClickHouse
# for a while mid-stream. A last round runs to the end. Then every valid message id must be in ClickHouse
# exactly once under FINAL, and every malformed message in the rejects file: nothing lost.
source "$(dirname "$0")/lib.sh"
N=${CHAOS_MESSAGES:-30000}
ROUNDS=${CHAOS_ROUNDS:-7}
RANDOM=${CHAOS_SEED:-$$}
source "$(dirname "$0")/pipeline_lib.sh"
start_servers 8

# The oracle: the same data parsed locally, without Kafka, tells which ids are valid and how many are not.
# (empty lines are not messages: the producer skips them, as kcat -P does)
sensor-gen -n "$N" --bad-fraction 0.02 --seed 11 --sensors 50 | grep -v '^$' >msgs.jsonl
N=$(wc -l <msgs.jsonl)
sensor-parse --format tsv <msgs.jsonl 2>/dev/null | cut -f1 | sort >expected_ids
n_valid=$(wc -l <expected_ids)
n_bad=$((N - n_valid))
[ "$n_bad" -gt 100 ] || fail "expected some malformed messages, got $n_bad"
kafka-cat-sensor -P -b "$B" -t sensor_metrics --key-field value.sensor_id <msgs.jsonl 2>produce.log ||
  fail "produce failed: $(tail -3 produce.log)"


# stage NAME CMD...: runs CMD with its pid in NAME.pid (so the test can kill exactly that process)
stage() { local name=$1; shift; bash -c 'echo $$ >"$0.pid"; exec "$@"' "$TEST_TMP/$name" "$@"; }

start_pipeline() {
  rm -f acks kc.pid sp.pid ch.pid
  mkfifo acks
  (
    stage kc kafka-cat-sensor -b "$B" -t sensor_metrics -G chaos -e --envelope --commit-acks acks --ack-timeout 10 \
        -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 -X max.poll.interval.ms=10000 2>>kc.log |
      stage sp sensor-parse --rejects rejects.jsonl 2>>sp.log |
      stage ch ch-insert --create-table --batch-rows 700 --batch-seconds 0.3 --retries -1 --retry-max-delay 1 \
        --rejects ch-rejects.jsonl >acks 2>>ch.log
  ) &
  pipeline=$!
}

wait_pipeline() {  # a stage that outlives its neighbours by a minute is a hang, not patience
  wait_until 90 bash -c "! kill -0 $pipeline 2>/dev/null" || {
    tail -5 kc.log sp.log ch.log >&2
    fail "pipeline did not end within 90 s after round $1"
  }
  wait "$pipeline" 2>/dev/null || true
}

victims=(kc sp ch clickhouse)
for ((round = 0; round < ROUNDS; round++)); do
  victim=${victims[$((round % ${#victims[@]}))]}
  start_pipeline
  delay=$(printf '0.%02d' $((20 + RANDOM % 70)))
  sleep "$delay"
  if [ "$victim" = clickhouse ]; then
    "$SRC_DIR/scripts/clickhouse.sh" stop "$TEST_TMP/ch" >/dev/null
    sleep 3
    "$SRC_DIR/scripts/clickhouse.sh" restart "$TEST_TMP/ch" >/dev/null
    echo "round $round: ClickHouse stopped after ${delay}s for 3 s"
  else
    pid=$(cat "$victim.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; then
      echo "round $round: killed $victim (pid $pid) after ${delay}s"
    else
      echo "round $round: $victim had already finished after ${delay}s"
    fi
  fi
  wait_pipeline "$round"
done

echo "final round: runs to the end"
start_pipeline
wait_pipeline final

got=$(q "SELECT count(), uniqExact(id) FROM sensor_metrics FINAL FORMAT TSV")
assert_eq "$got" "$n_valid	$n_valid" "rows under FINAL (count, distinct ids)"
q "SELECT id FROM sensor_metrics FINAL FORMAT TSV" | sort >got_ids
cmp -s expected_ids got_ids || fail "ids differ: $(diff expected_ids got_ids | head -5)"
raw=$(q "SELECT count() FROM sensor_metrics")
echo "rows before FINAL: $raw (re-deliveries collapsed by ReplacingMergeTree: $((raw - n_valid)))"

# every malformed message is in the rejects file (at least once: a re-read message is rejected again)
python3 - "$n_bad" rejects.jsonl <<'PY' || fail "rejects file incomplete"
import json, sys
want = int(sys.argv[1])
seen = set()
for line in open(sys.argv[2], encoding="utf-8"):
    r = json.loads(line)
    seen.add((r["topic"], r["partition"], r["offset"]))
print(f"distinct rejected messages: {len(seen)} (want {want})")
sys.exit(0 if len(seen) == want else 1)
PY
[ ! -s ch-rejects.jsonl ] || fail "ClickHouse rejected rows that sensor-parse had validated: $(head -2 ch-rejects.jsonl)"
pass "$n_valid valid messages in ClickHouse exactly once, $n_bad malformed in the rejects file, after $ROUNDS kills"
