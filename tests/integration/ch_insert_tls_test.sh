#!/usr/bin/env bash
# ch-insert over HTTPS to a real clickhouse-server with a self-signed certificate: verification is
# on by default (refused at once, exit 69, pointing to --ca-file), --ca-file trusts it, --insecure
# skips the check with a warning; the password travels only inside TLS and never reaches stderr.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ch_lib.sh"

CH_TLS=1 start_clickhouse
row='{"id":"tls-1","ts":"2025-07-07 22:00:00","sensor_id":"s","temperature":1.5,"humidity":2,"pressure":3,"_topic":"t","_partition":0,"_offset":5}'

rc=0; echo "$row" | ch-insert --url "$CH_HTTPS_URL" --create-table --retries 5 >"$TEST_TMP/acks" 2>"$TEST_TMP/err" || rc=$?
assert_eq "$rc" "69" "exit code for an untrusted certificate"
assert_contains "$(cat "$TEST_TMP/err")" "not accepted"
assert_contains "$(cat "$TEST_TMP/err")" "--ca-file"
grep -q "retry" "$TEST_TMP/err" && fail "a certificate problem must not be retried"
assert_eq "$(cat "$TEST_TMP/acks")" "" "no acks"
pass "certificate verified by default: untrusted -> exit 69 without retries"

echo "$row" | CLICKHOUSE_USER=$CH_USER CLICKHOUSE_PASSWORD=$CH_PASSWORD ch-insert --url "$CH_HTTPS_URL" \
  --ca-file "$CH_CA_FILE" --create-table -v >"$TEST_TMP/acks" 2>"$TEST_TMP/err" || fail "with --ca-file: $(cat "$TEST_TMP/err")"
assert_eq "$(cat "$TEST_TMP/acks")" '{"topic":"t","partition":0,"offset":5}' "ack over https"
grep -q "$CH_PASSWORD" "$TEST_TMP/err" && fail "password in stderr"
pass "--ca-file: inserted over HTTPS as the password user"

echo "${row/tls-1/tls-2}" | ch-insert --url "$CH_HTTPS_URL" --insecure --no-acks 2>"$TEST_TMP/err" || fail "--insecure: $(cat "$TEST_TMP/err")"
assert_contains "$(cat "$TEST_TMP/err")" "verification is off"
assert_eq "$(q 'SELECT count() FROM sensor_metrics')" "2" "rows over https"
pass "--insecure works and warns"
