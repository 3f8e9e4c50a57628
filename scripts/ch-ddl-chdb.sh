#!/usr/bin/env bash
# Every DDL ch-insert --create-table emits, against a current ClickHouse (26.x, embedded: chDB, fetched
# once into the cache like scripts/ch-compat-chdb.sh): the default schema, the all-types example and a
# tuned schema (every codec, a TTL, every table setting the schema takes), each
#   - without --cluster: the statements run, then sensor-parse's rows go in as ch-insert sends them
#     (its --dry-run body) and are counted;
#   - with --cluster: every statement's exact text (ON CLUSTER included) is parsed by ClickHouse 26
#     (EXPLAIN AST), then run without "ON CLUSTER" (chDB has no distributed DDL: "Replicated DDL queries
#     are disabled") under a config with the macros {shard}/{replica}, the cluster and an in-memory
#     keeper, and the local table's engine is checked for its TTL and settings. Rows cannot go into the
#     replicated table there (its replica stays read-only without a real keeper): the cluster tests on
#     18.16 (ch_insert_cluster_test) cover rows through the Distributed table.
# Usage: scripts/ch-ddl-chdb.sh     (BIN_DIR defaults to build/bin; run by make test as
# integration.ch_ddl_chdb_test)
set -euo pipefail
SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
source "$SRC_DIR/scripts/chdb/setup.sh" ch-ddl

# The tuned schema: every codec on a column it fits, a TTL on a DateTime64 (written toDateTime(ts)),
# every table setting. Long TTL (within DateTime, which ends in 2106): the rows' 2025 times must not have expired.
cat >tuned.json <<'JSON'
{"table": "tuned", "columns": [
  {"name": "id",          "type": "String",                 "path": "id",                "codec": "ZSTD(1)"},
  {"name": "ts",          "type": "DateTime64(3, 'UTC')",   "path": "timestamp",         "codec": "DoubleDelta, ZSTD(1)"},
  {"name": "ts2",         "type": "DateTime",               "path": "timestamp",         "codec": "Delta(4), LZ4HC(9)"},
  {"name": "sensor_id",   "type": "LowCardinality(String)", "path": "value.sensor_id",   "codec": "LZ4"},
  {"name": "temperature", "type": "Float64",                "path": "value.temperature", "codec": "Gorilla, ZSTD(3)"},
  {"name": "humidity",    "type": "Float32",                "path": "value.humidity",    "codec": "Gorilla"},
  {"name": "pressure",    "type": "Float64",                "path": "value.pressure",    "codec": "Delta(8), ZSTD(22)"},
  {"name": "seq",         "type": "UInt32",                 "path": "value.seq", "default": 7, "codec": "T64, LZ4"},
  {"name": "status",      "type": "Enum8('ok' = 1, 'fault' = 2)", "path": "value.status", "default": "ok", "codec": "T64"},
  {"name": "day",         "type": "Date",                   "path": "value.day", "default": "2025-07-07", "codec": "DoubleDelta"},
  {"name": "note",        "type": "Nullable(String)",       "path": "value.note", "codec": "NONE"}
], "order_by": ["sensor_id", "ts", "id"], "partition_by": "toYYYYMM(ts)", "ttl": "ts + INTERVAL 50 YEAR",
 "settings": {"index_granularity": 4096, "index_granularity_bytes": 10485760, "min_bytes_for_wide_part": 0,
   "min_rows_for_wide_part": 0, "merge_max_block_size": 8192, "min_age_to_force_merge_seconds": 60,
   "parts_to_delay_insert": 300, "parts_to_throw_insert": 600, "replicated_deduplication_window": 100,
   "replicated_deduplication_window_seconds": 604800, "non_replicated_deduplication_window": 100,
   "merge_with_ttl_timeout": 3600, "ttl_only_drop_parts": 1}}
JSON
cat >types-in.jsonl <<'JSON'
{"id":"123e4567-e89b-12d3-a456-426614174000","timestamp":"2026-12-02T14:00:00.123Z","day":"2026-12-02","value":{"sensor_id":"s-1","status":"ok","temperature":21.5,"site":"roof","calibrated":"2026-01-31","seen":"2026-12-02T14:00:00.5Z"}}
{"id":"00000000-0000-0000-0000-000000000001","timestamp":1764684000007,"day":"2026-12-01","value":{"sensor_id":"s-2","status":"fault","model":"th-200","temperature":-3}}
JSON
sensor-gen -c 1000 >gen.jsonl
for s in default all-types tuned; do
  case $s in
    default) schema=; in=gen.jsonl ;;
    all-types) schema=$SRC_DIR/examples/schema-all-types.json; in=types-in.jsonl ;;
    tuned) schema=$w/tuned.json; in=gen.jsonl ;;
  esac
  export SENSOR_SCHEMA=$schema
  sensor-parse -q <"$in" >rows.$s
  ch-insert --dry-run -q --create-table <rows.$s >dry.$s
  ch-insert --dry-run -q --create-table --cluster sensors --database sp </dev/null >cluster.$s
  wc -l <rows.$s >count.$s
done

cluster_config config.xml

SRC_DIR=$SRC_DIR CHDB_PATH=$w/data python3 - <<'PY'
import os, re, sys
sys.path.insert(0, os.path.join(os.environ["SRC_DIR"], "scripts", "chdb"))
from chdb_query import Checks, dry_run_parts, query, statements

report = Checks(44, 400)
print("ClickHouse (chDB)", query("SELECT version()").strip())
for s in ("default", "all-types", "tuned"):
    body = os.path.abspath("body." + s)
    stmts = dry_run_parts("dry." + s, body)
    table = re.search(r"CREATE TABLE IF NOT EXISTS `default`\.`([^`]+)`", stmts[-1]).group(1)
    want = int(open("count." + s).read())
    try:
        query(";\n".join(stmts) + ";\nINSERT INTO `%s` FROM INFILE '%s' FORMAT JSONEachRow" % (table, body))
        got = int(query("SELECT count() FROM `%s`" % table))
        report("%s: DDL accepted, %d rows in" % (s, want), got == want, "got %d rows" % got)
    except RuntimeError as e:
        report("%s: DDL accepted, %d rows in" % (s, want), False, str(e))
    if s == "tuned":
        cols = query("SELECT name, compression_codec FROM system.columns WHERE table = 'tuned' FORMAT TSV")
        full = query("SELECT engine_full FROM system.tables WHERE name = 'tuned'")
        report("tuned: codecs, TTL, settings on the table", "CODEC(DoubleDelta, ZSTD(1))" in cols and
               "TTL toDateTime(ts) + toIntervalYear(50)" in full and "ttl_only_drop_parts = 1" in full, cols + full)

os.environ["CHDB_CONFIG"] = os.path.abspath("config.xml")
os.environ["CHDB_PATH"] = os.path.abspath("cluster-data")
for s in ("default", "all-types", "tuned"):
    stmts = statements(open("cluster." + s, encoding="utf-8").read())
    try:
        for st in stmts:
            query("EXPLAIN AST " + st)
        report("%s --cluster: %d statements parse" % (s, len(stmts)), len(stmts) == 3)
    except RuntimeError as e:
        report("%s --cluster: statements parse" % s, False, str(e))
    try:
        query(";\n".join(st.replace(" ON CLUSTER `sensors`", "") for st in stmts))
        local = re.search(r"`sp`\.`([^`]+_local)`", stmts[1]).group(1)
        full = query("SELECT engine_full FROM system.tables WHERE database = 'sp' AND name = '%s'" % local)
        dist = query("SELECT engine FROM system.tables WHERE database = 'sp' AND name = '%s'" % local[:-6])
        good = full.startswith("ReplicatedReplacingMergeTree") and dist.strip() == "Distributed"
        if s == "tuned":
            good &= "TTL toDateTime(ts) + toIntervalYear(50)" in full and "index_granularity = 4096" in full
        report("%s --cluster: local + Distributed created" % s, good, full + dist)
        query("DROP DATABASE sp")
    except RuntimeError as e:
        report("%s --cluster: local + Distributed created" % s, False, str(e))
sys.exit(0 if report.ok else 1)
PY
