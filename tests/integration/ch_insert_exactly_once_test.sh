#!/usr/bin/env bash
# ctest-label: slow
# ch-insert --exactly-once on one ClickHouse server (issue 26), the acked streaming pipeline
#   kafka-cat-sensor -G --envelope --commit-acks ACKS | sensor-parse --rejects | ch-insert --exactly-once > ACKS
# into a plain MergeTree (nothing collapses duplicates) partitioned by day, with messages whose timestamps
# step 5 minutes, so that one batch of 2000 rows spans a week and becomes several parts committed one by
# one; a materialized view counts rows per sensor into a SummingMergeTree. Each round produces a slice
# of the messages while the pipeline runs and SIGKILLs ch-insert a few seconds in (an insert it sent may
# still be running on the server, and its rows are stored without their offsets committed), but one
# round stops ClickHouse for 3 s instead; the last round runs to the end. Then, without FINAL: count() is the number of valid messages, every id once,
# the view's sums equal the counts recomputed from the raw rows, the group's lag is 0; and a backfill
# rerun of the whole topic (-e -o beginning, as the backfill jobs read a time range) adds nothing; with one
# day's part dropped (a batch a crash left half stored), a rerun stores exactly that day's rows again.
# EO_FLAG=--keep-coordinates runs the same without the mode: count() then exceeds the valid messages
# (rows re-delivered after the kills are stored twice): the evidence that the test fails without it.
source "$(dirname "$0")/lib.sh"
N=${EO_MESSAGES:-30000}
ROUNDS=${EO_ROUNDS:-5}
EO_FLAG=${EO_FLAG:---exactly-once}
RANDOM=${EO_SEED:-$$}
source "$(dirname "$0")/pipeline_lib.sh"
start_servers 4

# The oracle: the same messages parsed locally tell which ids are valid.
sensor-gen -c "$N" --bad-fraction 0.02 --seed 26 --sensors 40 --interval 5m | grep -v '^$' >msgs.jsonl
N=$(wc -l <msgs.jsonl)
sensor-parse --format tsv <msgs.jsonl 2>/dev/null | cut -f1 | sort >expected_ids
n_valid=$(wc -l <expected_ids)
days=$(sensor-parse --format tsv <msgs.jsonl 2>/dev/null | cut -f2 | cut -c1-10 | sort -u | wc -l)
[ "$days" -gt 20 ] || fail "want messages over many days (one batch, several parts), got $days"

# A plain MergeTree made by hand, with the coordinates --exactly-once stores, and a rollup fed per insert.
q "CREATE TABLE sensor_metrics (id String, ts DateTime, sensor_id String, temperature Float64, humidity Float64,
     pressure Float64, _topic String, _partition Int32, _offset Int64)
   ENGINE = MergeTree PARTITION BY toYYYYMMDD(ts) ORDER BY (sensor_id, ts, id)" || fail "create table"
q "CREATE TABLE per_sensor (sensor_id String, n UInt64) ENGINE = SummingMergeTree ORDER BY sensor_id" || fail "create rollup"
q "CREATE MATERIALIZED VIEW per_sensor_mv TO per_sensor AS
   SELECT sensor_id, count() AS n FROM sensor_metrics GROUP BY sensor_id" || fail "create view"
# A busy server: every INSERT takes 0.4 s more (sleep() runs once per block), so most kills land while
# one runs, and the server finishes it after its client is gone (the rows stored, never acknowledged).
q "CREATE TABLE slow_sink (n UInt8) ENGINE = Null" || fail "create sink"
q "CREATE MATERIALIZED VIEW slow_mv TO slow_sink AS SELECT sleep(0.4) AS n FROM sensor_metrics" || fail "create slow view"

split -n l/"$ROUNDS" -d msgs.jsonl slice.
slices=(slice.*)

start_pipeline() {  # ARGS: more kafka-cat-sensor options
  rm -f acks kc.pid sp.pid ch.pid
  mkfifo acks
  (
    stage kc kafka-cat-sensor -b "$B" -t sensor_metrics -G eo "$@" --envelope --commit-acks acks --ack-timeout 10 \
        -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 2>>kc.log |
      stage sp sensor-parse --rejects rejects.jsonl 2>>sp.log |
      stage ch ch-insert $EO_FLAG --batch-rows 2000 --batch-seconds 0.3 --retries -1 --retry-max-delay 1 \
        --rejects ch-rejects.jsonl >acks 2>>ch.log
  ) &
  pipeline=$!
}
wait_pipeline() {
  wait_until 120 bash -c "! kill -0 $pipeline 2>/dev/null" || {
    tail -5 kc.log sp.log ch.log >&2
    fail "pipeline did not end within 120 s after round $1"
  }
  wait "$pipeline" 2>/dev/null || true
}
rows() { q "SELECT count() FROM sensor_metrics FORMAT TSV" 2>/dev/null || echo '?'; }

for ((round = 0; round < ROUNDS; round++)); do
  produce_paced "${slices[$round]}" 5 sensor_metrics
  start_pipeline
  delay=$(printf '%d.%d' $((2 + RANDOM % 3)) $((RANDOM % 10)))
  sleep "$delay"
  pid=$(cat ch.pid 2>/dev/null || true)
  if [ "$round" = 2 ]; then
    # ClickHouse stopped under an INSERT: ch-insert gets no answer, and sends the batch again only once the
    # server, back, says none of its rows is stored (all stored: done)
    echo "round $round: ClickHouse stopped after ${delay}s for 3 s; rows so far $(rows)"
    "$SRC_DIR/scripts/clickhouse.sh" stop "$TEST_TMP/ch" >/dev/null
    sleep 3
    "$SRC_DIR/scripts/clickhouse.sh" restart "$TEST_TMP/ch" >/dev/null
    sleep 2
  elif [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; then
    echo "round $round: killed ch-insert (pid $pid) after ${delay}s; rows so far $(rows)"
  else
    echo "round $round: ch-insert had already ended after ${delay}s"
  fi
  sleep 1
  pid=$(cat kc.pid 2>/dev/null || true)
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
  wait_pipeline "$round"
  wait $producer || fail "produce failed: $(tail -3 produce.log)"
done
echo "final round: runs to the end; rows so far $(rows)"
start_pipeline -e
wait_pipeline final

parts=$(q "SELECT count() FROM system.parts WHERE table = 'sensor_metrics' AND active FORMAT TSV")
# what the runs after the kills resolved (informative: a kill may land when everything was acknowledged)
found=$({ grep -o 'batch [0-9]*: [0-9]* of its rows are stored already' ch.log || true; } | awk '{n += $3} END {print n + 0}')
echo "rows $(rows) in $parts parts; ch-insert runs $(grep -c 'exactly-once: run' ch.log || true); rows found stored" \
  "and not sent again: $found; failed inserts found stored after all: $(grep -c 'were stored after all' ch.log || true)"
got=$(q "SELECT count(), uniqExact(id) FROM sensor_metrics FORMAT TSV")
assert_eq "$got" "$n_valid	$n_valid" "rows without FINAL (count, distinct ids)"
q "SELECT id FROM sensor_metrics FORMAT TSV" | sort >got_ids
cmp -s expected_ids got_ids || fail "ids differ: $(diff expected_ids got_ids | head -5)"
q "SELECT sensor_id, count() FROM sensor_metrics GROUP BY sensor_id ORDER BY sensor_id FORMAT TSV" >raw_counts
rollup() { q "SELECT sensor_id, sum(n) FROM per_sensor GROUP BY sensor_id ORDER BY sensor_id FORMAT TSV"; }
rollup >mv_counts
cmp -s raw_counts mv_counts || fail "the view's counts differ from the raw rows': $(diff raw_counts mv_counts | head -5)"
assert_lag_zero eo sensor_metrics 4

# A backfill rerun of the whole topic stores nothing: every row is found stored, acknowledged, not sent.
kafka-cat-sensor -q -b "$B" -t sensor_metrics -e --envelope -o beginning | sensor-parse -q 2>/dev/null |
  ch-insert $EO_FLAG --no-acks 2>backfill.log || fail "backfill: $(tail -3 backfill.log)"
grep 'rows,' backfill.log
got=$(q "SELECT count(), uniqExact(id) FROM sensor_metrics FORMAT TSV")
assert_eq "$got" "$n_valid	$n_valid" "rows without FINAL after the backfill rerun"
rollup >mv_after
cmp -s mv_counts mv_after || fail "the backfill changed the view: $(diff mv_counts mv_after | head -5)"
assert_contains "$(cat backfill.log)" "; 0 inserted, 0 rejected, $n_valid already stored" "backfill summary"
# A batch left half stored: one INSERT of a batch spanning days is one part per day, committed one by one,
# so a crash can keep some days of it. One day's part dropped, the rerun stores exactly that day again.
day=$(q "SELECT toYYYYMMDD(ts) FROM sensor_metrics GROUP BY toYYYYMMDD(ts) ORDER BY count() DESC, 1 LIMIT 1 FORMAT TSV")
lost=$(q "SELECT count() FROM sensor_metrics WHERE toYYYYMMDD(ts) = $day FORMAT TSV")
q "ALTER TABLE sensor_metrics DROP PARTITION $day" || fail "drop partition $day"
kafka-cat-sensor -q -b "$B" -t sensor_metrics -e --envelope -o beginning | sensor-parse -q 2>/dev/null |
  ch-insert $EO_FLAG --no-acks 2>rerun.log || fail "rerun: $(tail -3 rerun.log)"
grep 'rows,' rerun.log
assert_contains "$(cat rerun.log)" "; $lost inserted, 0 rejected, $((n_valid - lost)) already stored" "rerun summary"
got=$(q "SELECT count(), uniqExact(id) FROM sensor_metrics FORMAT TSV")
assert_eq "$got" "$n_valid	$n_valid" "rows without FINAL after day $day ($lost rows) was dropped and the topic read again"
# An insert of a killed ch-insert still running on the server: the next run waits until it has ended
# (system.processes, by the killed run's query_id prefix) before it looks its rows up; otherwise it finds
# nothing yet and stores them all a second time (seen: 6000 rows). Every INSERT into slow_t takes seconds
# before its rows are stored: defaults that sleep (3 s is the most one sleep() call may take).
q "CREATE TABLE slow_t (id String, ts DateTime, sensor_id String, temperature Float64, humidity Float64,
     pressure Float64, _topic String, _partition Int32, _offset Int64,
     slow1 UInt8 DEFAULT sleep(3), slow2 UInt8 DEFAULT sleep(3), slow3 UInt8 DEFAULT sleep(3))
   ENGINE = MergeTree PARTITION BY toYYYYMMDD(ts) ORDER BY (sensor_id, ts, id)" || fail "create slow_t"
sensor-gen -c 3000 --envelope --partitions 4 --interval 5m | sensor-parse -q >slow_rows.jsonl
n_slow=$(wc -l <slow_rows.jsonl)
running() { [ "$(q "SELECT count() FROM system.processes WHERE query_id LIKE 'sp-eo-%' FORMAT TSV")" -gt 0 ]; }
stage slow ch-insert $EO_FLAG --table slow_t --no-acks <slow_rows.jsonl 2>slow1.log &
wait_until 60 running || fail "the first run's INSERT never showed in system.processes: $(tail -3 slow1.log)"
kill -9 "$(cat slow.pid)"
wait $! 2>/dev/null || true
running || fail "the killed run's INSERT ended before the next run started: nothing to wait for"
ch-insert $EO_FLAG --table slow_t --no-acks <slow_rows.jsonl 2>slow2.log || fail "second run: $(tail -3 slow2.log)"
grep -E 'waiting|rows,' slow2.log
assert_contains "$(cat slow2.log)" "waiting for the inserts of run" "second run's log"
got=$(q "SELECT count(), uniqExact(id) FROM slow_t FORMAT TSV")
assert_eq "$got" "$n_slow	$n_slow" "rows of slow_t after a run killed mid-insert and the next one"

pass "$n_valid valid messages stored once without FINAL over $days daily partitions, the view exact, after $ROUNDS rounds of SIGKILLs of ch-insert or a ClickHouse stop, and a backfill rerun; a day's part lost, only its $lost rows stored again; a killed run's insert waited for"
