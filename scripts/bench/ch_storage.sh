#!/usr/bin/env bash
# Storage of a million seed rows on disk, in the table --create-table makes from the default schema and
# in a codec-tuned one (examples/schema-tuned.json without its TTL: the seed's 2025 times would expire):
# DoubleDelta for the time, Gorilla for the float metrics, ZSTD, LowCardinality sensor ids. Measured
# with ClickHouse 26 (chDB, fetched once into the cache), whose codecs 18.16 lacks: the rows as
# ch-insert sends them (its --dry-run body) go into each table, OPTIMIZE ... FINAL makes one part, and
# system.parts / system.columns give the sizes. Not a timing: the figures are the same on every run.
# Usage: scripts/bench/ch_storage.sh [ROWS]     (BIN_DIR defaults to build/bin; ROWS to BENCH_MESSAGES;
# part of make bench, skipped when chDB cannot be fetched)
set -euo pipefail
SRC_DIR=$(cd "$(dirname "$0")/../.." && pwd)
source "$SRC_DIR/scripts/bench/lib.sh"
BIN_DIR=${BIN_DIR:-$SRC_DIR/build/bin}
export PATH="$BIN_DIR:$PATH" LC_ALL=C.UTF-8
rows=${1:-$BENCH_MESSAGES}
bench_need_ours "$BIN_DIR/ch-insert" "$BIN_DIR/sensor-gen" "$BIN_DIR/sensor-parse"
w=$(mktemp -d /tmp/sp-ch-storage.XXXXXX)
trap 'rm -rf "$w"' EXIT
# chDB is fetched once (npm); without it this section cannot measure (fetch.sh exits: try it in a subshell)
(source "$SRC_DIR/scripts/chdb/fetch.sh") 2>"$w/fetch.err" ||
  bench_skip "chDB (ClickHouse 26 as a library) is not available: $(tail -n 2 "$w/fetch.err" | tr '\n' ' ')"
source "$SRC_DIR/scripts/chdb/fetch.sh"
cd "$w"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); s.pop("ttl"); s["table"]="tuned"; print(json.dumps(s))' \
  "$SRC_DIR/examples/schema-tuned.json" >tuned.json
sensor-gen -c "$rows" | sensor-parse -q >rows.json
SENSOR_SCHEMA= ch-insert --dry-run -q --create-table --table plain </dev/null >plain.sql
SENSOR_SCHEMA=$w/tuned.json ch-insert --dry-run -q --create-table </dev/null >tuned.sql

SRC_DIR=$SRC_DIR CHDB_PATH=$w/data ROWS="$rows" python3 - <<'PY'
import os, sys
sys.path.insert(0, os.path.join(os.environ["SRC_DIR"], "scripts", "chdb"))
from chdb_query import query
body = os.path.abspath("rows.json")
print("ClickHouse (chDB) %s, %s seed rows (sensor-gen | sensor-parse)" % (query("SELECT version()").strip(), os.environ["ROWS"]))
print("%-34s %10s %14s %16s %8s" % ("table", "rows", "compressed", "uncompressed", "ratio"))
res = {}
for t in ("plain", "tuned"):
    ddl = open(t + ".sql").read().strip().rstrip(";")
    query("%s;\nINSERT INTO %s FROM INFILE '%s' FORMAT JSONEachRow;\n"
          "OPTIMIZE TABLE %s FINAL" % (ddl, t, body, t))
    r, c, u = map(int, query("SELECT sum(rows), sum(data_compressed_bytes), sum(data_uncompressed_bytes) FROM system.parts "
                             "WHERE active AND table = '%s'" % t).split())
    res[t] = c
    name = "default schema" if t == "plain" else "codec-tuned (schema-tuned.json)"
    print("%-34s %10d %11.1f MiB %13.1f MiB %7.1fx" % (name, r, c / 2**20, u / 2**20, u / c))
    for line in query("SELECT name, type, compression_codec, data_compressed_bytes FROM system.columns WHERE table = '%s' "
                      "ORDER BY position FORMAT TSV" % t).splitlines():
        n, ty, codec, cb = line.split("\t")
        print("    %-12s %-24s %-30s %9.2f MiB" % (n, ty, codec or "(default: LZ4)", int(cb) / 2**20))
print("RESULT ch-storage-tuned-vs-default-schema ours=%.2fMiB ref=%.2fMiB ratio=%.2f spread=- rss_mb=- pairs=-"
      % (res["tuned"] / 2**20, res["plain"] / 2**20, res["tuned"] / res["plain"]))
PY
