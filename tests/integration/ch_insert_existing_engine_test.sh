#!/usr/bin/env bash
# Issue 28 item 12 (ch-insert part): --create-table on an existing table with the schema's columns but
# an engine that never collapses duplicates (a plain MergeTree made by hand) said nothing, although the
# rows a restart delivers again stay duplicated for good. Now it warns at start, naming the engine; a
# ReplacingMergeTree (what --create-table makes) gets no warning. Real ClickHouse 18.16, rows from
# sensor-parse.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ch_lib.sh"
cd "$TEST_TMP"
start_clickhouse
export CLICKHOUSE_URL=$CH_URL CLICKHOUSE_USER=$CH_USER CLICKHOUSE_PASSWORD=$CH_PASSWORD
sensor-gen -c 20 --envelope | sensor-parse -q >rows.jsonl 2>sp.log || fail "sensor-parse: $(cat sp.log)"

q "CREATE TABLE plain (id String, ts DateTime, sensor_id String, temperature Float64, humidity Float64, pressure Float64) ENGINE = MergeTree ORDER BY (sensor_id, ts, id)"
ch-insert --create-table --table plain --no-acks <rows.jsonl 2>plain.log || fail "ch-insert: $(tail -3 plain.log)"
assert_contains "$(cat plain.log)" "table default.plain already exists with engine MergeTree, not ReplacingMergeTree" "the warning"
assert_contains "$(cat plain.log)" "will never collapse" "what it means"
assert_eq "$(q 'SELECT count() FROM plain')" 20 "rows inserted all the same"
pass "an existing MergeTree table: warned that duplicates never collapse"

ch-insert --create-table --table made --no-acks <rows.jsonl 2>made.log || fail "ch-insert: $(tail -3 made.log)"
ch-insert --create-table --table made --no-acks <rows.jsonl 2>made2.log || fail "ch-insert: $(tail -3 made2.log)"
grep -q "never collapse" made.log made2.log && fail "a warning for the table --create-table made: $(grep collapse made*.log)"
pass "the ReplacingMergeTree --create-table made, created or existing: no warning"
