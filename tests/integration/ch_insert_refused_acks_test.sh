#!/usr/bin/env bash
# Issue 28 item 1 and issue 30 item 2, one rule for both: ch-insert acknowledges a row only when it is
# stored or in its rejects file. Rows come from sensor-parse reading kafka-cat-sensor --envelope lines
# (sensor-gen --envelope writes that shape: 4 partitions, offsets from 0), the server is a real
# ClickHouse 18.16, and the acks checked are what kafka-cat-sensor --commit-acks would commit.
#  - a table whose temperature column is Int32 while the rows carry Float64 (ClickHouse refuses most
#    rows, Code 27), no --rejects: each partition is acknowledged only up to the last offset before its
#    first refused row (before: every offset, so the refused messages existed only in stderr);
#  - the same with --rejects: every offset is acknowledged, every refused row is in the file with its
#    coordinates;
#  - ch-insert's own rejects (lines over --max-line-bytes): with --rejects they carry their Kafka
#    coordinates and are acknowledged (before: no coordinates), without it they hold their partition
#    back like rows ClickHouse refused (before: acknowledged by the rows after them).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ch_lib.sh"
cd "$TEST_TMP"
start_clickhouse
export CLICKHOUSE_URL=$CH_URL CLICKHOUSE_USER=$CH_USER CLICKHOUSE_PASSWORD=$CH_PASSWORD

sensor-gen -c 300 --envelope --seed 7 | sensor-parse -q >rows.jsonl 2>sp.log || fail "sensor-parse: $(cat sp.log)"
assert_eq "$(wc -l <rows.jsonl)" 300 "rows from sensor-parse"

# check_acks ACKS REJECTS MODE: every ack covers only offsets stored (ids in stored.txt) or in REJECTS
# (with coordinates), and each partition's last ack is as far as that allows (MODE contiguous: up to
# the first offset kept nowhere; MODE all: the partition's last offset).
check_acks() {
  q "SELECT id FROM sensor_metrics" >stored.txt
  python3 - "$1" "$2" "$3" <<'EOF' || fail "acks: see above"
import json, sys
acks_path, rej_path, mode = sys.argv[1:4]
rows = [json.loads(l) for l in open("rows.jsonl")]
stored = set(open("stored.txt").read().split())
kept = set()
try:
    for l in open(rej_path):
        r = json.loads(l)
        if "offset" not in r:
            sys.exit("a reject without its Kafka coordinates: " + l.strip()[:200])
        kept.add((r["topic"], r["partition"], r["offset"]))
except FileNotFoundError:
    pass
parts = {}
for r in rows:
    key = (r["_topic"], r["_partition"])
    ok = r["id"] in stored or (r["_topic"], r["_partition"], r["_offset"]) in kept
    parts.setdefault(key, []).append((r["_offset"], ok))
want = {}
for key, offs in parts.items():
    offs.sort()
    last = -1
    for o, ok in offs:
        if not ok:
            break
        last = o
    if mode == "all":
        if last != offs[-1][0]:
            sys.exit("%s: offset %d neither stored nor in the rejects file" % (key, last + 1))
    want[key] = last
got = {}
for l in open(acks_path):
    a = json.loads(l)
    key = (a["topic"], a["partition"])
    if a["offset"] > want.get(key, -1):
        sys.exit("%s: acknowledged up to %d, but offset %d is stored nowhere" % (key, a["offset"], want.get(key, -1) + 1))
    got[key] = a["offset"]
for key, w in want.items():
    if w >= 0 and got.get(key, -1) != w:
        sys.exit("%s: last ack %s, want %d" % (key, got.get(key), w))
print("acks ok: " + ", ".join("%s[%d] %d" % (k[0], k[1], v) for k, v in sorted(want.items())))
EOF
}

# --- a column type the rows do not fit, no --rejects
mismatch_table() {
  q "DROP TABLE IF EXISTS sensor_metrics"
  q "CREATE TABLE sensor_metrics (id String, ts DateTime, sensor_id String, temperature Int32, humidity Float64, pressure Float64) ENGINE = ReplacingMergeTree ORDER BY (sensor_id, ts, id)"
}
mismatch_table
rc=0; ch-insert --acks acks1.out <rows.jsonl 2>ch1.log || rc=$?
assert_eq "$rc" 0 "exit status ($(tail -2 ch1.log))"
stored=$(q "SELECT count() FROM sensor_metrics")
[ "$stored" -gt 0 ] && [ "$stored" -lt 300 ] || fail "expected some rows stored and some refused, got $stored stored"
check_acks acks1.out none contiguous
assert_contains "$(cat ch1.log)" "kept nowhere (no --rejects)" "the summary names the rows kept nowhere"
assert_contains "$(cat ch1.log)" "offsets not acknowledged" "the summary says how many offsets were held back"
pass "refused by ClickHouse, no --rejects: each partition acknowledged only up to its first refused row ($stored of 300 stored)"

# --- the same with --rejects: everything is stored or kept, everything acknowledged
mismatch_table
rc=0; ch-insert --acks acks2.out --rejects rej2.jsonl <rows.jsonl 2>ch2.log || rc=$?
assert_eq "$rc" 0 "exit status with --rejects ($(tail -2 ch2.log))"
assert_eq "$(($(q 'SELECT count() FROM sensor_metrics') + $(wc -l <rej2.jsonl)))" 300 "rows stored + rejected"
check_acks acks2.out rej2.jsonl all
grep -q "kept nowhere" ch2.log && fail "held back with --rejects: $(grep 'kept nowhere' ch2.log)"
pass "refused by ClickHouse, --rejects: every offset acknowledged, every reject with its coordinates"

# --- ch-insert's own rejects: lines longer than --max-line-bytes (the longer half of the rows or so)
q "DROP TABLE IF EXISTS sensor_metrics"
max=$(awk '{print length($0)}' rows.jsonl | sort -n | awk '{a[NR]=$1} END {print a[int(NR/2)]}')
long=$(awk -v m="$max" 'length($0) > m' rows.jsonl | wc -l)
[ "$long" -gt 10 ] || fail "too few long rows ($long) over $max bytes"
rc=0; ch-insert --create-table --max-line-bytes "$max" --acks acks3.out --rejects rej3.jsonl <rows.jsonl 2>ch3.log || rc=$?
assert_eq "$rc" 0 "exit status, own rejects ($(tail -2 ch3.log))"
assert_eq "$(wc -l <rej3.jsonl)" "$long" "own rejects in the file"
check_acks acks3.out rej3.jsonl all
pass "own rejects (over --max-line-bytes $max), --rejects: $long rejects with coordinates, every offset acknowledged"

q "TRUNCATE TABLE sensor_metrics"
rc=0; ch-insert --max-line-bytes "$max" --acks acks4.out <rows.jsonl 2>ch4.log || rc=$?
assert_eq "$rc" 0 "exit status, own rejects without --rejects ($(tail -2 ch4.log))"
check_acks acks4.out none contiguous
assert_contains "$(cat ch4.log)" "kept nowhere (no --rejects)" "the summary names the own rejects kept nowhere"
pass "own rejects, no --rejects: their partitions held back like rows ClickHouse refused"
