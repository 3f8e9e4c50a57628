#!/usr/bin/env bash
# Regression (issue 16, item 10): ch-insert sent rows as they came, so ClickHouse stored a
# JSONEachRow row missing `pressure` with pressure 0, and a VALUES line holding two tuples was
# counted as one row and inserted as two. Now such rows go to the rejects with a reason and the
# counts are true. Also (item 13): ClickHouse's messages quote the row's bytes; stderr gets them
# escaped, never raw control bytes.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ch_lib.sh"

start_clickhouse

# --- JSONEachRow: a row without pressure is rejected, not stored as 0
cat >"$TEST_TMP/rows.jsonl" <<'J'
{"id":"ok-1","ts":"2025-07-07 22:00:00","sensor_id":"s","temperature":1.5,"humidity":2,"pressure":1000,"_topic":"t","_partition":0,"_offset":1}
{"id":"no-pressure","ts":"2025-07-07 22:00:00","sensor_id":"s","temperature":1.5,"humidity":2,"_topic":"t","_partition":0,"_offset":2}
{"id":"ok-2","ts":"2025-07-07 22:00:00","sensor_id":"s","temperature":1.5,"humidity":2,"pressure":1001,"_topic":"t","_partition":0,"_offset":3}
J
ch-insert --url "$CH_URL" --table j --create-table --rejects "$TEST_TMP/rejects.j" <"$TEST_TMP/rows.jsonl" \
  >"$TEST_TMP/acks" 2>"$TEST_TMP/err" || fail "json run: $(cat "$TEST_TMP/err")"
assert_eq "$(q "SELECT count() FROM j WHERE id = 'no-pressure'")" "0" "a row without pressure was stored"
assert_eq "$(q 'SELECT count() FROM j')" "2" "rows stored"
assert_contains "$(cat "$TEST_TMP/rejects.j")" "missing column 'pressure'"
assert_contains "$(cat "$TEST_TMP/err")" "3 rows"
assert_contains "$(cat "$TEST_TMP/err")" "2 inserted, 1 rejected"
assert_eq "$(cat "$TEST_TMP/acks")" '{"topic":"t","partition":0,"offset":3}' "acks cover the rejected row"
pass "JSONEachRow row without a column: rejected, not stored as 0"

# --- VALUES: two tuples on one line are one reject, not two rows counted as one
cat >"$TEST_TMP/rows.values" <<'V'
INSERT INTO sensor_metrics VALUES
('v-1', '2025-07-07 22:00:00', 's', 1.5, 2, 1000),
('v-2', '2025-07-07 22:00:00', 's', 1.5, 2, 1000), ('v-3', '2025-07-07 22:00:00', 's', 1.5, 2, 1000),
('v-4', '2025-07-07 22:00:00', 's', 1.5, 2, 1000);
V
ch-insert --url "$CH_URL" --table v --create-table -f values --rejects "$TEST_TMP/rejects.v" <"$TEST_TMP/rows.values" \
  >/dev/null 2>"$TEST_TMP/err" || fail "values run: $(cat "$TEST_TMP/err")"
assert_eq "$(q 'SELECT count() FROM v')" "2" "rows stored"
assert_contains "$(cat "$TEST_TMP/err")" "3 rows"
assert_contains "$(cat "$TEST_TMP/err")" "2 inserted, 1 rejected"
assert_contains "$(cat "$TEST_TMP/rejects.v")" "more than one tuple"
pass "VALUES line with two tuples: rejected, counts true"

# --- TSV: a short row is rejected (ClickHouse would refuse it too, after a round trip per split)
printf 't-1\t2025-07-07 22:00:00\ts\t1.5\t2\t1000\nt-2\t2025-07-07 22:00:00\ts\t1.5\t2\n' >"$TEST_TMP/rows.tsv"
ch-insert --url "$CH_URL" --table t --create-table -f tsv --rejects "$TEST_TMP/rejects.t" <"$TEST_TMP/rows.tsv" \
  >/dev/null 2>"$TEST_TMP/err" || fail "tsv run: $(cat "$TEST_TMP/err")"
assert_eq "$(q 'SELECT count() FROM t')" "1" "rows stored"
assert_contains "$(cat "$TEST_TMP/rejects.t")" "5 fields, want 6"
pass "TSV row with a missing field: rejected"

# --- a row ClickHouse refuses, holding terminal escapes: stderr shows them escaped
printf '{"id":"esc","ts":"2025-07-07 22:00:00","sensor_id":"s","temperature":"\033[2J\033]0;owned\007","humidity":2,"pressure":3}\n' \
  >"$TEST_TMP/esc.jsonl"
ch-insert --url "$CH_URL" --table j --rejects "$TEST_TMP/rejects.e" <"$TEST_TMP/esc.jsonl" >/dev/null 2>"$TEST_TMP/err" \
  || fail "escape run: $(cat "$TEST_TMP/err")"
assert_contains "$(cat "$TEST_TMP/err")" "rejected"
LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$TEST_TMP/err" && fail "raw control bytes on stderr: $(od -c "$TEST_TMP/err" | head)"
assert_contains "$(cat "$TEST_TMP/err")" '\x1b'
pass "input quoted by ClickHouse reaches stderr escaped"
