#!/usr/bin/env bash
# Backfilling a time range from Kafka selects on the records' timestamps, which are the time of
# producing unless the producer sets them (issue 18: the README's window returned 0 messages, exit 0,
# no warning, on data replayed with -P). On a real Apache Kafka broker and its time index:
# -P --timestamp-field takes each record's time from the message, so -o @TIME / --until select the
# messages' own hour; without it the same window selects nothing, with a warning that says why.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka_lib.sh"
cd "$TEST_TMP"
start_kafka 1 4 stamped plain
# 180 messages, one a minute from 2025-07-07T00:00:00Z: the hour 01:00-02:00 holds 60 of them
sensor-gen -c 180 --seed 2 --start 2025-07-07T00:00:00Z --interval 60 >in.jsonl
kafka-cat-sensor -b "$BS" -P -t stamped --key-field value.sensor_id --timestamp-field timestamp <in.jsonl 2>p1.err ||
  fail "produce with --timestamp-field exited $?: $(tail -2 p1.err)"
kafka-cat-sensor -b "$BS" -P -t plain --key-field value.sensor_id <in.jsonl 2>/dev/null

want=$(jq -r 'select(.timestamp >= "2025-07-07T01:00:00Z" and .timestamp < "2025-07-07T02:00:00Z") | .id' in.jsonl | sort)
got=$(kafka-cat-sensor -b "$BS" -t stamped -o @2025-07-07T01:00:00Z --until 2025-07-07T01:59:59Z -e -q | jq -r .id | sort)
assert_eq "$(wc -l <<<"$got")" 60 "messages of the hour"
assert_eq "$got" "$want" "the hour's messages, selected by their own time"
env_ts=$(kafka-cat-sensor -b "$BS" -t stamped -e -q -J | jq -r 'select(.value.id == "msg-61") | .timestamp')
assert_eq "$env_ts" "2025-07-07T01:00:00.000Z" "the record timestamp is the message's"
pass "-P --timestamp-field: -o @TIME / --until select the messages' own hour (60 of 180)"

rc=0
kafka-cat-sensor -b "$BS" -t plain -o @2025-07-07T01:00:00Z --until 2025-07-07T01:59:59Z -e >none.out 2>none.err || rc=$?
assert_eq "$rc" 0 "an empty window is not an error"
assert_eq "$(count_lines none.out)" 0 "records stamped at produce time are outside the window"
assert_contains "$(cat none.err)" "the time range selected no message" "the warning"
assert_contains "$(cat none.err)" "-P --timestamp-field" "the way out"
pass "records stamped when produced: nothing selected, and a warning that says why"

# epoch milliseconds work too; a line without a usable time is produced with the current time and counted
printf '%s\n' '{"id":"e1","t":1751850000000}' '{"id":"e2","t":"yesterday"}' '{"id":"e3"}' |
  kafka-cat-sensor -b "$BS" -P -t plain --timestamp-field t 2>p2.err || fail "produce exited $?"
assert_contains "$(cat p2.err)" "stdin line 2: no usable time in field t" "bad time reported"
assert_contains "$(cat p2.err)" "2 with the current time (no usable t)" "counted in the summary"
assert_eq "$(kafka-cat-sensor -b "$BS" -t plain -e -q -J | jq -r 'select(.value.id == "e1") | .timestamp_ms')" 1751850000000 "epoch ms"
pass "epoch milliseconds; lines without a usable time counted"
