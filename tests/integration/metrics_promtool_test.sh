#!/usr/bin/env bash
# Prometheus' own linter on every tool's metrics: `promtool check metrics` (names, units, HELP, TYPE,
# counters ending in _total) must pass on each tool's --metrics-file textfile and on its /metrics
# served by --metrics-listen, produced by real work against real servers (ClickHouse, MinIO S3; the
# Kafka mock cluster, as only the metric text matters here).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ch_lib.sh"
source "$(dirname "$0")/s3_lib.sh"
source "$(dirname "$0")/kafka_lib.sh"
command -v promtool >/dev/null || fail "promtool missing (Debian package prometheus; scripts/install-deps.sh)"
cd "$TEST_TMP"
start_clickhouse
export CLICKHOUSE_URL=$CH_URL CLICKHOUSE_USER=$CH_USER CLICKHOUSE_PASSWORD=$CH_PASSWORD
start_s3
aws_ref s3 mb s3://metrics >/dev/null
start_kafka_mock 1 2 sensor_metrics

checked=()
# check NAME FILE: promtool's verdict on one exposition; a file with no families proves nothing
check() {
  grep -q '^# TYPE ' "$2" || fail "$1: no metrics at all: $(head -c 500 "$2")"
  promtool check metrics <"$2" >"$2.lint" 2>&1 || fail "$1: promtool check metrics: $(cat "$2.lint")"
  checked+=("$1")
}

sensor-gen -c 2000 --bad-fraction 0.1 --seed 5 --metrics-file gen.prom | grep -v '^$' >msgs.jsonl
# sensor-gen has no metrics of its own: its textfile is empty, which node_exporter and promtool accept
promtool check metrics <gen.prom >gen.lint 2>&1 || fail "sensor-gen textfile: $(cat gen.lint)"
checked+=("sensor-gen textfile (empty)")
kafka-cat-sensor -P -b "$BS" -t sensor_metrics --metrics-file produce.prom <msgs.jsonl 2>/dev/null
check "kafka-cat-sensor -P textfile" produce.prom
kafka-cat-sensor -C -b "$BS" -t sensor_metrics -e --envelope --metrics-file consume.prom >env.jsonl 2>/dev/null
check "kafka-cat-sensor -C textfile" consume.prom
grep -q '^sensor_kafka_consumer_lag{' consume.prom || fail "no lag series in: $(cat consume.prom)"
s3-put --tee --metrics-file s3put.prom s3://metrics/raw/env.jsonl <env.jsonl >/dev/null 2>&1
check "s3-put textfile" s3put.prom
s3-cat --summarize --metrics-file s3cat.prom s3://metrics/raw/ >/dev/null
check "s3-cat textfile" s3cat.prom
sensor-parse --metrics-file parse.prom <env.jsonl >rows.jsonl 2>/dev/null
check "sensor-parse textfile" parse.prom
grep -q '^sensor_parse_rejects_total' parse.prom || fail "no rejects series in: $(cat parse.prom)"
ch-insert --create-table --no-acks --metrics-file ch.prom <rows.jsonl 2>/dev/null
check "ch-insert textfile" ch.prom
grep -q '^sensor_ch_insert_post_seconds_bucket' ch.prom || fail "no latency histogram in: $(cat ch.prom)"

# /metrics over HTTP while each stage runs: stdin is a FIFO the test holds open, so the process is
# still up when scraped (same renderer, but the HTTP framing is part of what Prometheus reads).
# scrape_live NAME METRIC CMD...: feeds the file "feed", waits until METRIC shows, scrapes, ends CMD.
scrape_live() {
  local name=$1 metric=$2 port
  shift 2
  port=$(free_port)
  rm -f in.fifo && mkfifo in.fifo
  "$@" --metrics-listen "127.0.0.1:$port" <in.fifo >/dev/null 2>"$name.log" &
  local pid=$!
  exec 7>in.fifo
  cat feed >&7
  wait_until 30 bash -c "curl -sf http://127.0.0.1:$port/metrics | grep -q '^$metric'" ||
    fail "$name: /metrics did not show $metric: $(cat "$name.log")"
  curl -sS "http://127.0.0.1:$port/metrics" >"$name.http.prom"
  exec 7>&-
  kill -TERM "$pid" 2>/dev/null || true  # the consumer does not read stdin; the others end at EOF
  wait "$pid" || true
  check "$name /metrics" "$name.http.prom"
}
cp env.jsonl feed
scrape_live sensor-parse sensor_parse_rejects_total sensor-parse
cp rows.jsonl feed
scrape_live ch-insert sensor_ch_insert_post_seconds_count ch-insert --no-acks --batch-seconds 0.1
cp env.jsonl feed
scrape_live s3-put sensor_s3_put_objects_total s3-put --rotate-lines 500 's3://metrics/live/{seq}.jsonl'
: >feed
scrape_live kafka-cat-sensor sensor_kafka_consumer_lag kafka-cat-sensor -C -b "$BS" -t sensor_metrics -G prom --envelope
pass "promtool check metrics passed on: $(IFS=,; echo "${checked[*]}")"
