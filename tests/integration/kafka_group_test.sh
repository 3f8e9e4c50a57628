#!/usr/bin/env bash
# Consumer groups: two consumers split the partitions with nothing lost or read twice (commits
# before giving partitions up), -e works with a group, a restart resumes at the committed offsets,
# SIGTERM on a streaming consumer commits and exits 0, and -o @TIME / --until select by time (the
# broker's own timestamp index). Against a real Apache Kafka broker (scripts/kafka.sh).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka_lib.sh"
cd "$TEST_TMP"
start_kafka 1 8 sensor_metrics timed
K=(kafka-cat-sensor -b "$BS" "${GROUP_PROPS[@]}")

sensor-gen -c 4000 --seed 3 | kafka-cat-sensor -q -b "$BS" -P --key-field value.sensor_id

# --- member a reads and commits everything; member b joins; new messages are split between them.
"${K[@]}" -G split -v -J >a.out 2>a.err &
pa=$!
on_exit "kill $pa"
# the sum of the last committed offset of every partition in a -v log
committed_total() {
  grep -o 'sensor_metrics\[[0-9]*\]=[0-9]*' "$1" | awk -F= '{last[$1]=$2} END {for (p in last) s+=last[p]; print s+0}'
}
committed_ge() { [ "$(committed_total "$1")" -ge "$2" ]; }
read_ge() { [ "$(count_lines "$1")" -ge "$2" ]; }
wait_until 60 committed_ge a.err 4000 || fail "member a did not commit all: $(tail -5 a.err)"
assert_eq "$(count_lines a.out)" 4000 "member a read all"
"${K[@]}" -G split -v -J >b.out 2>b.err &
pb=$!
on_exit "kill $pb"
# stable: each member's last event is an assignment and together they hold all 8 partitions
latest() { grep -E "assigned|giving up" "$1" | tail -1; }
stable() {
  [[ $(latest a.err) == *assigned* && $(latest b.err) == *assigned* ]] &&
    [ "$( (latest a.err; latest b.err) | grep -o 'sensor_metrics\[[0-9]*\]' | sort -u | wc -l)" -eq 8 ]
}
wait_until 60 stable || fail "the group did not settle: $(latest a.err) / $(latest b.err)"
sleep 3  # a coordinator may start a second rebalance right after the first
wait_until 60 stable || fail "the group did not settle: $(latest a.err) / $(latest b.err)"
sensor-gen -c 2000 --seed 4 --first-id 4001 | kafka-cat-sensor -q -b "$BS" -P --key-field value.sensor_id
both_read() { [ $(($(count_lines a.out) + $(count_lines b.out))) -ge "$1" ]; }
wait_until 60 both_read 6000 ||
  fail "the members read $(count_lines a.out) + $(count_lines b.out) of 6000"
kill -TERM $pa $pb
wait $pa || fail "member a exited $?"
wait $pb || fail "member b exited $?"
assert_eq "$(($(count_lines a.out) + $(count_lines b.out)))" 6000 "messages read by the two members together"
assert_eq "$(cat a.out b.out | jq -r '"\(.partition) \(.offset)"' | sort | uniq -d | wc -l)" 0 "no message read twice"
[ "$(count_lines b.out)" -gt 0 ] || fail "member b read nothing"
[ "$(sed -n '4001,$p' a.out | wc -l)" -gt 0 ] || fail "member a read none of the new messages"
pass "two members split the partitions: $(count_lines a.out) + $(count_lines b.out)"

# --- -e with a group: members started together each exit at the end of their share.
# (Fresh group: two members joining at once may need a second rebalance; duplicates are allowed here.)
"${K[@]}" -G together -e >e1.out 2>e1.err &
p1=$!
"${K[@]}" -G together -e >e2.out 2>e2.err &
p2=$!
wait $p1 || fail "-e member 1 exited $?: $(tail -3 e1.err)"
wait $p2 || fail "-e member 2 exited $?: $(tail -3 e2.err)"
assert_eq "$(cat e1.out e2.out | jq -r .id | sort -u | wc -l)" 6000 "-e members together read every message"
pass "-e with a group exits: $(count_lines e1.out) + $(count_lines e2.out)"

# --- one member reads all with -e and commits; after new messages a restart reads only them
"${K[@]}" -G solo -e >r1.out 2>r1.err || fail "solo exited $?: $(tail -3 r1.err)"
assert_eq "$(count_lines r1.out)" 6000 "solo member reads everything"
sensor-gen -c 500 --first-id 9001 | kafka-cat-sensor -q -b "$BS" -P --key-field value.sensor_id
"${K[@]}" -G solo -e >c.out 2>c.err || fail "restart exited $?: $(cat c.err)"
assert_eq "$(count_lines c.out)" 500 "restart reads only the new messages"
assert_eq "$(jq -r .id c.out | sort -t- -k2 -n | head -1)" msg-9001 "first new message"
pass "restart resumes at the committed offsets"

# --- SIGTERM on a streaming group consumer: flush, commit, exit 0; nothing re-read after
"${K[@]}" -G stream -v >s.out 2>s.err &
ps=$!
wait_until 30 read_ge s.out 6500 || fail "streaming consumer got $(count_lines s.out)"
kill -TERM $ps
rc=0; wait $ps || rc=$?
assert_eq "$rc" 0 "streaming consumer stopped by SIGTERM"
assert_eq "$(count_lines s.out)" 6500 "all messages before SIGTERM"
assert_contains "$(cat s.err)" "committed " "final commit"
"${K[@]}" -G stream -e >s2.out 2>s2.err || fail "restart after SIGTERM exited $?"
assert_eq "$(count_lines s2.out)" 0 "nothing read twice after SIGTERM"
pass "SIGTERM commits and exits 0"

# --- a bounded run interrupted: 130
# tiny fetches, so that the signal comes before the end
"${K[@]}" -G bounded -e -X fetch.max.bytes=2000 -X message.max.bytes=2000 -X max.partition.fetch.bytes=2000 >i.out 2>i.err &
pi=$!
wait_until 30 read_ge i.out 1 || fail "bounded consumer got nothing"
kill -INT $pi
rc=0; wait $pi || rc=$?
if [ "$rc" != 0 ]; then  # 0 only when it had already finished all 6500
  assert_eq "$rc" 130 "interrupted bounded run"
fi
pass "SIGINT on a bounded run: $rc"

# --- time: -o @TIME and --until split the stream at a moment between two batches
seq 1 100 | kafka-cat-sensor -q -b "$BS" -P -t timed
sleep 1.1
T=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
sleep 0.1
seq 101 200 | kafka-cat-sensor -q -b "$BS" -P -t timed
assert_eq "$(kafka-cat-sensor -q -b "$BS" -t timed -e -o "@$T" | sort -n | head -1)" 101 "-o @TIME starts at the second batch"
assert_eq "$(kafka-cat-sensor -q -b "$BS" -t timed -e -o "@$T" | wc -l)" 100 "-o @TIME count"
assert_eq "$(kafka-cat-sensor -q -b "$BS" -t timed -e --until "$T" | sort -n | tail -1)" 100 "--until stops before the second batch"
assert_eq "$(kafka-cat-sensor -q -b "$BS" -t timed -e --until "$T" | wc -l)" 100 "--until count"
assert_eq "$(kafka-cat-sensor -q -b "$BS" -t timed -G tg "${GROUP_PROPS[@]}" -e -o "@$T" | wc -l)" 100 "-o @TIME with a group"
pass "-o @TIME and --until"
