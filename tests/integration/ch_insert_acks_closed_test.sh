#!/usr/bin/env bash
# Regression (issue 16, item 2): writing acks failed in a sender thread outside any try block, so
# a closed stdout (`| head -1`, the ack reader killed) or a full one (`> /dev/full`) ended in
# `terminate called after throwing sp::BrokenPipe` and exit 134. Now a closed stdout ends quietly
# with 0, an I/O error is 74, and no batch is inserted twice.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ch_lib.sh"

start_clickhouse

python3 - >"$TEST_TMP/rows.jsonl" <<'PY'
for i in range(20000):
    print('{"id":"msg-%d","ts":"2025-07-07 10:%02d:%02d","sensor_id":"s-%d","temperature":21.5,"humidity":40,'
          '"pressure":1000,"_topic":"sensor_metrics","_partition":%d,"_offset":%d}' % (i, i // 60 % 60, i % 60, i % 7, i % 4, i // 4))
PY

# --- stdout closed by its reader after the first ack
set +o pipefail
ch-insert --url "$CH_URL" --table closed --create-table --batch-rows 200 -j 2 <"$TEST_TMP/rows.jsonl" \
  2>"$TEST_TMP/err" | head -1 >"$TEST_TMP/first"
rc=${PIPESTATUS[0]}
set -o pipefail
grep -q terminate "$TEST_TMP/err" && fail "aborted: $(cat "$TEST_TMP/err")"
assert_eq "$rc" "0" "exit code with stdout closed ($(head -c 500 "$TEST_TMP/err"))"
assert_contains "$(cat "$TEST_TMP/first")" '"topic":"sensor_metrics"' "the ack that was read"
assert_eq "$(q 'SELECT count() = uniqExact(id) FROM closed')" "1" "a row inserted twice"
pass "stdout closed by the ack reader: exit 0, no abort, nothing inserted twice"

# --- stdout full (ENOSPC): an I/O error, 74
rc=0; ch-insert --url "$CH_URL" --table full --create-table --batch-rows 200 <"$TEST_TMP/rows.jsonl" \
  >/dev/full 2>"$TEST_TMP/err" || rc=$?
grep -q terminate "$TEST_TMP/err" && fail "aborted: $(cat "$TEST_TMP/err")"
assert_eq "$rc" "74" "exit code with stdout full ($(head -c 500 "$TEST_TMP/err"))"
assert_contains "$(cat "$TEST_TMP/err")" "No space left on device"
assert_eq "$(q 'SELECT count() = uniqExact(id) FROM full')" "1" "a row inserted twice"
pass "stdout full: exit 74, no abort"

# --- the same with --acks FILE on a full device
rc=0; ch-insert --url "$CH_URL" --table full2 --create-table --batch-rows 200 --acks /dev/full <"$TEST_TMP/rows.jsonl" \
  >/dev/null 2>"$TEST_TMP/err" || rc=$?
assert_eq "$rc" "74" "exit code with --acks on a full device ($(head -c 500 "$TEST_TMP/err"))"
pass "--acks on a full device: exit 74"
