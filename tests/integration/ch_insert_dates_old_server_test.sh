#!/usr/bin/env bash
# Issue 28 item 3: dates the server cannot store. On ClickHouse 18.16 (checked by inserting) Date and
# DateTime end with 2105-12-31 (23:59:59): 2106-01-01 00:00:00 was stored as 0000-00-00 00:00:00 and
# 2106-01-01 as 0000-00-00, with a 200 and exit 0 everywhere, while sensor-parse lets DateTime through
# to 2106-02-07 06:28:15 and Date to 2149-06-06 (the types' ends on current servers). ch-insert knows
# the server's version and rejects such rows, with the reason and their coordinates, so they are kept
# (and acknowledged) instead of stored wrong. Rows from sensor-parse over sensor-gen --envelope lines
# crossing the year 2106.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ch_lib.sh"
cd "$TEST_TMP"
start_clickhouse
export CLICKHOUSE_URL=$CH_URL CLICKHOUSE_USER=$CH_USER CLICKHOUSE_PASSWORD=$CH_PASSWORD
version=$(q "SELECT version()")
case "$version" in 18.*) ;; *) fail "this test is about ClickHouse 18.x, the server is $version" ;; esac

sensor-gen -c 6 --envelope --start 2105-12-31T23:59:57Z | sensor-parse -q >rows.jsonl 2>sp.log ||
  fail "sensor-parse: $(cat sp.log)"
assert_eq "$(wc -l <rows.jsonl)" 6 "rows from sensor-parse (it accepts the year 2106)"

# --- DateTime (the seed's ts)
ch-insert --create-table --rejects rej.jsonl --acks acks.out <rows.jsonl 2>ch.log || fail "ch-insert: $(tail -3 ch.log)"
assert_eq "$(q 'SELECT count() FROM sensor_metrics')" 3 "rows stored"
assert_eq "$(q "SELECT toString(min(ts)) || ' ' || toString(max(ts)) FROM sensor_metrics")" \
  "2105-12-31 23:59:57 2105-12-31 23:59:59" "the stored times (none turned into 0000-00-00 or 1970)"
assert_eq "$(grep -c 'is after 2105-12-31 23:59:59, the last DateTime ClickHouse 18' rej.jsonl)" 3 "rejects with the reason"
assert_eq "$(grep -c '"offset":' rej.jsonl)" 3 "rejects with their coordinates"
python3 - <<'PY' || fail "acks: see above"
import json, sys
hi = {}
for r in map(json.loads, open("rows.jsonl")):
    hi[r["_partition"]] = max(hi.get(r["_partition"], -1), r["_offset"])
got = {a["partition"]: a["offset"] for a in map(json.loads, open("acks.out"))}
if got != hi:
    sys.exit("acks %s, want %s (every offset: stored or kept)" % (got, hi))
PY
pass "DateTime after 2105 on $version: rejected with the reason, kept and acknowledged, not stored as zeros"

# --- Date
cat >days.json <<'JSON'
{
  "table": "days",
  "columns": [
    {"name": "id", "type": "String", "path": "id"},
    {"name": "day", "type": "Date", "path": "timestamp"},
    {"name": "sensor_id", "type": "String", "path": "value.sensor_id"}
  ],
  "order_by": ["sensor_id", "day", "id"]
}
JSON
sensor-gen -c 4 --envelope --start 2105-12-31T00:00:00Z --interval 12h | sensor-parse -q --schema days.json >days.jsonl 2>sp2.log ||
  fail "sensor-parse: $(cat sp2.log)"
ch-insert --schema days.json --create-table --rejects rej2.jsonl --no-acks <days.jsonl 2>ch2.log || fail "ch-insert: $(tail -3 ch2.log)"
assert_eq "$(q 'SELECT groupArray(toString(day)) FROM (SELECT day FROM days ORDER BY id)')" "['2105-12-31','2105-12-31']" "the stored days"
assert_eq "$(grep -c 'day: .* is after 2105-12-31, the last Date ClickHouse 18' rej2.jsonl)" 2 "Date rejects with the reason"
pass "Date after 2105 on $version: rejected with the reason, not stored as 0000-00-00"
