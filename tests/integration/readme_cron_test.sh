#!/usr/bin/env bash
# Issue 18: sensor-parse's --max-reject-ratio is a check on a finished run (it fails at the end, after
# ch-insert stored the valid rows); the README's cron snippet must then end non-zero, so that cron
# sees the failure. Runs the README's "Cron: hourly backfill" block as written (only the metrics
# path adapted) in a cron-like environment (`env -i`, `bash -c`, PATH=/usr/bin:/bin plus the tools'
# directory, as the README's Pipelines section says) against real S3 (Swift) and ClickHouse, on an
# hour whose messages are 20% malformed. Also examples/backfill-hour.sh on the same hour.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ch_lib.sh"
source "$(dirname "$0")/s3_lib.sh"
start_swift
start_clickhouse
cd "$TEST_TMP"

block=$(awk '/^### Cron: hourly backfill/ {f = 1; next} f && /^```sh/ {b = 1; next} b && /^```/ {exit} b' \
  "$SRC_DIR/README.md")
[[ $block == *"--max-reject-ratio"* ]] || fail "README's cron block not found or without --max-reject-ratio: $block"
mkdir -p metrics
block=${block//\/var\/lib\/node_exporter\/textfile/$TEST_TMP/metrics}

# The hour the block reads is "1 hour ago": data goes under that hour and the next one, in case the
# hour turns while the test runs. 100 messages, 20 of them malformed: 0.2 > 0.05.
aws_ref s3 mb s3://raw >/dev/null
for ago in '1 hour ago' 'now'; do
  hour=$(date -u -d "$ago" +%Y/%m/%d/%H)
  sensor-gen -c 100 --seed 7 --bad-fraction 0.2 | s3-put -q "s3://raw/sensors/$hour/a.jsonl"
done
sensor-gen -c 1 | sensor-parse -q | ch-insert --url "$CH_URL" --create-table --no-acks 2>/dev/null
q "TRUNCATE TABLE sensor_metrics"

run_env=(HOME="$HOME" SHELL=/bin/bash PATH="$BIN_DIR:/usr/bin:/bin" AWS_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID"
  AWS_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY" AWS_REGION="$AWS_REGION" AWS_ENDPOINT_URL="$S3_ENDPOINT"
  CLICKHOUSE_URL="$CH_URL")
rc=0; env -i "${run_env[@]}" /bin/bash -c "$block" >out 2>err || rc=$?
grep -q "exceeds --max-reject-ratio" err || fail "sensor-parse should report the ratio: $(cat err)"
assert_eq "$rc" 1 "the README's cron block with rejects over --max-reject-ratio (stderr: $(cat err))"
[ "$(q 'SELECT count() FROM sensor_metrics')" -gt 0 ] || fail "the valid rows should be stored (a check on a finished run)"
[ -s rejects.jsonl ] || fail "rejects.jsonl is empty"
pass "README cron block: over --max-reject-ratio -> exit 1 (valid rows stored, rejects kept)"

# the example script: same hour, same verdict (its own pipefail)
mkdir -p state
hour=$(date -u -d '1 hour ago' +%Y-%m-%dT%H)
rc=0
env -i "${run_env[@]}" BACKFILL_STATE_DIR="$TEST_TMP/state" BACKFILL_METRICS_DIR="$TEST_TMP/metrics" \
  BACKFILL_LOCK="$TEST_TMP/state/lock" /bin/bash -c "$SRC_DIR/examples/backfill-hour.sh $hour" >out 2>err || rc=$?
assert_eq "$rc" 1 "examples/backfill-hour.sh over --max-reject-ratio (stderr: $(cat err))"
pass "examples/backfill-hour.sh: over --max-reject-ratio -> exit 1"
