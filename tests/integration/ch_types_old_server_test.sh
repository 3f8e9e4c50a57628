#!/usr/bin/env bash
# The new schema types against the live ClickHouse 18.16: the types it has (Date, UUID, Enum8/16,
# Nullable, Decimal, Array) are created by --create-table and sensor-parse's rows load and read back; a
# type it lacks (DateTime64 came in 20.1, LowCardinality was experimental before 19.0, Map was experimental before 21.8,
# also as an Array's T) stops ch-insert --create-table
# with exit 78, a message naming the column, the type and the server's version, and no table made.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ch_lib.sh"

start_clickhouse
version=$(q "SELECT version()")

cat >"$TEST_TMP/old.json" <<'JSON'
{"table": "typed_old", "columns": [
  {"name": "id", "type": "UUID"},
  {"name": "day", "type": "Date", "path": "time"},
  {"name": "status", "type": "Enum8('ok' = 1, 'it\\'s odd' = -2)"},
  {"name": "model", "type": "Enum16('th-100' = 1000)", "default": "th-100"},
  {"name": "cal", "type": "Nullable(Date)"},
  {"name": "note", "type": "Nullable(String)"},
  {"name": "dd", "type": "Date", "default": "2025-07-07T23:30:00-01:00"},
  {"name": "ud", "type": "UUID", "default": "123E4567-E89B-12D3-A456-42661417400F"},
  {"name": "price", "type": "Decimal(19, 2)"},
  {"name": "pd", "type": "Decimal64(3)", "default": "1.5"},
  {"name": "tags", "type": "Array(String)", "required": false},
  {"name": "readings", "type": "Array(Nullable(Decimal(9, 2)))", "required": false}
], "order_by": ["id"], "partition_by": "toYYYYMM(day)"}
JSON
cat >"$TEST_TMP/in.jsonl" <<'JSON'
{"id":"123E4567-E89B-12D3-A456-426614174000","time":"2025-07-07T23:30:00-01:00","status":"it's odd","cal":"2024-02-29","note":"n","price":12345678901234567.89,"tags":["a\tb","it's","q\"","back\\x","nl\nx","x,y"],"readings":[0.1,null,-2]}
{"id":"00000000-0000-0000-0000-000000000001","time":"2025-07-07","status":1,"model":"th-100","cal":null,"price":"0.1","pd":"-2"}
JSON
for f in json tsv csv values; do
  sensor-parse -q --schema "$TEST_TMP/old.json" -f $f <"$TEST_TMP/in.jsonl" \
    | ch-insert -q --url "$CH_URL" --schema "$TEST_TMP/old.json" -f $f --table "typed_$f" --create-table --no-acks \
    || fail "$f: sensor-parse | ch-insert failed on $version"
  got=$(q "SELECT toString(id), toString(day), toString(status), toString(model), ifNull(toString(cal), 'NULL'), ifNull(note, 'NULL'), toString(dd), toString(ud) FROM typed_$f ORDER BY id FORMAT TSV")
  assert_eq "$got" "$(printf '00000000-0000-0000-0000-000000000001\t2025-07-07\tok\tth-100\tNULL\tNULL\t2025-07-08\t123e4567-e89b-12d3-a456-42661417400f\n123e4567-e89b-12d3-a456-426614174000\t2025-07-08\tit\\'"'"'s odd\tth-100\t2024-02-29\tn\t2025-07-08\t123e4567-e89b-12d3-a456-42661417400f')" "$f rows read back from $version"
  # Decimals and Arrays as JSON (the text of each string, the exact digits of each Decimal)
  got=$(q "SELECT toString(price) AS price, toString(pd) AS pd, tags, arrayMap(x -> ifNull(toString(x), 'NULL'), readings) AS readings FROM typed_$f ORDER BY id FORMAT JSONEachRow")
  assert_eq "$got" "$(printf '%s\n' '{"price":"0.10","pd":"-2.000","tags":[],"readings":[]}' \
    '{"price":"12345678901234567.89","pd":"1.500","tags":["a\tb","it'"'"'s","q\"","back\\x","nl\nx","x,y"],"readings":["0.10","NULL","-2.00"]}')" \
    "$f Decimal and Array values read back from $version"
  pass "$f: Date, UUID, Enum8/16, Nullable, Decimal and Array created and loaded on ClickHouse $version"
done
# Rows from another writer get the DDL's defaults, the values sensor-parse writes.
q "INSERT INTO typed_json (id, day, status) VALUES ('00000000-0000-0000-0000-000000000009', '2025-01-01', 'ok')"
assert_eq "$(q "SELECT toString(dd), toString(ud), toString(pd), tags FROM typed_json WHERE id = '00000000-0000-0000-0000-000000000009' FORMAT TSV")" \
  "$(printf '2025-07-08\t123e4567-e89b-12d3-a456-42661417400f\t1.500\t[]')" "DDL defaults on $version"
pass "the DDL's Date, UUID and Decimal defaults are ClickHouse $version values"

for t in "DateTime64(3)" "LowCardinality(String)" "Map(String, Float64)" "Array(DateTime64(3))"; do
  printf '{"table":"too_new","columns":[{"name":"id"},{"name":"x","type":"%s"}]}\n' "$t" >"$TEST_TMP/new.json"
  rc=0
  ch-insert --url "$CH_URL" --schema "$TEST_TMP/new.json" --create-table </dev/null 2>"$TEST_TMP/err" || rc=$?
  assert_eq "$rc" 78 "exit code for $t on $version"
  named=$t
  case $t in Array\(*) named=${t#Array(}; named=${named%)} ;; esac  # an Array's T is named
  assert_contains "$(cat "$TEST_TMP/err")" "column 'x': type $named needs ClickHouse" "the message names the column and type"
  assert_contains "$(cat "$TEST_TMP/err")" "$version" "the message names the server's version"
  assert_eq "$(q "EXISTS TABLE too_new")" 0 "no table made for $t"
  pass "--create-table with $t on ClickHouse $version: exit 78, $(head -1 "$TEST_TMP/err")"
done
