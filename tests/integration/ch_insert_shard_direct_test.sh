#!/usr/bin/env bash
# ctest-label: slow
# ch-insert's shard-direct mode on a real 2 shards x 2 replicas cluster (issue 15): with --shard (one per
# shard, its replicas' URLs) each row goes straight into its shard's sensor_metrics_local, the shard
# chosen by ch-insert as the Distributed table chooses it (cityHash64(sensor_id) over the shard weights);
# a replica killed mid-stream costs no row; a whole shard down: ch-insert gives up (75), nothing acked,
# and the re-delivery leaves every row there once under FINAL.
source "$(dirname "$0")/lib.sh"

source "$(dirname "$0")/cluster_lib.sh"
start_cluster 2 2
CH="$SRC_DIR/scripts/clickhouse.sh"
shards=(--shard "$CH_URL_S1R1,$CH_URL_S1R2" --shard "$CH_URL_S2R1,$CH_URL_S2R2")

# --- the shard of every id sensor-gen writes and of random strings of 0..200 bytes (each CityHash
# length branch, JSON escapes, UTF-8, quotes, backslashes, control bytes): as the server computes it
sensor-gen -c 20000 --sensors 1000 | sensor-parse -q | sed 's/"id":"msg-/"id":"g/' >"$TEST_TMP/ids.jsonl"
python3 - >>"$TEST_TMP/ids.jsonl" <<'PY'
import json, random
random.seed(15)
alphabet = [chr(c) for c in range(32, 127)] + ['\\', '"', '\n', '\t', '\x01', '\x7f', 'é', 'Ж', '€', '😀']
n = 0
for length in range(0, 201):
    for k in range(12):
        s = ''
        while len(s.encode()) < length:
            c = random.choice(alphabet)
            if len((s + c).encode()) > length: c = 'x'
            s += c
        n += 1
        row = {"id": "r%d" % n, "ts": "2025-07-07 10:00:00", "sensor_id": s, "temperature": 1.5, "humidity": 40, "pressure": 1000}
        print(json.dumps(row, ensure_ascii=(n % 2 == 0)))
PY
total=$(wc -l <"$TEST_TMP/ids.jsonl")
ch-insert "${shards[@]}" --cluster "$CH_CLUSTER" --create-table -d metrics --batch-rows 5000 --no-acks \
  --metrics-file "$TEST_TMP/m0.prom" <"$TEST_TMP/ids.jsonl" 2>"$TEST_TMP/err" || fail "ch-insert --shard: $(tail -c 2000 "$TEST_TMP/err")"
for sh in 1 2; do
  for r in 1 2; do
    u=CH_URL_S${sh}R${r}
    wrong() { q "${!u}" "SELECT countIf(cityHash64(sensor_id) % 2 != $((sh - 1))) FROM metrics.sensor_metrics_local"; }
    assert_eq "$(wrong)" "0" "rows on shard $sh (s${sh}r${r}) that cityHash64(sensor_id) % 2 puts on the other"
  done
done
s1=$(q "$CH_URL_S1R1" "SELECT count() FROM metrics.sensor_metrics_local")
s2=$(q "$CH_URL_S2R1" "SELECT count() FROM metrics.sensor_metrics_local")
[ "$s1" -gt 0 ] && [ "$s2" -gt 0 ] || fail "a shard took no row: $s1 / $s2"
assert_eq "$((s1 + s2))" "$total" "rows on the two shards"
# the same rows through the Distributed table (another database) land on the same shards
same_as_distributed "$TEST_TMP/ids.jsonl" 2
# summary and metrics per shard and endpoint
assert_contains "$(cat "$TEST_TMP/err")" "shard 1 $CH_URL_S1R1: $s1 rows"
assert_contains "$(cat "$TEST_TMP/err")" "shard 2 $CH_URL_S2R1: $s2 rows"
grep -q "^sensor_ch_insert_endpoint_rows_total{shard=\"2\",url=\"${CH_URL_S2R1}\"} $s2\$" "$TEST_TMP/m0.prom" \
  || fail "per-shard rows not in the metrics: $(grep endpoint_rows "$TEST_TMP/m0.prom")"
pass "$total rows (every sensor-gen id, random strings of 0..200 bytes): each on the shard the Distributed table chooses ($s1 / $s2)"

# a re-delivery cut into the same batches is split into the same parts: each shard's replicated table
# drops every one of them as a block it already has (ZooKeeper's .../blocks, as ch_insert_cluster_test)
blocks() {
  local n=0 sh
  for sh in 01 02; do
    n=$((n + $(q "$CH_URL" "SELECT count() FROM system.zookeeper WHERE path = '/clickhouse/tables/$sh/metrics/sensor_metrics_local/blocks'")))
  done
  echo "$n"
}
b0=$(blocks)
assert_eq "$b0" "$(( (total + 4999) / 5000 * 2 ))" "blocks: each batch's two parts"
ch-insert "${shards[@]}" -d metrics --batch-rows 5000 --no-acks -q <"$TEST_TMP/ids.jsonl" || fail "the re-delivery"
assert_eq "$(blocks)" "$b0" "identical batches re-sent shard-direct: no new block"
assert_eq "$(q "$CH_URL_S1R1" "SELECT count() FROM metrics.sensor_metrics_local") $(q "$CH_URL_S2R1" "SELECT count() FROM metrics.sensor_metrics_local")" \
  "$s1 $s2" "rows on the shards after the re-delivery"
pass "a re-sent stream cut the same way is dropped whole by each shard's block deduplication"

# --- the shard count must be the cluster's, else every row would go to a wrong shard
rc=0
ch-insert --shard "$CH_URL_S1R1" --cluster "$CH_CLUSTER" -d metrics --no-acks </dev/null 2>"$TEST_TMP/err" || rc=$?
assert_eq "$rc" "78" "one --shard for a cluster of two"
assert_contains "$(cat "$TEST_TMP/err")" "2 shards"
pass "a --shard list that is not the cluster's is refused (78) before any row"

# rows of 20 sensors with Kafka coordinates, ids unique: a row lost or doubled shows in count() FINAL
gen() {  # gen FIRST LAST
  local i
  for ((i = $1; i <= $2; i++)); do
    printf '{"id":"m%d","ts":"2025-07-07 10:%02d:%02d","sensor_id":"s%d","temperature":%d.5,"humidity":40,"pressure":1000,"_topic":"t","_partition":0,"_offset":%d}\n' \
      "$i" $(((i / 60) % 60)) $((i % 60)) $((i % 20)) $((i % 50)) "$i"
  done
}
count_final() { q "$CH_URL" "SELECT count() FROM metrics.sensor_metrics FINAL WHERE id LIKE 'm%'"; }
final_is() { test "$(count_final)" = "$1"; }

# --- a replica SIGKILLed mid-stream: its shard's partner takes its parts, no row lost or doubled
slow_rows() {  # 6000 rows over about 6 s
  local c
  for ((c = 0; c < 60; c++)); do gen $((1 + c * 100)) $(((c + 1) * 100)); sleep 0.1; done
}
slow_rows | ch-insert "${shards[@]}" --balance -d metrics --batch-rows 100 --batch-seconds 0.2 --retry-max-delay 2 \
  --acks "$TEST_TMP/acks1" --metrics-file "$TEST_TMP/m1.prom" 2>"$TEST_TMP/err" &
ins_pid=$!
sleep 2
"$CH" kill "$TEST_TMP/cl/s1r1"
wait "$ins_pid" || fail "ch-insert with a replica killed mid-stream: $(tail -c 2000 "$TEST_TMP/err")"
"$CH" restart "$TEST_TMP/cl/s1r1" >/dev/null
wait_until 60 final_is 6000 || fail "rows after a replica was killed mid-stream: $(count_final), want 6000"
assert_eq "$(tail -n 1 "$TEST_TMP/acks1")" '{"topic":"t","partition":0,"offset":6000}' "last ack"
grep -q "^sensor_ch_insert_endpoint_failures_total{shard=\"1\",url=\"${CH_URL_S1R1}\"} [1-9]" "$TEST_TMP/m1.prom" \
  || fail "the killed replica's failures not in the metrics: $(grep endpoint_failures "$TEST_TMP/m1.prom")"
by=$(grep "by endpoint" "$TEST_TMP/err")
rows=$(sed -n "s|.*shard 1 $CH_URL_S1R2: \([0-9]*\) rows.*|\1|p" <<<"$by")
[ "${rows:-0}" -gt 0 ] || fail "s1r2 took no rows: $by"
pass "a replica SIGKILLed mid-stream: 6000 rows once each under FINAL, acked to the last; $by"

# --- a whole shard down at start: retried per --retries, then 69 (as when no --url answers), no ack
"$CH" kill "$TEST_TMP/cl/s2r1"
"$CH" kill "$TEST_TMP/cl/s2r2"
gen 6001 7000 >"$TEST_TMP/rows3.jsonl"
rc=0
ch-insert "${shards[@]}" -d metrics --batch-rows 100 --retries 2 --retry-max-delay 0.2 --acks "$TEST_TMP/acks2" \
  <"$TEST_TMP/rows3.jsonl" 2>"$TEST_TMP/err" || rc=$?
assert_eq "$rc" "69" "a shard with every replica down at start ($(tail -c 1000 "$TEST_TMP/err"))"
assert_contains "$(cat "$TEST_TMP/err")" "shard 2: no replica answers"
assert_eq "$(cat "$TEST_TMP/acks2")" "" "acks while a shard is down"
"$CH" restart "$TEST_TMP/cl/s2r1" >/dev/null
"$CH" restart "$TEST_TMP/cl/s2r2" >/dev/null
pass "a whole shard down at start: exit 69 after the retries, nothing acknowledged"

# --- a whole shard killed mid-stream: its parts retried per --retries, then 75; only batches every
# shard stored are acked (shard 1 kept taking its parts); the re-delivery leaves each row once
slow_rows3() {  # rows 6001..7000 over about 5 s
  local c
  for ((c = 0; c < 50; c++)); do gen $((6001 + c * 20)) $((6000 + (c + 1) * 20)); sleep 0.1; done
}
rc=0
slow_rows3 | ch-insert "${shards[@]}" -d metrics --batch-rows 20 --batch-seconds 0.1 --retries 3 --retry-max-delay 0.3 \
  --acks "$TEST_TMP/acks3" 2>"$TEST_TMP/err" &
ins_pid=$!
sleep 1.5
"$CH" kill "$TEST_TMP/cl/s2r1"
"$CH" kill "$TEST_TMP/cl/s2r2"
wait "$ins_pid" || rc=$?
assert_eq "$rc" "75" "a shard with every replica killed mid-stream ($(tail -c 1000 "$TEST_TMP/err"))"
assert_contains "$(cat "$TEST_TMP/err")" "shard 2: ClickHouse still failing after 3 retries"
assert_contains "$(cat "$TEST_TMP/err")" "NOT inserted (not acknowledged)"
acked=$(tail -n 1 "$TEST_TMP/acks3" | sed -n 's/.*"offset":\([0-9]*\)}/\1/p')
[ "${acked:-0}" -ge 6020 ] && [ "$acked" -lt 7000 ] || fail "last ack before the shard died: '${acked}'"
"$CH" restart "$TEST_TMP/cl/s2r1" >/dev/null
"$CH" restart "$TEST_TMP/cl/s2r2" >/dev/null
# every acknowledged row is in the cluster
acked_rows() { q "$CH_URL" "SELECT count() FROM metrics.sensor_metrics FINAL WHERE id LIKE 'm%' AND toUInt32(substring(id, 2)) BETWEEN 6001 AND $acked"; }
acked_in() { test "$(acked_rows)" = "$((acked - 6000))"; }
wait_until 60 acked_in || fail "acked up to $acked, but $(acked_rows) of those rows are in the cluster"
ch-insert "${shards[@]}" -d metrics --batch-rows 20 --acks "$TEST_TMP/acks3" <"$TEST_TMP/rows3.jsonl" 2>"$TEST_TMP/err" \
  || fail "the re-delivery: $(tail -c 1000 "$TEST_TMP/err")"
assert_eq "$(tail -n 1 "$TEST_TMP/acks3")" '{"topic":"t","partition":0,"offset":7000}' "ack after the re-delivery"
wait_until 60 final_is 7000 || fail "after the re-delivery: $(count_final), want 7000"
pass "a whole shard killed mid-stream: exit 75, acked only up to $acked (all of it stored); re-delivered, every row once under FINAL"

# --format tsv --send-rowbinary rows go re-encoded as RowBinary, one body per shard (issue 25): each row on its shard,
# each shard holding what the same rows sent as text (the default) give
sensor-gen -c 3000 --sensors 300 --seed 25 | sensor-parse -q -f tsv >"$TEST_TMP/rows.tsv" 2>/dev/null
for db in rbin rtxt; do
  extra=()
  [ "$db" = rbin ] && extra=(--send-rowbinary)
  ch-insert "${shards[@]}" --cluster "$CH_CLUSTER" --create-table -d "$db" -f tsv --batch-rows 500 --no-acks -v "${extra[@]}" \
    <"$TEST_TMP/rows.tsv" 2>"$TEST_TMP/err.$db" || fail "ch-insert --shard -f tsv into $db: $(tail -c 1000 "$TEST_TMP/err.$db")"
done
grep -q "rows sent as RowBinary" "$TEST_TMP/err.rbin" || fail "shard-direct TSV rows not sent as RowBinary"
grep -q "sent as TSV text" "$TEST_TMP/err.rbin" && fail "a shard's part went as text: $(grep 'TSV text' "$TEST_TMP/err.rbin")"
n=0
for sh in 1 2; do
  u=CH_URL_S${sh}R1
  rows_of() { q "${!u}" "SELECT * FROM $1.sensor_metrics_local ORDER BY id, ts, sensor_id, temperature FORMAT TabSeparated"; }
  rows_of rbin >"$TEST_TMP/rbin.$sh"
  rows_of rtxt >"$TEST_TMP/rtxt.$sh"
  [ -s "$TEST_TMP/rbin.$sh" ] || fail "shard $sh took no RowBinary row"
  cmp -s "$TEST_TMP/rbin.$sh" "$TEST_TMP/rtxt.$sh" || fail "shard $sh: RowBinary and text rows differ: $(diff "$TEST_TMP/rbin.$sh" "$TEST_TMP/rtxt.$sh" | head -n 4)"
  assert_eq "$(q "${!u}" "SELECT countIf(cityHash64(sensor_id) % 2 != $((sh - 1))) FROM rbin.sensor_metrics_local")" 0 "RowBinary rows on the wrong shard"
  n=$((n + $(wc -l <"$TEST_TMP/rbin.$sh")))
done
assert_eq "$n" "$(wc -l <"$TEST_TMP/rows.tsv")" "RowBinary rows on the two shards"
pass "shard-direct --format tsv: $n rows as RowBinary, each shard as sent as text"
