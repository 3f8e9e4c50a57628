#!/usr/bin/env bash
# ctest-label: slow
# scripts/clickhouse.sh cluster (issue 15): ZooKeeper + 2 shards x 2 replicas on loopback. ON CLUSTER
# DDL reaches every member, a Distributed table spreads rows over both shards, each shard's replicas
# hold the same rows, a retried identical block is stored once, and a member killed (SIGKILL) and
# restarted catches up; ZooKeeper restarted, the replicated tables take inserts again.
source "$(dirname "$0")/lib.sh"

source "$(dirname "$0")/cluster_lib.sh"
start_cluster 2 2
CH="$SRC_DIR/scripts/clickhouse.sh"
ins() {  # ins URL TABLE < TSV rows: one INSERT, through a Distributed table synchronously
  curl -sS --fail-with-body "$1/?insert_distributed_sync=1&query=INSERT%20INTO%20$2%20FORMAT%20TSV" --data-binary @-
}

assert_eq "$CH_MEMBERS" "s1r1 s1r2 s2r1 s2r2" "members"
assert_eq "$(wc -w <<<"$CH_URLS")" "4" "one URL per member"
assert_eq "$(q "$CH_URL" "SELECT count() FROM system.clusters WHERE cluster = '$CH_CLUSTER'")" "4" "remote_servers"
[ "$(q "$CH_URL" "SELECT count() FROM system.zookeeper WHERE path = '/'")" -gt 0 ] || fail "ZooKeeper not reachable"
pass "2 x 2 members, remote_servers '$CH_CLUSTER', ZooKeeper on port $ZK_PORT"

q "$CH_URL" "CREATE TABLE t ON CLUSTER $CH_CLUSTER (id String, sensor_id String, ts DateTime)
  ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/default/t', '{replica}') ORDER BY (sensor_id, ts, id)" >/dev/null
q "$CH_URL" "CREATE TABLE t_all ON CLUSTER $CH_CLUSTER AS t ENGINE = Distributed($CH_CLUSTER, default, t, cityHash64(sensor_id))" >/dev/null
for m in $CH_MEMBERS; do
  u=CH_URL_${m^^}
  assert_eq "$(q "${!u}" "EXISTS TABLE t_all")" "1" "ON CLUSTER DDL reached $m"
  # the macros expanded per member: {shard} in the path, {replica} as the name
  assert_eq "$(q "${!u}" "SELECT zookeeper_path, replica_name FROM system.replicas WHERE table = 't'")" \
    "$(printf '/clickhouse/tables/0%s/default/t\t%s' "${m:1:1}" "$m")" "replica of $m"
done

for i in $(seq 1 100); do printf 'r%d\ts%d\t2025-01-01 00:00:00\n' "$i" $((i % 10)); done >"$TEST_TMP/rows.tsv"
# A Distributed SELECT reads one replica per shard, at random: right after an insert the other
# replica may still be fetching the part, so counts are awaited, not read once.
count_is() { test "$(q "$CH_URL" "SELECT count() FROM t_all ${2:-}")" = "$1"; }
local_is() { test "$(q "$1" "SELECT count() FROM t")" = "$2"; }  # wait_until's command runs anew each try
ins "$CH_URL_S2R2" t_all <"$TEST_TMP/rows.tsv"
wait_until 30 count_is 100 || fail "rows through the Distributed table: $(q "$CH_URL" "SELECT count() FROM t_all")"
# the insert went to s2r2: s2r1 (and whichever shard-1 replica did not get it) may still be fetching
shards_hold() {  # ROWS: s1r1's and s2r1's own tables together hold ROWS (sets s1, s2)
  s1=$(q "$CH_URL_S1R1" "SELECT count() FROM t")
  s2=$(q "$CH_URL_S2R1" "SELECT count() FROM t")
  [ "$((s1 + s2))" = "$1" ]
}
wait_until 30 shards_hold 100 || fail "shards' rows: $s1 + $s2, want 100"
[ "$s1" -gt 0 ] && [ "$s2" -gt 0 ] || fail "not spread over both shards: $s1 / $s2"
wait_until 30 local_is "$CH_URL_S1R2" "$s1" || fail "s1r2 did not replicate s1r1"
wait_until 30 local_is "$CH_URL_S2R2" "$s2" || fail "s2r2 did not replicate s2r1"
pass "ON CLUSTER DDL, Distributed insert spread $s1/$s2 over the shards, replicas in step"

ins "$CH_URL_S1R2" t_all <"$TEST_TMP/rows.tsv"  # the same block again, through another member
sleep 1
for i in 1 2 3 4 5; do assert_eq "$(q "$CH_URL" "SELECT count() FROM t_all")" "100" "an identical block inserted again is stored once"; done
pass "replicated block deduplication through the Distributed table"

"$CH" kill "$TEST_TMP/cl/s1r2"
curl -sf "$CH_URL_S1R2/ping" >/dev/null && fail "s1r2 still answers after kill"
for i in $(seq 101 150); do printf 'r%d\ts%d\t2025-01-01 00:00:00\n' "$i" $((i % 10)); done | ins "$CH_URL_S2R1" t_all
wait_until 30 count_is 150 || fail "inserts while a replica is down: $(q "$CH_URL" "SELECT count() FROM t_all")"
"$CH" restart "$TEST_TMP/cl/s1r2" >/dev/null
s1=$(q "$CH_URL_S1R1" "SELECT count() FROM t")
wait_until 60 local_is "$CH_URL_S1R2" "$s1" || fail "restarted s1r2 did not catch up"
pass "a member killed (SIGKILL) and restarted catches up ($s1 rows in shard 1)"

"$CH" stop "$TEST_TMP/cl/zk"
rc=0; printf 'z1\ts1\t2025-01-01 00:00:00\n' | ins "$CH_URL_S1R1" t >/dev/null 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "an insert into a replicated table succeeded without ZooKeeper"
"$CH" restart "$TEST_TMP/cl/zk" >/dev/null
# the servers reconnect on their own (session expired: tables are read-only until then)
wait_until 60 sh -c "printf 'z1\ts1\t2025-01-01 00:00:00\n' | curl -sf '$CH_URL_S1R1/?query=INSERT%20INTO%20t%20FORMAT%20TSV' --data-binary @-" \
  || fail "no insert after ZooKeeper came back"
wait_until 30 count_is 151 FINAL || fail "rows after ZooKeeper's restart: $(q "$CH_URL" "SELECT count() FROM t_all FINAL")"
pass "ZooKeeper stopped: inserts refused; restarted: inserts taken again"

"$CH" stop "$TEST_TMP/cl"
"$CH" status "$TEST_TMP/cl" >/dev/null 2>&1 && fail "status says running after stop"
for m in $CH_MEMBERS zk; do [ ! -f "$TEST_TMP/cl/$m/pid" ] || fail "$m still has a pid file"; done
pass "stop DIR stops every member and ZooKeeper"
