#!/usr/bin/env bash
# Every schema type read back by a current ClickHouse (26.x, embedded: chDB): ch-insert's DDL for an
# all-types schema is accepted, and sensor-parse's rows in JSONEachRow, TSV, CSV and VALUES come back
# value by value (scripts/ch-types-chdb.sh; the library is fetched once into the cache).
source "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"
rc=0
BIN_DIR="$BIN_DIR" bash "$SRC_DIR/scripts/ch-types-chdb.sh" >out.txt 2>err.txt || rc=$?
cat out.txt
assert_eq "$rc" 0 "ch-types-chdb.sh ($(tail -5 err.txt))"
assert_contains "$(cat out.txt)" "ClickHouse (chDB) 26." "a ClickHouse 26 answered"
n=$(grep -c " all types *ok$" out.txt || true)
assert_eq "$n" 4 "all four formats read back intact"
assert_contains "$(cat out.txt)" "DDL defaults                 ok" "the DDL's defaults are ClickHouse values"
pass "ClickHouse 26 (chDB) reads every schema type in every row format, and the all-types DDL"
