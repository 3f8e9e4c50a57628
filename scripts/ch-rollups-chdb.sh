#!/usr/bin/env bash
# The rollups of ch-insert --create-table (issue 26) against a current ClickHouse (26.x, embedded: chDB,
# fetched once into the cache like scripts/ch-ddl-chdb.sh): examples/schema-rollups.json plus a
# 10-minute rollup (toStartOfInterval, which 18.16 lacks; sum and uniq too)
#   - without --cluster: the DDL runs, sensor-parse's rows go in as ch-insert sends them (its --dry-run
#     body; every 40th message without pressure, the Nullable column), and every rollup read with the
#     documented -Merge queries equals the aggregates recomputed from the raw rows with GROUP BY;
#   - with --cluster: every statement's exact text parsed (EXPLAIN AST), then run without ON CLUSTER
#     under a config with the macros and an in-memory keeper (chDB has no distributed DDL); the
#     rollup's replicated local, its view and the Distributed table exist with their engines.
# Usage: scripts/ch-rollups-chdb.sh   (BIN_DIR defaults to build/bin; integration.ch_rollups_chdb_test)
set -euo pipefail
SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
source "$SRC_DIR/scripts/chdb/setup.sh" ch-rollups

python3 - "$SRC_DIR/examples/schema-rollups.json" >schema.json <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["rollups"].append({"name": "sensor_metrics_10m", "interval": "10 minutes", "by": ["sensor_id"],
                     "aggregates": {"temperature": ["min", "max", "avg", "sum"], "humidity": ["uniq"], "*": ["count"]}})
print(json.dumps(s))
PY
sensor-gen -c 6000 --seed 11 --sensors 5 | awk 'NR % 40 == 0 {sub(/,"pressure":[0-9.]+/, "")} {print}' |
  sensor-parse -q --schema schema.json >rows.jsonl
ch-insert --dry-run -q --create-table --schema schema.json <rows.jsonl >dry.sql
ch-insert --dry-run -q --create-table --schema schema.json --cluster sensors --database sp </dev/null >cluster.sql

cluster_config config.xml

SRC_DIR=$SRC_DIR CHDB_PATH=$w/data python3 - <<'PY'
import os, sys
sys.path.insert(0, os.path.join(os.environ["SRC_DIR"], "scripts", "chdb"))
from chdb_query import Checks, dry_run_parts, query, statements

report = Checks(52, 600)
print("ClickHouse (chDB)", query("SELECT version()").strip())

body = os.path.abspath("body.jsonl")
stmts = dry_run_parts("dry.sql", body)
try:
    query(";\n".join(stmts) + ";\nINSERT INTO sensor_metrics FROM INFILE '%s' FORMAT JSONEachRow" % body)
    report("DDL accepted (%d statements), rows in" % len(stmts),
           query("SELECT count(), countIf(isNull(pressure)) FROM sensor_metrics").strip() == "6000\t150")
except RuntimeError as e:
    report("DDL accepted, rows in", False, str(e))

# (rollup query, the same from the raw rows); avg rounded (sums in another order), an empty
# Nullable bucket reads 0 from min/max (ifNull on the raw side).
checks = {
    "sensor_metrics_1m": (
        "SELECT sensor_id, ts, minMerge(temperature_min), round(avgMerge(temperature_avg), 6), maxMerge(temperature_max),"
        " round(avgMerge(humidity_avg), 6), minMerge(pressure_min), maxMerge(pressure_max), countMerge(count)"
        " FROM sensor_metrics_1m GROUP BY sensor_id, ts ORDER BY sensor_id, ts",
        "SELECT sensor_id, toStartOfMinute(ts) AS t, min(temperature), round(avg(temperature), 6), max(temperature),"
        " round(avg(humidity), 6), ifNull(min(pressure), 0), ifNull(max(pressure), 0), count()"
        " FROM sensor_metrics GROUP BY sensor_id, t ORDER BY sensor_id, t"),
    "sensor_metrics_1h": (
        "SELECT sensor_id, ts, minMerge(temperature_min), round(avgMerge(temperature_avg), 6), maxMerge(temperature_max),"
        " countMerge(count) FROM sensor_metrics_1h GROUP BY sensor_id, ts ORDER BY sensor_id, ts",
        "SELECT sensor_id, toStartOfHour(ts) AS t, min(temperature), round(avg(temperature), 6), max(temperature), count()"
        " FROM sensor_metrics GROUP BY sensor_id, t ORDER BY sensor_id, t"),
    "sensor_metrics_10m": (
        "SELECT sensor_id, ts, minMerge(temperature_min), maxMerge(temperature_max), round(avgMerge(temperature_avg), 6),"
        " round(sumMerge(temperature_sum), 6), uniqMerge(humidity_uniq), countMerge(count)"
        " FROM sensor_metrics_10m GROUP BY sensor_id, ts ORDER BY sensor_id, ts",
        "SELECT sensor_id, toStartOfInterval(ts, INTERVAL 10 MINUTE) AS t, min(temperature), max(temperature),"
        " round(avg(temperature), 6), round(sum(temperature), 6), uniq(humidity), count()"
        " FROM sensor_metrics GROUP BY sensor_id, t ORDER BY sensor_id, t"),
}
for name, (rollup, raw) in checks.items():
    try:
        got, want = query(rollup), query(raw)
        report("%s equals the raw rows (%d buckets)" % (name, want.count("\n")), got == want and want.count("\n") > 5,
               "rollup:\n" + got[:300] + "\nraw:\n" + want[:300])
    except RuntimeError as e:
        report("%s equals the raw rows" % name, False, str(e))

os.environ["CHDB_CONFIG"] = os.path.abspath("config.xml")
os.environ["CHDB_PATH"] = os.path.abspath("cluster-data")
stmts = statements(open("cluster.sql", encoding="utf-8").read())
try:
    for st in stmts:
        query("EXPLAIN AST " + st)
    report("--cluster: %d statements parse" % len(stmts), len(stmts) == 12)
except RuntimeError as e:
    report("--cluster: statements parse", False, str(e))
try:
    query(";\n".join(st.replace(" ON CLUSTER `sensors`", "") for st in stmts))
    engines = query("SELECT name, engine FROM system.tables WHERE database = 'sp' AND name LIKE 'sensor_metrics_1m%' "
                    "ORDER BY name FORMAT TSV")
    want = ("sensor_metrics_1m\tDistributed\nsensor_metrics_1m_local\tReplicatedAggregatingMergeTree\n"
            "sensor_metrics_1m_mv\tMaterializedView\n")
    report("--cluster: rollup local, view and Distributed made", engines == want, engines)
except RuntimeError as e:
    report("--cluster: rollup local, view and Distributed made", False, str(e))
sys.exit(0 if report.ok else 1)
PY
