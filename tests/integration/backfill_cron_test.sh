#!/usr/bin/env bash
# The hourly backfill example as cron runs it: installed by `cmake --install` where
# examples/hourly-backfill.cron points, started under `env -i` with cron's environment (HOME, SHELL,
# PATH=/usr/bin:/bin, no /usr/local/bin, nor the build directory) plus the variables the script
# documents, against a real S3 (Swift) and a real ClickHouse. A quiet hour (no objects) succeeds;
# an hour with objects lands its rows; every stage's --metrics-file holds metrics after success.
# Also s3-cat's own rules for an empty prefix (exit 0 with a note; --fail-if-empty: 66; a missing
# named object: 66).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ch_lib.sh"
source "$(dirname "$0")/s3_lib.sh"
start_swift
start_clickhouse
cd "$TEST_TMP"

# --- s3-cat and an empty prefix
aws_ref s3 mb s3://raw >/dev/null
rc=0; s3-cat --prefix s3://raw/sensors/2025/07/07/21/ >out 2>err || rc=$?
assert_eq "$rc" 0 "s3-cat --prefix with no objects (stderr: $(cat err))"
assert_eq "$(wc -c <out)" 0 "nothing on stdout for an empty prefix"
assert_contains "$(cat err)" "no objects under s3://raw/sensors/2025/07/07/21/"
rc=0; s3-cat s3://raw/sensors/2025/07/07/21/ >/dev/null 2>err || rc=$?
assert_eq "$rc" 0 "a URL ending in / is a prefix: empty is fine"
rc=0; s3-cat --prefix --fail-if-empty s3://raw/sensors/2025/07/07/21/ >/dev/null 2>err || rc=$?
assert_eq "$rc" 66 "--fail-if-empty"
rc=0; s3-cat s3://raw/no-such-object.jsonl >/dev/null 2>err || rc=$?
assert_eq "$rc" 66 "a missing named object"
assert_contains "$(cat err)" "no object s3://raw/no-such-object.jsonl"
rc=0; s3-cat --metrics-file s3.prom --prefix s3://raw/sensors/ >/dev/null 2>err || rc=$?
assert_eq "$rc" 0 "empty prefix with metrics"
grep -q '^sensor_s3_cat_objects_total 0$' s3.prom || fail "s3-cat --metrics-file after success: '$(cat s3.prom)'"
pass "s3-cat: empty prefix exits 0 with a note; --fail-if-empty and a missing named object exit 66"

# --- install where the cron line says
prefix=$TEST_TMP/prefix
cmake --install "$BIN_DIR/.." --prefix "$prefix" >install.log 2>&1 || fail "cmake --install: $(tail -5 install.log)"
cron_line=$(grep -E '^[0-9*]' "$SRC_DIR/examples/hourly-backfill.cron")
script=$(awk '{print $7}' <<<"$cron_line")
[[ $script == /usr/local/* ]] || fail "the cron line should run the script from the default prefix /usr/local: $cron_line"
installed=$prefix/${script#/usr/local/}
[ -x "$installed" ] || fail "make install does not create $script (looked for $installed)"
[ -x "$prefix/bin/s3-cat" ] || fail "no $prefix/bin/s3-cat"
pass "the cron line's script is installed ($script)"

# --- the hour with objects, and the table
sensor-gen -c 300 --seed 1 | s3-put -q --gzip s3://raw/sensors/2025/07/07/22/a.jsonl
sensor-gen -c 200 --seed 2 --first-id 300 | s3-put -q s3://raw/sensors/2025/07/07/22/b.jsonl
sensor-gen -c 50 --seed 3 | s3-put -q s3://raw/sensors/2025/07/07/220.jsonl  # not in hour 22's "directory"
sensor-gen -c 1 | sensor-parse -q | ch-insert --url "$CH_URL" --create-table --no-acks 2>/dev/null
q "TRUNCATE TABLE sensor_metrics"

# cron: HOME, LOGNAME, SHELL, PATH=/usr/bin:/bin and the crontab's variables; the command runs via SHELL -c
mkdir -p state metrics
cron_env=(HOME="$HOME" LOGNAME="$(id -un)" SHELL=/bin/bash PATH=/usr/bin:/bin
  BACKFILL_SOURCE=s3://raw/sensors BACKFILL_STATE_DIR="$TEST_TMP/state" BACKFILL_METRICS_DIR="$TEST_TMP/metrics"
  BACKFILL_LOCK="$TEST_TMP/state/backfill.lock")
s3_env=(AWS_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY" AWS_REGION="$AWS_REGION"
  AWS_ENDPOINT_URL="$S3_ENDPOINT" CLICKHOUSE_URL="$CH_URL")
rc=0; env -i "${cron_env[@]}" "${s3_env[@]}" /bin/bash -c "$installed 2025-07-07T21" >cron.out 2>cron.err || rc=$?
assert_eq "$rc" 0 "a quiet hour under cron's environment (stderr: $(cat cron.err))"
assert_eq "$(q 'SELECT count() FROM sensor_metrics')" 0 "no rows for a quiet hour"
for m in s3 parse ch; do
  [ -s "metrics/sensor_backfill_$m.prom" ] || fail "metrics/sensor_backfill_$m.prom is empty after a quiet hour"
done
grep -q '^sensor_s3_cat_objects_total 0$' metrics/sensor_backfill_s3.prom || fail "s3 metrics: $(cat metrics/sensor_backfill_s3.prom)"
pass "a quiet hour under env -i: exit 0, metrics written"

# the same with the settings in the config file the crontab names (SENSOR_PIPELINE_CONFIG)
cat >config.ini <<EOF
[s3]
endpoint = $S3_ENDPOINT
region = $AWS_REGION
access_key_id = $AWS_ACCESS_KEY_ID
secret_access_key = $AWS_SECRET_ACCESS_KEY
[clickhouse]
url = $CH_URL
EOF
rc=0; env -i "${cron_env[@]}" SENSOR_PIPELINE_CONFIG="$TEST_TMP/config.ini" /bin/bash -c "$installed 2025-07-07T22" \
  >cron.out 2>cron.err || rc=$?
assert_eq "$rc" 0 "an hour with objects under cron's environment (stderr: $(cat cron.err))"
assert_eq "$(q 'SELECT count() FROM sensor_metrics')" 500 "rows of hour 22 (not those of 220.jsonl)"
grep -q '^sensor_s3_cat_objects_total 2$' metrics/sensor_backfill_s3.prom || fail "s3 metrics: $(cat metrics/sensor_backfill_s3.prom)"
grep -q '^sensor_ch_insert_rows_inserted_total 500$' metrics/sensor_backfill_ch.prom || fail "ch metrics: $(cat metrics/sensor_backfill_ch.prom)"
pass "an hour with objects under env -i with SENSOR_PIPELINE_CONFIG: 500 rows in ClickHouse, metrics written"
