#!/usr/bin/env bash
# The main job on local servers: a real Apache Kafka broker (scripts/kafka.sh; KAFKA=mock uses
# librdkafka's mock cluster instead, the quick path), a local ClickHouse and a local S3 server (MinIO,
# the seed's store; DEMO_S3=swift uses OpenStack Swift's S3 layer instead) in a temp dir; sensor-gen data
# (with some malformed lines) produced to Kafka; the full pipeline with the raw stream archived to S3 on
# the way; a report that names the servers; everything stopped.
#
#   make demo                         # or: scripts/demo.sh [BUILD_DIR]
#   make demo KAFKA=mock              # librdkafka's mock cluster instead of a real broker (no JVM)
#   make demo DEMO_S3=swift           # Swift's S3 layer (Debian packages) instead of MinIO
#   DEMO_MESSAGES=1000000 make demo   # more data
#
# The demo uses its own servers: CLICKHOUSE_URL, AWS_* and the like in the caller's environment are
# ignored (a demo must not write into a production table). To point it at other servers, say so
# explicitly: DEMO_KAFKA_BROKERS, DEMO_CLICKHOUSE_URL (+ DEMO_CLICKHOUSE_USER/PASSWORD) and
# DEMO_S3_ENDPOINT (+ DEMO_S3_ACCESS_KEY/SECRET_KEY, DEMO_BUCKET, which must exist).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
export PATH="$build/bin:$PATH"
N=${DEMO_MESSAGES:-200000}
BAD=${DEMO_BAD_FRACTION:-0.002}
BUCKET=${DEMO_BUCKET:-raw}
KAFKA=${KAFKA:-real}
DEMO_S3=${DEMO_S3:-minio}
case "$DEMO_S3" in
  minio) S3_SCRIPT=$here/scripts/minio.sh S3_NAME="MinIO" ;;
  swift) S3_SCRIPT=$here/scripts/swift.sh S3_NAME="OpenStack Swift with its S3 API" ;;
  *) echo "demo: DEMO_S3 must be minio or swift, not '$DEMO_S3'" >&2; exit 2 ;;
esac
TOPIC=sensor_metrics
# nothing from the caller's environment reaches the tools
unset CLICKHOUSE_URL CLICKHOUSE_USER CLICKHOUSE_PASSWORD CLICKHOUSE_DATABASE KAFKA_BROKERS SENSOR_SCHEMA \
  AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_REGION \
  AWS_DEFAULT_REGION SENSOR_PIPELINE_CONFIG 2>/dev/null || true
# MinIO is built once per machine (make's deps step already does), before HOME is the demo's own: the
# build's Go module cache (read-only files) belongs in the caller's HOME, not in the removed work dir
if [ "$DEMO_S3" = minio ] && [ -z "${DEMO_S3_ENDPOINT:-}" ]; then
  minio_bin=$("$S3_SCRIPT" path) || { echo "demo: no MinIO server (make demo DEMO_S3=swift uses Swift instead)" >&2; exit 69; }
  minio_version=${minio_bin%/bin/minio}
  S3_NAME="MinIO, github.com/minio/minio@${minio_version##*/minio-}"
fi
work=$(mktemp -d /tmp/sensor-demo.XXXXXX)
# Kafka's jars and the MinIO server stay in the caller's cache (fetched or built once), although HOME is
# the demo's own
export SENSOR_CACHE_DIR="${SENSOR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sensor-pipeline}"
export HOME="$work/home"  # no ~/.config/sensor-pipeline or ~/.aws of the caller's
mkdir -p "$HOME"
pids=()
cleanup() {
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  [ -n "${KAFKA_STARTED:-}" ] && "$here/scripts/kafka.sh" stop "$work/kafka" >/dev/null 2>&1
  [ -n "${CH_STARTED:-}" ] && "$here/scripts/clickhouse.sh" stop "$work/clickhouse" >/dev/null 2>&1
  [ -n "${S3_STARTED:-}" ] && "$S3_SCRIPT" stop "$work/s3" >/dev/null 2>&1
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
say() { printf '\n== %s\n' "$*"; }

say "Starting services in $work"
if [ -n "${DEMO_KAFKA_BROKERS:-}" ]; then
  KAFKA_BROKERS=$DEMO_KAFKA_BROKERS
  echo "Kafka (given): $KAFKA_BROKERS"
elif [ "$KAFKA" = mock ]; then
  kafka-cat-sensor --mock-cluster 1 --partitions 16 -t "$TOPIC" >"$work/kafka.out" 2>"$work/kafka.log" &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$work/kafka.out" ] && break; sleep 0.1; done
  KAFKA_BROKERS=$(head -1 "$work/kafka.out")
  [ -n "$KAFKA_BROKERS" ] || { cat "$work/kafka.log" >&2; echo "demo: mock Kafka cluster did not start" >&2; exit 69; }
  echo "Kafka (librdkafka mock cluster, 16 partitions): $KAFKA_BROKERS"
else
  KAFKA_STARTED=1
  eval "$("$here/scripts/kafka.sh" start "$work/kafka" 1)"
  "$here/scripts/kafka.sh" topic "$work/kafka" "$TOPIC" 16
  KAFKA_BROKERS=$KAFKA_BOOTSTRAP
  echo "Kafka (Apache Kafka $KAFKA_VERSION broker, topic $TOPIC with 16 partitions): $KAFKA_BROKERS"
fi
if [ -n "${DEMO_CLICKHOUSE_URL:-}" ]; then
  export CLICKHOUSE_URL=$DEMO_CLICKHOUSE_URL CLICKHOUSE_USER=${DEMO_CLICKHOUSE_USER:-default}
  export CLICKHOUSE_PASSWORD=${DEMO_CLICKHOUSE_PASSWORD:-}
  echo "ClickHouse (given): $CLICKHOUSE_URL"
else
  CH_STARTED=1
  eval "$("$here/scripts/clickhouse.sh" start "$work/clickhouse")"
  export CLICKHOUSE_URL=$CH_URL CLICKHOUSE_USER=$CH_USER CLICKHOUSE_PASSWORD=$CH_PASSWORD
  echo "ClickHouse $(curl -s "$CLICKHOUSE_URL/?query=SELECT%20version()"): $CLICKHOUSE_URL"
fi
if [ -n "${DEMO_S3_ENDPOINT:-}" ]; then
  export AWS_ENDPOINT_URL=$DEMO_S3_ENDPOINT AWS_ACCESS_KEY_ID=${DEMO_S3_ACCESS_KEY:-} AWS_SECRET_ACCESS_KEY=${DEMO_S3_SECRET_KEY:-}
  S3_NAME="given: $AWS_ENDPOINT_URL"
  echo "S3 (given): $AWS_ENDPOINT_URL, bucket $BUCKET"
else
  S3_STARTED=1
  eval "$("$S3_SCRIPT" start "$work/s3")"
  export AWS_ENDPOINT_URL=$S3_ENDPOINT AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY
  export AWS_REGION=$S3_REGION AWS_DEFAULT_REGION=$S3_REGION
  echo "S3 ($S3_NAME): $AWS_ENDPOINT_URL"
  # a bucket is made once by whoever runs the store; here Debian's aws CLI does it
  env -u AWS_CA_BUNDLE /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" s3 mb "s3://$BUCKET" >/dev/null
fi

say "Producing $N generated messages (a share of $BAD malformed) to Kafka topic $TOPIC"
sensor-gen -c "$N" --bad-fraction "$BAD" --sensors 200 --start "$(date -u +%Y-%m-%dT00:00:00Z)" --interval 100ms \
  >"$work/messages.jsonl"
# an empty line is not a message: the producer skips it (as kcat -P does)
M=$(grep -c . "$work/messages.jsonl")
kafka-cat-sensor -P -b "$KAFKA_BROKERS" -t "$TOPIC" --key-field value.sensor_id <"$work/messages.jsonl" 2>"$work/produce.log" \
  || { tail -5 "$work/produce.log" >&2; exit 75; }
grep 'info:' "$work/produce.log" | sed 's/^/  /'

say "Running the pipeline: kafka-cat-sensor | s3-put --tee | sensor-parse | ch-insert (acks back through a FIFO)"
mkfifo "$work/acks"
start=$(date +%s.%N)
kafka-cat-sensor -b "$KAFKA_BROKERS" -t "$TOPIC" -G demo-ingest -o beginning -e --envelope --commit-acks "$work/acks" \
  2>"$work/kafka-cat.log" \
  | s3-put --tee --zstd --level 1 --rotate-lines 50000 "s3://$BUCKET/sensors/%Y/%m/%d/%H%M%S-{seq}.jsonl" 2>"$work/s3-put.log" \
  | sensor-parse --rejects "$work/rejects.jsonl" 2>"$work/sensor-parse.log" \
  | ch-insert --create-table --table sensor_metrics --rejects "$work/ch-rejects.jsonl" 2>"$work/ch-insert.log" >"$work/acks"
end=$(date +%s.%N)
for f in kafka-cat s3-put sensor-parse ch-insert; do sed "s/^/  /" "$work/$f.log" | grep -E 'info: |error|warning: [0-9]+ more' | tail -2; done

q() { curl -sS --fail-with-body -H "X-ClickHouse-User: ${CLICKHOUSE_USER:-default}" -H "X-ClickHouse-Key: ${CLICKHOUSE_PASSWORD:-}" \
        "$CLICKHOUSE_URL/" --data-binary "$1"; }
say "Report"
rows=$(q "SELECT count() FROM sensor_metrics FINAL")
rejects=$(wc -l <"$work/rejects.jsonl")
printf '  messages in Kafka:      %s (%s generated lines, %s of them empty)\n' "$M" "$N" "$((N - M))"
printf '  rows in ClickHouse:     %s (SELECT count() FROM sensor_metrics FINAL)\n' "$rows"
printf '  rejected by the parser: %s\n' "$rejects"
printf "  pipeline wall time:     %.2f s (%s messages/s, including ~3 s for the consumer group to form)\n" "$(python3 -c "print($end-$start)")" "$(python3 -c "print(round($N/($end-$start)))")"
echo "  rejects by reason:"
python3 - "$work/rejects.jsonl" <<'PY'
import json, sys, collections, re
c = collections.Counter()
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try: r = json.loads(line)["reason"]
    except Exception: r = "?"
    c[re.sub(r"'[^']*'", "'…'", r)[:70]] += 1
for reason, n in c.most_common(10): print(f"    {n:8d}  {reason}")
PY
echo "  S3 archive ($S3_NAME):"
s3-cat --summarize "s3://$BUCKET/sensors/" | sed 's/^/    /'
echo "  per-sensor aggregates (top 10 by readings):"
q "SELECT sensor_id, count() AS readings, round(avg(temperature),1) AS avg_temp, round(min(temperature),1) AS min_temp,
          round(max(temperature),1) AS max_temp, round(avg(humidity),1) AS avg_hum, round(avg(pressure),1) AS avg_pres
   FROM sensor_metrics FINAL GROUP BY sensor_id ORDER BY readings DESC, sensor_id LIMIT 10 FORMAT PrettyCompactNoEscapes" | sed 's/^/    /'
valid=$((M - rejects))
if [ "$rows" -ne "$valid" ]; then
  echo "demo: MISMATCH: $valid valid messages but $rows rows in ClickHouse" >&2
  exit 1
fi
echo
echo "demo: ok: every message is in ClickHouse or in the rejects file ($rows + $rejects = $M)"
