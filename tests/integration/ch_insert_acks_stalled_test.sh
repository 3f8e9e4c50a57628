#!/usr/bin/env bash
# Issue 30 item 4: ch-insert wrote acks to the FIFO while holding the lock its senders and its reading
# thread need, so an ack reader that stopped draining (kafka-cat-sensor busy in a rebalance, stopped
# with SIGSTOP) froze the whole insert path: no row stored, no message. Now the acks are written
# outside that lock: while the reader holds the FIFO open without reading, the other sender keeps
# storing rows; once it reads again, every ack arrives, in whole lines. Real ClickHouse 18.16, rows
# from sensor-parse over sensor-gen --envelope lines with thousands of partitions (so the acks of a
# few batches fill the FIFO's 1 MiB).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ch_lib.sh"
cd "$TEST_TMP"
start_clickhouse
export CLICKHOUSE_URL=$CH_URL CLICKHOUSE_USER=$CH_USER CLICKHOUSE_PASSWORD=$CH_PASSWORD
N=60000
sensor-gen -c $N --envelope --sensors 6000 --partitions 6000 --seed 3 | sensor-parse -q >rows.jsonl 2>sp.log ||
  fail "sensor-parse: $(cat sp.log)"
q "CREATE TABLE stalled (id String, ts DateTime, sensor_id String, temperature Float64, humidity Float64, pressure Float64) ENGINE = ReplacingMergeTree ORDER BY (sensor_id, ts, id)"

mkfifo acks
exec 3<>acks  # the reader: holds the FIFO open, reads nothing yet
ch-insert --table stalled --batch-rows 4000 -j 2 --acks acks <rows.jsonl >/dev/null 2>ch.log 3>&- &
chi=$!
on_exit "kill -9 $chi"  # a SIGTERM waits for the blocked ack write
stored() { q "SELECT count() FROM stalled"; }
all_stored() { [ "$(stored)" -eq "$N" ]; }
wait_until 120 all_stored || fail "only $(stored) of $N rows stored while the ack reader does not read: the insert path froze"
pass "ack reader not draining: all $N rows stored meanwhile"

cat acks >acks.out 3>&- &  # its own read end; EOF once ch-insert and the shell closed theirs
reader=$!
wait "$chi" || fail "ch-insert failed: $(tail -3 ch.log)"
exec 3>&-
wait "$reader" || fail "reading the acks"
python3 - <<'EOF' || fail "acks: see above"
import json, sys
hi = {}
for r in map(json.loads, open("rows.jsonl")):
    k = (r["_topic"], r["_partition"])
    hi[k] = max(hi.get(k, -1), r["_offset"])
got = {}
for n, l in enumerate(open("acks.out"), 1):
    a = json.loads(l)  # a torn or glued line fails here
    got[(a["topic"], a["partition"])] = a["offset"]
missing = [k for k in hi if got.get(k) != hi[k]]
if missing:
    sys.exit("%d partitions not acknowledged to their end, e.g. %s: %s of %d" % (len(missing), missing[0], got.get(missing[0]), hi[missing[0]]))
print("acks ok: %d partitions, %d lines" % (len(hi), n))
EOF
pass "the reader drains again: every partition acknowledged to its end, whole lines"
