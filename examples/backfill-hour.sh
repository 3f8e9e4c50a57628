#!/usr/bin/env bash
# Backfill one hour (default: the previous one) of the S3 raw archive into ClickHouse.
#   backfill-hour.sh [YYYY-MM-DDTHH]
# The hour is the archiving clock (UTC): the objects s3-put opened in that hour, found by
# `s3-cat --hour` from the same key template s3-put writes with (BACKFILL_ARCHIVE), not by a
# separately written prefix. An hour without objects is a success.
# Cron mails what a job prints: a successful run prints nothing; a failing one prints every stage's
# messages (also kept in BACKFILL_STATE_DIR/backfill-last.log) and exits with the first failing
# stage's status (see the man pages); metrics show both.
#
# Settings: S3 and ClickHouse from the config file (SENSOR_PIPELINE_CONFIG, as the cron line sets it)
# or the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL,
# CLICKHOUSE_URL, CLICKHOUSE_USER, CLICKHOUSE_PASSWORD_FILE; see s3-cat(1), ch-insert(1)); and
#   BACKFILL_ARCHIVE      the archive's key template, exactly as given to s3-put (the README's and the
#                         systemd unit's layout: s3://raw/sensors/%Y/%m/%d/%H%M%S-{host}-{run}-{seq}.jsonl)
#   BACKFILL_METRICS_DIR  node_exporter textfile directory (/var/lib/node_exporter/textfile)
#   BACKFILL_TABLE        the ClickHouse table (sensor_metrics)
#   BACKFILL_STATE_DIR    where rejected lines (sensor-parse's and ch-insert's) and the last run's
#                         messages are kept (/var/lib/sensor-pipeline)
#   BACKFILL_LOCK         lock file against overlapping runs (/run/lock/sensor-backfill.lock)
set -euo pipefail
# cron runs jobs with PATH=/usr/bin:/bin. Installed, this script is PREFIX/share/sensor-pipeline/examples/
# backfill-hour.sh and the tools are in PREFIX/bin; /usr/local/bin covers a copy made elsewhere.
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
export PATH="$here/../../../bin:/usr/local/bin:${PATH:-/usr/bin:/bin}"
if [ -n "${BACKFILL_SOURCE:-}" ]; then
  echo "backfill-hour.sh: BACKFILL_SOURCE (a prefix) is replaced by BACKFILL_ARCHIVE, the key template s3-put writes with" >&2
  exit 78
fi
hour=${1:-$(date -u -d '1 hour ago' +%Y-%m-%dT%H)}
archive=${BACKFILL_ARCHIVE:-'s3://raw/sensors/%Y/%m/%d/%H%M%S-{host}-{run}-{seq}.jsonl'}
metrics=${BACKFILL_METRICS_DIR:-/var/lib/node_exporter/textfile}
state=${BACKFILL_STATE_DIR:-/var/lib/sensor-pipeline}
table=${BACKFILL_TABLE:-sensor_metrics}
exec 9>"${BACKFILL_LOCK:-/run/lock/sensor-backfill.lock}"
flock -n 9 || { echo "backfill-hour.sh: another run holds the lock" >&2; exit 75; }
log=$state/backfill-last.log
rc=0
{ s3-cat --hour "$hour" "$archive" --metrics-file "$metrics/sensor_backfill_s3.prom" \
  | sensor-parse --rejects "$state/backfill-rejects-$hour.jsonl" \
      --max-reject-ratio 0.05 --metrics-file "$metrics/sensor_backfill_parse.prom" \
  | ch-insert --table "$table" --no-acks --rejects "$state/backfill-ch-rejects-$hour.jsonl" \
      --metrics-file "$metrics/sensor_backfill_ch.prom"; } 2>"$log" || rc=$?
if [ "$rc" -ne 0 ]; then
  cat "$log" >&2 || true
  echo "backfill-hour.sh: hour $hour of $archive failed (exit $rc); the stages' messages are above" >&2
  exit "$rc"
fi
