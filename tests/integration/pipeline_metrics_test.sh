#!/usr/bin/env bash
# Operations: every long-running stage serves Prometheus /metrics over HTTP (--metrics-listen).
# A live streaming pipeline is scraped with curl while it runs: records, bytes, rejects, retries,
# batch latency and consumer lag must be there with the values the pipeline actually produced.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pipeline_lib.sh"
start_servers 4
sensor-gen -c 3000 --bad-fraction 0.05 --seed 9 | grep -v '^$' >msgs.jsonl
n=$(wc -l <msgs.jsonl)
valid=$(sensor-parse <msgs.jsonl 2>/dev/null | wc -l)
kafka-cat-sensor -P -b "$B" -t sensor_metrics <msgs.jsonl 2>/dev/null

pk=$(free_port) pp=$(free_port) pc=$(free_port)
(
  bash -c 'echo $$ >kc.pid; exec "$@"' x kafka-cat-sensor -b "$B" -t sensor_metrics -G metrics --envelope \
      -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 --metrics-listen "127.0.0.1:$pk" 2>kc.log |
    sensor-parse --metrics-listen "127.0.0.1:$pp" 2>sp.log |
    ch-insert --create-table --batch-seconds 0.2 --no-acks --metrics-listen "127.0.0.1:$pc" 2>ch.log
) &
pipe=$!
on_exit "kill $pipe; kill \$(cat $TEST_TMP/kc.pid)"
wait_until 60 bash -c "[ \"\$(curl -s -H 'X-ClickHouse-User: $CH_USER' -H 'X-ClickHouse-Key: $CH_PASSWORD' '$CH_URL/' --data-binary 'SELECT count() FROM sensor_metrics' 2>/dev/null)\" = $valid ]" ||
  fail "rows did not arrive: $(q 'SELECT count() FROM sensor_metrics')"
sleep 1.5  # the lag gauge refreshes every second

scrape() { curl -sS --max-time 5 "http://127.0.0.1:$1/metrics"; }
k=$(scrape "$pk") || fail "kafka-cat-sensor /metrics did not answer"
p=$(scrape "$pp") || fail "sensor-parse /metrics did not answer"
c=$(scrape "$pc") || fail "ch-insert /metrics did not answer"
# the value is the last field: label values may hold spaces (sensor_parse_rejects_total{reason="empty line"})
sum() { awk -v m="$2" '$1 ~ "^"m"({|$)" {s += $NF} END {printf "%d", s}' <<<"$1"; }
assert_eq "$(sum "$k" sensor_kafka_consumed_messages_total)" "$n" "kafka consumed messages"
[ "$(sum "$k" sensor_kafka_consumed_bytes_total)" -gt 0 ] || fail "kafka consumed bytes missing"
assert_contains "$k" 'sensor_kafka_consumer_lag{topic="sensor_metrics",partition="0"} 0' "lag per partition"
assert_eq "$(sum "$p" sensor_parse_records_total)" "$n" "parse records"
assert_eq "$(sum "$p" sensor_parse_rejects_total)" "$((n - valid))" "parse rejects"
assert_eq "$(sum "$c" sensor_ch_insert_rows_inserted_total)" "$valid" "ch-insert rows inserted"
assert_contains "$c" "sensor_ch_insert_retries_total" "retries counter"
assert_contains "$c" "# TYPE sensor_ch_insert_post_seconds histogram" "batch latency histogram"
[ "$(sum "$c" sensor_ch_insert_post_seconds_count)" -gt 0 ] || fail "no batch latency observed"
assert_contains "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pc/nothing")" "404" "unknown path"
kill -TERM "$(cat kc.pid)"
wait_until 30 bash -c "! kill -0 $pipe 2>/dev/null" || fail "pipeline did not stop on SIGTERM"
pass "three stages scraped over HTTP while streaming: $n messages, $((n - valid)) rejects, $valid rows"
