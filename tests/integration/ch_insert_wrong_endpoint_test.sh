#!/usr/bin/env bash
# Regression (issue 16, item 6): a wrong endpoint took about 60 s. A plain HTTP server (python's
# http.server, answering 501 to a POST) was retried 10 times with its whole HTML page logged each
# time, and malformed URLs were retried instead of refused. Now an answer without any
# X-ClickHouse-* header ends the run at once (69), bodies are cut in logs, malformed URLs are
# usage errors (2). The real server (18.16) sends X-ClickHouse-* headers on success and errors
# alike: inserts and a refused row still work.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ch_lib.sh"

start_clickhouse

row() { printf '{"id":"%s","ts":"2025-07-07 10:00:00","sensor_id":"s","temperature":%s,"humidity":40,"pressure":1000}\n' "$1" "$2"; }
{ row a 1.5; row b 2.5; } >"$TEST_TMP/rows.jsonl"

# --- a plain HTTP server that is not ClickHouse (the "wrong endpoint"; not a stand-in for ClickHouse)
port=$(free_port)
mkdir -p "$TEST_TMP/www"
(cd "$TEST_TMP/www" && exec python3 -m http.server "$port" --bind 127.0.0.1) >"$TEST_TMP/http.log" 2>&1 &
on_exit "kill $!"
wait_until 20 curl -sf "http://127.0.0.1:$port/" || fail "http.server did not start"
start=$SECONDS
rc=0; timeout 30 ch-insert --url "http://127.0.0.1:$port" <"$TEST_TMP/rows.jsonl" >"$TEST_TMP/acks" 2>"$TEST_TMP/err" || rc=$?
took=$((SECONDS - start))
assert_eq "$rc" "69" "exit code for an endpoint that is not ClickHouse ($(head -c 1500 "$TEST_TMP/err"))"
[ "$took" -le 5 ] || fail "took ${took}s: retried instead of stopping at once"
assert_contains "$(cat "$TEST_TMP/err")" "not ClickHouse's HTTP interface"
assert_contains "$(cat "$TEST_TMP/err")" "--url"
grep -q retry "$TEST_TMP/err" && fail "retried: $(cat "$TEST_TMP/err")"
[ "$(wc -c <"$TEST_TMP/err")" -le 1000 ] || fail "the whole page was logged: $(wc -c <"$TEST_TMP/err") bytes"
assert_eq "$(cat "$TEST_TMP/acks")" "" "no acks"
pass "plain HTTP server: exit 69 at once (${took}s), body cut"

# --- malformed URLs: usage errors, no retries
for url in 'http://[::1' 'http://127.0.0.1:99999' 'http://127.0.0.1:8123:8123'; do
  start=$SECONDS
  rc=0; timeout 30 ch-insert --url "$url" <"$TEST_TMP/rows.jsonl" >/dev/null 2>"$TEST_TMP/err" || rc=$?
  assert_eq "$rc" "2" "exit code for --url '$url' ($(head -c 500 "$TEST_TMP/err"))"
  [ $((SECONDS - start)) -le 2 ] || fail "--url '$url' took $((SECONDS - start))s"
  assert_contains "$(cat "$TEST_TMP/err")" "not a valid URL"
done
rc=0; CLICKHOUSE_URL='http://[::1' ch-insert <"$TEST_TMP/rows.jsonl" >/dev/null 2>"$TEST_TMP/err" || rc=$?
assert_eq "$rc" "2" "a malformed CLICKHOUSE_URL"
pass "malformed URLs: exit 2 at once"

# --- the real server still works, refused rows included (its errors carry X-ClickHouse-* headers)
curl -sS -o /dev/null -D "$TEST_TMP/h" "$CH_URL/" --data-binary 'SELECT nosuchcolumn' || true
grep -qi '^X-ClickHouse-' "$TEST_TMP/h" || fail "this ClickHouse sends no X-ClickHouse-* header on errors: $(cat "$TEST_TMP/h")"
{ row c 3.5; row d '"warm"'; row e 4.5; } >>"$TEST_TMP/rows.jsonl"
ch-insert --url "$CH_URL" --create-table --rejects "$TEST_TMP/rejects" <"$TEST_TMP/rows.jsonl" >/dev/null 2>"$TEST_TMP/err" \
  || fail "insert into the real server: $(cat "$TEST_TMP/err")"
assert_eq "$(q 'SELECT count() FROM sensor_metrics')" "4" "rows inserted"
assert_contains "$(cat "$TEST_TMP/rejects")" '"code":27'
pass "the real ClickHouse: rows inserted, the bad one rejected with its code"
