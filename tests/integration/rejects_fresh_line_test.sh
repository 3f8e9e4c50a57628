#!/usr/bin/env bash
# Issue 28 item 5: after a full disk (exit 74) a rejects file ends in a torn record; the next run
# appended its first reject to it, so that reject was unparseable while its offset got committed.
# Both tools' --rejects now start on a fresh line. Rows and rejects as the pipeline makes them:
# sensor-gen --envelope lines (some malformed) through sensor-parse, its rows through ch-insert
# (--dry-run: no server needed; its rejects are lines over --max-line-bytes).
source "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"
sensor-gen -c 200 --envelope --bad-fraction 0.2 --seed 9 >env.jsonl

# a full disk first: exit 74, as before
rc=0; sensor-parse -q --rejects /dev/full <env.jsonl >/dev/null 2>full.log || rc=$?
assert_eq "$rc" 74 "sensor-parse --rejects on a full device ($(cat full.log))"

torn='{"line":7,"reason":"invalid JSON: truncated (unclosed object or array)","topic":"sensor_metr'
check() {  # FILE WHAT: the torn record alone on the first line, every later line a whole JSON object
  python3 - "$1" "$2" <<'PY' || fail "$2: see above"
import json, sys
lines = open(sys.argv[1]).read().split("\n")
assert lines[-1] == "", "no newline at the end"
if not lines[0].endswith('"topic":"sensor_metr'):
    sys.exit("the torn record is not alone on its line: " + lines[0][:200])
for l in lines[1:-1]:
    r = json.loads(l)
    if "offset" not in r:
        sys.exit("a reject without coordinates: " + l[:200])
print("%s: %d rejects after the torn record, each its own line" % (sys.argv[2], len(lines) - 2))
PY
}

printf '%s' "$torn" >sp.rejects
sensor-parse -q --rejects sp.rejects <env.jsonl >rows.jsonl 2>sp.log || fail "sensor-parse: $(cat sp.log)"
[ "$(wc -l <sp.rejects)" -gt 2 ] || fail "too few sensor-parse rejects: $(cat sp.rejects)"
check sp.rejects sensor-parse
pass "sensor-parse --rejects: the next run starts on a fresh line after a torn record"

printf '%s' "$torn" >ch.rejects
max=$(awk '{print length($0)}' rows.jsonl | sort -n | awk '{a[NR]=$1} END {print a[int(NR/2)]}')
ch-insert --dry-run --max-line-bytes "$max" --rejects ch.rejects <rows.jsonl >/dev/null 2>ch.log ||
  fail "ch-insert: $(tail -3 ch.log)"
[ "$(wc -l <ch.rejects)" -gt 2 ] || fail "too few ch-insert rejects: $(cat ch.rejects)"
check ch.rejects ch-insert
pass "ch-insert --rejects: the next run starts on a fresh line after a torn record"
