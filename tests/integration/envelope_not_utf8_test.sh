#!/usr/bin/env bash
# A Kafka value that is not UTF-8, as the real tools carry it (issue 27): produced by kafka-cat-sensor -P,
# consumed with --envelope (which writes its bytes base64-encoded after "value_encoding":"base64"), and
# rejected by sensor-parse as a value that is not UTF-8, with its coordinates in the rejects file, not
# as 'not JSON: starts with "/"' (the base64 text's first letter). Its neighbours still become rows.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka_lib.sh"
cd "$TEST_TMP"
start_kafka_mock 1 1 sensor_metrics
sensor-gen -c 3 >msgs.jsonl
{ sed -n 1p msgs.jsonl; printf '\xff\xfe{"id":"msg-x"}\n'; sed -n '2,3p' msgs.jsonl; } >in.bin
kafka-cat-sensor -q -b "$BS" -t sensor_metrics -P <in.bin || fail "produce"
kafka-cat-sensor -q -b "$BS" -t sensor_metrics -e --envelope >env.jsonl || fail "consume"
grep -q '"value_encoding":"base64"' env.jsonl || fail "kafka-cat-sensor did not base64 the value: $(cat env.jsonl)"
rc=0
sensor-parse -q -r rejects.jsonl <env.jsonl >rows.jsonl || rc=$?
assert_eq "$(grep -c '"id":' rows.jsonl)" 3 "rows from the three good messages"
assert_eq "$(wc -l <rejects.jsonl)" 1 "rejects"
reason=$(jq -r .reason rejects.jsonl)
assert_eq "$reason" "envelope: value is not UTF-8, so not JSON (the envelope carries its bytes base64-encoded)" "the reject's reason"
assert_eq "$(jq -c '[.topic, .partition, .offset]' rejects.jsonl)" '["sensor_metrics",0,1]' "the reject's coordinates"
pass "a value that is not UTF-8 is named as such, with its offset (exit $rc)"
