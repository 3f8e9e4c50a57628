#!/usr/bin/env bash
# Compatibility check of ch-insert with a current ClickHouse (26.x), which cannot be installed
# here as a server: chDB's libchdb.so (npm package @chdb/lib-linux-x64-gnu, ~170 MB, fetched once
# with `npm pack` into the cache, like Kafka's jars) runs, in clickhouse-local mode:
#   - the CREATE TABLE of --create-table,
#   - the request bodies ch-insert sends (taken from --dry-run) in JSONEachRow, TSV and CSV, and the
#     exact seed-style INSERT ... VALUES statement, with the round-trip test's tricky values,
#     each compared value by value after a SELECT,
#   - that the settings ch-insert sends to new servers exist, and that a bad row's error still
#     carries a data error code and "(at row N)" (what the batch splitting relies on).
# HTTP behaviour (status codes, headers) is not covered: chDB has no HTTP server.
# Usage: scripts/ch-compat-chdb.sh     (BIN_DIR defaults to build/bin; run by make test as
# integration.ch_compat_chdb_test)
set -euo pipefail
SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
source "$SRC_DIR/scripts/chdb/setup.sh" ch-compat
test_file=$SRC_DIR/tests/integration/ch_insert_roundtrip_test.sh
extract() { sed -n "/^cat >\"\$TEST_TMP\/$1\" <<'PY'/,/^PY\$/p" "$test_file" | sed '1d;$d'; }
extract mkrows.py >"$w/mkrows.py"
extract check.py >"$w/check.py"
[ -s "$w/mkrows.py" ] && [ -s "$w/check.py" ] || { echo "ch-compat: cannot find the row helpers in $test_file" >&2; exit 1; }

python3 mkrows.py json 64 0 >want.jsonl
ch-insert --dry-run -q --create-table <want.jsonl >dry.json
for f in tsv csv values; do
  python3 mkrows.py $f 64 0 >in.$f
  ch-insert --dry-run -q -f $f --table rt_$f <in.$f >dry.$f
done

SRC_DIR=$SRC_DIR CHDB_PATH=$w/data python3 - <<'PY'
import json, os, subprocess, sys
sys.path.insert(0, os.path.join(os.environ["SRC_DIR"], "scripts", "chdb"))
from chdb_query import query

ok = True
print("ClickHouse (chDB)", query("SELECT version()").strip())
names = ["date_time_input_format", "input_format_parallel_parsing", "insert_deduplication_token", "max_insert_block_size"]
have = query("SELECT name FROM system.settings WHERE name IN (%s)" % ",".join("'%s'" % n for n in names)).split()
for n in names:
    print("setting %-32s %s" % (n, "present" if n in have else "MISSING")); ok &= n in have
text = open("dry.json", encoding="utf-8").read()
ddl, rest = text.split(";\n", 1)
cols = "id String, ts DateTime, sensor_id String, temperature Float64, humidity Float64, pressure Float64"
def data_lines(t):  # --dry-run output minus the "-- batch" comments and INSERT lines
    return "\n".join(l for l in t.split("\n") if not l.startswith("-- ") and not l.startswith("INSERT INTO"))
def check(want, got_text, what):
    global ok
    open("got", "w", encoding="utf-8").write(got_text)
    rc = subprocess.call([sys.executable, "check.py", want, "got"])
    print("%-28s %s" % (what, "ok" if rc == 0 else "DIFFERS")); ok &= rc == 0
rows = [json.loads(l) for l in open("want.jsonl", encoding="utf-8")]
with open("want.csv.jsonl", "w", encoding="utf-8") as f:
    for r in rows:
        for k in ("id", "sensor_id"): r[k] = r[k].replace("\n", " ").replace("\r", " ")
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
select = "SELECT id, toString(ts) AS ts, sensor_id, temperature, humidity, pressure FROM %s"
for fmt, chfmt, src in (("json", "JSONEachRow", rest), ("tsv", "TabSeparated", open("dry.tsv", encoding="utf-8").read()),
                        ("csv", "CSV", open("dry.csv", encoding="utf-8").read())):
    path = os.path.abspath("body." + fmt)
    open(path, "w", encoding="utf-8").write(data_lines(src))
    t = "t_" + fmt
    query("%s; INSERT INTO %s SELECT * FROM file('%s', '%s', '%s') SETTINGS date_time_input_format='best_effort', "
          "input_format_parallel_parsing=0" % (ddl.replace("`default`.`sensor_metrics`", t), t, path, chfmt, cols))
    check("want.csv.jsonl" if fmt == "csv" else "want.jsonl", query(select % t, "JSONEachRow"), fmt + " body round trip")
stmt = "\n".join(l for l in open("dry.values", encoding="utf-8").read().split("\n") if not l.startswith("-- "))
query(ddl.replace("`default`.`sensor_metrics`", "rt_values") + ";\n" + stmt)
check("want.jsonl", query(select % "rt_values", "JSONEachRow"), "VALUES statement round trip")
bad = os.path.abspath("bad.json")
open(bad, "w").write('{"id":"a","ts":"2025-07-07 22:00:00","sensor_id":"s","temperature":1,"humidity":1,"pressure":1}\n'
                     '{"id":"b","ts":"2025-07-07 22:00:00","sensor_id":"s","temperature":"warm","humidity":1,"pressure":1}\n')
try:
    query("SELECT * FROM file('%s', 'JSONEachRow', '%s') SETTINGS input_format_parallel_parsing=0" % (bad, cols))
    print("bad row accepted: UNEXPECTED"); ok = False
except RuntimeError as e:
    m = str(e)
    # 18.16 says 27 (CANNOT_PARSE_INPUT_ASSERTION_FAILED), 26.x says 72 (CANNOT_PARSE_NUMBER): both are
    # data errors to ch-insert (classify_ch_error, pinned in ch_insert_client_test)
    good = ("Code: 27" in m or "Code: 72" in m) and "(at row 2)" in m
    print("%-28s %s" % ("bad row: data code, at row 2", "ok" if good else "DIFFERS: " + m[:300])); ok &= good
sys.exit(0 if ok else 1)
PY
