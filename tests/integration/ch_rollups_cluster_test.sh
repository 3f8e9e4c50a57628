#!/usr/bin/env bash
# ctest-label: slow
# Rollups on a real 2 shards x 2 replicas 18.16 cluster (issue 26): ch-insert --create-table --cluster
# --schema examples/schema-rollups.json makes, ON CLUSTER, each rollup's ReplicatedAggregatingMergeTree
# local, its view on sensor_metrics_local and the Distributed table over the locals, on every member.
# Rows from sensor-gen | sensor-parse through the Distributed table, then more in shard-direct mode
# (--shard, straight into the locals): every rollup read through its Distributed table with the README's
# queries equals the raw rows' GROUP BY through theirs, and each replica of a shard holds the same.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"
start_cluster 2 2
cd "$TEST_TMP"
S=$SRC_DIR/examples/schema-rollups.json
urls=()
for u in $CH_URLS; do urls+=(--url "$u"); done

sensor-gen -c 3000 --seed 21 --sensors 8 | awk 'NR % 40 == 0 {sub(/,"pressure":[0-9.]+/, "")} {print}' |
  sensor-parse -q --schema "$S" >rows1.jsonl
ch-insert "${urls[@]}" --create-table --cluster "$CH_CLUSTER" --schema "$S" -d metrics --batch-rows 500 --no-acks -q \
  <rows1.jsonl 2>err || fail "ch-insert --cluster: $(cat err)"
for m in $CH_MEMBERS; do
  u=CH_URL_${m^^}
  assert_eq "$(q "${!u}" "SELECT name, engine FROM system.tables WHERE database = 'metrics' AND name LIKE 'sensor_metrics_1%'
      ORDER BY name FORMAT TSV" | tr '\t\n' ': ')" \
    "sensor_metrics_1h:Distributed sensor_metrics_1h_local:ReplicatedAggregatingMergeTree sensor_metrics_1h_mv:MaterializedView sensor_metrics_1m:Distributed sensor_metrics_1m_local:ReplicatedAggregatingMergeTree sensor_metrics_1m_mv:MaterializedView " \
    "rollup tables on $m"
done

rollup_1m() {  # rollup_1m URL TABLE: the README's query
  q "$1" "SELECT sensor_id, ts, minMerge(temperature_min), round(avgMerge(temperature_avg), 6), maxMerge(temperature_max),
            round(avgMerge(humidity_avg), 6), minMerge(pressure_min), maxMerge(pressure_max), countMerge(count)
          FROM metrics.$2 GROUP BY sensor_id, ts ORDER BY sensor_id, ts FORMAT TabSeparated"
}
raw_1m() {  # raw_1m URL TABLE: the same from the rows (an empty pressure bucket reads 0 from the rollup)
  q "$1" "SELECT sensor_id, toStartOfMinute(ts) AS t, min(temperature), round(avg(temperature), 6), max(temperature),
            round(avg(humidity), 6), ifNull(min(pressure), 0), ifNull(max(pressure), 0), count()
          FROM metrics.$2 GROUP BY sensor_id, t ORDER BY sensor_id, t FORMAT TabSeparated"
}
rollup_1h() {
  q "$1" "SELECT sensor_id, ts, minMerge(temperature_min), round(avgMerge(temperature_avg), 6), maxMerge(temperature_max),
            countMerge(count) FROM metrics.$2 GROUP BY sensor_id, ts ORDER BY sensor_id, ts FORMAT TabSeparated"
}
raw_1h() {
  q "$1" "SELECT sensor_id, toStartOfHour(ts) AS t, min(temperature), round(avg(temperature), 6), max(temperature), count()
          FROM metrics.$2 GROUP BY sensor_id, t ORDER BY sensor_id, t FORMAT TabSeparated"
}
count_is() { test "$(q "$CH_URL" "SELECT count() FROM metrics.sensor_metrics")" = "$1"; }
# Each replica's rollup local equals the aggregates of its own rows (so the view fed it and it
# replicated), and the Distributed rollups equal the Distributed rows': awaited, replicas fetch parts.
replicas_agree() {
  local m u
  for m in $CH_MEMBERS; do
    u=CH_URL_${m^^}
    [ "$(rollup_1m "${!u}" sensor_metrics_1m_local)" = "$(raw_1m "${!u}" sensor_metrics_local)" ] || return 1
    [ "$(rollup_1h "${!u}" sensor_metrics_1h_local)" = "$(raw_1h "${!u}" sensor_metrics_local)" ] || return 1
    [ "$(q "${!u}" "SELECT count() FROM metrics.sensor_metrics_local")" -gt 0 ] || return 1
  done
}
check_rollups() {  # check_rollups ROWS WHAT
  wait_until 30 count_is "$1" || fail "$2: rows through the Distributed table: $(q "$CH_URL" "SELECT count() FROM metrics.sensor_metrics")"
  wait_until 30 replicas_agree || fail "$2: a replica's rollup differs from its rows"
  rollup_1m "$CH_URL" sensor_metrics_1m >1m.rollup
  raw_1m "$CH_URL" sensor_metrics >1m.raw
  [ "$(wc -l <1m.raw)" -gt 100 ] || fail "$2: sensor-minutes: $(wc -l <1m.raw)"
  diff 1m.raw 1m.rollup >/dev/null || fail "$2: 1-minute rollup differs from the rows: $(diff 1m.raw 1m.rollup | head)"
  rollup_1h "$CH_URL" sensor_metrics_1h >1h.rollup
  raw_1h "$CH_URL" sensor_metrics >1h.raw
  diff 1h.raw 1h.rollup >/dev/null || fail "$2: 1-hour rollup differs from the rows: $(diff 1h.raw 1h.rollup | head)"
}
check_rollups 3000 "through the Distributed table"
pass "--create-table --cluster: rollups on every member; through the Distributed tables they equal the rows' aggregates"

sensor-gen -c 2000 --seed 22 --sensors 8 --first-id 100001 --start 2025-07-08T03:00:00Z | sensor-parse -q --schema "$S" \
  >rows2.jsonl
direct() {
  ch-insert --shard "$CH_URL_S1R1,$CH_URL_S1R2" --shard "$CH_URL_S2R1,$CH_URL_S2R2" --cluster "$CH_CLUSTER" \
    --schema "$S" -d metrics --batch-rows 500 --no-acks -q <rows2.jsonl 2>err || fail "ch-insert --shard: $(cat err)"
}
direct
check_rollups 5000 "shard-direct"
pass "shard-direct inserts into sensor_metrics_local feed the rollups too"

# The same batches again (cut the same way, so the same blocks per shard): the replicated table drops
# each block it has, and so does the rollup's replicated local (the view's block is the same too).
# Only identical blocks: a re-delivery cut into other batches is counted again (README "Rollups").
direct  # ch-insert returns once each shard stored (or dropped) its blocks
check_rollups 5000 "identical blocks again"
assert_eq "$(q "$CH_URL" "SELECT countMerge(count) FROM metrics.sensor_metrics_1h")" 5000 "rollup count"
pass "identical blocks sent again: dropped by the replicated table and by the rollups alike"
