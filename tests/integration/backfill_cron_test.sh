#!/usr/bin/env bash
# The hourly backfill example as cron runs it: installed by `cmake --install`, run from where the
# installed examples/hourly-backfill.cron points, started under `env -i` with cron's environment
# (HOME, SHELL, PATH=/usr/bin:/bin, no /usr/local/bin, nor the build directory) plus the variables the
# script documents, against a real S3 (MinIO) and a real ClickHouse. The archive is what the pipeline
# writes: s3-put with the README's streaming key template and with the systemd unit's (issue 27: the
# script read a prefix no key has, loaded nothing and exited 0 every hour). A quiet hour (no objects)
# succeeds; an hour with objects lands its rows; every stage's --metrics-file holds metrics after
# success; a successful run prints nothing (cron mails any output), a failing one says why.
# Also s3-cat's own rules for an empty prefix (exit 0 with a note; --fail-if-empty: 66; a missing
# named object: 66), for --list too.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ch_lib.sh"
source "$(dirname "$0")/s3_lib.sh"
start_s3
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
rc=0; s3-cat --list s3://raw/sensors/2025/ >out 2>err || rc=$?
assert_eq "$rc:$(wc -c <out)" "0:0" "s3-cat --list of an empty prefix: exit 0, nothing on stdout"
assert_contains "$(cat err)" "no objects under s3://raw/sensors/2025/" "s3-cat --list notes an empty prefix"
rc=0; s3-cat --list --fail-if-empty s3://raw/sensors/2025/ >/dev/null 2>err || rc=$?
assert_eq "$rc" 66 "s3-cat --list --fail-if-empty on an empty prefix (stderr: $(cat err))"
pass "s3-cat: empty prefix exits 0 with a note (--list too); --fail-if-empty and a missing named object exit 66"

# --- install; the installed cron file runs the installed script
prefix=$TEST_TMP/prefix
cmake --install "$BIN_DIR/.." --prefix "$prefix" >install.log 2>&1 || fail "cmake --install: $(tail -5 install.log)"
cron_line=$(grep -E '^[0-9*]' "$prefix/share/sensor-pipeline/examples/hourly-backfill.cron")
installed=$(awk '{print $7}' <<<"$cron_line")
[[ $installed == "$prefix"/* ]] || fail "the installed cron line should run the script under the install prefix: $cron_line"
[ -x "$installed" ] || fail "the installed cron line runs $installed, which make install does not create"
[ -x "$prefix/bin/s3-cat" ] || fail "no $prefix/bin/s3-cat"
pass "the installed cron line's script is installed ($installed)"

# --- the archive as the pipeline writes it: the README's template and the systemd unit's (%i = 1)
readme_tmpl=$(awk '/^### Streaming, at-least-once/ {f = 1; next} f && /^```sh/ {b = 1; next} b && /^```/ {exit} b' \
  "$SRC_DIR/README.md" | grep -o "'s3://[^']*'" | tr -d "'")
unit_tmpl=$(grep -o '"s3://[^"]*"' "$SRC_DIR/examples/sensor-pipeline.service" | tr -d '"' | sed 's/%%/%/g; s/%i/1/g')
[[ $readme_tmpl == s3://raw/* && $unit_tmpl == s3://raw/* ]] || fail "templates: README '$readme_tmpl', unit '$unit_tmpl'"
sensor-gen -c 1 | sensor-parse -q | ch-insert --url "$CH_URL" --create-table --no-acks 2>/dev/null
q "TRUNCATE TABLE sensor_metrics"

# cron: HOME, LOGNAME, SHELL, PATH=/usr/bin:/bin and the crontab's variables; the command runs via SHELL -c
mkdir -p state metrics
cron_env=(HOME="$HOME" LOGNAME="$(id -un)" SHELL=/bin/bash PATH=/usr/bin:/bin
  BACKFILL_STATE_DIR="$TEST_TMP/state" BACKFILL_METRICS_DIR="$TEST_TMP/metrics"
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
assert_eq "$(cat cron.out cron.err)" "" "a quiet hour prints nothing (cron would mail it)"
pass "a quiet hour under env -i: exit 0, no output, metrics written"

# the same with the settings in the config file the crontab names (SENSOR_PIPELINE_CONFIG), on the
# hour the objects are written in (s3-put's clock); if the hour turns meanwhile, once more
cat >config.ini <<EOF
[s3]
endpoint = $S3_ENDPOINT
region = $AWS_REGION
access_key_id = $AWS_ACCESS_KEY_ID
secret_access_key = $AWS_SECRET_ACCESS_KEY
[clickhouse]
url = $CH_URL
EOF
for attempt in 1 2; do
  hour=$(date -u +%Y-%m-%dT%H)
  sensor-gen -c 300 --seed 1 | s3-put -q --zstd --level 1 --rotate-seconds 60 "$readme_tmpl"
  sensor-gen -c 200 --seed 2 --first-id 300 | s3-put -q --zstd --level 1 --rotate-seconds 60 "$unit_tmpl"
  q "TRUNCATE TABLE sensor_metrics"
  rc=0; env -i "${cron_env[@]}" SENSOR_PIPELINE_CONFIG="$TEST_TMP/config.ini" /bin/bash -c "$installed $hour" \
    >cron.out 2>cron.err || rc=$?
  [ "$(date -u +%Y-%m-%dT%H)" = "$hour" ] && break
  aws_ref s3 rm --recursive s3://raw/sensors/ >/dev/null
done
assert_eq "$rc" 0 "an hour with objects under cron's environment (stderr: $(cat cron.err))"
assert_eq "$(q 'SELECT count() FROM sensor_metrics')" 500 "rows of the hour the README's and the unit's templates wrote"
grep -q '^sensor_s3_cat_objects_total 2$' metrics/sensor_backfill_s3.prom || fail "s3 metrics: $(cat metrics/sensor_backfill_s3.prom)"
grep -q '^sensor_ch_insert_rows_inserted_total 500$' metrics/sensor_backfill_ch.prom || fail "ch metrics: $(cat metrics/sensor_backfill_ch.prom)"
assert_eq "$(cat cron.out cron.err)" "" "a successful run prints nothing (cron would mail it)"
pass "an hour with objects under env -i with SENSOR_PIPELINE_CONFIG: 500 rows in ClickHouse, metrics written, no output"

# a failing run says why (on stderr, which cron mails), with the failing stage's exit status
rc=0; env -i "${cron_env[@]}" SENSOR_PIPELINE_CONFIG="$TEST_TMP/config.ini" \
  BACKFILL_ARCHIVE='s3://no-such-bucket/sensors/%Y/%m/%d/%H%M%S-{host}-{run}-{seq}.jsonl' \
  /bin/bash -c "$installed $hour" >cron.out 2>cron.err || rc=$?
assert_eq "$rc" 66 "a backfill from a missing bucket (stderr: $(cat cron.err))"
assert_contains "$(cat cron.err)" "NoSuchBucket" "a failing run prints the stage's error"
pass "a failing run exits with the stage's status and prints why"
