#!/usr/bin/env bash
# The rollups ch-insert --create-table makes are accepted by a current ClickHouse (26.x, embedded:
# chDB) and equal the raw rows' aggregates there, including a 10-minute rollup (toStartOfInterval, which
# the 18.16 of ch_rollups_test lacks); with --cluster every statement parses and runs without ON
# CLUSTER (scripts/ch-rollups-chdb.sh says how).
source "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"
rc=0
BIN_DIR="$BIN_DIR" bash "$SRC_DIR/scripts/ch-rollups-chdb.sh" >out.txt 2>err.txt || rc=$?
cat out.txt
assert_eq "$rc" 0 "ch-rollups-chdb.sh ($(tail -5 err.txt))"
assert_contains "$(cat out.txt)" "ClickHouse (chDB) 26." "a ClickHouse 26 answered"
assert_eq "$(grep -c " ok$" out.txt || true)" 6 "six checks passed"
pass "ClickHouse 26 (chDB) takes the rollups' DDL, and every rollup equals the raw rows' aggregates"
