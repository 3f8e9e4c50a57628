#!/usr/bin/env bash
# A current ClickHouse (26.x, embedded: chDB) reads what ch-insert sends: the DDL of --create-table,
# the JSONEachRow, TSV and CSV bodies and the VALUES statement, value by value; the settings sent
# to new servers exist; a bad row's error keeps a data error code and "(at row N)" that batch splitting
# relies on. Part of make test (the library is fetched once into the cache, like Kafka's jars).
source "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"
rc=0
BIN_DIR="$BIN_DIR" bash "$SRC_DIR/scripts/ch-compat-chdb.sh" >out.txt 2>err.txt || rc=$?
cat out.txt
assert_eq "$rc" 0 "ch-compat-chdb.sh ($(tail -5 err.txt))"
assert_contains "$(cat out.txt)" "ClickHouse (chDB) 26." "a ClickHouse 26 answered"
n=$(grep -c " ok$" out.txt || true)
assert_eq "$n" 5 "five round trips and checks passed"
pass "ClickHouse 26 (chDB) reads every format and the DDL ch-insert emits"
