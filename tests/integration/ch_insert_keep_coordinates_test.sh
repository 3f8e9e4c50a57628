#!/usr/bin/env bash
# ch-insert --create-table --keep-coordinates: the table it creates has the coordinate columns
# (_topic String, _partition Int32, _offset Int64) that the rows it then sends carry, as the table of
# --exactly-once has. Before, the table was made without them and the first insert was refused (the
# rows' columns not the table's). Against a real ClickHouse 18.16, rows from sensor-parse of
# kafka-cat-sensor-style envelopes (as make_rows makes them), in every row format that carries
# coordinates: the run exits 0 and the table holds every row once with its topic, partition and
# offset; a second run into the table it made is accepted; --dry-run prints that table's DDL.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ch_lib.sh"
start_clickhouse_for_ch_insert
sensor-gen -c 300 --seed 5 | grep -v '^$' | awk '{printf "{\"topic\":\"kc\",\"partition\":%d,\"offset\":%d,\"value\":%s}\n", NR % 3, 1000 + NR, $0}' >env.jsonl
sensor-parse -q -f tsv <env.jsonl 2>/dev/null | awk -F'\t' '{print $1 "\t" $(NF-2) "\t" $(NF-1) "\t" $NF}' | sort >want
n=$(wc -l <want)
[ "$n" -gt 250 ] || fail "expected rows to insert, got $n"

for f in json tsv csv; do
  sensor-parse -q -f $f <env.jsonl >rows.$f 2>/dev/null
  t=kc_$f
  ch-insert --dry-run -q --create-table --keep-coordinates -f $f --table $t </dev/null >ddl.$f
  assert_contains "$(tr -d ' \n' <ddl.$f)" '`_topic`String,`_partition`Int32,`_offset`Int64)' "--dry-run: the $f table's DDL with the coordinates"
  rc=0; ch-insert --create-table --keep-coordinates -f $f --table $t --no-acks <rows.$f 2>ins.$f.log || rc=$?
  assert_eq "$rc" 0 "ch-insert -f $f --create-table --keep-coordinates ($(tail -2 ins.$f.log))"
  got=$(q "SELECT id, _topic, _partition, _offset FROM $t ORDER BY id FORMAT TabSeparated" | sort)
  assert_eq "$(echo "$got" | md5sum)" "$(md5sum <want)" "-f $f: rows with their coordinates ($(diff <(echo "$got") want | head -3))"
  rc=0; ch-insert --create-table --keep-coordinates -f $f --table $t --no-acks <rows.$f 2>again.$f.log || rc=$?
  assert_eq "$rc" 0 "-f $f: a second run into the table it made ($(tail -2 again.$f.log))"
  assert_eq "$(q "SELECT count() FROM $t")" "$((2 * n))" "-f $f: rows after the second run"
  pass "-f $f: --create-table --keep-coordinates made the coordinate columns, $n rows stored with them"
done
