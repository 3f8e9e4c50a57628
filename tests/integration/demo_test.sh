#!/usr/bin/env bash
# `make demo` as a new user runs it (scripts/demo.sh, small and on the quick mock Kafka), with
# CLICKHOUSE_URL, AWS_* and KAFKA_BROKERS of another setup in the environment: the demo uses its own
# servers and ignores them (issue 18: it wrote into the caller's ClickHouse), and ends with its
# report and "demo: ok".
source "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"
dead=$(free_port)
rc=0
CLICKHOUSE_URL=http://127.0.0.1:$dead CLICKHOUSE_PASSWORD=elsewhere AWS_ENDPOINT_URL=http://127.0.0.1:$dead \
  AWS_ACCESS_KEY_ID=elsewhere KAFKA_BROKERS=127.0.0.1:$dead KAFKA=mock DEMO_MESSAGES=3000 \
  bash "$SRC_DIR/scripts/demo.sh" "$(dirname "$BIN_DIR")" >demo.out 2>demo.err || rc=$?
assert_eq "$rc" 0 "demo exit status: $(tail -5 demo.err demo.out)"
assert_contains "$(cat demo.out)" "demo: ok: every message is in ClickHouse or in the rejects file" "the demo's verdict"
assert_contains "$(cat demo.out)" "rows in ClickHouse:" "the report"
if grep -q "127.0.0.1:$dead" demo.out; then fail "the demo used a server from the caller's environment"; fi
pass "make demo runs on its own servers whatever the environment says"
