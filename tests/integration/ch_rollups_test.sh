#!/usr/bin/env bash
# Rollups (issue 26): ch-insert --create-table --schema examples/schema-rollups.json makes the table,
# and per rollup an AggregatingMergeTree table fed by a materialized view, on the real 18.16 server.
# Rows come from sensor-gen | sensor-parse (every 40th message without pressure, the schema's Nullable
# column); every rollup read with the README's queries equals the same aggregates recomputed from the
# raw rows with a plain GROUP BY. Then: --create-table again leaves them as they are; a rollup made
# from another schema is refused (exit 78) before any row; an interval 18.16 cannot bucket is refused
# before any DDL; and the at-least-once caveat the README states: a batch delivered twice counts twice.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ch_lib.sh"

start_clickhouse_for_ch_insert
S=$SRC_DIR/examples/schema-rollups.json

sensor-gen -c 6000 --seed 11 --sensors 5 | awk 'NR % 40 == 0 {sub(/,"pressure":[0-9.]+/, "")} {print}' >msgs.jsonl
assert_eq "$(grep -vc pressure msgs.jsonl)" 150 "messages without pressure"
sensor-parse -q --schema "$S" <msgs.jsonl | ch-insert -q --create-table --schema "$S" 2>err ||
  fail "first run: $(cat err)"
assert_eq "$(q 'SELECT count(), countIf(isNull(pressure)) FROM sensor_metrics')" "6000	150" "raw rows"

# The README's queries, and the same from the raw rows (round: avg sums in another order). A bucket in
# which pressure had no value reads 0 from min/max (the README says so): ifNull(..., 0) on the raw side.
rollup_1m() {
  q "SELECT sensor_id, ts, minMerge(temperature_min), round(avgMerge(temperature_avg), 6), maxMerge(temperature_max),
       round(avgMerge(humidity_avg), 6), minMerge(pressure_min), maxMerge(pressure_max), countMerge(count)
     FROM sensor_metrics_1m GROUP BY sensor_id, ts ORDER BY sensor_id, ts FORMAT TabSeparated"
}
raw_1m() {
  q "SELECT sensor_id, toStartOfMinute(ts) AS t, min(temperature), round(avg(temperature), 6), max(temperature),
       round(avg(humidity), 6), ifNull(min(pressure), 0), ifNull(max(pressure), 0), count()
     FROM sensor_metrics GROUP BY sensor_id, t ORDER BY sensor_id, t FORMAT TabSeparated"
}
rollup_1h() {
  q "SELECT sensor_id, ts, minMerge(temperature_min), round(avgMerge(temperature_avg), 6), maxMerge(temperature_max),
       countMerge(count)
     FROM sensor_metrics_1h GROUP BY sensor_id, ts ORDER BY sensor_id, ts FORMAT TabSeparated"
}
raw_1h() {
  q "SELECT sensor_id, toStartOfHour(ts) AS t, min(temperature), round(avg(temperature), 6), max(temperature), count()
     FROM sensor_metrics GROUP BY sensor_id, t ORDER BY sensor_id, t FORMAT TabSeparated"
}
rollup_1m >1m.rollup
raw_1m >1m.raw
assert_eq "$(wc -l <1m.raw)" 500 "sensor-minutes (5 sensors, 100 minutes)"
diff 1m.raw 1m.rollup >/dev/null || fail "1-minute rollup differs from the raw rows: $(diff 1m.raw 1m.rollup | head)"
rollup_1h >1h.rollup
raw_1h >1h.raw
assert_eq "$(wc -l <1h.raw)" 10 "sensor-hours"
diff 1h.raw 1h.rollup >/dev/null || fail "1-hour rollup differs from the raw rows: $(diff 1h.raw 1h.rollup | head)"
pass "every rollup equals the aggregates recomputed from the raw rows"

# Again with --create-table: IF NOT EXISTS, the columns match, nothing changes but the new rows.
sensor-gen -c 60 --seed 12 --sensors 5 --first-id 100001 --start 2025-07-08T10:00:00Z | sensor-parse -q --schema "$S" |
  ch-insert -q --create-table --schema "$S" 2>err || fail "second run: $(cat err)"
raw_1m >1m.raw
rollup_1m >1m.rollup
diff 1m.raw 1m.rollup >/dev/null || fail "after a second run: $(diff 1m.raw 1m.rollup | head)"
pass "--create-table again: the rollups are kept and keep up"

# A rollup made from another schema: refused before any row, saying which columns differ.
python3 - "$S" <<'PY' >other.json
import json, sys
s = json.load(open(sys.argv[1]))
s["rollups"][1]["aggregates"] = {"humidity": ["max"], "*": ["count"]}
print(json.dumps(s))
PY
rc=0
echo '{"id":"x","ts":"2025-07-07 22:00:00","sensor_id":"s","temperature":1,"humidity":2,"pressure":null}' |
  ch-insert --create-table --schema other.json >/dev/null 2>err || rc=$?
assert_eq "$rc" 78 "exit for a rollup with other columns ($(cat err))"
assert_contains "$(cat err)" "rollup default.sensor_metrics_1h exists"
assert_contains "$(cat err)" "missing column \`humidity_max\` AggregateFunction(max, Float64)"
assert_contains "$(cat err)" "extra column \`temperature_min\` AggregateFunction(min, Float64)"
assert_eq "$(q "SELECT count() FROM sensor_metrics WHERE id = 'x'")" 0 "a row sent despite the refusal"
pass "a rollup with other columns: exit 78, the differences listed, nothing sent"

# 18.16 has no toStartOfInterval: a 10-minute rollup is refused before any DDL.
python3 - "$S" <<'PY' >ten.json
import json, sys
s = json.load(open(sys.argv[1]))
s["table"] = "ten"
s["rollups"] = [{"name": "ten_10m", "interval": "10 minutes", "aggregates": {"*": ["count"]}}]
print(json.dumps(s))
PY
rc=0
ch-insert --create-table --schema ten.json </dev/null >/dev/null 2>err || rc=$?
assert_eq "$rc" 78 "exit for an interval 18.16 cannot bucket ($(cat err))"
assert_contains "$(cat err)" "interval 10 minutes needs toStartOfInterval (ClickHouse 19.3 or newer"
assert_eq "$(q "EXISTS TABLE ten")" 0 "the table was created anyway"
pass "an interval the server cannot bucket: exit 78 before any DDL"

# At-least-once: the same batch delivered twice is collapsed in the table (FINAL), counted twice in a
# rollup. The README says so; the exactly-once mode is what keeps rollups exact.
before=$(q "SELECT countMerge(count) FROM sensor_metrics_1h")
sensor-parse -q --schema "$S" <msgs.jsonl | ch-insert -q --schema "$S" 2>err || fail "re-delivery: $(cat err)"
assert_eq "$(q 'SELECT count() FROM sensor_metrics FINAL')" 6060 "raw rows after FINAL"
assert_eq "$(q "SELECT countMerge(count) FROM sensor_metrics_1h")" "$((before + 6000))" "rollup count after a re-delivery"
pass "at-least-once: a re-delivered batch is counted twice in the rollups (as the README warns)"
