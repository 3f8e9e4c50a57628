#!/usr/bin/env bash
# Every form of the schema's partition_by grammar (common/rows/schema_keys.cpp) makes DDL that a real
# clickhouse-server accepts: ch-insert --create-table from a schema file whose "table" names the
# table (no --table), then sensor-parse's rows go in and are counted. Pins issue 16 item 9: the
# checks at load must not refuse what ClickHouse takes, nor pass what it refuses.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ch_lib.sh"

start_clickhouse

cat >"$TEST_TMP/in.jsonl" <<'JSON'
{"id":"w1","time":"2025-07-07T22:00:00Z","data":{"site":"north","wind":3.25}}
{"id":"w2","time":"2025-08-01T00:00:00Z","data":{"site":"south","wind":1}}
{"id":"w3","time":"2026-01-01T12:00:00Z","data":{"site":"north","wind":0}}
JSON

i=0
for pb in 'toYYYYMM(ts)' 'toYYYYMMDD(ts)' 'toYear(ts)' 'toMonday(ts)' 'toStartOfMonth(ts)' 'toDate(`ts`)' \
  'site' '(site, toYYYYMMDD(ts))' 'site, toYear(ts), id' ''; do
  i=$((i + 1))
  table="weather_$i"
  python3 - "$table" "$pb" >"$TEST_TMP/schema.json" <<'PY'
import json, sys
print(json.dumps({"table": sys.argv[1], "partition_by": sys.argv[2], "order_by": ["site", "ts", "id"], "columns": [
    {"name": "id"}, {"name": "ts", "type": "DateTime", "path": "time"},
    {"name": "site", "path": "data.site"}, {"name": "wind", "type": "Float32", "path": "data.wind"}]}))
PY
  sensor-parse -q --schema "$TEST_TMP/schema.json" <"$TEST_TMP/in.jsonl" \
    | ch-insert -q --url "$CH_URL" --schema "$TEST_TMP/schema.json" --create-table --no-acks \
    || fail "partition_by '$pb': sensor-parse | ch-insert failed"
  assert_eq "$(q "SELECT count() FROM $table")" 3 "rows in $table (partition_by '$pb')"
  parts=$(q "SELECT uniqExact(partition) FROM system.parts WHERE table = '$table' AND active")
  [ "$parts" -ge 1 ] || fail "no active parts in $table"
  pass "partition_by '$pb': table $table from the schema, 3 rows, $parts partition(s)"
done

# --table beats the schema's "table"
sensor-parse -q --schema "$TEST_TMP/schema.json" <"$TEST_TMP/in.jsonl" \
  | ch-insert -q --url "$CH_URL" --schema "$TEST_TMP/schema.json" --table from_flag --create-table --no-acks
assert_eq "$(q "SELECT count() FROM from_flag")" 3 "rows in from_flag"
pass "--table overrides the schema's table"
