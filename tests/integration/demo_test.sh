#!/usr/bin/env bash
# `make demo` as a new user runs it (scripts/demo.sh, small and on the quick mock Kafka), with
# CLICKHOUSE_URL, AWS_* and KAFKA_BROKERS of another setup in the environment: the demo uses its own
# servers and ignores them (issue 18: it wrote into the caller's ClickHouse), and ends with its
# report and "demo: ok". Its S3 store is MinIO, as in the system the tools replace (issue 24), and
# DEMO_S3=swift runs it on Swift's S3 layer; the report names the one it used.
source "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"
dead=$(free_port)
demo() {  # demo NAME [VAR=VALUE...]: scripts/demo.sh with another setup's variables in the environment
  local name=$1; shift
  rc=0
  env CLICKHOUSE_URL=http://127.0.0.1:$dead CLICKHOUSE_PASSWORD=elsewhere AWS_ENDPOINT_URL=http://127.0.0.1:$dead \
    AWS_ACCESS_KEY_ID=elsewhere KAFKA_BROKERS=127.0.0.1:$dead KAFKA=mock DEMO_MESSAGES=3000 "$@" \
    bash "$SRC_DIR/scripts/demo.sh" "$(dirname "$BIN_DIR")" >"$name.out" 2>"$name.err" || rc=$?
}
check_demo() {  # check_demo NAME S3_NAME
  assert_eq "$rc" 0 "demo exit status: $(tail -n 5 "$1.err" "$1.out")"
  assert_contains "$(cat "$1.out")" "demo: ok: every message is in ClickHouse or in the rejects file" "the demo's verdict"
  assert_contains "$(cat "$1.out")" "rows in ClickHouse:" "the report"
  assert_contains "$(grep 'S3 archive' "$1.out")" "$2" "the report names the S3 server"
  if grep -q "127.0.0.1:$dead" "$1.out"; then fail "the demo used a server from the caller's environment"; fi
}
demo minio
check_demo minio "S3 archive (MinIO, github.com/minio/minio@"
pass "make demo runs on its own servers (MinIO for S3) whatever the environment says"

demo swift DEMO_S3=swift
check_demo swift "S3 archive (OpenStack Swift with its S3 API)"
pass "make demo DEMO_S3=swift runs on Swift's S3 layer"

demo bad DEMO_S3=s3
assert_eq "$rc" 2 "DEMO_S3 neither minio nor swift"
assert_contains "$(cat bad.err)" "DEMO_S3 must be minio or swift"
pass "an unknown DEMO_S3 is refused"
