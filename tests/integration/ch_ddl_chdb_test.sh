#!/usr/bin/env bash
# Every DDL ch-insert --create-table emits is accepted by a current ClickHouse (26.x, embedded: chDB):
# the default, all-types and a tuned schema (every codec, a TTL, every table setting), rows loaded
# without --cluster; with --cluster each statement's exact text parsed and run without ON CLUSTER
# (scripts/ch-ddl-chdb.sh says what chDB cannot run; the library is fetched once into the cache).
source "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"
rc=0
BIN_DIR="$BIN_DIR" bash "$SRC_DIR/scripts/ch-ddl-chdb.sh" >out.txt 2>err.txt || rc=$?
cat out.txt
assert_eq "$rc" 0 "ch-ddl-chdb.sh ($(tail -5 err.txt))"
assert_contains "$(cat out.txt)" "ClickHouse (chDB) 26." "a ClickHouse 26 answered"
assert_eq "$(grep -c " ok$" out.txt || true)" 10 "ten checks passed"
pass "ClickHouse 26 (chDB) accepts every DDL ch-insert emits, with and without --cluster"
