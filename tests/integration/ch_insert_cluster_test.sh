#!/usr/bin/env bash
# ch-insert into a real 2 shards x 2 replicas cluster (issue 15): --create-table --cluster makes the
# replicated local tables and the Distributed table ON CLUSTER; rows inserted through the
# Distributed table land on both shards, on both replicas of each, once each.
source "$(dirname "$0")/lib.sh"

CH="$SRC_DIR/scripts/clickhouse.sh"
eval "$("$CH" cluster "$TEST_TMP/cl")"
on_exit "'$CH' stop '$TEST_TMP/cl'"
q() { curl -sS --fail-with-body "$1/" --data-binary "$2"; }
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
wait_until 30 test "$(count_final)" = 2000 || fail "rows through the Distributed table: $(count_final)"
s1=$(q "$CH_URL_S1R1" "SELECT count() FROM metrics.sensor_metrics_local")
s2=$(q "$CH_URL_S2R1" "SELECT count() FROM metrics.sensor_metrics_local")
[ "$s1" -gt 0 ] && [ "$s2" -gt 0 ] && [ $((s1 + s2)) -eq 2000 ] || fail "shards hold $s1 + $s2 rows"
# cityHash64(sensor_id): a sensor's rows all on one shard
sensors() { q "$1" "SELECT DISTINCT sensor_id FROM metrics.sensor_metrics_local ORDER BY sensor_id"; }
assert_eq "$(comm -12 <(sensors "$CH_URL_S1R1") <(sensors "$CH_URL_S2R1"))" "" "sensors on both shards"
wait_until 30 test "$(q "$CH_URL_S1R2" "SELECT count() FROM metrics.sensor_metrics_local")" = "$s1" || fail "s1r2 behind"
wait_until 30 test "$(q "$CH_URL_S2R2" "SELECT count() FROM metrics.sensor_metrics_local")" = "$s2" || fail "s2r2 behind"
pass "--create-table --cluster: 2000 rows through the Distributed table, shards $s1/$s2, replicas in step"

# the same rows again (a re-delivery after a crash): the replicated tables drop identical blocks
ch-insert "${urls[@]}" --cluster "$CH_CLUSTER" -d metrics --batch-rows 500 --no-acks -q <"$TEST_TMP/rows.jsonl" \
  || fail "second insert"
local_sum() { echo $(($(q "$1" "SELECT count() FROM metrics.sensor_metrics_local") + $(q "$2" "SELECT count() FROM metrics.sensor_metrics_local"))); }
sleep 2  # let replication settle: every replica must show it, not only the one a SELECT picks
assert_eq "$(local_sum "$CH_URL_S1R1" "$CH_URL_S2R1")" "2000" "identical batches re-sent (replicas r1): stored once, even without FINAL"
assert_eq "$(local_sum "$CH_URL_S1R2" "$CH_URL_S2R2")" "2000" "identical batches re-sent (replicas r2): stored once, even without FINAL"
pass "a re-sent stream cut into the same batches is deduplicated by the replicated tables"

# cut differently, the blocks differ: nothing is dropped, FINAL is what collapses them
ch-insert "${urls[@]}" --cluster "$CH_CLUSTER" -d metrics --batch-rows 700 --no-acks -q <"$TEST_TMP/rows.jsonl" \
  || fail "third insert"
sleep 2
[ "$(local_sum "$CH_URL_S1R1" "$CH_URL_S2R1")" -gt 2000 ] || fail "batches cut differently were deduplicated?"
wait_until 30 test "$(count_final)" = 2000 || fail "FINAL after a differently cut re-delivery: $(count_final)"
pass "cut at other boundaries, a re-delivery is stored again ($(local_sum "$CH_URL_S1R1" "$CH_URL_S2R1") rows) and only FINAL collapses it"
