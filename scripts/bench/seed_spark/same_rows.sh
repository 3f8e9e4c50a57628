#!/usr/bin/env bash
# Whether two ClickHouse tables of the default schema (id, ts, sensor_id, temperature, humidity, pressure)
# hold the same rows: the Spark baseline's against the toolkit's, loaded from the same topic, so that the
# benchmark compares equal work. Same number of rows, no id twice in either, and every row of each (all six
# columns, values compared as stored) found in the other.
#
#   scripts/bench/seed_spark/same_rows.sh TABLE_A TABLE_B
#
# ClickHouse from CLICKHOUSE_URL (default http://127.0.0.1:8123), CLICKHOUSE_USER, CLICKHOUSE_PASSWORD.
# Prints "same rows: N" and exits 0, or says what differs (counts and up to 5 rows each way) and exits 1;
# 2 when a query fails.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 TABLE_A TABLE_B" >&2; exit 2; }
a=$1 b=$2
url=${CLICKHOUSE_URL:-http://127.0.0.1:8123}
# curl's config syntax: backslash and quote escaped
cfg_escape() { local s=${1//\\/\\\\}; printf '%s' "${s//\"/\\\"}"; }
q() {
  # the password in a header from curl's config on stdin: never on a command line
  curl -sS --fail-with-body -K - "${url%/}/" --data-binary "$1" <<EOF ||
header = "X-ClickHouse-User: $(cfg_escape "${CLICKHOUSE_USER:-default}")"
header = "X-ClickHouse-Key: $(cfg_escape "${CLICKHOUSE_PASSWORD:-}")"
EOF
    { echo "same_rows.sh: query failed: $1" >&2; exit 2; }
}
cols="id, ts, sensor_id, temperature, humidity, pressure"
# rows of X not in Y (all columns): ClickHouse 18.16 has tuple IN over a subquery
missing() { echo "SELECT $cols FROM $1 WHERE ($cols) NOT IN (SELECT $cols FROM $2)"; }
read -r na ua <<<"$(q "SELECT count(), uniqExact(id) FROM $a FORMAT TSV")"
read -r nb ub <<<"$(q "SELECT count(), uniqExact(id) FROM $b FORMAT TSV")"
only_a=$(q "SELECT count() FROM ($(missing "$a" "$b"))")
only_b=$(q "SELECT count() FROM ($(missing "$b" "$a"))")
if [ "$na" = "$nb" ] && [ "$na" = "$ua" ] && [ "$nb" = "$ub" ] && [ "$only_a" = 0 ] && [ "$only_b" = 0 ]; then
  echo "same rows: $na"
  exit 0
fi
echo "rows differ: $a has $na rows ($ua ids), $b has $nb rows ($ub ids);" \
  "$only_a rows only in $a, $only_b only in $b" >&2
[ "$only_a" = 0 ] || { echo "only in $a:" >&2; q "$(missing "$a" "$b") ORDER BY id LIMIT 5 FORMAT TSV" >&2; }
[ "$only_b" = 0 ] || { echo "only in $b:" >&2; q "$(missing "$b" "$a") ORDER BY id LIMIT 5 FORMAT TSV" >&2; }
exit 1
