#!/usr/bin/env bash
# ctest-label: slow
# Issue 28 item 4: `--shard A,B` where B is really a replica of another shard passed the start check
# (only the replica that answered was asked), and when A went down that shard's rows went into the
# other shard, exit 0. Now every URL of every --shard is checked before the first insert: by the
# cluster's own system.clusters (with --cluster) and by each replica's {shard} macro (without it).
# A real 2 shards x 2 replicas ClickHouse 18.16 cluster; rows from sensor-parse.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"
start_cluster 2 2
cd "$TEST_TMP"
sensor-gen -c 200 --envelope --seed 2 | sensor-parse -q >rows.jsonl 2>sp.log || fail "sensor-parse: $(cat sp.log)"
good=(--shard "$CH_URL_S1R1,$CH_URL_S1R2" --shard "$CH_URL_S2R1,$CH_URL_S2R2")
ch-insert "${good[@]}" --cluster "$CH_CLUSTER" --create-table --no-acks <rows.jsonl 2>ok.log ||
  fail "ch-insert with the right --shards: $(tail -3 ok.log)"
stored() { echo $(($(q "$CH_URL_S1R1" "SELECT count() FROM sensor_metrics_local") + $(q "$CH_URL_S2R1" "SELECT count() FROM sensor_metrics_local"))); }
all_there() { [ "$(stored)" -eq 200 ]; }
wait_until 30 all_there || fail "rows stored with the right --shards: $(stored)"
pass "the right --shards: 200 rows in"

# the second URL of each --shard is the other shard's replica
bad=(--shard "$CH_URL_S1R1,$CH_URL_S2R2" --shard "$CH_URL_S2R1,$CH_URL_S1R2")
for mode in cluster macros; do
  extra=()
  [ "$mode" = cluster ] && extra=(--cluster "$CH_CLUSTER")
  rc=0; ch-insert "${bad[@]}" "${extra[@]}" --no-acks <rows.jsonl 2>bad-$mode.log || rc=$?
  assert_eq "$rc" 78 "a replica in the wrong --shard, checked by $mode ($(tail -2 bad-$mode.log))"
  assert_contains "$(cat bad-$mode.log)" "--shard 1 ($CH_URL_S2R2)" "the error names the misplaced URL"
  assert_eq "$(stored)" 200 "rows after the refused run"
  pass "a replica in the wrong --shard refused at start, checked by $mode: $(grep -o 'error: .*' bad-$mode.log | head -c 200)"
done

# Without --cluster nothing on the servers gives the number of shards: one --shard of this cluster's two
# passes every check (its replicas agree on their macro) and would take every row, the other shard's
# too. With --cluster that is refused (78, ch_insert_shard_direct_test); without it a warning says the
# count, order and weights are not checked, and how to have them checked.
rc=0; ch-insert --shard "$CH_URL_S1R1,$CH_URL_S1R2" --no-acks </dev/null 2>one.log || rc=$?
assert_eq "$rc" 0 "one --shard without --cluster ($(tail -2 one.log))"
assert_contains "$(cat one.log)" "warning: --shard without --cluster: 1 shard(s) taken as all of the cluster's" "the unchecked shard count said"
assert_contains "$(cat one.log)" "--cluster NAME" "how to have it checked"
rc=0; ch-insert "${good[@]}" --cluster "$CH_CLUSTER" --no-acks </dev/null 2>two.log || rc=$?
assert_eq "$rc" 0 "the right --shards with --cluster ($(tail -2 two.log))"
[[ $(cat two.log) != *"without --cluster"* ]] || fail "no such warning with --cluster: $(cat two.log)"
pass "--shard without --cluster: a warning that the shard count is not checked"
