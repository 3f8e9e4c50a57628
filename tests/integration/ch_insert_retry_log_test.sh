#!/usr/bin/env bash
# ch-insert's retry lines say which server failed and what failed there: "INSERT of N rows at URL
# failed: <ClickHouse's error>; retry K/M ..." with, when another --url is not resting, that the retry
# goes there now and that the failed one rests. Before, a ClickHouse error was logged as its bare
# text (no server named, in a cluster of four nobody could tell which one failed), and the failover
# line named only the server that rests, in words that read as if the retry went there. Against a
# real ClickHouse 18.16 that refuses every insert with a retriable error (TOO_MANY_PARTS: a table with
# parts_to_delay_insert = parts_to_throw_insert = 1 already holding one part), reached under two URLs (127.0.0.1 and
# localhost: two endpoints for ch-insert); rows from sensor-parse.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ch_lib.sh"
start_clickhouse_for_ch_insert
make_rows 200 7
q "CREATE TABLE sensor_metrics (id String, ts DateTime, sensor_id String, temperature Float64, humidity Float64,
     pressure Float64) ENGINE = MergeTree ORDER BY id SETTINGS parts_to_delay_insert = 1, parts_to_throw_insert = 1" || fail "create table"
q "INSERT INTO sensor_metrics (id) VALUES ('the one part')" || fail "the first part"
U1=$CH_URL U2=http://localhost:${CH_URL##*:}
rc=0
ch-insert --url "$U1" --url "$U2" --retries 2 --retry-max-delay 0.05 --batch-rows 1000 --no-acks <rows.jsonl 2>err.log || rc=$?
assert_eq "$rc" 75 "ch-insert against a server that keeps refusing with a retriable error ($(tail -2 err.log))"
retries=$(grep -F '; retry ' err.log || true)
[ "$(echo "$retries" | grep -c .)" -eq 2 ] || fail "want 2 retry lines, got: $(cat err.log)"
first=$(echo "$retries" | head -1) second=$(echo "$retries" | sed -n 2p)
# the first attempt goes to the first --url; the second URL is not resting then: the retry goes there
assert_contains "$first" "INSERT of $n rows at $U1 failed: Code: 252" "the first retry line names the server and its error"
assert_contains "$first" "; retry 1/2 now on another server ($U1 rests)" "the first retry line says where the retry goes"
# then both rest: the second retry waits
assert_contains "$second" "INSERT of $n rows at $U2 failed: Code: 252" "the second retry line names the other server"
[[ $second =~ \;\ retry\ 2/2\ in\ [0-9]+\ ms$ ]] || fail "the second retry line says it waits: $second"
assert_contains "$(tail -1 err.log)" "still failing after 2 retries: INSERT of $n rows at http://" "the final error names the server"
pass "retry lines: $first | $second"
