#!/usr/bin/env bash
# ctest-label: slow
# ctest-label: bench
# ctest-skip-code: 77
# Issue 25: the Spark baseline of `make bench` (scripts/bench/seed_spark/) does the same work as the toolkit.
# One real topic, filled by sensor-gen | kafka-cat-sensor -P, is loaded twice into a real ClickHouse: by the
# pipeline as deployed (group, envelopes, acks FIFO) and by the seed's PySpark job (availableNow); the two
# tables must hold the same rows (scripts/bench/seed_spark/same_rows.sh: same ids, same values). Then one
# value changed in a copy must make the same check fail and name the row, so the check can fail.
# Skipped (exit 77) when pyspark is not installed (scripts/spark.sh install: a 450 MB download, not in CI).
# Slow: a JVM and a Spark session (30-90 s here).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pipeline_lib.sh"
if ! "$SRC_DIR/scripts/spark.sh" check 2>spark.check; then
  echo "$TEST_NAME: SKIPPED: $(cat spark.check)"
  exit 77
fi
N=3000
start_servers 4
sensor-gen -c "$N" --seed 5 --sensors 50 |
  kafka-cat-sensor -q -P -b "$B" -t sensor_metrics --key-field value.sensor_id || fail "produce"
for t in ours spark_metrics; do ch-insert -q --create-table --table $t </dev/null || fail "create table $t"; done
mkfifo acks
kafka-cat-sensor -q -b "$B" -t sensor_metrics -G ours -e --envelope --commit-acks acks "${GROUP_PROPS[@]}" 2>kc.log |
  sensor-parse -q 2>sp.log | ch-insert -q --table ours 2>ch.log >acks ||
  fail "the pipeline failed: $(tail -3 kc.log ch.log)"
assert_eq "$(q "SELECT count() FROM ours")" "$N" "the pipeline's rows"

"$SRC_DIR/scripts/spark.sh" run --bootstrap "$B" --topic sensor_metrics --table spark_metrics \
  --checkpoint "$TEST_TMP/ckpt" 2>spark.log || fail "the Spark job failed: $(grep -E 'ERROR' spark.log | tail -5)"
assert_contains "$(cat spark.log)" "done: $N rows in" "the Spark job's last log line"
out=$("$SRC_DIR/scripts/bench/seed_spark/same_rows.sh" ours spark_metrics 2>&1) || fail "the rows differ: $out"
assert_eq "$out" "same rows: $N" "same_rows.sh"

# the check sees one value off by 0.1 in one row (same ids, same count)
ch-insert -q --create-table --table tampered </dev/null
q "INSERT INTO tampered SELECT id, ts, sensor_id, if(id = 'msg-7', temperature + 0.1, temperature), humidity, pressure
   FROM spark_metrics" >/dev/null
rc=0
out=$("$SRC_DIR/scripts/bench/seed_spark/same_rows.sh" ours tampered 2>&1) || rc=$?
assert_eq "$rc" 1 "same_rows.sh on a changed value: exit status"
assert_contains "$out" "1 rows only in ours, 1 only in tampered" "the difference counted"
assert_contains "$out" "msg-7" "the differing row shown"
pass "the seed's Spark job stores the same $N rows as the deployed pipeline; a changed value is caught"
