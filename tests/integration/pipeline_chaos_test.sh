#!/usr/bin/env bash
# ctest-label: slow
# The delivery guarantee, proven for the README's whole streaming pipeline (issue 11):
#   kafka-cat-sensor -G --envelope --commit-acks ACKS --commit-acks S3ACKS
#     | s3-put --tee --acks S3ACKS --rotate-seconds 1 | sensor-parse | ch-insert > ACKS
# against a real ClickHouse, a real Apache Kafka broker and a real S3 (MinIO, the seed's store;
# S3_SERVER=swift runs it on Swift's S3 layer). Each round restarts the pipeline and, a few seconds in
# while data flows, kills one stage with SIGKILL (kafka-cat-sensor, s3-put, sensor-parse, ch-insert in
# turn), or stops ClickHouse, or takes the S3 endpoint away for a few seconds. A last round runs to the end. Then: every valid message id is in ClickHouse exactly
# once under FINAL, every malformed message in the rejects file, every message (by its coordinates)
# in the S3 archive read back with s3-cat, and a backfill from the archive adds no rows under FINAL.
source "$(dirname "$0")/lib.sh"
N=${CHAOS_MESSAGES:-200000}
ROUNDS=${CHAOS_ROUNDS:-8}
RANDOM=${CHAOS_SEED:-$$}
source "$(dirname "$0")/pipeline_lib.sh"
source "$(dirname "$0")/s3_lib.sh"
start_servers 8
start_s3
aws_ref s3 mb s3://raw >/dev/null

# The oracle: the same data parsed locally, without Kafka, tells which ids are valid and how many are not.
# (empty lines are not messages: the producer skips them, as kcat -P does)
sensor-gen -c "$N" --bad-fraction 0.02 --seed 11 --sensors 50 | grep -v '^$' >msgs.jsonl
N=$(wc -l <msgs.jsonl)
sensor-parse --format tsv <msgs.jsonl 2>/dev/null | cut -f1 | sort >expected_ids
n_valid=$(wc -l <expected_ids)
n_bad=$((N - n_valid))
[ "$n_bad" -gt 100 ] || fail "expected some malformed messages, got $n_bad"
# The messages are produced while the rounds run, one slice per round spread over 6 s, so that every
# fault lands while data flows (the pipeline reads 200k messages in about 2 s when they are all there).
split -n l/"$ROUNDS" -d msgs.jsonl slice.
slices=(slice.*)
produce_slice() { produce_paced "${slices[$1]}" 6 sensor_metrics; }  # slice I over about 6 s, in the background

start_pipeline() {  # ARGS: more kafka-cat-sensor options
  rm -f acks s3acks kc.pid s3.pid sp.pid ch.pid
  mkfifo acks s3acks
  (
    stage kc kafka-cat-sensor -b "$B" -t sensor_metrics -G chaos "$@" --envelope --commit-acks acks --commit-acks s3acks \
        --ack-timeout 10 -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 -X max.poll.interval.ms=10000 2>>kc.log |
      stage s3 s3-put --tee --gzip --rotate-seconds 1 --acks s3acks --retries 1000 --retry-time 120 \
        's3://raw/sensors/%Y/%m/%d/%H%M%S-{host}-{run}-{seq}.jsonl' 2>>s3.log |
      stage sp sensor-parse --rejects rejects.jsonl 2>>sp.log |
      stage ch ch-insert --create-table --batch-rows 5000 --batch-seconds 0.3 --retries -1 --retry-max-delay 1 \
        --rejects ch-rejects.jsonl >acks 2>>ch.log
  ) &
  pipeline=$!
}

wait_pipeline() {  # a stage that outlives its neighbours by a minute is a hang, not patience
  wait_until 120 bash -c "! kill -0 $pipeline 2>/dev/null" || {
    tail -5 kc.log s3.log sp.log ch.log >&2
    fail "pipeline did not end within 120 s after round $1"
  }
  wait "$pipeline" 2>/dev/null || true
}

rows() { q "SELECT count() FROM sensor_metrics FORMAT TSV" 2>/dev/null || echo '?'; }
# ends a round's pipeline as a service manager would, if the fault did not end it: SIGTERM to its head
stop_pipeline() {
  sleep 1
  local pid
  pid=$(cat kc.pid 2>/dev/null || true)
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
}
victims=(kc s3 sp ch clickhouse s3-endpoint)
for ((round = 0; round < ROUNDS; round++)); do
  victim=${victims[$((round % ${#victims[@]}))]}
  produce_slice "$round"
  start_pipeline
  # a few seconds in: the group has joined and data flows (the rows count shows how far it got)
  delay=$(printf '%d.%d' $((2 + RANDOM % 3)) $((RANDOM % 10)))
  sleep "$delay"
  if [ "$victim" = clickhouse ]; then
    echo "round $round: ClickHouse stopped after ${delay}s for 3 s; rows so far $(rows)"
    "$SRC_DIR/scripts/clickhouse.sh" stop "$TEST_TMP/ch" >/dev/null
    sleep 3
    "$SRC_DIR/scripts/clickhouse.sh" restart "$TEST_TMP/ch" >/dev/null
  elif [ "$victim" = s3-endpoint ]; then
    echo "round $round: S3 endpoint ($S3_SERVER) stopped after ${delay}s for 4 s; rows so far $(rows)"
    s3_stop_endpoint
    sleep 4
    s3_start_endpoint
  else
    pid=$(cat "$victim.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; then
      echo "round $round: killed $victim (pid $pid) after ${delay}s; rows so far $(rows)"
    else
      echo "round $round: $victim had already finished after ${delay}s"
    fi
  fi
  stop_pipeline
  wait_pipeline "$round"
  wait $producer || fail "produce failed: $(tail -3 produce.log)"
done

# what the topic holds before the last round: every message, nothing else
held=$(kafka-cat-sensor -q -b "$B" -t sensor_metrics -e | wc -l)
assert_eq "$held" "$N" "messages on the topic"
echo "final round: runs to the end; rows so far $(rows)"
start_pipeline -e
wait_pipeline final

got=$(q "SELECT count(), uniqExact(id) FROM sensor_metrics FINAL FORMAT TSV")
assert_eq "$got" "$n_valid	$n_valid" "rows under FINAL (count, distinct ids)"
q "SELECT id FROM sensor_metrics FINAL FORMAT TSV" | sort >got_ids
cmp -s expected_ids got_ids || fail "ids differ: $(diff expected_ids got_ids | head -5)"
raw=$(q "SELECT count() FROM sensor_metrics")
echo "rows before FINAL: $raw (re-deliveries collapsed by ReplacingMergeTree: $((raw - n_valid)))"

# every malformed message is in the rejects file (at least once: a re-read message is rejected again);
# a line torn by a killed kafka-cat-sensor is rejected as such, and its message read again whole
python3 - "$n_bad" rejects.jsonl <<'PY' || fail "rejects file incomplete"
import json, sys
want = int(sys.argv[1])
seen, torn = set(), 0
for line in open(sys.argv[2], encoding="utf-8"):
    r = json.loads(line)
    if r["reason"].startswith("input ended mid-line"):
        torn += 1
        continue
    seen.add((r["topic"], r["partition"], r["offset"]))
print(f"distinct rejected messages: {len(seen)} (want {want}); torn lines rejected as such: {torn}")
sys.exit(0 if len(seen) == want else 1)
PY
# a row torn by a killed sensor-parse is rejected as such by ch-insert (its message is read again whole)
if [ -s ch-rejects.jsonl ] && jq -e 'select(.error | startswith("input ended mid-line") | not)' ch-rejects.jsonl >/dev/null; then
  fail "ClickHouse rejected rows that sensor-parse had validated: $(jq -c 'select(.error | startswith("input ended mid-line") | not)' ch-rejects.jsonl | head -2)"
fi

# every message is in the archive, whole, at least once: per partition the offsets 0..end, N in all
s3-cat --prefix s3://raw/sensors/ >archive.jsonl 2>s3cat.log || fail "s3-cat: $(tail -3 s3cat.log)"
python3 - "$N" archive.jsonl <<'PY' || fail "the archive misses messages"
import json, sys
want = int(sys.argv[1])
parts, lines, torn = {}, 0, 0
for line in open(sys.argv[2], encoding="utf-8", errors="replace"):
    lines += 1
    try:
        e = json.loads(line)
    except ValueError:
        torn += 1  # a piece a killed kafka-cat-sensor left; its message is archived whole too
        continue
    parts.setdefault(e["partition"], set()).add(e["offset"])
total = sum(len(s) for s in parts.values())
holes = {p: max(s) + 1 - len(s) for p, s in parts.items() if max(s) + 1 != len(s)}
print(f"archive: {lines} lines, {total} distinct messages (want {want}), {torn} torn pieces, holes {holes}")
sys.exit(0 if total == want and not holes else 1)
PY

# every offset committed once ClickHouse and the archive hold it all: the group's lag is 0
assert_lag_zero chaos sensor_metrics 8

# a backfill from the archive adds no rows under FINAL
s3-cat --prefix s3://raw/sensors/ | sensor-parse -q 2>/dev/null | ch-insert -q --table sensor_metrics --no-acks ||
  fail "backfill from the archive failed"
got=$(q "SELECT count(), uniqExact(id) FROM sensor_metrics FINAL FORMAT TSV")
assert_eq "$got" "$n_valid	$n_valid" "rows under FINAL after the backfill from the archive"
pass "$n_valid valid messages in ClickHouse exactly once, $n_bad malformed in the rejects file, all $N in the archive, lag 0, after $ROUNDS rounds of faults"
