#!/usr/bin/env bash
# ch-insert against a real clickhouse-server (scripts/clickhouse.sh): values that break naive
# escaping round-trip in every input format, acks, the password user, bad rows isolated, and the
# exit codes of wrong password / missing table / server not running / rejects over threshold.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ch_lib.sh"

start_clickhouse

# Rows as sensor-parse writes them (independent Python implementation of the escapes), with
# Kafka coordinates. Tricky strings go into id and sensor_id.
cat >"$TEST_TMP/mkrows.py" <<'PY'
import json, sys
fmt, n, start = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
tricky = ["plain", "it's", 'say "hi"', "back\\slash", "tab\there", "new\nline", "cr\rhere",
          "ünïcödé ✓ 温度 😀", "'); DROP TABLE sensor_metrics; --", "\\'; DROP TABLE x; --", "", "a,b;c",
          "\\N", "NULL", "{\"json\":1}", "end\\"]
def tsv(s):
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
def sql(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + "'"
def csv(s):
    return '"' + s.replace('"', '""') + '"'
for i in range(start, start + n):
    t = tricky[i % len(tricky)]
    if fmt == "csv":
        t = t.replace("\n", " ").replace("\r", " ")  # CSV rows cannot carry newlines (sensor-parse rejects them)
    rid, sid = "id-%d-%s" % (i, t), t
    ts = "2025-07-07 22:%02d:%02d" % (i // 60 % 60, i % 60)
    temp, hum, pres = round(-20 + (i % 700) / 10, 1), i % 100, 900 + i % 200
    part, off = i % 3, i // 3
    if fmt == "json":
        print(json.dumps({"id": rid, "ts": ts, "sensor_id": sid, "temperature": temp, "humidity": hum,
                          "pressure": pres, "_topic": "sensor_metrics", "_partition": part, "_offset": off},
                         ensure_ascii=False, separators=(",", ":")))
    elif fmt == "tsv":
        print("\t".join([tsv(rid), ts, tsv(sid), str(temp), str(hum), str(pres), "sensor_metrics", str(part), str(off)]))
    elif fmt == "csv":
        print(",".join([csv(rid), csv(ts), csv(sid), str(temp), str(hum), str(pres), csv("sensor_metrics"), str(part), str(off)]))
    elif fmt == "values":
        print("(%s, %s, %s, %s, %s, %s)," % (sql(rid), sql(ts), sql(sid), temp, hum, pres))
PY
# The same rows as ClickHouse should return them, in JSONEachRow output form.
cat >"$TEST_TMP/check.py" <<'PY'
import json, sys
want_file, got_file = sys.argv[1], sys.argv[2]
want = {}
for line in open(want_file, encoding="utf-8"):
    r = json.loads(line)
    want[r["id"]] = r
got = [json.loads(l) for l in open(got_file, encoding="utf-8")]
errors = []
if len(got) != len(want):
    errors.append("row count %d, want %d" % (len(got), len(want)))
for g in got:
    w = want.get(g["id"])
    if w is None:
        errors.append("unexpected id %r" % g["id"]); continue
    for k in ("ts", "sensor_id", "humidity", "pressure"):
        if str(g[k]) != str(w[k]): errors.append("%r: %s = %r, want %r" % (g["id"], k, g[k], w[k]))
    if abs(float(g["temperature"]) - float(w["temperature"])) > 1e-9:
        errors.append("%r: temperature %r, want %r" % (g["id"], g["temperature"], w["temperature"]))
if errors:
    print("\n".join(errors[:20])); sys.exit(1)
PY

n=64
python3 "$TEST_TMP/mkrows.py" json $n 0 >"$TEST_TMP/want.jsonl"

# --- JSONEachRow with the password user (password file), table created, acks on stdout
CLICKHOUSE_USER=$CH_USER ch-insert --url "$CH_URL" --password-file "$CH_PASSWORD_FILE" --create-table \
  <"$TEST_TMP/want.jsonl" >"$TEST_TMP/acks" 2>"$TEST_TMP/err" || fail "json insert failed: $(cat "$TEST_TMP/err")"
q "SELECT id, toString(ts) AS ts, sensor_id, temperature, humidity, pressure FROM sensor_metrics FORMAT JSONEachRow" \
  >"$TEST_TMP/got.jsonl"
python3 "$TEST_TMP/check.py" "$TEST_TMP/want.jsonl" "$TEST_TMP/got.jsonl" || fail "json round trip differs"
assert_eq "$(q 'EXISTS TABLE sensor_metrics')" "1" "injection attempts must not drop the table"
assert_eq "$(cat "$TEST_TMP/acks")" '{"topic":"sensor_metrics","partition":0,"offset":21}
{"topic":"sensor_metrics","partition":1,"offset":20}
{"topic":"sensor_metrics","partition":2,"offset":20}' "acks"
grep -q "$CH_PASSWORD" "$TEST_TMP/err" && fail "password in stderr"
pass "JSONEachRow round trip of $n tricky rows with the password user, acks"

# --- TSV, CSV, VALUES: each into a fresh table, same values expected (CSV without newlines)
for fmt in tsv csv values; do
  python3 "$TEST_TMP/mkrows.py" "$fmt" $n 0 >"$TEST_TMP/in.$fmt"
  python3 "$TEST_TMP/mkrows.py" json $n 0 >"$TEST_TMP/want.$fmt.jsonl"
  if [ "$fmt" = csv ]; then
    python3 - "$TEST_TMP/want.$fmt.jsonl" <<'PY'
import json, sys
p = sys.argv[1]
rows = [json.loads(l) for l in open(p, encoding="utf-8")]
with open(p, "w", encoding="utf-8") as f:
    for r in rows:
        for k in ("id", "sensor_id"):
            r[k] = r[k].replace("\n", " ").replace("\r", " ")
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
PY
  fi
  # the seed's statement shape in front of the VALUES tuples is accepted too
  [ "$fmt" = values ] && sed -i '1i INSERT INTO sensor_metrics VALUES' "$TEST_TMP/in.$fmt"
  CLICKHOUSE_PASSWORD=$CH_PASSWORD CLICKHOUSE_USER=$CH_USER ch-insert --url "$CH_URL" --table "rt_$fmt" \
    --create-table -f "$fmt" --acks "$TEST_TMP/acks.$fmt" <"$TEST_TMP/in.$fmt" 2>"$TEST_TMP/err" \
    || fail "$fmt insert failed: $(cat "$TEST_TMP/err")"
  q "SELECT id, toString(ts) AS ts, sensor_id, temperature, humidity, pressure FROM rt_$fmt FORMAT JSONEachRow" \
    >"$TEST_TMP/got.$fmt"
  python3 "$TEST_TMP/check.py" "$TEST_TMP/want.$fmt.jsonl" "$TEST_TMP/got.$fmt" || fail "$fmt round trip differs"
  if [ "$fmt" = values ]; then
    assert_eq "$(cat "$TEST_TMP/acks.$fmt")" "" "VALUES rows carry no coordinates, so no acks"
  else
    assert_eq "$(wc -l <"$TEST_TMP/acks.$fmt")" "3" "$fmt acks"
  fi
done
pass "TSV, CSV and VALUES round trips"

# --- one bad row among 200 (several batches): only it is rejected, with ClickHouse's message
python3 "$TEST_TMP/mkrows.py" json 200 1000 >"$TEST_TMP/bad.jsonl"
sed -i '77s/"temperature":[-0-9.]*/"temperature":"warm"/' "$TEST_TMP/bad.jsonl"
bad_id=$(sed -n 77p "$TEST_TMP/bad.jsonl" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["id"])')
ch-insert --url "$CH_URL" --table bad_rows --create-table --batch-rows 150 --rejects "$TEST_TMP/rejects.jsonl" \
  <"$TEST_TMP/bad.jsonl" >"$TEST_TMP/acks" 2>"$TEST_TMP/err" || fail "bad-row run failed: $(cat "$TEST_TMP/err")"
assert_eq "$(q 'SELECT count() FROM bad_rows')" "199" "rows inserted"
assert_eq "$(q "SELECT count() FROM bad_rows WHERE id = '$(printf '%s' "$bad_id" | sed "s/\\\\/\\\\\\\\/g; s/'/\\\\'/g")'")" "0" "bad row absent"
assert_eq "$(wc -l <"$TEST_TMP/rejects.jsonl")" "1" "one reject"
python3 - "$TEST_TMP/rejects.jsonl" "$bad_id" <<'PY' || fail "reject record"
import json, sys
r = json.loads(open(sys.argv[1], encoding="utf-8").read())
assert r["line"] == 77, r
assert r["code"] == 27 and "Cannot parse input" in r["error"], r
assert json.loads(r["row"])["id"] == sys.argv[2], r
assert r["topic"] == "sensor_metrics" and r["partition"] == (1000 + 76) % 3, r
PY
assert_contains "$(cat "$TEST_TMP/err")" "200 rows" "summary"
assert_contains "$(cat "$TEST_TMP/err")" "199 inserted, 1 rejected" "summary counts"
# acks cover the rejected row too: highest offsets of the whole input
assert_eq "$(tail -n 3 "$TEST_TMP/acks" | sort)" "$(python3 -c '
for p in range(3):
    print("{\"topic\":\"sensor_metrics\",\"partition\":%d,\"offset\":%d}" % (p, max(i // 3 for i in range(1000, 1200) if i % 3 == p)))' | sort)" "acks"
pass "one bad row isolated and rejected, 199 inserted"

# --- a bad VALUES tuple (no "(at row N)" hint from ClickHouse: bisection), sent uncompressed
python3 "$TEST_TMP/mkrows.py" values 20 5000 >"$TEST_TMP/bad.values"
sed -i "13s/, [-0-9.]*, \([0-9]*\), \([0-9]*\)),\$/, 'warm', \1, \2),/" "$TEST_TMP/bad.values"
grep -q "'warm'" "$TEST_TMP/bad.values" || fail "test setup: no bad tuple"
ch-insert --url "$CH_URL" --table bad_values --create-table -f values --compression-level 0 -j 1 \
  --rejects "$TEST_TMP/rejects.values" <"$TEST_TMP/bad.values" >/dev/null 2>"$TEST_TMP/err" \
  || fail "values run: $(cat "$TEST_TMP/err")"
assert_eq "$(q 'SELECT count() FROM bad_values')" "19" "good tuples inserted"
assert_eq "$(wc -l <"$TEST_TMP/rejects.values")" "1" "one reject"
assert_contains "$(cat "$TEST_TMP/rejects.values")" '"line":13'
pass "bad VALUES tuple isolated by bisection (uncompressed requests)"

# --- --max-rejects exceeded: exit 1 (after inserting the good rows)
rc=0; ch-insert --url "$CH_URL" --table bad_rows2 --create-table --max-rejects 0 <"$TEST_TMP/bad.jsonl" >/dev/null 2>"$TEST_TMP/err" || rc=$?
assert_eq "$rc" "1" "exit code with rejects over --max-rejects"
assert_eq "$(q 'SELECT count() FROM bad_rows2')" "199" "good rows still inserted"

# --- wrong password: 77, clear message, the password never printed
rc=0; CLICKHOUSE_USER=$CH_USER CLICKHOUSE_PASSWORD='not-the-Secret-42' ch-insert --url "$CH_URL" \
  <"$TEST_TMP/want.jsonl" >/dev/null 2>"$TEST_TMP/err" || rc=$?
assert_eq "$rc" "77" "exit code for a wrong password"
assert_contains "$(cat "$TEST_TMP/err")" "refused user 'writer'"
assert_contains "$(cat "$TEST_TMP/err")" "Wrong password"
grep -q 'not-the-Secret-42' "$TEST_TMP/err" && fail "password printed"
# ... nor when it sits in the URL
rc=0; ch-insert --url "http://writer:not-the-Secret-42@${CH_URL#http://}" <"$TEST_TMP/want.jsonl" >/dev/null 2>"$TEST_TMP/err" || rc=$?
assert_eq "$rc" "77" "exit code for a wrong password in the URL"
grep -q 'not-the-Secret-42' "$TEST_TMP/err" && fail "password from the URL printed"
pass "wrong password: exit 77, password never printed"

# --- missing table: 66 with a hint, nothing read
rc=0; ch-insert --url "$CH_URL" --table no_such_table <"$TEST_TMP/want.jsonl" >/dev/null 2>"$TEST_TMP/err" || rc=$?
assert_eq "$rc" "66" "exit code for a missing table"
assert_contains "$(cat "$TEST_TMP/err")" "no_such_table does not exist"
assert_contains "$(cat "$TEST_TMP/err")" "--create-table"
rc=0; ch-insert --url "$CH_URL" -d no_such_db <"$TEST_TMP/want.jsonl" >/dev/null 2>"$TEST_TMP/err" || rc=$?
assert_eq "$rc" "66" "exit code for a missing database"
pass "missing table / database: exit 66 suggesting --create-table"

# --- unknown column (table without one of the schema's columns): 65
q "CREATE TABLE narrow (id String, ts DateTime) ENGINE = ReplacingMergeTree() ORDER BY id" >/dev/null
rc=0; ch-insert --url "$CH_URL" --table narrow <"$TEST_TMP/want.jsonl" >/dev/null 2>"$TEST_TMP/err" || rc=$?
assert_eq "$rc" "78" "exit code for a column the table lacks (a configuration mismatch, as with --create-table)"
assert_contains "$(cat "$TEST_TMP/err")" "No such column"
pass "schema mismatch: exit 78"

# --- server not running at start: 69 after the retries
port=$(free_port)
rc=0; ch-insert --url "http://127.0.0.1:$port" --retries 2 --retry-max-delay 0.1 <"$TEST_TMP/want.jsonl" \
  >"$TEST_TMP/acks" 2>"$TEST_TMP/err" || rc=$?
assert_eq "$rc" "69" "exit code when the server is not running"
assert_contains "$(cat "$TEST_TMP/err")" "is the server running"
assert_eq "$(cat "$TEST_TMP/acks")" "" "no acks"
pass "server not running: exit 69"

# --- a failover list: the first URL is dead, the second works
ch-insert --url "http://127.0.0.1:$port" --url "$CH_URL" --table failover --create-table --retry-max-delay 0.1 \
  <"$TEST_TMP/want.jsonl" >/dev/null 2>"$TEST_TMP/err" || fail "failover: $(cat "$TEST_TMP/err")"
assert_eq "$(q 'SELECT count() FROM failover')" "$n" "rows through the second URL"
pass "failover to the second --url"

# --- a slow trickle is flushed by time, long before stdin ends
mkfifo "$TEST_TMP/fifo"
ch-insert --url "$CH_URL" --table trickle --create-table --batch-seconds 0.3 <"$TEST_TMP/fifo" >"$TEST_TMP/trickle.acks" 2>"$TEST_TMP/err" &
pid=$!
exec 7>"$TEST_TMP/fifo"
head -n 1 "$TEST_TMP/want.jsonl" >&7
wait_until 20 grep -q offset "$TEST_TMP/trickle.acks" || fail "first row not flushed while stdin stays open"
assert_eq "$(q 'SELECT count() FROM trickle')" "1" "row inserted before end of input"
tail -n +2 "$TEST_TMP/want.jsonl" >&7
exec 7>&-
wait $pid || fail "trickle run failed: $(cat "$TEST_TMP/err")"
assert_eq "$(q 'SELECT count() FROM trickle')" "$n" "all rows"
pass "time-based flush while stdin stays open"

# --- SIGTERM: what was read is inserted and acknowledged, then exit 130
mkfifo "$TEST_TMP/fifo2"
ch-insert --url "$CH_URL" --table sigterm --create-table --batch-seconds 600 -v <"$TEST_TMP/fifo2" \
  >"$TEST_TMP/term.acks" 2>"$TEST_TMP/err" &
pid=$!
exec 8>"$TEST_TMP/fifo2"
head -n 10 "$TEST_TMP/want.jsonl" >"$TEST_TMP/ten.jsonl"
cat "$TEST_TMP/ten.jsonl" >&8  # one write(2): all ten lines are in the pipe together
wait_until 30 grep -q "batch 1 starts at line 1" "$TEST_TMP/err" || fail "rows not read: $(cat "$TEST_TMP/err")"
kill -TERM $pid
rc=0; wait $pid || rc=$?
exec 8>&-
assert_eq "$rc" "130" "exit code after SIGTERM"
assert_eq "$(q 'SELECT count() FROM sigterm')" "10" "rows read before SIGTERM inserted"
assert_eq "$(wc -l <"$TEST_TMP/term.acks")" "3" "and acknowledged"
pass "SIGTERM drains what was read: exit 130"
