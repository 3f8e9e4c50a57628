#!/usr/bin/env bash
# Issue 18: sensor-parse's --max-reject-ratio is a check on a finished run (it fails at the end, after
# ch-insert stored the valid rows); the README's cron snippet must then end non-zero, so that cron
# sees the failure. Runs the README's "Cron: hourly backfill" block as written (only the metrics
# path adapted) in a cron-like environment (`env -i`, `bash -c`, PATH=/usr/bin:/bin plus the tools'
# directory, as the README's Pipelines section says) against real S3 (MinIO) and ClickHouse, on an
# hour whose messages are about 20% malformed. Also examples/backfill-hour.sh on the same hour.
# Issue 27: the archive is written by s3-put with the README's streaming template as written, so the
# backfill must find what the pipeline really stores (it read a prefix no key has, loaded nothing and
# exited 0). The block reads "1 hour ago": a `date` in front of PATH answers that with this hour,
# the hour s3-put's clock puts the objects in.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ch_lib.sh"
source "$(dirname "$0")/s3_lib.sh"
start_s3
start_clickhouse
cd "$TEST_TMP"

block=$(awk '/^### Cron: hourly backfill/ {f = 1; next} f && /^```sh/ {b = 1; next} b && /^```/ {exit} b' \
  "$SRC_DIR/README.md")
[[ $block == *"--max-reject-ratio"* ]] || fail "README's cron block not found or without --max-reject-ratio: $block"
mkdir -p metrics
block=${block//\/var\/lib\/node_exporter\/textfile/$TEST_TMP/metrics}

stream=$(awk '/^### Streaming, at-least-once/ {f = 1; next} f && /^```sh/ {b = 1; next} b && /^```/ {exit} b' \
  "$SRC_DIR/README.md")
tmpl=$(grep -o "'s3://[^']*'" <<<"$stream" | tr -d "'")
[[ $tmpl == s3://raw/* ]] || fail "no s3-put key template in the README's streaming block: $stream"
mkdir -p fakebin
cat >fakebin/date <<'EOF2'
#!/bin/sh
# the README block's "1 hour ago" is this hour here: the hour the test's objects were written in
for a; do shift; [ "$a" = "1 hour ago" ] && a=now; set -- "$@" "$a"; done
exec /usr/bin/date "$@"
EOF2
chmod +x fakebin/date
aws_ref s3 mb s3://raw >/dev/null
# 100 messages, 14 of them malformed with this seed (--bad-fraction 0.2): 0.14 > 0.05; two objects as the streaming pipeline writes them
sensor-gen -c 100 --seed 7 --bad-fraction 0.2 >hour.jsonl
valid=$(sensor-parse -q <hour.jsonl 2>/dev/null | wc -l)
sensor-gen -c 1 | sensor-parse -q | ch-insert --url "$CH_URL" --create-table --no-acks 2>/dev/null
q "TRUNCATE TABLE sensor_metrics"

run_env=(HOME="$HOME" SHELL=/bin/bash PATH="$TEST_TMP/fakebin:$BIN_DIR:/usr/bin:/bin" AWS_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID"
  AWS_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY" AWS_REGION="$AWS_REGION" AWS_ENDPOINT_URL="$S3_ENDPOINT"
  CLICKHOUSE_URL="$CH_URL")
# the objects are written in one hour and read in the same: if the hour turns meanwhile, once more
for attempt in 1 2; do
  hour=$(date -u +%Y-%m-%dT%H)
  head -50 hour.jsonl | s3-put -q --zstd --level 1 "$tmpl"
  tail -n +51 hour.jsonl | s3-put -q --zstd --level 1 "$tmpl"
  q "TRUNCATE TABLE sensor_metrics"
  rm -f rejects.jsonl
  rc=0; env -i "${run_env[@]}" /bin/bash -c "$block" >out 2>err || rc=$?
  [ "$(date -u +%Y-%m-%dT%H)" = "$hour" ] && break
done
assert_eq "$(q 'SELECT count() FROM sensor_metrics')" "$valid" "rows the README's cron block loaded from the hour s3-put wrote (stderr: $(cat err))"
grep -q "exceeds --max-reject-ratio" err || fail "sensor-parse should report the ratio: $(cat err)"
assert_eq "$rc" 1 "the README's cron block with rejects over --max-reject-ratio (stderr: $(cat err))"
[ -s rejects.jsonl ] || fail "rejects.jsonl is empty"
pass "README cron block: reads what s3-put wrote with the README's template; over --max-reject-ratio -> exit 1 (valid rows stored, rejects kept)"

# the example script: same hour (its default key template is the README's), same verdict, and it says why
mkdir -p state
q "TRUNCATE TABLE sensor_metrics"
rc=0
env -i "${run_env[@]}" BACKFILL_STATE_DIR="$TEST_TMP/state" BACKFILL_METRICS_DIR="$TEST_TMP/metrics" \
  BACKFILL_LOCK="$TEST_TMP/state/lock" /bin/bash -c "$SRC_DIR/examples/backfill-hour.sh $hour" >out 2>err || rc=$?
assert_eq "$rc" 1 "examples/backfill-hour.sh over --max-reject-ratio (stderr: $(cat err))"
assert_eq "$(q 'SELECT count() FROM sensor_metrics')" "$valid" "rows examples/backfill-hour.sh loaded"
assert_contains "$(cat err)" "exceeds --max-reject-ratio" "a failing run says why"
pass "examples/backfill-hour.sh: over --max-reject-ratio -> exit 1, with the reason on stderr"
