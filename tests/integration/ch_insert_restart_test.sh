#!/usr/bin/env bash
# ch-insert while ClickHouse dies: the server is killed (-9) mid-stream and restarted by the test;
# every row ends up in the table exactly once under FINAL, and the acks cover the whole input.
# Then the server stays down: ch-insert gives up with 75 and acknowledges only what was confirmed.
source "$(dirname "$0")/lib.sh"

chdir=$TEST_TMP/ch
eval "$("$SRC_DIR/scripts/clickhouse.sh" start "$chdir")"
on_exit "'$SRC_DIR/scripts/clickhouse.sh' stop '$chdir'"
q() { curl -sS --fail-with-body "$CH_URL/" --data-binary "$1"; }

# rows with coordinates, 4 partitions; written in bursts so the stream lasts a few seconds
cat >"$TEST_TMP/producer.py" <<'PY'
import sys, time
n, burst, pause, start = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
out = sys.stdout
for i in range(start, start + n):
    out.write('{"id":"msg-%d","ts":"2025-07-07 %02d:%02d:%02d","sensor_id":"sensor-%03d","temperature":%.1f,'
              '"humidity":%d,"pressure":%d,"_topic":"sensor_metrics","_partition":%d,"_offset":%d}\n'
              % (i, i // 3600 % 24, i // 60 % 60, i % 60, i % 100, (i % 400) / 10, i % 100, 1000 + i % 50, i % 4, i // 4))
    if (i - start + 1) % burst == 0:
        out.flush()
        time.sleep(pause)
out.flush()
PY

total=30000
mkfifo "$TEST_TMP/in"
ch-insert --url "$CH_URL" --create-table --batch-rows 1000 --batch-seconds 0.2 --retries 40 --retry-max-delay 0.5 \
  --timeout 10 --acks "$TEST_TMP/acks" --rejects "$TEST_TMP/rejects" <"$TEST_TMP/in" 2>"$TEST_TMP/err" &
ins=$!
on_exit "kill $ins"
python3 "$TEST_TMP/producer.py" $total 1000 0.1 0 >"$TEST_TMP/in" &
prod=$!

# once some batches are in, kill the server hard, keep it down a moment, restart it
wait_until 30 test -s "$TEST_TMP/acks" || fail "no ack before the kill: $(cat "$TEST_TMP/err")"
kill -9 "$(cat "$chdir/pid")"
sleep 1.5
eval "$("$SRC_DIR/scripts/clickhouse.sh" restart "$chdir")"
wait $prod
rc=0; wait $ins || rc=$?
assert_eq "$rc" "0" "ch-insert exit after the server came back ($(tail -n 3 "$TEST_TMP/err"))"
grep -q "retry" "$TEST_TMP/err" || fail "the kill did not hit a request (no retry logged); test proves nothing"
assert_eq "$(q 'SELECT count() FROM sensor_metrics FINAL')" "$total" "rows under FINAL"
assert_eq "$(q 'SELECT uniqExact(id) FROM sensor_metrics')" "$total" "distinct ids"
assert_eq "$(q "SELECT count() FROM sensor_metrics FINAL WHERE id = 'msg-$((total - 1))'")" "1" "last row once"
[ -s "$TEST_TMP/rejects" ] && fail "unexpected rejects: $(head -c 500 "$TEST_TMP/rejects")"
# the last ack per partition is the highest offset of the input
for p in 0 1 2 3; do
  last=$(grep "\"partition\":$p," "$TEST_TMP/acks" | tail -n 1)
  assert_eq "$last" "{\"topic\":\"sensor_metrics\",\"partition\":$p,\"offset\":$(((total - 4 + p) / 4))}" "last ack of partition $p"
done
# acks come in batch order even with batches in flight in parallel: offsets never go back
python3 - "$TEST_TMP/acks" <<'PY' || fail "acks out of order"
import json, sys
last = {}
for l in open(sys.argv[1]):
    a = json.loads(l)
    k = (a["topic"], a["partition"])
    assert a["offset"] > last.get(k, -1), (l, last.get(k))
    last[k] = a["offset"]
PY
pass "server killed and restarted mid-stream: $total rows, none lost, none duplicated under FINAL"

# --- the server goes away for good: exit 75, acks only for confirmed rows
: >"$TEST_TMP/acks2"
mkfifo "$TEST_TMP/in2"
ch-insert --url "$CH_URL" --batch-rows 100 --batch-seconds 0.2 --retries 3 --retry-max-delay 0.2 --timeout 5 \
  --acks "$TEST_TMP/acks2" <"$TEST_TMP/in2" 2>"$TEST_TMP/err2" &
ins=$!
on_exit "kill $ins"
exec 7>"$TEST_TMP/in2"
python3 "$TEST_TMP/producer.py" 100 100 0 100000 >&7
wait_until 30 test -s "$TEST_TMP/acks2" || fail "first batch not acknowledged: $(cat "$TEST_TMP/err2")"
"$SRC_DIR/scripts/clickhouse.sh" stop "$chdir"
python3 "$TEST_TMP/producer.py" 100 100 0 100100 >&7
exec 7>&-
rc=0; wait $ins || rc=$?
assert_eq "$rc" "75" "exit code when ClickHouse stays down"
assert_contains "$(cat "$TEST_TMP/err2")" "still failing after 3 retries"
assert_contains "$(cat "$TEST_TMP/err2")" "100 NOT inserted"
# acks: only the first 100 rows (offsets 25000..25024 per partition)
assert_eq "$(sort "$TEST_TMP/acks2" | tr '\n' ' ')" "$(for p in 0 1 2 3; do printf '{"topic":"sensor_metrics","partition":%d,"offset":%d} ' $p $(((100099 - 3 + p) / 4)); done)" "acks of the confirmed batch only"
pass "server down: exit 75, only confirmed rows acknowledged"

# --- backpressure: while ClickHouse is down, stdin is not read, so the producer blocks; nothing
# is lost when it comes back
eval "$("$SRC_DIR/scripts/clickhouse.sh" restart "$chdir")"
q "CREATE TABLE bp AS sensor_metrics" >/dev/null
cat >"$TEST_TMP/counting_producer.py" <<'PY'
import sys
n, start, counter = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
out = sys.stdout
for i in range(start, start + n):
    out.write('{"id":"bp-%d","ts":"2025-07-07 10:00:00","sensor_id":"s%d","temperature":1.5,"humidity":2,"pressure":3,'
              '"_topic":"t","_partition":0,"_offset":%d}\n' % (i, i % 10, i))
    out.flush()  # one write per row: the count below is what the pipe accepted
    if i % 100 == 0:
        with open(counter, "w") as f: f.write(str(i - start))
with open(counter, "w") as f: f.write(str(n))
PY
mkfifo "$TEST_TMP/in3"
ch-insert --url "$CH_URL" --table bp --batch-rows 1000 -j 1 --retries -1 --retry-max-delay 0.3 --acks "$TEST_TMP/acks3" \
  <"$TEST_TMP/in3" 2>"$TEST_TMP/err3" &
ins=$!
on_exit "kill $ins"
exec 9>"$TEST_TMP/in3"
# streaming first: one row in and acknowledged, so the outage hits the insert loop itself
python3 "$TEST_TMP/counting_producer.py" 1 100000 "$TEST_TMP/count0" >&9
wait_until 30 grep -q '"offset":100000' "$TEST_TMP/acks3" || fail "first row not acknowledged: $(cat "$TEST_TMP/err3")"
"$SRC_DIR/scripts/clickhouse.sh" stop "$chdir"
python3 "$TEST_TMP/counting_producer.py" 100000 0 "$TEST_TMP/count" >&9 &
prod=$!
exec 9>&-
wait_until 30 grep -q retry "$TEST_TMP/err3" || fail "no retry while the server is down"
sleep 2  # give a producer that is not held back time to run far ahead
written=$(cat "$TEST_TMP/count")
# bound: 2 batches of 1000 rows + the 256 KiB read buffer + the pipe (ch-insert widens it to
# 1 MiB), ~140 B per row: about 11,400 rows, far from the 100,000 an unheld producer writes
[ "$written" -lt 14000 ] || fail "producer wrote $written rows while ClickHouse was down: no backpressure"
eval "$("$SRC_DIR/scripts/clickhouse.sh" restart "$chdir")"
wait $prod
rc=0; wait $ins || rc=$?
assert_eq "$rc" "0" "exit after the server came back ($(tail -n 2 "$TEST_TMP/err3"))"
assert_eq "$(q 'SELECT count() FROM bp FINAL')" "100001" "rows after the outage"
assert_eq "$(tail -n 1 "$TEST_TMP/acks3")" '{"topic":"t","partition":0,"offset":99999}' "last ack"
pass "ClickHouse down: stdin not read (producer held at $written of 100000 rows), all rows in afterwards"
