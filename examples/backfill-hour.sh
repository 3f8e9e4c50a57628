#!/usr/bin/env bash
# Backfill one hour (default: the previous one) of the S3 raw archive into ClickHouse.
#   backfill-hour.sh [YYYY-MM-DDTHH]
# Exit status is the first failing stage's (see the man pages): cron mails it, metrics show it.
set -euo pipefail
hour=${1:-$(date -u -d '1 hour ago' +%Y-%m-%dT%H)}
prefix="s3://raw/sensors/$(date -u -d "${hour}:00:00Z" +%Y/%m/%d/%H)"
metrics=/var/lib/node_exporter/textfile
exec 9>/run/lock/sensor-backfill.lock
flock -n 9 || { echo "backfill: another run holds the lock" >&2; exit 75; }
s3-cat --prefix "$prefix" --metrics-file "$metrics/sensor_backfill_s3.prom" \
  | sensor-parse --rejects "/var/lib/sensor-pipeline/backfill-rejects-$hour.jsonl" \
      --max-reject-ratio 0.05 --metrics-file "$metrics/sensor_backfill_parse.prom" \
  | ch-insert --table sensor_metrics --no-acks --metrics-file "$metrics/sensor_backfill_ch.prom"
