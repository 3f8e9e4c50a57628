#!/usr/bin/env bash
# Benchmark (not a test): N seed rows (JSONEachRow, as sensor-parse writes them) into a real
# clickhouse-server, in the same run:
#   curl      one `curl --data-binary` POST of the whole file (the server's own ceiling; holds the file)
#   client    clickhouse-client --query 'INSERT ... FORMAT JSONEachRow' over the native protocol
#   ours      ch-insert, defaults (100k-row gzip'd batches, 2 in flight, acks off)
#   ours_p1   the same with -P 1 (one batch in flight: only compression overlaps the server)
#   ours_kc / ours_eo  rows with Kafka coordinates (sensor-gen --envelope over 8 partitions | sensor-parse)
#             stored with --keep-coordinates, and with --exactly-once (issue 26): the mode's cost, in
#             wall time and (robust on a loaded machine) CPU seconds of ch-insert and of the server
#             and the INSERTs the server ran (the rows' and the intents')
# Timed as every row is (scripts/bench/lib.sh: warm-up, sides in turn, median of pairs, spread); every
# run's row count is checked; peak RSS by /usr/bin/time.
# Usage: scripts/bench/ch.sh [ROWS]    (BIN_DIR defaults to build/bin; ROWS to BENCH_MESSAGES or 1000000)
set -euo pipefail
SRC_DIR=$(cd "$(dirname "$0")/../.." && pwd)
source "$SRC_DIR/scripts/bench/lib.sh"
BIN_DIR=${BIN_DIR:-$SRC_DIR/build/bin}
ROWS=${1:-$BENCH_MESSAGES}
export PATH="$BIN_DIR:$PATH" LC_ALL=C
bench_need_ours "$BIN_DIR/ch-insert" "$BIN_DIR/sensor-gen" "$BIN_DIR/sensor-parse"
bench_need_ref /usr/bin/time curl clickhouse-client clickhouse-server
tmp=$(mktemp -d /tmp/sp-bench-ch.XXXXXX)
cleanup() { "$SRC_DIR/scripts/clickhouse.sh" stop "$tmp/ch" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
bench_init "$tmp"
bench_start "clickhouse-server" "$SRC_DIR/scripts/clickhouse.sh" start "$tmp/ch"
q() { curl -sS --fail-with-body "$CH_URL/" --data-binary "$1"; }

sensor-gen -c "$ROWS" | sensor-parse -q >"$tmp/rows.jsonl"
sensor-gen -c "$ROWS" --envelope --partitions 8 | sensor-parse -q >"$tmp/rows_kafka.jsonl"
size=$(stat -c %s "$tmp/rows.jsonl")
echo "rows: $ROWS, $((size / 1048576)) MiB JSONEachRow; ClickHouse $(q 'SELECT version()'); $(nproc) cores"

cols="id, ts, sensor_id, temperature, humidity, pressure"
settings="date_time_input_format=best_effort"
fresh() {  # TABLE: an empty table of the default schema (untimed)
  q "DROP TABLE IF EXISTS $1" >/dev/null
  ch-insert --url "$CH_URL" --table "$1" --create-table -q </dev/null >/dev/null
}
count() { q "SELECT count() FROM $1"; }
bench_server_ok() { [ "$(q 'SELECT 1')" = 1 ]; }  # when ours fails: does the server still answer?
insert_query=$(python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1]))' "INSERT INTO t_curl ($cols) FORMAT JSONEachRow")
side_curl() {
  fresh t_curl
  bench_ref curl curl -sS --fail --data-binary "@$tmp/rows.jsonl" -o /dev/null -H 'Content-Type: application/octet-stream' \
    "$CH_URL/?$settings&query=$insert_query" || return 0
  bench_check_ref curl "rows inserted" "$(count t_curl)" "$ROWS" || true
}
side_client() {
  fresh t_client
  bench_ref client sh -c "clickhouse-client --host 127.0.0.1 --port '$CH_TCP_PORT' --$settings \
    --query 'INSERT INTO t_client ($cols) FORMAT JSONEachRow' <'$tmp/rows.jsonl'" || return 0
  bench_check_ref client "rows inserted" "$(count t_client)" "$ROWS" || true
}
side_ours() {
  fresh t_ours
  bench_ours ours sh -c "ch-insert --url '$CH_URL' --table t_ours --no-acks -q <'$tmp/rows.jsonl'"
  bench_check_ours "ch-insert: rows inserted" "$(count t_ours)" "$ROWS"
}
side_ours_p1() {
  fresh t_ours_p1
  bench_ours ours_p1 sh -c "ch-insert --url '$CH_URL' --table t_ours_p1 --no-acks -q -j 1 <'$tmp/rows.jsonl'"
  bench_check_ours "ch-insert -j 1: rows inserted" "$(count t_ours_p1)" "$ROWS"
}
fresh_coords() {  # TABLE: an empty table with the coordinates' columns, no exactly-once state (untimed)
  q "DROP TABLE IF EXISTS $1" >/dev/null
  q "DROP TABLE IF EXISTS $1_kafka_offsets" >/dev/null
  ch-insert --url "$CH_URL" --table "$1" --create-table --exactly-once -q </dev/null >/dev/null
  q "DROP TABLE $1_kafka_offsets" >/dev/null
}
side_ours_kc() {
  fresh_coords t_kc
  local s0; s0=$(bench_server_now)
  bench_ours ours_kc sh -c "ch-insert --url '$CH_URL' --table t_kc --keep-coordinates --no-acks -q <'$tmp/rows_kafka.jsonl'"
  bench_server_note ours_kc "$s0"
  bench_check_ours "ch-insert --keep-coordinates: rows inserted" "$(count t_kc)" "$ROWS"
}
side_ours_eo() {
  fresh_coords t_eo
  local s0; s0=$(bench_server_now)
  bench_ours ours_eo sh -c "ch-insert --url '$CH_URL' --table t_eo --exactly-once --no-acks -q <'$tmp/rows_kafka.jsonl'"
  bench_server_note ours_eo "$s0"
  bench_check_ours "ch-insert --exactly-once: rows inserted" "$(count t_eo)" "$ROWS"
}
bench_rounds side_curl side_ours side_client side_ours_p1 side_ours_kc side_ours_eo

printf '%-34s %9s %9s\n' tool seconds rss_mb
for n in curl client ours ours_p1 ours_kc ours_eo; do printf '%-34s %9s %9s\n' "$n" "$(bench_median $n)" "$(bench_rss_mb $n)"; done
# the exactly-once pair in CPU seconds and requests (medians over the counted rounds)
for n in ours_kc ours_eo; do
  printf '%-34s ch-insert %s CPU-s, server %s CPU-s, %s INSERTs per run\n' "$n" "$(bench_median $n 4)" \
    "$(bench_server_median $n 1)" "$(bench_server_median $n 2)"
done
bench_about
bench_result ch-insert-vs-curl ours curl
bench_result ch-insert-P1-vs-curl ours_p1 curl
bench_result ch-insert-vs-clickhouse-client ours client
bench_result ch-insert-exactly-once-vs-without ours_eo ours_kc
