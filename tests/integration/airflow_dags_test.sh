#!/usr/bin/env bash
# ctest-label: slow
# examples/airflow's DAGs run by the real Apache Airflow 3 (`airflow dags test`, scripts/airflow.sh: the
# venv install-deps builds; missing, this test fails and says so) against real Kafka, ClickHouse and MinIO.
# The archive is what the README's streaming block writes: sensor-gen | kafka-cat-sensor -P, then
# kafka-cat-sensor --envelope | s3-put with the README's key template. The DAGs are the installed copy
# (cmake --install), with the tools and backfill-hour.sh under that prefix, set up as the README says:
# the servers from Airflow connections imported from a file, settings from Variables; no server setting
# in the environment. Checks:
# - sensor_backfill_hourly loads the hour: every valid message once in ClickHouse, the malformed ones in
#   the rejects file, reconcile reports the counts equal; no secret in any output or task log
# - a gap (rows of the hour deleted from ClickHouse) fails reconcile, naming how many; the rerun the DAG
#   documents inserts the hour again: the gap is filled and nothing is doubled under FINAL
# - a stage that exits non-zero (ch-insert: no such table) fails the task, with ch-insert's own message
#   in the task log; the sensor fails at once on s3-cat's error (no such bucket) instead of waiting, and
#   pokes again while S3 is down
# - sensor_storage_report prints the archive's objects and bytes and writes its metrics
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ch_lib.sh"
source "$(dirname "$0")/s3_lib.sh"
source "$(dirname "$0")/kafka_lib.sh"
airflow_sh=$SRC_DIR/scripts/airflow.sh
cd "$TEST_TMP"

# No Airflow, no test: CI installs it (scripts/install-deps.sh); a skip would hide that it is missing.
venv=$("$airflow_sh" path) || fail "no Airflow venv (above)"

start_minio
start_clickhouse
start_kafka 1 3 sensor_metrics
s3_secret=$AWS_SECRET_ACCESS_KEY
[ -n "$CH_PASSWORD" ] && [ -n "$s3_secret" ] || fail "the servers should have secrets to leak"

# --- the tools, the examples and the DAGs, installed
prefix=$TEST_TMP/prefix
cmake --install "$BIN_DIR/.." --prefix "$prefix" >install.log 2>&1 || fail "cmake --install: $(tail -5 install.log)"
dags=$prefix/share/sensor-pipeline/examples/airflow
[ -f "$dags/sensor_pipeline.py" ] || fail "make install does not install the DAGs ($dags)"

# --- the archive, as the README's streaming block writes it, in the current hour (s3-put's clock)
tmpl=$(awk '/^### Streaming, at-least-once/ {f = 1; next} f && /^```sh/ {b = 1; next} b && /^```/ {exit} b' \
  "$SRC_DIR/README.md" | grep -o "'s3://[^']*'" | tr -d "'")
[[ $tmpl == s3://raw/* ]] || fail "README's template: '$tmpl'"
aws_ref s3 mb s3://raw >/dev/null
sensor-gen -c 1 | sensor-parse -q | ch-insert --url "$CH_URL" --create-table --no-acks 2>/dev/null
q "TRUNCATE TABLE sensor_metrics"
sensor-gen -c 2000 --seed 1 --bad-fraction 0.05 >gen.jsonl
kafka-cat-sensor -q -b "$BS" -P -t sensor_metrics <gen.jsonl
sensor-parse -q <gen.jsonl | grep -o '"id":"[^"]*"' | cut -d'"' -f4 | sort >ids1
for attempt in 1 2 3; do  # all of it in one hour of s3-put's clock: if the hour turns meanwhile, again
  hour=$(date -u +%Y-%m-%dT%H)
  kafka-cat-sensor -q -b "$BS" -t sensor_metrics -e --envelope | s3-put -q --zstd --level 1 --rotate-seconds 60 "$tmpl"
  [ "$(date -u +%Y-%m-%dT%H)" = "$hour" ] && break
  [ $attempt -lt 3 ] || fail "the hour turned three times"
  aws_ref s3 rm --recursive s3://raw/sensors/ >/dev/null
done
valid1=$(wc -l <ids1)
lines=$(s3-cat -q --hour "$hour" "$tmpl" | wc -l)  # the messages on the topic (an empty line is none)
[ "$valid1" -gt 1800 ] && [ "$valid1" -lt 2000 ] || fail "valid messages: $valid1 of 2000"
# the run fired at minute 5 of the next hour has this hour as its data interval
logical=$(date -u -d "@$(($(date -u -d "${hour/T/ }:00" +%s) + 3600))" +%Y-%m-%dT%H:05:00+00:00)

# --- Airflow as the README sets it up: the connections imported from a file of the README's form, the
# tools' prefix set with `airflow variables set`, the other Variables in the environment (AIRFLOW_VAR_*);
# no server setting in the environment
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION AWS_ENDPOINT_URL CLICKHOUSE_URL
ch_port=${CH_URL##*:}; ch_port=${ch_port%%/*}
cat >connections.json <<EOF
{"sensor_s3": {"conn_type": "aws", "login": "$S3_ACCESS_KEY", "password": "$s3_secret",
               "extra": {"endpoint_url": "$S3_ENDPOINT", "region_name": "$S3_REGION"}},
 "sensor_clickhouse": {"conn_type": "http", "host": "127.0.0.1", "port": $ch_port, "schema": "http",
                       "login": "$CH_USER", "password": "$CH_PASSWORD", "extra": {"database": "default"}}}
EOF
mkdir -p state metrics
export AIRFLOW_VAR_SENSOR_STATE_DIR=$TEST_TMP/state AIRFLOW_VAR_SENSOR_METRICS_DIR=$TEST_TMP/metrics \
  AIRFLOW_VAR_SENSOR_BACKFILL_LOCK=$TEST_TMP/state/backfill.lock
eval "$("$airflow_sh" home "$TEST_TMP/airflow" "$dags")"
af() { "$airflow_sh" airflow "$@"; }
af connections import connections.json >setup.log 2>&1 || fail "airflow connections import: $(tail -5 setup.log)"
af variables set sensor_prefix "$prefix" >>setup.log 2>&1 || fail "airflow variables set: $(tail -5 setup.log)"
rm connections.json
why() { grep -v 'No tasks to run' "$1" | grep -E 'rror|Exception|exited|failed' | tail -15; }
no_secrets() { # FILE...: neither server's secret in the outputs, Airflow's task logs or the rendered
  # templates it keeps for its UI (the tasks' env holds them)
  "$venv/bin/python" -c 'import sqlite3, sys
for row in sqlite3.connect(sys.argv[1]).execute("SELECT rendered_fields FROM rendered_task_instance_fields"):
    print(row[0])' "$AIRFLOW_HOME/airflow.db" >rendered.txt
  if grep -rlF -e "$s3_secret" -e "$CH_PASSWORD" "$@" rendered.txt "$AIRFLOW_HOME/logs" 2>/dev/null; then
    fail "a secret in the files above"
  fi
}

rc=0; "$airflow_sh" test sensor_backfill_hourly "$logical" >run1.log 2>&1 || rc=$?
assert_eq "$rc" 0 "sensor_backfill_hourly for hour $hour (log: $(why run1.log))"
assert_eq "$(q 'SELECT count() FROM sensor_metrics FINAL')" "$valid1" "rows after the backfill"
assert_eq "$(q 'SELECT id FROM sensor_metrics FINAL ORDER BY id FORMAT TSV' | sort)" "$(cat ids1)" \
  "the backfill's rows are the valid messages"
assert_eq "$(wc -l <"state/backfill-rejects-$hour.jsonl")" "$((lines - valid1))" "the malformed messages are in the rejects file"
assert_contains "$(cat run1.log)" "hour $hour: all $valid1 archived rows are in ClickHouse table sensor_metrics"
assert_contains "$(cat run1.log)" "sensor-parse: info: $lines records in, $valid1 rows out" "the load's stage summaries in the task log"
no_secrets setup.log run1.log
grep -q '"AWS_SECRET_ACCESS_KEY": "\*\*\*"' rendered.txt || fail "the rendered env should hold the secret masked: $(head -c 300 rendered.txt)"
pass "sensor_backfill_hourly: $valid1 rows of hour $hour in ClickHouse, $((lines - valid1)) rejects, reconcile equal, no secret in the logs"

# --- a gap: rows of the hour gone from ClickHouse (deleted, as by a mistaken ALTER or a lost replica)
q "ALTER TABLE sensor_metrics DELETE WHERE id IN (SELECT id FROM sensor_metrics ORDER BY id LIMIT 50)" >/dev/null
wait_until 120 test "$(q 'SELECT count() FROM system.mutations WHERE NOT is_done')" = 0 || fail "the DELETE did not finish"
assert_eq "$(q 'SELECT count() FROM sensor_metrics FINAL')" "$((valid1 - 50))" "rows after the DELETE"
# reconcile alone: the other tasks marked successful, as an operator re-checks an hour
rc=0; af dags test sensor_backfill_hourly "$logical" --mark-success-pattern 'wait_for_archive|load' >gap.log 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "reconcile passed with 50 archived rows missing in ClickHouse: $(why gap.log)"
assert_contains "$(cat gap.log)" "hour $hour: 50 of $valid1 archived rows are not in ClickHouse table sensor_metrics"
no_secrets gap.log
pass "reconcile fails on a gap (50 rows deleted), naming it"

# the documented fix: a rerun of the hour inserts it again; the rows still there collapse under FINAL
rc=0; "$airflow_sh" test sensor_backfill_hourly "$logical" >run2.log 2>&1 || rc=$?
assert_eq "$rc" 0 "the rerun (log: $(why run2.log))"
assert_eq "$(q 'SELECT count() FROM sensor_metrics FINAL')" "$valid1" "rows under FINAL after the rerun"
assert_eq "$(q 'SELECT id FROM sensor_metrics FINAL ORDER BY id FORMAT TSV' | sort)" "$(cat ids1)" \
  "the rerun's rows"
grep -q "^sensor_ch_insert_rows_inserted_total $valid1\$" metrics/sensor_backfill_ch.prom \
  || fail "the rerun should insert the whole hour again: $(grep rows_inserted metrics/sensor_backfill_ch.prom)"
assert_contains "$(cat run2.log)" "hour $hour: all $valid1 archived rows are in ClickHouse"
no_secrets run2.log
pass "the rerun inserts the hour again ($valid1 rows), the 50 are back, nothing doubled under FINAL, reconcile equal"

# --- a failing stage fails the task, with the tool's own message in the task log
# (retries 1 s apart instead of Airflow's default 5 minutes: the DAG leaves the delay to the deployment)
rc=0; AIRFLOW_VAR_SENSOR_TABLE=no_such_table AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY=1 \
  af dags test sensor_backfill_hourly "$logical" >fail.log 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "the run passed with ch-insert failing: $(why fail.log)"
assert_eq "$(grep -c 'Running command: .*backfill-hour.sh' fail.log)" 3 "load's attempts (retries: 2)"
ch_msg=$(grep -o 'ch-insert: error: .*' "state/backfill-last.log" | head -1)
[ -n "$ch_msg" ] || fail "ch-insert said nothing: $(cat state/backfill-last.log)"
assert_contains "$(cat fail.log)" "$ch_msg" "ch-insert's message in the task log"
assert_contains "$(cat fail.log)" "no_such_table"
no_secrets fail.log
pass "a failing ch-insert fails the load task, after 2 retries, with its message in the task log ($ch_msg)"

rc=0; AIRFLOW_VAR_SENSOR_ARCHIVE='s3://no-such-bucket/sensors/%Y/%m/%d/%H%M%S-{host}-{run}-{seq}.jsonl' \
  af dags test sensor_backfill_hourly "$logical" >sensor.log 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "the run passed on a missing bucket: $(why sensor.log)"
[ "$(grep -c 'Running command: objects=' sensor.log)" = 1 ] || fail "the sensor should fail at its first poke: $(why sensor.log)"
assert_contains "$(cat sensor.log)" "NoSuchBucket" "s3-cat's message in the sensor's log"
pass "the sensor fails at once on s3-cat's error, with its message"

# S3 down when the sensor pokes: it pokes again (every minute) instead of failing, and the run completes
# once the endpoint is back
s3_stop_endpoint
"$airflow_sh" test sensor_backfill_hourly "$logical" >down.log 2>&1 &
run=$!
on_exit "kill $run"
wait_until 300 grep -q "S3 unavailable (exit 69): poking again later" down.log \
  || fail "the sensor should wait for S3: $(why down.log)"
"$S3_SCRIPT" start "$S3_DIR" >/dev/null  # the same port and data, without exporting its credentials here
rc=0; wait "$run" || rc=$?
assert_eq "$rc" 0 "the run once S3 is back (log: $(why down.log))"
[ "$(grep -c 'Running command: objects=' down.log)" -ge 2 ] || fail "the sensor should have poked twice or more"
assert_contains "$(cat down.log)" "hour $hour: all $valid1 archived rows are in ClickHouse"
pass "with S3 down the sensor pokes again; once it is back the run loads the hour"

# --- the storage report
rc=0; "$airflow_sh" test sensor_storage_report "$logical" >report.log 2>&1 || rc=$?
assert_eq "$rc" 0 "sensor_storage_report (log: $(why report.log))"
# what aws (the peer) lists, with the credentials the environment no longer has
aws_ref_s3() { AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$s3_secret AWS_REGION=$S3_REGION aws_ref s3 "$@"; }
objects=$(aws_ref_s3 ls --recursive s3://raw/sensors/ | wc -l)
bytes=$(aws_ref_s3 ls --recursive s3://raw/sensors/ | awk '{s += $3} END {print s}')
[ "$objects" -ge 1 ] || fail "aws lists no object"
grep -q "^sensor_s3_prefix_objects{.*} $objects\$" metrics/sensor_s3_usage.prom \
  || fail "usage metrics ($objects objects): $(cat metrics/sensor_s3_usage.prom)"
grep -q "^sensor_s3_prefix_bytes{.*} $bytes\$" metrics/sensor_s3_usage.prom \
  || fail "usage metrics ($bytes bytes): $(grep prefix_bytes metrics/sensor_s3_usage.prom)"
assert_contains "$(cat report.log)" "Total Objects: $objects" "the report in the task log"
assert_contains "$(cat report.log)" "Total Size: $bytes" "the report in the task log"
no_secrets report.log
pass "sensor_storage_report: $objects objects, $bytes bytes, in the task log and the metrics"
