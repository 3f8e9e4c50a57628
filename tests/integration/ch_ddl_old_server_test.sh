#!/usr/bin/env bash
# The schema's DDL keys and --create-table on an existing table, against the live ClickHouse 18.16
# (issue 13): column codecs (19.1+) are left out with a warning that says so and the rows load; a
# TTL (19.6+) stops --create-table with exit 78 and no table; table settings reach the table; an
# existing table whose columns differ from the schema stops with exit 78 listing the differences
# before any row is sent, one with the same columns takes the rows as before.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ch_lib.sh"

start_clickhouse
version=$(q "SELECT version()")

sensor-gen -c 50 >"$TEST_TMP/in.jsonl"
tuned() {  # $1: table, $2: extra top-level keys
  cat >"$TEST_TMP/tuned.json" <<JSON
{"table": "$1", "columns": [
  {"name": "id"},
  {"name": "ts", "type": "DateTime", "path": "timestamp", "codec": "DoubleDelta, ZSTD(1)"},
  {"name": "sensor_id", "path": "value.sensor_id", "codec": "ZSTD(3)"},
  {"name": "temperature", "type": "Float64", "path": "value.temperature", "codec": "Gorilla, LZ4"},
  {"name": "humidity", "type": "Float64", "path": "value.humidity", "codec": "Delta(8), LZ4HC(9)"},
  {"name": "pressure", "type": "Float64", "path": "value.pressure"}
], "order_by": ["sensor_id", "ts", "id"], "partition_by": "toYYYYMM(ts)" $2}
JSON
}

# Codecs: left out, with a warning naming each column and the version needed; the rows load.
tuned codecs ', "settings": {"index_granularity": 4096, "merge_max_block_size": 8192}'
sensor-parse -q --schema "$TEST_TMP/tuned.json" <"$TEST_TMP/in.jsonl" \
  | ch-insert --url "$CH_URL" --schema "$TEST_TMP/tuned.json" --create-table --no-acks 2>"$TEST_TMP/err" \
  || fail "codecs on $version: ch-insert failed: $(cat "$TEST_TMP/err")"
assert_contains "$(cat "$TEST_TMP/err")" "warning: ClickHouse $version lacks it: left out of table default.codecs: CODEC(DoubleDelta, ZSTD(1)) of column 'ts' (needs ClickHouse 19.11" "the warning for ts"
assert_contains "$(cat "$TEST_TMP/err")" "CODEC(ZSTD(3)) of column 'sensor_id' (needs ClickHouse 19.1;" "the warning for sensor_id"
assert_eq "$(grep -c 'left out of table' "$TEST_TMP/err")" 5 "one warning per column with a codec, one for the setting"
assert_contains "$(cat "$TEST_TMP/err")" "left out of table default.codecs: setting merge_max_block_size = 8192 (unknown to this server; it tunes storage only)" "the warning for a storage setting 18.16 lacks"
assert_eq "$(q "SELECT count() FROM codecs")" 50 "rows in the table made without codecs"
assert_contains "$(q "SELECT engine_full FROM system.tables WHERE name = 'codecs'")" "index_granularity = 4096" "the table setting"
pass "codecs on ClickHouse $version: left out with a warning, the setting kept, 50 rows loaded"

# TTL: refused, exit 78, nothing made.
tuned with_ttl ', "ttl": "ts + INTERVAL 90 DAY"'
rc=0
ch-insert --url "$CH_URL" --schema "$TEST_TMP/tuned.json" --create-table <"$TEST_TMP/in.jsonl" 2>"$TEST_TMP/err" || rc=$?
assert_eq "$rc" 78 "exit code for a TTL on $version"
assert_contains "$(cat "$TEST_TMP/err")" "cannot create table default.with_ttl: ttl (ts + INTERVAL 90 DAY) needs ClickHouse 19.6 or newer" "the TTL message"
assert_contains "$(cat "$TEST_TMP/err")" "is ClickHouse $version" "the message names the server's version"
assert_eq "$(q "EXISTS TABLE with_ttl")" 0 "no table made"
pass "ttl on ClickHouse $version: exit 78, $(head -1 "$TEST_TMP/err")"

# A setting that decides what is kept or deduplicated, unknown to the server: refused too.
tuned dedup ', "settings": {"non_replicated_deduplication_window": 100}'
rc=0
ch-insert --url "$CH_URL" --schema "$TEST_TMP/tuned.json" --create-table <"$TEST_TMP/in.jsonl" 2>"$TEST_TMP/err" || rc=$?
assert_eq "$rc" 78 "exit code for non_replicated_deduplication_window on $version"
assert_contains "$(cat "$TEST_TMP/err")" "setting non_replicated_deduplication_window is not known to this server" "the message"
assert_eq "$(q "EXISTS TABLE dedup")" 0 "no table made"
pass "a deduplication setting $version lacks: exit 78, no table"

# An existing table with other columns: exit 78 before any row is sent, every difference listed.
q "CREATE TABLE sensor_metrics (id String, ts DateTime, sensor_id String, temperature Float32, humidity Float64, battery UInt8) ENGINE = MergeTree ORDER BY id"
rc=0
sensor-parse -q <"$TEST_TMP/in.jsonl" | ch-insert --url "$CH_URL" --create-table --no-acks 2>"$TEST_TMP/err" || rc=$?
cat "$TEST_TMP/err" >&2
assert_eq "$rc" 78 "exit code for a table with other columns"
err=$(cat "$TEST_TMP/err")
assert_contains "$err" "table default.sensor_metrics exists on" "the message names the table"
assert_contains "$err" "column \`temperature\`: the table has Float32, the schema Float64" "the type difference"
assert_contains "$err" "missing column \`pressure\` Float64 (in the schema, not in the table)" "the missing column"
assert_contains "$err" "extra column \`battery\` UInt8 (in the table, not in the schema)" "the extra column"
assert_eq "$(q "SELECT count() FROM sensor_metrics")" 0 "no row sent"
pass "--create-table on a table with other columns: exit 78, the three differences listed, no row sent"

# The same columns (another order, made by hand): proceeds as before.
q "DROP TABLE sensor_metrics"
q "CREATE TABLE sensor_metrics (ts DateTime, id String, sensor_id String, temperature Float64, humidity Float64, pressure Float64) ENGINE = ReplacingMergeTree ORDER BY (sensor_id, ts, id)"
sensor-parse -q <"$TEST_TMP/in.jsonl" | ch-insert -q --url "$CH_URL" --create-table --no-acks \
  || fail "--create-table on a table with the schema's columns failed"
assert_eq "$(q "SELECT count() FROM sensor_metrics")" 50 "rows in the existing table"
pass "--create-table on a table with the schema's columns: 50 rows in"
