#!/usr/bin/env bash
# A consumer group's start on a real Apache Kafka broker (issue 25, where the deployed pipeline's time
# goes). A partition the group has no committed offset for was assigned at librdkafka's INVALID: its
# OffsetFetch found nothing, and its reset to the beginning (auto.offset.reset) queried the offset only
# after a fixed 100 ms backoff ("offset reset ... no previously committed offset available", "(re)starting
# offset query timer"): 0.1 s of idle before the first message of every new group. kafka-cat-sensor now
# asks, before joining, which partitions have no committed offset and their first offsets, and starts
# those at the number. Checked without timing, in librdkafka's fetch log; and that the committed offsets
# still rule: where the group has some (a partial earlier run), and where a member that held the
# partitions committed while this one joined (after its lookup at setup: the revoke's commit).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka_lib.sh"
cd "$TEST_TMP"
start_kafka 1 4 gstart
sensor-gen -c 400 --seed 7 | kafka-cat-sensor -q -b "$BS" -P -t gstart --key-field value.sensor_id
K=(kafka-cat-sensor -b "$BS" -t gstart "${GROUP_PROPS[@]}")
DEBUG=(-vv -X debug=cgrp,fetch,topic)
# the "partition offset" of each message of -J output FILE..., one a line
coords() { cat "$@" | jq -r '"\(.partition) \(.offset)"'; }

# (the broker's first group creates its offsets topic: the coordinator comes a second or more later,
# longer than the lookup at setup waits; then librdkafka looks the offsets up, the old way)
"${K[@]}" -G first -q -c 1 >/dev/null || fail "the broker's first group exited $?"

# --- a new group: every message, every partition started at a number, no offset looked up by librdkafka
"${K[@]}" -G fresh "${DEBUG[@]}" -J -e >fresh.out 2>fresh.err || fail "new group exited $?: $(tail -3 fresh.err)"
assert_eq "$(count_lines fresh.out)" 400 "messages read by a new group"
assert_eq "$(coords fresh.out | sort -u | wc -l)" 400 "distinct messages read by a new group"
assert_eq "$(grep -c 'offset reset\|logical offset\|offset query timer' fresh.err || true)" 0 \
  "librdkafka looked the start offsets up itself: $(grep -m 2 'offset reset\|offset query timer' fresh.err)"
assert_eq "$(grep -c 'start fetching at offset 0$' fresh.err || true)" 4 "partitions started at offset 0: $(grep -m 4 'start fetching' fresh.err)"
"${K[@]}" -G fresh -q -J -e >again.out || fail "second run exited $?"
assert_eq "$(count_lines again.out)" 0 "a second run of the group (everything committed)"
pass "a new group starts every partition at its first offset"

# --- some partitions committed (a run stopped after 50 messages), some not: the rest, once each
"${K[@]}" -G part -q -J -c 50 >part1.out || fail "-c 50 exited $?"
assert_eq "$(count_lines part1.out)" 50 "messages of the first, partial run"
"${K[@]}" -G part "${DEBUG[@]}" -J -e >part2.out 2>part2.err || fail "second run exited $?: $(tail -3 part2.err)"
assert_eq "$(count_lines part2.out)" 350 "messages of the second run (the committed offsets rule)"
assert_eq "$(coords part1.out part2.out | sort -u | wc -l)" 400 "messages of the two runs, distinct"
assert_eq "$(grep -c 'offset reset\|offset query timer' part2.err || true)" 0 \
  "librdkafka looked a start offset up itself: $(grep -m 2 'offset reset\|offset query timer' part2.err)"
pass "a partly committed group reads the rest"

# --- member a reads everything and commits only when it gives partitions up (--commit-interval 1h);
# member b starts: at its setup the group has no committed offset, a's revoke commits while b joins.
# b must start its partitions at those offsets: nothing read twice.
"${K[@]}" -G race -v -J --commit-interval 1h >a.out 2>a.err &
pa=$!
on_exit "kill $pa"
read_ge() { [ "$(count_lines "$1")" -ge "$2" ]; }
wait_until 60 read_ge a.out 400 || fail "member a read $(count_lines a.out) of 400: $(tail -3 a.err)"
assert_eq "$(grep -c '^.*debug: committed' a.err || true)" 0 "member a committed before b joined"
"${K[@]}" -G race -v -J >b.out 2>b.err &
pb=$!
on_exit "kill $pb"
latest() { grep -E "assigned|giving up" "$1" | tail -1; }
stable() {
  [[ $(latest a.err) == *assigned* && $(latest b.err) == *assigned* ]] &&
    [ "$( (latest a.err; latest b.err) | grep -o 'gstart\[[0-9]*\]' | sort -u | wc -l)" -eq 4 ]
}
wait_until 60 stable || fail "the group did not settle: $(latest a.err) / $(latest b.err)"
sleep 3  # a coordinator may start a second rebalance right after the first
wait_until 60 stable || fail "the group did not settle: $(latest a.err) / $(latest b.err)"
grep -q 'debug: committed' a.err || fail "member a did not commit when giving partitions up: $(tail -5 a.err)"
# b started at the first offsets planned at setup, found the committed ones and read from there
grep -q 'since the start: reading from there' b.err || fail "member b did not see the commit made while it joined: $(cat b.err)"
sensor-gen -c 100 --seed 8 --first-id 401 | kafka-cat-sensor -q -b "$BS" -P -t gstart --key-field value.sensor_id
both_read() { [ $(($(count_lines a.out) + $(count_lines b.out))) -ge "$1" ]; }
wait_until 60 both_read 500 || fail "the members read $(count_lines a.out) + $(count_lines b.out) of 500"
kill -TERM $pa $pb
wait $pa || fail "member a exited $?"
wait $pb || fail "member b exited $?"
assert_eq "$(coords a.out b.out | sort | uniq -d | wc -l)" 0 "messages read twice: $(coords a.out b.out | sort | uniq -d | head -3)"
assert_eq "$(($(count_lines a.out) + $(count_lines b.out)))" 500 "messages read by the two members together"
[ "$(count_lines b.out)" -gt 0 ] || fail "member b read none of the new messages"
pass "a commit made while a member joined rules: $(count_lines a.out) + $(count_lines b.out)"
echo "PASS"
