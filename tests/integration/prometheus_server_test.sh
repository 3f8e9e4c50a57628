#!/usr/bin/env bash
# Debian's Prometheus server scrapes a live streaming pipeline (a real Kafka broker, MinIO S3 for the
# raw archive, ClickHouse): through Prometheus' HTTP API every stage's target is up, the consumer lag
# is stored per partition, the example rules (examples/prometheus) load and record from real series,
# SensorPipelineStageDown goes pending for a target that does not answer, and every metric the
# rules and the Grafana dashboard (examples/grafana) name is one the live stages export; every
# dashboard query runs on the server and, but for the s3-cat textfile ones, returns series.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pipeline_lib.sh"
source "$(dirname "$0")/s3_lib.sh"
command -v prometheus >/dev/null || fail "prometheus missing (Debian package prometheus; scripts/install-deps.sh)"
PROM_DIR=$SRC_DIR/examples/prometheus
start_servers 3
start_s3
aws_ref s3 mb s3://raw >/dev/null
sensor-gen -c 2000 --bad-fraction 0.05 --seed 4 | grep -v '^$' >msgs.jsonl
kafka-cat-sensor -P -b "$B" -t sensor_metrics <msgs.jsonl 2>/dev/null

pk=$(free_port) ps=$(free_port) pp=$(free_port) pc=$(free_port) dead=$(free_port)
(
  bash -c 'echo $$ >kc.pid; exec "$@"' x kafka-cat-sensor -b "$B" -t sensor_metrics -G prom --envelope \
      "${GROUP_PROPS[@]}" --metrics-listen "127.0.0.1:$pk" 2>kc.log |
    s3-put --tee --rotate-lines 500 's3://raw/{seq}.jsonl' --metrics-listen "127.0.0.1:$ps" 2>s3.log |
    sensor-parse --metrics-listen "127.0.0.1:$pp" 2>sp.log |
    ch-insert --create-table --batch-seconds 0.2 --no-acks --metrics-listen "127.0.0.1:$pc" 2>ch.log
) &
pipe=$!
on_exit "kill $pipe; kill \$(cat $TEST_TMP/kc.pid)"

# The example's jobs and rules, with test ports, a 1 s scrape and evaluation interval, and one more
# "stage" whose port nobody listens on.
cp "$PROM_DIR/sensor-pipeline-rules.yml" .
sed -e 's/scrape_interval: 15s/scrape_interval: 1s/; s/evaluation_interval: 15s/evaluation_interval: 1s/' \
    -e "s/127.0.0.1:9101/127.0.0.1:$pk/; s/127.0.0.1:9131/127.0.0.1:$ps/" \
    -e "s/127.0.0.1:9121/127.0.0.1:$pp/; s/127.0.0.1:9111/127.0.0.1:$pc/" "$PROM_DIR/prometheus.yml" >prometheus.yml
printf '  - job_name: sensor-dead\n    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' "$dead" >>prometheus.yml
for p in $pk $ps $pp $pc; do grep -q "127.0.0.1:$p" prometheus.yml || fail "port $p not in the config: $(cat prometheus.yml)"; done
promtool check config prometheus.yml >/dev/null || fail "config: $(promtool check config prometheus.yml 2>&1)"
pw=$(free_port)
prometheus --config.file=prometheus.yml --storage.tsdb.path="$TEST_TMP/tsdb" \
  --web.listen-address="127.0.0.1:$pw" --log.level=warn 2>prometheus.log &
prom=$!
on_exit "kill $prom; wait $prom"
P="http://127.0.0.1:$pw"
wait_until 30 curl -sf "$P/-/ready" || fail "Prometheus not ready: $(tail -5 prometheus.log)"

# api PATH [curl args]: the "data" of a successful API answer
api() { curl -sS --fail-with-body "$P/api/v1/$1" "${@:2}" | jq -e 'select(.status == "success") | .data'; }
query() { api query --data-urlencode "query=$1"; }

# every stage's target up (and only the dead one down)
targets_ok() {
  api targets | jq -e --arg dead "127.0.0.1:$dead" '[.activeTargets[] | select(.labels.job | startswith("sensor-"))]
      | (map(select(.labels.instance != $dead and .health == "up")) | length) == 4
        and (map(select(.labels.instance == $dead and .health == "down")) | length) == 1'
}
wait_until 30 targets_ok || fail "targets: $(api targets | jq -c '[.activeTargets[] | {job: .labels.job, health, lastError}]')"
pass "Prometheus scrapes 4 live stages (up) and sees the dead one down"

# a second load after the first scrapes, so that rates are not 0
sensor-gen -c 2000 --bad-fraction 0.05 --seed 5 | grep -v '^$' >msgs2.jsonl
kafka-cat-sensor -P -b "$B" -t sensor_metrics <msgs2.jsonl 2>/dev/null
cat msgs2.jsonl >>msgs.jsonl
valid=$(sensor-parse <msgs.jsonl 2>/dev/null | wc -l)
rows_in() { [ "$(q 'SELECT count() FROM sensor_metrics')" = "$valid" ]; }
wait_until 60 rows_in || fail "rows did not arrive: $(q 'SELECT count() FROM sensor_metrics'), want $valid"

# the lag series, one per partition, scraped after the pipeline caught up (0 for every partition)
lag_ok() { query 'sensor_kafka_consumer_lag{job="sensor-kafka",topic="sensor_metrics"}' |
  jq -e '[.result[] | select(.value[1] == "0") | .metric.partition] | sort == ["0","1","2"]'; }
wait_until 30 lag_ok || fail "lag series: $(query 'sensor_kafka_consumer_lag')"
sleep 1.5  # one more scrape after the last rows
assert_eq "$(query 'sum(sensor_kafka_consumed_messages_total{job="sensor-kafka"})' | jq -r '.result[0].value[1]')" \
  "$(wc -l <msgs.jsonl)" "consumed messages as stored by Prometheus"
assert_eq "$(query 'sum(sensor_ch_insert_rows_inserted_total)' | jq -r '.result[0].value[1]')" "$valid" "rows inserted"
pass "consumer lag stored per partition (0, 1, 2), counters match the pipeline"

# the example rules loaded on the server, recording from the live series
rules=$(api rules)
assert_eq "$(jq '[.groups[].rules[]] | length' <<<"$rules")" "$(grep -cE '^\s*- (record|alert):' sensor-pipeline-rules.yml)" "rules loaded"
jq -e '[.groups[].rules[] | select(.health != "ok")] | length == 0' <<<"$rules" >/dev/null ||
  fail "unhealthy rules: $(jq -c '[.groups[].rules[] | select(.health != "ok") | {name, lastError}]' <<<"$rules")"
wait_until 20 bash -c "curl -sf '$P/api/v1/query' --data-urlencode 'query=job:sensor_kafka_consumed_messages:rate5m{job=\"sensor-kafka\"} > 0' | jq -e '.data.result | length == 1'" ||
  fail "recording rule has no value: $(query 'job:sensor_kafka_consumed_messages:rate5m')"
wait_until 20 bash -c "curl -sf '$P/api/v1/alerts' | jq -e '.data.alerts[] | select(.labels.alertname == \"SensorPipelineStageDown\" and .labels.job == \"sensor-dead\" and .state == \"pending\")'" ||
  fail "SensorPipelineStageDown not pending for the dead target: $(api alerts)"
# A batch in flight at a scrape in Prometheus' first seconds makes SensorChInsertStalled pending for
# one evaluation (its 10 min window holds only flat samples then; "for: 5m" keeps it from firing):
# a healthy pipeline has no other alert once the next evaluation saw the insert.
healthy() { api alerts | jq -e '[.alerts[] | select(.labels.job != "sensor-dead")] | length == 0'; }
wait_until 10 healthy || fail "alerts on a healthy pipeline: $(api alerts)"
pass "rules loaded and healthy, recording from live series; stage-down pending only for the dead target"

# every metric the rules and the dashboard name is exported by a live stage (or, for the archive
# size, by s3-cat --summarize's textfile, the cron job's way in)
for p in $pk $ps $pp $pc; do curl -sS "http://127.0.0.1:$p/metrics"; done >live.prom
s3-cat --summarize --metrics-file s3cat.prom s3://raw/ >/dev/null
cat s3cat.prom >>live.prom
DASH=$SRC_DIR/examples/grafana/sensor-pipeline.json
python3 "$SRC_DIR/tests/integration/promql_names.py" check live.prom sensor-pipeline-rules.yml \
  sensor-pipeline-rules.yml "$DASH" >names.out || fail "rules or dashboard name metrics no stage exports (see above)"
pass "every metric in the rules and the dashboard is on a live /metrics ($(wc -l <names.out) expressions)"

# the dashboard: well-formed for Grafana (unique panel ids, a datasource and an expr per target),
# and each query valid PromQL on this server, returning series from the live pipeline
jq -e '[.panels[].id] | length == (unique | length)' "$DASH" >/dev/null || fail "duplicate panel ids"
jq -e '[.panels[] | .gridPos and (.targets | length > 0) and all(.targets[]; .expr != "" and .datasource.uid == "${datasource}")] | all' \
  "$DASH" >/dev/null || fail "a panel lacks gridPos, targets, an expr or the datasource variable"
n=0
while IFS= read -r expr; do
  e=${expr//\$__rate_interval/30s}
  res=$(curl -sS "$P/api/v1/query" --data-urlencode "query=$e") || fail "query failed: $e"
  jq -e '.status == "success"' <<<"$res" >/dev/null || fail "Prometheus refused dashboard query $e: $res"
  if [[ $e != *sensor_s3_prefix_* ]]; then
    jq -e '.data.result | length > 0' <<<"$res" >/dev/null || fail "dashboard query has no series on a live pipeline: $e"
  fi
  n=$((n + 1))
done < <(python3 "$SRC_DIR/tests/integration/promql_names.py" exprs "$DASH")
[ "$n" -ge 10 ] || fail "only $n dashboard queries found"
pass "dashboard: $n queries valid on Prometheus, with series from the live pipeline"
kill -TERM "$(cat kc.pid)"
wait_until 30 bash -c "! kill -0 $pipe 2>/dev/null" || fail "pipeline did not stop on SIGTERM"
