#!/usr/bin/env bash
# Shard-direct with shard weights (issue 15): a real 2 x 1 cluster whose remote_servers give the shards
# weights 1 and 3. `ch-insert --shard ... --cluster` reads the weights from system.clusters and puts
# each row where the Distributed table puts it: shard 1 holds the rows with cityHash64(sensor_id) % 4
# == 0, shard 2 the rest, the same rows as an insert through the Distributed table.
source "$(dirname "$0")/lib.sh"

source "$(dirname "$0")/cluster_lib.sh"
CH_SHARD_WEIGHTS=1,3 start_cluster 2 1
assert_eq "$(q "$CH_URL_S1R1" "SELECT groupArray(shard_weight) FROM (SELECT shard_weight FROM system.clusters WHERE cluster = '$CH_CLUSTER' ORDER BY shard_num)")" \
  "[1,3]" "the cluster's shard weights"

sensor-gen -c 20000 --sensors 2000 | sensor-parse -q >"$TEST_TMP/rows.jsonl"
total=$(wc -l <"$TEST_TMP/rows.jsonl")
ch-insert --shard "$CH_URL_S1R1" --shard "$CH_URL_S2R1" --cluster "$CH_CLUSTER" --create-table -d metrics \
  --batch-rows 5000 --no-acks <"$TEST_TMP/rows.jsonl" 2>"$TEST_TMP/err" ||
  fail "ch-insert --shard: $(tail -c 2000 "$TEST_TMP/err")"
wrong1=$(q "$CH_URL_S1R1" "SELECT countIf(cityHash64(sensor_id) % 4 != 0) FROM metrics.sensor_metrics_local")
wrong2=$(q "$CH_URL_S2R1" "SELECT countIf(cityHash64(sensor_id) % 4 = 0) FROM metrics.sensor_metrics_local")
assert_eq "$wrong1 $wrong2" "0 0" "rows on a shard the weights do not give them (shard 1, shard 2)"
s1=$(q "$CH_URL_S1R1" "SELECT count() FROM metrics.sensor_metrics_local")
s2=$(q "$CH_URL_S2R1" "SELECT count() FROM metrics.sensor_metrics_local")
assert_eq "$((s1 + s2))" "$total" "rows on the two shards"
[ "$s2" -gt $((2 * s1)) ] || fail "weights 1:3 but shard 1 holds $s1 rows and shard 2 $s2"

# the same rows through the Distributed table (another database) land on the same shards
same_as_distributed "$TEST_TMP/rows.jsonl" 2
pass "$total rows over shards weighted 1:3 ($s1 / $s2), each where the Distributed table puts it"

# --shard in another order than the cluster's: each server says by system.clusters (is_local) which
# shard it is; ch-insert stops (78) before any row instead of putting rows on the wrong shards
before=$(q "$CH_URL_S1R1" "SELECT count() FROM metrics.sensor_metrics_local")
rc=0
ch-insert --shard "$CH_URL_S2R1" --shard "$CH_URL_S1R1" --cluster "$CH_CLUSTER" -d metrics --no-acks \
  <"$TEST_TMP/rows.jsonl" 2>"$TEST_TMP/err2" || rc=$?
assert_eq "$rc" 78 "exit code of --shard in the wrong order ($(tail -c 600 "$TEST_TMP/err2"))"
assert_contains "$(cat "$TEST_TMP/err2")" "--shard 1 ($CH_URL_S2R1) is shard 2 of cluster '$CH_CLUSTER'"
assert_eq "$(q "$CH_URL_S1R1" "SELECT count() FROM metrics.sensor_metrics_local")" "$before" "rows on shard 1 after the refused run"
pass "--shard in another order than the cluster's is refused (78) before any row"
