#!/usr/bin/env bash
# Benchmark (not a test): N seed rows (JSONEachRow, as sensor-parse writes them) into a real
# clickhouse-server, three ways in the same run:
#   curl      one `curl --data-binary` POST of the whole file (the server's own ceiling; holds the file)
#   client    clickhouse-client --query 'INSERT ... FORMAT JSONEachRow' over the native protocol
#   ch-insert our tool, defaults (100k-row gzip'd batches, 2 in flight, acks off)
#   ours_p1   the same with -P 1 (one batch in flight: only compression overlaps the server)
# Each is run RUNS times (best time kept), row counts are checked, peak RSS by /usr/bin/time -f %M.
# Usage: scripts/bench/ch.sh [ROWS] [RUNS]    (BIN_DIR defaults to build/bin)
set -euo pipefail
SRC_DIR=$(cd "$(dirname "$0")/../.." && pwd)
BIN_DIR=${BIN_DIR:-$SRC_DIR/build/bin}
ROWS=${1:-1000000}
RUNS=${2:-2}
export PATH="$BIN_DIR:$PATH" LC_ALL=C
command -v /usr/bin/time >/dev/null || { echo "bench: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/sp-bench-ch.XXXXXX)
cleanup() { "$SRC_DIR/scripts/clickhouse.sh" stop "$tmp/ch" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
eval "$("$SRC_DIR/scripts/clickhouse.sh" start "$tmp/ch")"
q() { curl -sS --fail-with-body "$CH_URL/" --data-binary "$1"; }

# Rows: sensor-gen | sensor-parse when sensor-parse is built; else the same row shape by Python.
if command -v sensor-parse >/dev/null 2>&1; then
  sensor-gen -c "$ROWS" | sensor-parse >"$tmp/rows.jsonl"
else
  sensor-gen -c "$ROWS" | python3 -c '
import sys, json
w = sys.stdout.write
for l in sys.stdin:
    m = json.loads(l); v = m["value"]; ts = m["timestamp"]
    w("{\"id\":%s,\"ts\":\"%s %s\",\"sensor_id\":%s,\"temperature\":%s,\"humidity\":%s,\"pressure\":%s}\n" % (
        json.dumps(m["id"]), ts[:10], ts[11:19], json.dumps(v["sensor_id"]), v["temperature"], v["humidity"], v["pressure"]))
' >"$tmp/rows.jsonl"
fi
size=$(stat -c %s "$tmp/rows.jsonl")
echo "rows: $ROWS, $((size / 1048576)) MiB JSONEachRow; ClickHouse $(q 'SELECT version()'); $(nproc) cores; best of $RUNS"

cols="id, ts, sensor_id, temperature, humidity, pressure"
settings="date_time_input_format=best_effort"
best() { sort -g | head -n 1; }
div() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a / b}'; }
declare -A T M
measure() {  # name table command...: one run
  local name=$1 table=$2; shift 2
  {
    q "DROP TABLE IF EXISTS $table" >/dev/null
    ch-insert --url "$CH_URL" --table "$table" --create-table -q </dev/null >/dev/null
    local s e
    s=$(date +%s.%N)
    /usr/bin/time -f %M -o "$tmp/rss" "$@" <"$tmp/rows.jsonl" >/dev/null 2>"$tmp/err" || {
      echo "bench: $name failed: $(tail -n 5 "$tmp/err")" >&2; exit 1; }
    e=$(date +%s.%N)
    local n
    n=$(q "SELECT count() FROM $table")
    [ "$n" = "$ROWS" ] || { echo "bench: $name inserted $n rows, want $ROWS" >&2; exit 1; }
    awk -v s="$s" -v e="$e" "BEGIN{print e - s}" >>"$tmp/t.$name"
    cat "$tmp/rss" >>"$tmp/m.$name"
  }
}

insert_query=$(python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1]))' "INSERT INTO t_curl ($cols) FORMAT JSONEachRow")
# rounds interleave the tools, so a busy neighbour on the machine slows all of them alike
for round in $(seq 1 "$RUNS"); do
  measure curl t_curl curl -sS --fail --data-binary @- -H 'Content-Type: application/octet-stream' \
    "$CH_URL/?$settings&query=$insert_query"
  measure client t_client clickhouse-client --host 127.0.0.1 --port "$CH_TCP_PORT" --$settings \
    --query "INSERT INTO t_client ($cols) FORMAT JSONEachRow"
  measure ours t_ours ch-insert --url "$CH_URL" --table t_ours --no-acks -q
  measure ours_p1 t_ours_p1 ch-insert --url "$CH_URL" --table t_ours_p1 --no-acks -q -j 1
done
for n in curl client ours ours_p1; do
  T[$n]=$(best <"$tmp/t.$n")
  M[$n]=$(sort -n "$tmp/m.$n" | tail -n 1)
done

printf '%-34s %9s %9s %8s\n' tool seconds rss_mb vs_curl
for n in curl client ours ours_p1; do
  printf '%-34s %9.2f %9d %8.2f\n' "$n" "${T[$n]}" $((M[$n] / 1024)) "$(div "${T[$n]}" "${T[curl]}")"
done
rss=$((M[ours] / 1024))
printf 'RESULT ch-insert-vs-curl ours=%.2fs ref=%.2fs ratio=%s rss_mb=%d\n' "${T[ours]}" "${T[curl]}" \
  "$(div "${T[ours]}" "${T[curl]}")" "$rss"
printf 'RESULT ch-insert-P1-vs-curl ours=%.2fs ref=%.2fs ratio=%s rss_mb=%d\n' "${T[ours_p1]}" "${T[curl]}" \
  "$(div "${T[ours_p1]}" "${T[curl]}")" $((M[ours_p1] / 1024))
printf 'RESULT ch-insert-vs-clickhouse-client ours=%.2fs ref=%.2fs ratio=%s rss_mb=%d\n' "${T[ours]}" "${T[client]}" \
  "$(div "${T[ours]}" "${T[client]}")" "$rss"
