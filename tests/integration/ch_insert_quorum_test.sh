#!/usr/bin/env bash
# --setting insert_quorum=2 (issue 27) on a real cluster of one shard with two replicas (18.16,
# ZooKeeper): every acknowledged row is on both replicas when ch-insert exits (a replica lost for good
# takes no acknowledged row with it); with one replica down, the quorum cannot be met and nothing is
# acknowledged.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"
cd "$TEST_TMP"
start_cluster 1 2
export CLICKHOUSE_USER=$CH_USER CLICKHOUSE_PASSWORD=$CH_PASSWORD

sensor-gen -c 300 --seed 9 | grep -v '^$' | sed 's/^/{"topic":"t","partition":0,"offset":0,"value":/; s/$/}/' |
  awk '{sub(/"offset":0/, "\"offset\":" NR - 1); print}' | sensor-parse -q >rows.jsonl 2>/dev/null
n=$(wc -l <rows.jsonl)
[ "$n" -gt 100 ] || fail "expected rows to insert, got $n"

rc=0
ch-insert --url "$CH_URL_S1R1" --cluster "$CH_CLUSTER" --create-table --batch-rows 100 \
  --setting insert_quorum=2 --setting insert_quorum_timeout=60000 <rows.jsonl >acks.out 2>err.txt || rc=$?
assert_eq "$rc" 0 "quorum insert: exit status ($(tail -2 err.txt))"
assert_contains "$(tail -1 acks.out)" "\"offset\":$((n - 1))" "the last row acknowledged"
# no waiting: the quorum means both replicas had every batch before its 200
for u in "$CH_URL_S1R1" "$CH_URL_S1R2"; do
  assert_eq "$(q "$u" 'SELECT count() FROM sensor_metrics_local')" "$n" "rows on $u as ch-insert exits"
done
pass "--setting insert_quorum=2: all $n acknowledged rows on both replicas as ch-insert exits"

"$SRC_DIR/scripts/clickhouse.sh" stop "$TEST_TMP/cl/s1r2" >/dev/null
rc=0
sed 's/"topic":"t"/"topic":"u"/' rows.jsonl | ch-insert --url "$CH_URL_S1R1" --cluster "$CH_CLUSTER" --retries 1 \
  --setting insert_quorum=2 --setting insert_quorum_timeout=5000 >acks2.out 2>err2.txt || rc=$?
[ "$rc" -ne 0 ] || fail "one replica down, quorum 2: exit 0 ($(tail -2 err2.txt))"
[ ! -s acks2.out ] || fail "one replica down, quorum 2: acknowledged $(head -2 acks2.out)"
pass "one replica down: the quorum of 2 is not met, exit $rc, nothing acknowledged"
