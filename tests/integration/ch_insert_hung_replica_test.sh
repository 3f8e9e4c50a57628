#!/usr/bin/env bash
# ctest-label: slow
# ch-insert --balance over a real 2 x 2 cluster while one replica hangs (SIGSTOP: its port still
# accepts connections, nothing answers), issue 15: every request sent to it times out after --timeout,
# the member rests (1 s, doubling) and the batch goes to another; no row lost or doubled (under FINAL,
# through the Distributed table), also after the hung member resumes and finishes what it held.
source "$(dirname "$0")/lib.sh"

source "$(dirname "$0")/cluster_lib.sh"
start_cluster 2 2
CH="$SRC_DIR/scripts/clickhouse.sh"
hung="$TEST_TMP/cl/s2r1"
# before the cluster's stop (on_exit runs last first): a stopped server would not take SIGTERM
on_exit "kill -CONT \$(cat '$hung/pid') 2>/dev/null"
urls=()
for u in $CH_URLS; do urls+=(--url "$u"); done
gen() {  # gen FIRST LAST: ids unique, 20 sensors over both shards
  local i
  for ((i = $1; i <= $2; i++)); do
    printf '{"id":"m%d","ts":"2025-07-07 10:%02d:%02d","sensor_id":"s%d","temperature":%d.5,"humidity":40,"pressure":1000}\n' \
      "$i" $(((i / 60) % 60)) $((i % 60)) $((i % 20)) $((i % 50))
  done
}
ch-insert "${urls[@]}" --create-table --cluster "$CH_CLUSTER" -d metrics --no-acks -q </dev/null || fail "create"
count_final() { q "$CH_URL" "SELECT count() FROM metrics.sensor_metrics FINAL"; }
final_is() { test "$(count_final)" = "$1"; }

slow_rows() {  # 4000 rows over about 4 s, in chunks of 100
  local c
  for ((c = 0; c < 40; c++)); do gen $((1 + c * 100)) $(((c + 1) * 100)); sleep 0.1; done
}
start=$(date +%s)
slow_rows | ch-insert "${urls[@]}" --balance --cluster "$CH_CLUSTER" -d metrics --batch-rows 100 --batch-seconds 0.2 \
  --timeout 1 --retries 20 --retry-max-delay 1 --no-acks --metrics-file "$TEST_TMP/m.prom" 2>"$TEST_TMP/err" &
ins_pid=$!
sleep 1.5
kill -STOP "$(cat "$hung/pid")"
rc=0
wait "$ins_pid" || rc=$?
took=$(($(date +%s) - start))
by=$(grep "by endpoint" "$TEST_TMP/err" || true)
assert_eq "$rc" "0" "ch-insert with a hung member (took ${took}s): $(tail -c 2000 "$TEST_TMP/err")"
grep -q "^sensor_ch_insert_endpoint_failures_total{url=\"${CH_URL_S2R1}\"} [1-9]" "$TEST_TMP/m.prom" \
  || fail "the hung member's timeouts not counted: $(grep endpoint_failures "$TEST_TMP/m.prom")"
sum=0
for r in $(sed -n 's/^sensor_ch_insert_endpoint_rows_total{[^}]*} //p' "$TEST_TMP/m.prom"); do sum=$((sum + r)); done
assert_eq "$sum" "4000" "rows over the endpoints in the metrics"
# the hung member resumes: whatever it still held (requests ch-insert gave up on) must not double rows
kill -CONT "$(cat "$hung/pid")"
wait_until 60 final_is 4000 || fail "rows after the hung member resumed: $(count_final), want 4000"
sleep 3
assert_eq "$(count_final)" "4000" "rows under FINAL a while after the hung member resumed"
pass "--balance with a member SIGSTOPped mid-stream: 4000 rows once each, ch-insert done in ${took}s; $by"

# Through the Distributed table, healthy members time out too when they pick the hung replica for its
# shard (ClickHouse's choice, not ch-insert's). Straight into one shard's local table, ch-insert's own
# failover is the only one: just the hung replica fails, its partner takes every batch.
kill -STOP "$(cat "$hung/pid")"
gen 4001 5000 | ch-insert --url "$CH_URL_S2R1" --url "$CH_URL_S2R2" --balance -d metrics --table sensor_metrics_local \
  --batch-rows 100 --timeout 1 --retries 20 --retry-max-delay 1 --no-acks --metrics-file "$TEST_TMP/m2.prom" 2>"$TEST_TMP/err2" \
  || fail "direct into shard 2 with its replica hung: $(tail -c 2000 "$TEST_TMP/err2")"
grep -q "^sensor_ch_insert_endpoint_rows_total{url=\"${CH_URL_S2R2}\"} 1000" "$TEST_TMP/m2.prom" \
  || fail "s2r2 did not take every row: $(grep endpoint "$TEST_TMP/m2.prom")"
kill -CONT "$(cat "$hung/pid")"
local2() { test "$(q "$CH_URL_S2R2" "SELECT count() FROM metrics.sensor_metrics_local FINAL WHERE toUInt32(substring(id, 2)) > 4000")" = "$1"; }
wait_until 30 local2 1000 || fail "rows on shard 2 after the direct insert"
pass "straight into a shard's local table with one replica hung: its partner took all 1000 rows; $(grep "by endpoint" "$TEST_TMP/err2")"
