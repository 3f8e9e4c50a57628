#!/usr/bin/env bash
# Backfilling a time range from Kafka selects on the records' timestamps, which are the time of
# producing unless the producer sets them (issue 18: the README's window returned 0 messages, exit 0,
# no warning, on data replayed with -P). On a real Apache Kafka broker and its time index:
# -P --timestamp-field takes each record's time from the message, so -o @TIME / --until select the
# messages' own hour; without it the same window selects nothing, with a warning that says why.
# Also: the topic's own limits on record times (issue 28 item 7: one line an hour or more ahead made
# the broker refuse its whole batch, exit 75 on every rerun; issue 27: a replay older than retention.ms
# was deleted within minutes), and a topic that does not exist (issue 27: exit 66 and no hint).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka_lib.sh"
cd "$TEST_TMP"
start_kafka 1 4 recent replay
# the 2025 data below is older than Kafka's default 7-day retention: these topics keep it
kafka_topic stamped 4 1 retention.ms=-1
kafka_topic plain 4 1 retention.ms=-1
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

# --- one line a day ahead among 1000 recent ones (a sensor with a wrong clock): Kafka 4's
# message.timestamp.after.max.ms (1 h) would refuse it and its whole batch. It is produced with the
# current time, reported and counted; the other 1000 keep their own time.
sensor-gen -c 1000 --seed 7 --start "$(date -u -d '20 min ago' +%Y-%m-%dT%H:%M:%SZ)" --interval 1 >recent.jsonl
sensor-gen -c 1 --seed 8 --first-id 5000 --start "$(date -u -d 'now + 1 day' +%Y-%m-%dT%H:%M:%SZ)" >ahead.jsonl
{ head -500 recent.jsonl; cat ahead.jsonl; tail -n +501 recent.jsonl; } >mixed.jsonl
rc=0
kafka-cat-sensor -b "$BS" -P -t recent --key-field value.sensor_id --timestamp-field timestamp <mixed.jsonl 2>ahead.err || rc=$?
assert_eq "$rc" 0 "one line a day ahead: exit status ($(tail -2 ahead.err))"
assert_contains "$(cat ahead.err)" "stdin line 501: time $(jq -r .timestamp ahead.jsonl | cut -c1-19)" "the line named"
assert_contains "$(cat ahead.err)" "is more than 1 h ahead of now (the topic's message.timestamp.after.max.ms)" "why"
assert_contains "$(cat ahead.err)" "1001 messages delivered" "all delivered"
assert_contains "$(cat ahead.err)" "1 with the current time (their own outside what the topic accepts)" "counted"
kafka-cat-sensor -b "$BS" -t recent -e -q -J >recent.out
assert_eq "$(count_lines recent.out)" 1001 "messages on the topic"
ahead_ts=$(jq -r 'select(.value.id == "msg-5000") | .timestamp_ms' recent.out)
[ "$ahead_ts" -lt $(( $(date +%s) * 1000 + 60000 )) ] || fail "the line ahead kept its time $ahead_ts"
assert_eq "$(jq -r 'select(.value.id == "msg-1") | .timestamp' recent.out)" "$(head -1 recent.jsonl | jq -r .timestamp | sed 's/Z$/.000Z/')" \
  "the others keep their own time"
pass "a line an hour or more ahead: produced with the current time, the batch delivered"

# --- a replay of data older than the topic's retention.ms (7 days, the default): refused before the
# broker deletes it, with what to do; --allow-expired sends it anyway
rc=0
kafka-cat-sensor -b "$BS" -P -t replay --key-field value.sensor_id --timestamp-field timestamp <in.jsonl 2>old.err || rc=$?
assert_eq "$rc" 65 "an expired replay: exit status ($(tail -2 old.err))"
assert_contains "$(cat old.err)" "stdin line 1: time 2025-07-07T00:00:00.000Z is older than topic replay's retention (retention.ms 7 days)" "the line and the topic's retention"
assert_contains "$(cat old.err)" "--add-config retention.ms=-1" "how to keep it"
assert_contains "$(cat old.err)" "--allow-expired" "the flag"
assert_eq "$(kafka-cat-sensor -b "$BS" -t replay -e -q | wc -l)" 0 "nothing produced"
rc=0
kafka-cat-sensor -b "$BS" -P -t replay --timestamp-field timestamp --allow-expired <in.jsonl 2>old2.err || rc=$?
assert_eq "$rc" 0 "--allow-expired: exit status ($(tail -2 old2.err))"
assert_contains "$(cat old2.err)" "produced anyway (--allow-expired)" "still warned"
assert_contains "$(cat old2.err)" "180 older than the topic's retention" "counted"
pass "a replay older than retention.ms: refused (65) unless --allow-expired"

# --- a topic whose broker stamps the records itself: --timestamp-field cannot do anything, and says so
kafka_topic appended 1 1 message.timestamp.type=LogAppendTime
kafka-cat-sensor -b "$BS" -P -t appended --timestamp-field timestamp <in.jsonl 2>appended.err ||
  fail "produce to a LogAppendTime topic exited $?: $(tail -2 appended.err)"
assert_contains "$(cat appended.err)" "topic appended has message.timestamp.type=LogAppendTime" "the warning"
pass "a LogAppendTime topic: warned that --timestamp-field changes nothing"

# --- a topic that does not exist (this cluster does not create topics on first use): say so and how
rc=0
echo '{"id":1}' | kafka-cat-sensor -b "$BS" -P -t nosuch 2>nosuch.err || rc=$?
assert_eq "$rc" 66 "a missing topic: exit status"
assert_contains "$(cat nosuch.err)" "topic 'nosuch' does not exist" "the error"
assert_contains "$(cat nosuch.err)" "create it first, e.g. kafka-topics.sh --bootstrap-server $BS --create --topic nosuch" "the way out"
pass "producing to a missing topic: exit 66, with how to create it"
