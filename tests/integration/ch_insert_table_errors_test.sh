#!/usr/bin/env bash
# Faults of the table, not of the rows, stop ch-insert instead of draining the stream into rejects
# (issue 18: 5 rows, 9 requests, 0 inserted, 5 rejected, exit 0). Against clickhouse-server 18.16:
# a table whose column type does not fit the schema (every row refused), a table without one of the
# schema's columns (78, with or without --create-table), a missing database. Nothing is acknowledged, nothing goes to the rejects file.
# And acks are for programs: none on a terminal unless --acks - asks for them.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ch_lib.sh"
start_clickhouse_for_ch_insert
make_rows 200 4

run() { # TABLE: ch-insert into TABLE; sets rc; acks in acks.out, rejects in rej.jsonl
  rm -f rej.jsonl acks.out
  rc=0
  ch-insert --table "$1" --batch-rows 50 --rejects rej.jsonl --retries 2 <rows.jsonl >acks.out 2>err.txt || rc=$?
}

# --- a column whose type does not fit: ClickHouse refuses every row the same way
q "CREATE TABLE wrongtype (id String, ts DateTime, sensor_id UInt32, temperature Float64, humidity Float64, pressure Float64) ENGINE = MergeTree ORDER BY id"
run wrongtype
assert_eq "$rc" 65 "every row refused: exit status ($(tail -2 err.txt))"
assert_contains "$(cat err.txt)" "ClickHouse refused every one of the 50 rows of batch " "the reason"
assert_contains "$(cat err.txt)" "the table's columns do not fit the schema?" "the hint"
[ ! -s rej.jsonl ] || fail "rows went to the rejects file: $(head -2 rej.jsonl)"
[ ! -s acks.out ] || fail "something was acknowledged: $(head -2 acks.out)"
pass "a column of the wrong type: stopped at the first batch, no rejects, no acks"

# --- a table without one of the schema's columns
q "CREATE TABLE narrow (id String, ts DateTime, sensor_id String, temperature Float64, humidity Float64) ENGINE = MergeTree ORDER BY id"
run narrow
# issue 27: a configuration mismatch (78), as --create-table reports the same table (before: 65)
assert_eq "$rc" 78 "missing column: exit status ($(tail -2 err.txt))"
assert_contains "$(cat err.txt)" "No such column pressure in table narrow" "ClickHouse's reason"
[ ! -s rej.jsonl ] && [ ! -s acks.out ] || fail "a missing column drained rows into rejects or acks"
rc=0; ch-insert --table narrow --create-table --no-acks <rows.jsonl 2>err2.txt || rc=$?
assert_eq "$rc" 78 "missing column with --create-table: exit status ($(tail -2 err2.txt))"
pass "a table without a schema column: stopped with 78 with or without --create-table, no rejects, no acks"

# --- a database that does not exist
rc=0; ch-insert -d nosuchdb --table x <rows.jsonl >acks.out 2>err.txt || rc=$?
assert_eq "$rc" 66 "missing database: exit status ($(tail -2 err.txt))"
pass "a missing database: exit 66"

# --- the right table: rows in, acks out (not a terminal here)
run ok_table_missing_first
assert_eq "$rc" 66 "missing table without --create-table ($(tail -2 err.txt))"
rc=0; ch-insert --create-table --table good <rows.jsonl >acks.out 2>err.txt || rc=$?
assert_eq "$rc" 0 "good table ($(tail -2 err.txt))"
assert_eq "$(q 'SELECT count() FROM good')" "$n" "rows inserted"
[ -s acks.out ] || fail "no acks on a pipe"

# --- on a terminal: no acks, unless asked with --acks -
script -qec "ch-insert --table good -q <rows.jsonl" /dev/null >tty.out 2>&1 || fail "ch-insert on a terminal: $(cat tty.out)"
assert_eq "$(grep -c '"offset"' tty.out || true)" 0 "ack lines on a terminal"
script -qec "ch-insert --table good -q --acks - <rows.jsonl" /dev/null >tty2.out 2>&1 || fail "--acks - on a terminal: $(cat tty2.out)"
[ "$(grep -c '"offset"' tty2.out || true)" -ge 1 ] || fail "--acks - wrote no ack on a terminal: $(cat tty2.out)"
pass "acks: on a pipe, not on a terminal, on a terminal with --acks -"
