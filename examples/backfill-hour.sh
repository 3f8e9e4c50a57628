#!/usr/bin/env bash
# Backfill one hour (default: the previous one) of the S3 raw archive into ClickHouse.
#   backfill-hour.sh [YYYY-MM-DDTHH]
# Exit status is the first failing stage's (see the man pages): cron mails it, metrics show it.
# An hour without objects is a success (s3-cat notes it, exit 0).
#
# Settings: S3 and ClickHouse from the config file (SENSOR_PIPELINE_CONFIG, as the cron line sets it)
# or the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL,
# CLICKHOUSE_URL, CLICKHOUSE_USER, CLICKHOUSE_PASSWORD_FILE; see s3-cat(1), ch-insert(1)); and
#   BACKFILL_SOURCE       archive root, the hour's objects are under SOURCE/YYYY/MM/DD/HH/ (s3://raw/sensors)
#   BACKFILL_METRICS_DIR  node_exporter textfile directory (/var/lib/node_exporter/textfile)
#   BACKFILL_STATE_DIR    where rejected lines are kept (/var/lib/sensor-pipeline)
#   BACKFILL_LOCK         lock file against overlapping runs (/run/lock/sensor-backfill.lock)
set -euo pipefail
# cron runs jobs with PATH=/usr/bin:/bin. Installed, this script is PREFIX/share/sensor-pipeline/examples/
# backfill-hour.sh and the tools are in PREFIX/bin; /usr/local/bin covers a copy made elsewhere.
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
export PATH="$here/../../../bin:/usr/local/bin:${PATH:-/usr/bin:/bin}"
hour=${1:-$(date -u -d '1 hour ago' +%Y-%m-%dT%H)}
source=${BACKFILL_SOURCE:-s3://raw/sensors}
# the trailing '/' keeps hour 22 from also reading objects named 220...
prefix="${source%/}/$(date -u -d "${hour}:00:00Z" +%Y/%m/%d/%H)/"
metrics=${BACKFILL_METRICS_DIR:-/var/lib/node_exporter/textfile}
state=${BACKFILL_STATE_DIR:-/var/lib/sensor-pipeline}
exec 9>"${BACKFILL_LOCK:-/run/lock/sensor-backfill.lock}"
flock -n 9 || { echo "backfill: another run holds the lock" >&2; exit 75; }
s3-cat --prefix "$prefix" --metrics-file "$metrics/sensor_backfill_s3.prom" \
  | sensor-parse --rejects "$state/backfill-rejects-$hour.jsonl" \
      --max-reject-ratio 0.05 --metrics-file "$metrics/sensor_backfill_parse.prom" \
  | ch-insert --table sensor_metrics --no-acks --metrics-file "$metrics/sensor_backfill_ch.prom"
