#!/usr/bin/env bash
# -P and lines too large to be a message (issue 16): a line over the producer's message.max.bytes
# (librdkafka's default 1,000,000, under the 1 MiB line limit) or over 1 MiB is reported with its
# line number and not sent, the other lines are delivered, and the exit status is 65 (bad data: a
# rerun cannot send it), not 75 (rerun later). A topic whose broker-side max.message.bytes is smaller
# refuses a line on delivery: the same report, naming the line. On a real Apache Kafka broker.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka_lib.sh"
cd "$TEST_TMP"
start_kafka 1 2 big
kafka_topic small 1 1 max.message.bytes=100000
line_of() { head -c "$1" /dev/zero | tr '\0' x; echo; }

{ echo one; line_of 1000100; echo two; line_of 2000000; echo three; } >in.txt
rc=0; kafka-cat-sensor -b "$BS" -P -t big <in.txt 2>p.err || rc=$?
assert_eq "$rc" 65 "exit status with lines too large ($(tail -2 p.err))"
assert_contains "$(cat p.err)" "stdin line 2: 1000100 bytes, over message.max.bytes (1000000, framing included): not produced" "line over message.max.bytes"
assert_contains "$(cat p.err)" "stdin line 4: 2000000 bytes, longer than the 1 MiB limit: not produced" "line over 1 MiB"
assert_contains "$(cat p.err)" "2 lines can never be sent" "the final error counts them"
assert_eq "$(kafka-cat-sensor -q -b "$BS" -t big -e | sort | tr '\n' ' ')" "one three two " "the other lines were delivered"
pass "lines too large: reported, not sent, the rest delivered, exit 65"

# with a key the message is larger than the line: -K splits it, --key-field copies it
rc=0; { echo "k:$(line_of 999000)"; } | kafka-cat-sensor -b "$BS" -P -t big -K : 2>k.err || rc=$?
assert_eq "$rc" 0 "a key split off the line: under the limit ($(tail -2 k.err))"
rc=0; { echo "$(line_of 999990)"; } | kafka-cat-sensor -b "$BS" -P -t big -k "$(line_of 100)" 2>k2.err || rc=$?
assert_eq "$rc" 65 "value and key together over the limit"
assert_contains "$(cat k2.err)" "stdin line 1: 1000090 bytes with the key, over message.max.bytes (1000000" "key counted"

# a larger message.max.bytes is honoured
rc=0; line_of 1000100 | kafka-cat-sensor -b "$BS" -P -t big -X message.max.bytes=1100000 2>m.err || rc=$?
assert_eq "$rc" 0 "-X message.max.bytes raised ($(tail -2 m.err))"
pass "the key counts, -X message.max.bytes is the limit"

# the broker's own limit, smaller than the producer's, applies to a whole batch: with batch.size
# under it, only the line over it is refused on delivery, named by its line number
{ echo small-one; line_of 200000; echo small-two; } >small.txt
rc=0; kafka-cat-sensor -b "$BS" -P -t small -X batch.size=50000 <small.txt 2>s.err || rc=$?
assert_eq "$rc" 65 "a line over the topic's max.message.bytes ($(tail -2 s.err))"
assert_contains "$(cat s.err)" "stdin line 2: refused by the broker: Broker: Message size too large" "the refused line is named"
assert_eq "$(grep -c 'line [0-9]*: refused by the broker' s.err)" 1 "only that line refused"
assert_eq "$(kafka-cat-sensor -q -b "$BS" -t small -e | sort | tr '\n' ' ')" "small-one small-two " "the other lines were delivered"
# without it, lines batched with the refused one are refused and named too: none is dropped silently
rc=0; kafka-cat-sensor -b "$BS" -P -t small <small.txt 2>s2.err || rc=$?
assert_eq "$rc" 65 "a batch over the topic's max.message.bytes"
assert_eq "$(( $(grep -c 'line [0-9]*: refused by the broker' s2.err) + $(kafka-cat-sensor -q -b "$BS" -t small -e | wc -l) - 2 ))" 3 \
  "every line of the second run either named as refused or delivered"
pass "the broker's max.message.bytes: refused lines named, the rest delivered, exit 65"

# per-line warnings (no key, no time) name the first 20 lines, like too-large ones, then say that
# more are only counted; the summary has them all
for i in $(seq 25); do echo "{\"id\":$i}"; done >nokey.txt
rc=0; kafka-cat-sensor -b "$BS" -P -t big --key-field value.sensor_id --timestamp-field ts <nokey.txt 2>n.err || rc=$?
assert_eq "$rc" 0 "lines without a key or a time are still produced ($(tail -2 n.err))"
assert_eq "$(grep -c 'stdin line [0-9]*: no field value.sensor_id' n.err)" 20 "the first 20 lines without a key named"
assert_contains "$(grep 'stdin line 20: no field' n.err)" "more such lines are only counted" "the 20th says the rest are counted"
assert_eq "$(grep -c 'stdin line [0-9]*: no usable time' n.err)" 20 "the first 20 lines without a time named"
assert_contains "$(cat n.err)" "25 without a key" "the summary counts all of them"
pass "per-line producer warnings: 20 named, then counted"
