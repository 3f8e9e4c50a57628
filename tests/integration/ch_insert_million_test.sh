#!/usr/bin/env bash
# ctest-label: slow
# 1M seed rows (JSONEachRow, as sensor-parse writes them, with Kafka coordinates) through
# ch-insert into a real clickhouse-server: the count, the distinct ids and the acks are checked.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ch_lib.sh"

start_clickhouse

n=1000000
sensor-gen -c $n | python3 -c '
import sys, json
w = sys.stdout.write
for i, l in enumerate(sys.stdin):
    m = json.loads(l); v = m["value"]; ts = m["timestamp"]
    w("{\"id\":%s,\"ts\":\"%s %s\",\"sensor_id\":%s,\"temperature\":%s,\"humidity\":%s,\"pressure\":%s,"
      "\"_topic\":\"sensor_metrics\",\"_partition\":%d,\"_offset\":%d}\n" % (
        json.dumps(m["id"]), ts[:10], ts[11:19], json.dumps(v["sensor_id"]), v["temperature"], v["humidity"],
        v["pressure"], i % 8, i // 8))
' | ch-insert --url "$CH_URL" --create-table --acks "$TEST_TMP/acks" --rejects "$TEST_TMP/rejects" \
  --metrics-file "$TEST_TMP/metrics.prom" 2>"$TEST_TMP/err" || fail "ch-insert failed: $(cat "$TEST_TMP/err")"
assert_eq "$(q 'SELECT count() FROM sensor_metrics')" "$n" "row count"
assert_eq "$(q 'SELECT uniqExact(id) FROM sensor_metrics')" "$n" "distinct ids"
assert_eq "$(q "SELECT count() FROM sensor_metrics WHERE id = 'msg-$n' AND sensor_id LIKE 'sensor-%'")" "1" "last row"
[ -s "$TEST_TMP/rejects" ] && fail "unexpected rejects"
for p in 0 1 2 3 4 5 6 7; do
  assert_eq "$(grep "\"partition\":$p," "$TEST_TMP/acks" | tail -n 1)" \
    "{\"topic\":\"sensor_metrics\",\"partition\":$p,\"offset\":$(((n - 8 + p) / 8))}" "last ack of partition $p"
done
assert_contains "$(cat "$TEST_TMP/err")" "$n inserted, 0 rejected"
grep -q "^sensor_ch_insert_rows_inserted_total $n\$" "$TEST_TMP/metrics.prom" || fail "metrics: $(grep inserted "$TEST_TMP/metrics.prom")"
pass "$n rows inserted, counted, acknowledged"
