#!/usr/bin/env bash
# Every schema type against a current ClickHouse (26.x, embedded: chDB's libchdb.so, fetched once into
# the cache like scripts/ch-compat-chdb.sh does): an all-types schema's DDL from ch-insert --create-table
# is accepted, and rows sensor-parse makes from crafted messages, in JSONEachRow, TSV, CSV and the
# VALUES statement, sent the way ch-insert sends them (its --dry-run output), read back value by value
# (toString of each column: DateTime64 fractions, time zones, Enum names, UUID case, NULLs).
# Usage: scripts/ch-types-chdb.sh     (BIN_DIR defaults to build/bin; run by make test as
# integration.ch_types_chdb_test)
set -euo pipefail
SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
source "$SRC_DIR/scripts/chdb/setup.sh" ch-types
# The example's types plus the awkward cases: a time zone far from UTC, 9 digits of fraction, an
# Enum name with a quote and a backslash, text with a tab and quotes in LowCardinality; Decimals past a
# double's digits; Arrays and Maps of text with quotes, tabs, backslashes and line breaks, of NULLs, of
# times and Decimals, and absent (written empty).
cat >schema.json <<'JSON'
{"table": "typed", "columns": [
  {"name": "id",     "type": "UUID", "path": "id"},
  {"name": "ts",     "type": "DateTime64(3, 'UTC')", "path": "timestamp"},
  {"name": "tokyo",  "type": "DateTime64(9, 'Asia/Tokyo')", "path": "value.tokyo"},
  {"name": "s0",     "type": "DateTime64(0)", "path": "value.s0"},
  {"name": "day",    "type": "Date", "path": "value.day"},
  {"name": "sensor", "type": "LowCardinality(String)", "path": "value.sensor"},
  {"name": "status", "type": "Enum8('ok' = 1, 'it\\'s \\\\odd' = -2, 'fault' = 3)", "path": "value.status"},
  {"name": "model",  "type": "Enum16('th-100' = 1000, 'th-200' = -2000)", "path": "value.model", "default": "th-100"},
  {"name": "site",   "type": "Nullable(LowCardinality(String))", "path": "value.site"},
  {"name": "cal",    "type": "Nullable(Date)", "path": "value.cal"},
  {"name": "seen",   "type": "Nullable(DateTime64(6))", "path": "value.seen"},
  {"name": "n",      "type": "Nullable(Int32)", "path": "value.n"},
  {"name": "note",   "type": "Nullable(String)", "path": "value.note"},
  {"name": "dd",     "type": "Date", "path": "value.dd", "default": "2025-07-07T23:30:00-01:00"},
  {"name": "td",     "type": "DateTime64(3, 'Asia/Tokyo')", "path": "value.td", "default": "2025-07-07T22:00:00.5Z"},
  {"name": "ud",     "type": "UUID", "path": "value.ud", "default": "123E4567-E89B-12D3-A456-42661417400F"},
  {"name": "price",  "type": "Decimal(19, 2)", "path": "value.price"},
  {"name": "big",    "type": "Nullable(Decimal128(20))", "path": "value.big"},
  {"name": "pd",     "type": "Decimal64(3)", "path": "value.pd", "default": "1.5"},
  {"name": "readings", "type": "Array(Nullable(Float64))", "path": "value.readings", "required": false},
  {"name": "tags",   "type": "Array(String)", "path": "value.tags", "required": false},
  {"name": "times",  "type": "Array(DateTime64(3, 'UTC'))", "path": "value.times", "required": false},
  {"name": "decs",   "type": "Array(Decimal(9, 2))", "path": "value.decs", "required": false},
  {"name": "payload", "type": "Map(String, Nullable(Float64))", "path": "value.payload", "required": false},
  {"name": "labels", "type": "Map(String, LowCardinality(String))", "path": "value.labels", "required": false},
  {"name": "stamps", "type": "Array(DateTime)", "path": "value.stamps", "required": false},
  {"name": "kinds", "type": "Map(String, Enum8('a' = 1, 'it\\'s' = 2))", "path": "value.kinds", "required": false}
], "order_by": ["sensor", "ts", "id"], "partition_by": "toYYYYMM(ts)"}
JSON
cat >in.jsonl <<'JSON'
{"id":"123E4567-E89B-12D3-A456-426614174000","timestamp":"2026-12-02T14:00:00.123+01:00","value":{"tokyo":"2026-12-02T14:00:00.123456789Z","s0":"2026-12-02T14:00:00.999Z","day":"2026-12-02","sensor":"s\t\"1\"\\","status":"it's \\odd","model":"th-200","site":"roof","cal":"2026-01-31","seen":"2286-11-20T17:46:39.9999999Z","n":-5,"note":"x'y","price":12345678901234567.89,"big":0.30000000000000004441,"readings":[1.5,null,-2],"tags":["a\tb","it's","q\"","back\\x","nl\nx","","x,y"],"times":["2026-12-02T14:00:00.123Z",1764684000007],"decs":[0.1,"2.5",1e2],"payload":{"t":21.5,"k\"'\\":null,"":-1,"a/b~c":3},"labels":{"site":"roof","a,b":"c\td"},"stamps":["2026-12-02T14:00:00Z",1764684000],"kinds":{"x":"it's","y":1}}}
{"id":"00000000-0000-0000-0000-000000000000","timestamp":1764684000007,"value":{"tokyo":1764684000001,"s0":1764684000,"day":"2149-06-06T23:59:59Z","sensor":"s-2","status":3,"site":null,"price":0.1,"big":null}}
{"id":"ffffffff-ffff-ffff-ffff-ffffffffffff","timestamp":"1970-01-01T00:00:00Z","value":{"tokyo":"2262-04-11T23:47:15.999999999Z","s0":"2026-06-30T23:59:60Z","day":"1970-01-01","sensor":"z","status":"ok","model":-2000,"cal":"2000-02-29","seen":"2026-12-02T14:00:00.5-02:30","price":"-99999999999999999.99","big":-1e-20,"pd":"-0.0","readings":[],"tags":[],"decs":[-0.5],"payload":{},"labels":{"x":""},"stamps":[],"kinds":{}}}
JSON
cat >want.jsonl <<'JSON'
{"id":"123e4567-e89b-12d3-a456-426614174000","ts":"2026-12-02 13:00:00.123","tokyo":"2026-12-02 23:00:00.123456789","s0":"2026-12-02 14:00:00","day":"2026-12-02","sensor":"s\t\"1\"\\","status":"it's \\odd","model":"th-200","site":"roof","cal":"2026-01-31","seen":"2286-11-20 17:46:39.999999","n":"-5","note":"x'y","dd":"2025-07-08","td":"2025-07-08 07:00:00.500","ud":"123e4567-e89b-12d3-a456-42661417400f","price":"12345678901234567.89","big":"0.30000000000000004441","pd":"1.5","readings":[1.5,null,-2],"tags":["a\tb","it's","q\"","back\\x","nl\nx","","x,y"],"times":["2026-12-02 14:00:00.123","2025-12-02 14:00:00.007"],"decs":[0.1,2.5,100],"payload":{"t":21.5,"k\"'\\":null,"":-1,"a/b~c":3},"labels":{"site":"roof","a,b":"c\td"},"stamps":["2026-12-02 14:00:00","2025-12-02 14:00:00"],"kinds":{"x":"it's","y":"a"}}
{"id":"00000000-0000-0000-0000-000000000000","ts":"2025-12-02 14:00:00.007","tokyo":"2025-12-02 23:00:00.001000000","s0":"2025-12-02 14:00:00","day":"2149-06-06","sensor":"s-2","status":"fault","model":"th-100","site":null,"cal":null,"seen":null,"n":null,"note":null,"dd":"2025-07-08","td":"2025-07-08 07:00:00.500","ud":"123e4567-e89b-12d3-a456-42661417400f","price":"0.1","big":null,"pd":"1.5","readings":[],"tags":[],"times":[],"decs":[],"payload":{},"labels":{},"stamps":[],"kinds":{}}
{"id":"ffffffff-ffff-ffff-ffff-ffffffffffff","ts":"1970-01-01 00:00:00.000","tokyo":"2262-04-12 08:47:15.999999999","s0":"2026-06-30 23:59:59","day":"1970-01-01","sensor":"z","status":"ok","model":"th-200","site":null,"cal":"2000-02-29","seen":"2026-12-02 16:30:00.500000","n":null,"note":null,"dd":"2025-07-08","td":"2025-07-08 07:00:00.500","ud":"123e4567-e89b-12d3-a456-42661417400f","price":"-99999999999999999.99","big":"-0.00000000000000000001","pd":"0","readings":[],"tags":[],"times":[],"decs":[-0.5],"payload":{},"labels":{"x":""},"stamps":[],"kinds":{}}
JSON
export SENSOR_SCHEMA=$w/schema.json
ch-insert --dry-run -q --create-table </dev/null >ddl.sql
for f in json tsv csv values; do
  sensor-parse -q -f $f <in.jsonl >rows.$f
  [ "$(wc -l <rows.$f)" = 3 ] || { echo "ch-types: sensor-parse -f $f made $(wc -l <rows.$f) rows, want 3" >&2; exit 1; }
  ch-insert --dry-run -q -f $f --table t_$f <rows.$f >dry.$f
done

SRC_DIR=$SRC_DIR CHDB_PATH=$w/data python3 - <<'PY'
import json, os, subprocess, sys
sys.path.insert(0, os.path.join(os.environ["SRC_DIR"], "scripts", "chdb"))
from chdb_query import query

ok = True
print("ClickHouse (chDB)", query("SELECT version()").strip())
ddl = open("ddl.sql", encoding="utf-8").read().rstrip().rstrip(";")
want = sorted((json.loads(l) for l in open("want.jsonl", encoding="utf-8")), key=lambda r: r["id"])
cols = list(want[0].keys())
# Arrays and Maps as JSONEachRow writes them (JSON arrays and objects), the rest as toString's text.
nullable = ("site", "cal", "seen", "n", "note", "big")
containers = ("readings", "tags", "times", "decs", "payload", "labels", "stamps", "kinds")
select = "SELECT %s FROM %%s ORDER BY id" % ", ".join(c if c in containers else "toString(%s) AS %s" % (c, c) if c not in nullable
                                                      else "if(isNull(%s), NULL, toString(%s)) AS %s" % (c, c, c) for c in cols)
for fmt, chfmt in (("json", "JSONEachRow"), ("tsv", "TabSeparated"), ("csv", "CSV"), ("values", None)):
    t = "t_" + fmt
    text = open("dry." + fmt, encoding="utf-8").read()
    create = ddl.replace("`default`.`typed`", t)
    try:
        if chfmt:
            body = os.path.abspath("body." + fmt)
            open(body, "w", encoding="utf-8").write(
                "\n".join(l for l in text.split("\n") if not l.startswith("-- ") and not l.startswith("INSERT INTO")))
            query("%s; INSERT INTO %s FROM INFILE '%s' FORMAT %s" % (create, t, body, chfmt))
        else:
            stmt = "\n".join(l for l in text.split("\n") if not l.startswith("-- "))
            query(create + ";\n" + stmt)
        got = [json.loads(l) for l in query(select % t, "JSONEachRow").splitlines() if l]
    except RuntimeError as e:
        print("%-28s FAILED: %s" % (fmt + " all types", str(e)[:400])); ok = False; continue
    same = got == want
    print("%-28s %s" % (fmt + " all types", "ok" if same else "DIFFERS"))
    if not same:
        for g, x in zip(got, want):
            for k in cols:
                if g.get(k) != x.get(k): print("   %s: got %r want %r" % (k, g.get(k), x.get(k)))
        if len(got) != len(want): print("   %d rows, want %d" % (len(got), len(want)))
    ok &= same
# The DDL's DEFAULTs, for rows from other writers: the same values sensor-parse writes.
try:
    query(ddl.replace("`default`.`typed`", "t_defaults") + "; INSERT INTO t_defaults (id, ts, tokyo, s0, day, sensor, status) "
          "VALUES ('00000000-0000-0000-0000-000000000000', '1751925600.000', '1751925600.000000000', '1751925600', '2025-07-07', 's', 'ok')")
    got = json.loads(query("SELECT toString(dd) AS dd, toString(td) AS td, toString(ud) AS ud, toString(pd) AS pd, tags, payload "
                           "FROM t_defaults", "JSONEachRow"))
    same = got == {"dd": want[0]["dd"], "td": want[0]["td"], "ud": want[0]["ud"], "pd": "1.5", "tags": [], "payload": {}}
    print("%-28s %s" % ("DDL defaults", "ok" if same else "DIFFERS: %r" % got)); ok &= same
except RuntimeError as e:
    print("%-28s FAILED: %s" % ("DDL defaults", str(e)[:400])); ok = False
sys.exit(0 if ok else 1)
PY
