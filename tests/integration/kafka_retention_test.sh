#!/usr/bin/env bash
# Records deleted under a committed consumer group (kafka-delete-records, as retention would): on a
# real Apache Kafka broker, a group that committed offset 300 of 1000 comes back after offsets 0-599
# were deleted. It resumes at the earliest kept offset (auto.offset.reset=earliest, documented) and
# warns how many offsets were skipped (300), instead of skipping them without a word.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka_lib.sh"
cd "$TEST_TMP"
start_kafka 1 1 kept
K=(kafka-cat-sensor -b "$BS" -t kept "${GROUP_PROPS[@]}")
seq 0 999 | kafka-cat-sensor -q -b "$BS" -P -t kept

"${K[@]}" -G ret -c 300 >first.out 2>first.err || fail "first run exited $?: $(tail -3 first.err)"
assert_eq "$(count_lines first.out)" 300 "first run"
echo '{"partitions":[{"topic":"kept","partition":0,"offset":600}],"version":1}' >delete.json
kafka_sh tool org.apache.kafka.tools.DeleteRecordsCommand --bootstrap-server "$BS" --offset-json-file delete.json \
  >delete.out 2>&1 || fail "delete-records failed: $(cat delete.out)"

"${K[@]}" -G ret -e >second.out 2>second.err || fail "second run exited $?: $(tail -3 second.err)"
assert_eq "$(head -1 second.out)" 600 "resumes at the earliest kept offset"
assert_eq "$(count_lines second.out)" 400 "reads what is left"
assert_contains "$(cat second.err)" "kept [0]: the group's committed offset 300 is gone from the broker (retention kept offsets 600 on): 300 offsets skipped, reading from 600" "the skip is reported"
pass "deleted records under a committed group: resumed at 600 with a warning of 300 skipped"

# a group whose offset is still on the broker gets no such warning
"${K[@]}" -G ret2 -c 10 -o 700 >/dev/null 2>&1
"${K[@]}" -G ret2 -e >third.out 2>third.err
assert_eq "$(grep -c 'offsets skipped' third.err || true)" 0 "no warning when nothing was deleted"
pass "no warning when the committed offset is kept"
