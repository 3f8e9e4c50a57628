#!/usr/bin/env bash
# ctest-label: slow
# ch-insert into a real 2 shards x 2 replicas cluster (issue 15): --create-table --cluster makes the
# replicated local tables and the Distributed table ON CLUSTER; rows inserted through the
# Distributed table land on both shards, on both replicas of each, once each.
source "$(dirname "$0")/lib.sh"

source "$(dirname "$0")/cluster_lib.sh"
start_cluster 2 2
CH="$SRC_DIR/scripts/clickhouse.sh"
urls=()
for u in $CH_URLS; do urls+=(--url "$u"); done

# rows of 20 sensors, ids unique: a row lost or doubled shows in count() under FINAL
gen() {  # gen FIRST LAST
  local i
  for ((i = $1; i <= $2; i++)); do
    printf '{"id":"m%d","ts":"2025-07-07 10:%02d:%02d","sensor_id":"s%d","temperature":%d.5,"humidity":40,"pressure":1000}\n' \
      "$i" $(((i / 60) % 60)) $((i % 60)) $((i % 20)) $((i % 50))
  done
}
gen 1 2000 >"$TEST_TMP/rows.jsonl"

ch-insert "${urls[@]}" --create-table --cluster "$CH_CLUSTER" -d metrics --batch-rows 500 --no-acks \
  <"$TEST_TMP/rows.jsonl" 2>"$TEST_TMP/err" || fail "ch-insert: $(cat "$TEST_TMP/err")"
for m in $CH_MEMBERS; do
  u=CH_URL_${m^^}
  assert_eq "$(q "${!u}" "SELECT engine FROM system.tables WHERE database = 'metrics' AND name LIKE 'sensor_metrics%' ORDER BY name" | tr '\n' ' ')" \
    "Distributed ReplicatedReplacingMergeTree " "tables on $m"
done
# a Distributed SELECT reads a random replica per shard, which may still be fetching the last part
count_final() { q "$CH_URL" "SELECT count() FROM metrics.sensor_metrics FINAL"; }
final_is() { test "$(count_final)" = "$1"; }  # for wait_until, which runs its command anew each try
local_is() { test "$(q "$1" "SELECT count() FROM metrics.sensor_metrics_local")" = "$2"; }
wait_until 30 final_is 2000 || fail "rows through the Distributed table: $(count_final)"
s1=$(q "$CH_URL_S1R1" "SELECT count() FROM metrics.sensor_metrics_local")
s2=$(q "$CH_URL_S2R1" "SELECT count() FROM metrics.sensor_metrics_local")
[ "$s1" -gt 0 ] && [ "$s2" -gt 0 ] && [ $((s1 + s2)) -eq 2000 ] || fail "shards hold $s1 + $s2 rows"
# cityHash64(sensor_id): a sensor's rows all on one shard
sensors() { q "$1" "SELECT DISTINCT sensor_id FROM metrics.sensor_metrics_local ORDER BY sensor_id"; }
assert_eq "$(comm -12 <(sensors "$CH_URL_S1R1") <(sensors "$CH_URL_S2R1"))" "" "sensors on both shards"
wait_until 30 local_is "$CH_URL_S1R2" "$s1" || fail "s1r2 behind"
wait_until 30 local_is "$CH_URL_S2R2" "$s2" || fail "s2r2 behind"
pass "--create-table --cluster: 2000 rows through the Distributed table, shards $s1/$s2, replicas in step"

# Replicated block deduplication: each shard's table keeps the hashes of its last blocks in
# ZooKeeper (.../blocks) and drops a block whose hash is there. Counted there, not with count():
# ReplacingMergeTree's background merges also collapse duplicates within seconds.
blocks() {
  local n=0 sh
  for sh in 01 02; do
    n=$((n + $(q "$CH_URL" "SELECT count() FROM system.zookeeper WHERE path = '/clickhouse/tables/$sh/metrics/sensor_metrics_local/blocks'")))
  done
  echo "$n"
}
assert_eq "$(blocks)" "8" "blocks after 4 batches over 2 shards"
# the same rows again, cut the same way (a re-delivery after a crash): every block is dropped
ch-insert "${urls[@]}" --cluster "$CH_CLUSTER" -d metrics --batch-rows 500 --no-acks -q <"$TEST_TMP/rows.jsonl" \
  || fail "second insert"
assert_eq "$(blocks)" "8" "identical batches re-sent: no new block"
grep -q "already exists; ignoring it" "$TEST_TMP"/cl/s*/log/clickhouse-server.log || fail "no block was dropped as a duplicate"
wait_until 30 final_is 2000 || fail "after the re-delivery: $(count_final)"
pass "a re-sent stream cut into the same batches is dropped whole by the replicated tables' block deduplication"

# cut at other boundaries, the blocks differ: stored again, and only FINAL (or merges) collapse them
ch-insert "${urls[@]}" --cluster "$CH_CLUSTER" -d metrics --batch-rows 700 --no-acks -q <"$TEST_TMP/rows.jsonl" \
  || fail "third insert"
assert_eq "$(blocks)" "14" "3 batches cut differently: new blocks on both shards"
wait_until 30 final_is 2000 || fail "FINAL after a differently cut re-delivery: $(count_final)"
pass "cut at other boundaries, a re-delivery is stored again and only FINAL collapses it"

# --- one member answers 5xx (its writer made read-only: ClickHouse's 500 / Code 164, retriable): it
# rests and the batches go to the others instead of retrying it until --retries runs out
python3 - "$TEST_TMP/cl/s1r1/users.xml" <<'PY'
import sys
p = sys.argv[1]; s = open(p).read()
s = s.replace("</profiles>", "<readonly_writer><readonly>1</readonly></readonly_writer></profiles>")
w = s.index("<writer>")
s = s[:w] + s[w:].replace("<profile>default</profile>", "<profile>readonly_writer</profile>", 1)
open(p, "w").write(s)
PY
# ClickHouse reloads users.xml on its own within seconds
wait_until 30 sh -c "curl -s -u 'writer:$CH_PASSWORD' '$CH_URL_S1R1/' --data-binary 'CREATE TABLE ro_probe (x UInt8) ENGINE = Memory' | grep -q 'Code: 164'" \
  || fail "s1r1 did not become read-only for writer"
gen 2001 3000 >"$TEST_TMP/rows2.jsonl"
rc=0
ch-insert "${urls[@]}" -u writer --password-file "$CH_PASSWORD_FILE" --cluster "$CH_CLUSTER" -d metrics \
  --batch-rows 100 --retries 3 --no-acks --metrics-file "$TEST_TMP/m1.prom" <"$TEST_TMP/rows2.jsonl" 2>"$TEST_TMP/err" || rc=$?
assert_eq "$rc" "0" "insert while s1r1 answers 5xx ($(tail -c 1500 "$TEST_TMP/err"))"
wait_until 30 final_is 3000 || fail "rows after a 5xx member: $(count_final)"
assert_contains "$(cat "$TEST_TMP/err")" "${CH_URL_S1R1#http://}: 0 rows"
assert_contains "$(cat "$TEST_TMP/err")" "${CH_URL_S1R2#http://}: 1000 rows in 10 inserts"
grep -q "^sensor_ch_insert_endpoint_failures_total{url=\"${CH_URL_S1R1}\"} [1-9]" "$TEST_TMP/m1.prom" \
  || fail "no failure of s1r1 in the metrics: $(grep endpoint "$TEST_TMP/m1.prom")"
grep -q "^sensor_ch_insert_endpoint_rows_total{url=\"${CH_URL_S1R2}\"} 1000" "$TEST_TMP/m1.prom" \
  || fail "rows of s1r2 not in the metrics: $(grep endpoint "$TEST_TMP/m1.prom")"
pass "a member answering 5xx is skipped: the next one took every batch; summary and metrics say so"

# --- --balance over the four members while one is SIGKILLed mid-stream (and restarted after the
# stream): every row there once, under FINAL through the Distributed table; every member took a share
# before the kill, the dead one counted as failing, the others took its share.
python3 - "$TEST_TMP/cl/s1r1/users.xml" <<'PY'
import sys
p = sys.argv[1]; s = open(p).read()
open(p, "w").write(s.replace("<profile>readonly_writer</profile>", "<profile>default</profile>"))
PY
wait_until 30 sh -c "! curl -s -u 'writer:$CH_PASSWORD' '$CH_URL_S1R1/?date_time_input_format=best_effort' --data-binary 'SELECT 1' | grep -q 'Code: 164'" \
  || fail "s1r1 still read-only for writer"
slow_rows() {  # 6000 rows over about 6 s, in chunks of 100
  local c
  for ((c = 0; c < 60; c++)); do gen $((3001 + c * 100)) $((3000 + (c + 1) * 100)); sleep 0.1; done
}
slow_rows | ch-insert "${urls[@]}" --balance --cluster "$CH_CLUSTER" -d metrics --batch-rows 100 --batch-seconds 0.2 \
  --retry-max-delay 2 --no-acks --metrics-file "$TEST_TMP/m2.prom" 2>"$TEST_TMP/err" &
ins_pid=$!
sleep 2
"$CH" kill "$TEST_TMP/cl/s2r1"
wait "$ins_pid" || fail "ch-insert with a member killed mid-stream: $(tail -c 2000 "$TEST_TMP/err")"
"$CH" restart "$TEST_TMP/cl/s2r1" >/dev/null
wait_until 60 final_is 9000 || fail "rows after a member was killed mid-stream: $(count_final), want 9000"
by=$(grep "by endpoint" "$TEST_TMP/err")
for m in $CH_MEMBERS; do
  u=CH_URL_${m^^}
  rows=$(sed -n "s|.*${!u}: \([0-9]*\) rows.*|\1|p" <<<"$by")
  [ "${rows:-0}" -gt 0 ] || fail "--balance: $m took no rows: $by"
done
assert_contains "$by" "$CH_URL_S2R1: " "the killed member in the summary"
grep -q "^sensor_ch_insert_endpoint_failures_total{url=\"${CH_URL_S2R1}\"} [1-9]" "$TEST_TMP/m2.prom" \
  || fail "the killed member's failures not in the metrics: $(grep endpoint_failures "$TEST_TMP/m2.prom")"
sum=0
for r in $(sed -n 's/^sensor_ch_insert_endpoint_rows_total{[^}]*} //p' "$TEST_TMP/m2.prom"); do sum=$((sum + r)); done
assert_eq "$sum" "6000" "rows over the endpoints in the metrics"
pass "--balance with a member SIGKILLed mid-stream: 6000 rows once each; $by"

# --create-table --cluster with a member down: the ON CLUSTER DDL waits for every member, so ch-insert
# gave up after its request timeout ("did not answer") and the pipeline could not start although the
# other replica of that shard was up. Now the wait is bounded and a member that is down is named; its
# DDL stays queued in ZooKeeper and runs when it is back.
"$CH" kill "$TEST_TMP/cl/s2r2"
gen 20001 20100 | ch-insert "${urls[@]}" --create-table --cluster "$CH_CLUSTER" -d metrics --table down_metrics \
  --timeout 20s --retries 1 --no-acks 2>"$TEST_TMP/err" || fail "--create-table --cluster with a member down: $(tail -c 2000 "$TEST_TMP/err")"
grep -q "warning: .*1 member of cluster $CH_CLUSTER .*down.*queued" "$TEST_TMP/err" || fail "no warning about the member down: $(cat "$TEST_TMP/err")"
wait_until 30 sh -c "[ \"\$(curl -sS '$CH_URL/' --data-binary 'SELECT count() FROM metrics.down_metrics FINAL')\" = 100 ]" \
  || fail "rows with a member down: $(q "$CH_URL" 'SELECT count() FROM metrics.down_metrics FINAL')"
"$CH" restart "$TEST_TMP/cl/s2r2" >/dev/null
wait_until 60 sh -c "curl -sS '$CH_URL_S2R2/' --data-binary 'EXISTS TABLE metrics.down_metrics_local' | grep -qx 1" \
  || fail "the queued DDL did not run on the member when it came back"
pass "--create-table --cluster with a member down: warned, rows stored, the DDL ran on the member once back"
