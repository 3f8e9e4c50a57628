#!/usr/bin/env bash
# kafka-cat-sensor -L (kcat's metadata list) and --lag (a group's committed offsets and lag without
# joining the group), against a real Apache Kafka broker (scripts/kafka.sh); --lag is compared with
# Kafka's own kafka-consumer-groups --describe.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka_lib.sh"
cd "$TEST_TMP"
start_kafka 1 3 lt other

# --- -L: kcat's layout, one topic with -t
kafka-cat-sensor -L -b "$BS" -t lt >l.out 2>l.err || fail "-L exited $?: $(cat l.err)"
leader=$(sed -n 's/^  broker \([0-9]*\) at .*/\1/p' l.out)
[ -n "$leader" ] || fail "no broker line in: $(cat l.out)"
grep -qx ' 1 brokers:' l.out || fail "want ' 1 brokers:' in: $(cat l.out)"
grep -qx ' 1 topics:' l.out || fail "want ' 1 topics:' in: $(cat l.out)"
grep -qx '  topic "lt" with 3 partitions:' l.out || fail "want the topic line in: $(cat l.out)"
for p in 0 1 2; do
  grep -qx "    partition $p, leader $leader, replicas: $leader, isrs: $leader" l.out || fail "partition $p's line in: $(cat l.out)"
done
grep -q other l.out && fail "-t lt listed another topic: $(cat l.out)"
# all topics without -t
kafka-cat-sensor -L -b "$BS" >all.out 2>all.err || fail "-L exited $?: $(cat all.err)"
grep -q '^Metadata for all topics' all.out || fail "want 'Metadata for all topics' in: $(cat all.out)"
grep -qx '  topic "other" with 3 partitions:' all.out || fail "want topic other in: $(cat all.out)"
# -J: the same as JSON
kafka-cat-sensor -L -J -b "$BS" -t lt >lj.out || fail "-L -J exited $?"
assert_eq "$(jq -r '[.topics[0].topic, (.topics[0].partitions | length), ([.topics[0].partitions[].leader] | unique | .[0])] | @tsv' lj.out)" \
  "$(printf 'lt\t3\t%s' "$leader")" "-L -J topic, partitions and leader"
# a topic the cluster lacks, a broker that does not answer
set +e
kafka-cat-sensor -L -b "$BS" -t nosuch >/dev/null 2>n.err; rc=$?
kafka-cat-sensor -L -b 127.0.0.1:1 --connect-timeout 1 >/dev/null 2>u.err; urc=$?
set -e
assert_eq "$rc" 66 "-L of a missing topic exits 66: $(cat n.err)"
assert_eq "$urc" 69 "-L with no broker answering exits 69: $(cat u.err)"
pass "-L lists brokers, topics and partitions"

# --- --lag: 300 produced, 120 read and committed by the group, 180 left
sensor-gen -c 300 --seed 5 | kafka-cat-sensor -q -b "$BS" -P -t lt --key-field value.sensor_id
kafka-cat-sensor -b "$BS" "${GROUP_PROPS[@]}" -G g -t lt -c 120 >c.out 2>c.err || fail "consumer exited $?: $(cat c.err)"
assert_eq "$(count_lines c.out)" 120 "messages the group read"
kafka-cat-sensor --lag -G g -b "$BS" -t lt >lag.out 2>lag.err || fail "--lag exited $?: $(cat lag.err)"
head -1 lag.out | grep -qx 'GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG' || fail "header: $(cat lag.out)"
# what is left: the lag of each committed partition, all of one the group committed nothing on ("-")
assert_eq "$(sed 1d lag.out | awk '$1 == "g" && $2 == "lt" {c += $4; e += $5; l += ($4 == "-" ? $5 : $6); n++} END {print n, c, e, l}')" \
  "3 120 300 180" "partitions, committed, log end and what is left summed"
# Kafka's own tool agrees per partition (its columns: GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG ...)
kafka_sh tool org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --bootstrap-server "$BS" \
  --describe --group g >kg.out 2>&1 || fail "Kafka's group tool: $(cat kg.out)"
# (a stopped group's describe lists only the partitions it committed)
assert_eq "$(sed 1d lag.out | awk '$4 != "-" {print $3, $4, $5, $6}' | sort)" \
  "$(awk '$2 == "lt" && $4 != "-" {print $3, $4, $5, $6}' kg.out | sort)" "--lag against kafka-consumer-groups --describe"
# without -t: only the partitions the group committed; -J: JSON lines
kafka-cat-sensor --lag -J -G g -b "$BS" >lagj.out || fail "--lag -J exited $?"
assert_eq "$(jq -s -r '[length, (map(.committed) | add), (map(.topic) | unique | join(","))] | @tsv' lagj.out)" \
  "$(printf '%s\t120\tlt' "$(sed 1d lag.out | awk '$4 != "-"' | wc -l)")" "--lag -J without -t: committed partitions and topics"
assert_eq "$(jq -s -r 'map(.lag) | add' lagj.out)" "$(sed 1d lag.out | awk '$4 != "-" {l += $6} END {print l}')" "--lag -J: the same lag"
# a group that committed nothing on a topic: "-"
kafka-cat-sensor --lag -G g -b "$BS" -t other >o.out || fail "--lag -t other exited $?"
assert_eq "$(sed 1d o.out | awk '{print $4 $6}' | sort -u)" "--" "no committed offset shows -"
pass "--lag shows committed offsets and lag as Kafka's tool does"

# --- -Q: the first offset at or after a time, as the broker's timestamp index finds it
kafka-cat-sensor -b "$BS" -t lt -p 0 -e -J >p0.out 2>p0.err || fail "reading partition 0: $(cat p0.err)"
[ "$(count_lines p0.out)" -gt 2 ] || fail "partition 0 holds too little: $(count_lines p0.out)"
t=$(jq -s -r '.[length / 2 | floor].timestamp_ms' p0.out)
want=$(jq -s -r --argjson t "$t" '[.[] | select(.timestamp_ms >= $t)][0].offset' p0.out)
assert_eq "$(kafka-cat-sensor -Q -b "$BS" -t "lt:0:$t")" "lt [0] offset $want" "-Q at a message's time"
assert_eq "$(kafka-cat-sensor -Q -J -b "$BS" -t "lt:0:$((t + 3600000))" | jq -c '[.topic, .partition, .offset]')" \
  '["lt",0,-1]' "-Q -J after the last message: -1"
assert_eq "$(kafka-cat-sensor -Q -b "$BS" -t 'lt:0:1970-01-01T00:00:00Z')" "lt [0] offset 0" "-Q with an ISO-8601 time"
set +e
kafka-cat-sensor -Q -b "$BS" -t lt:0 >/dev/null 2>q.err; qrc=$?
set -e
assert_eq "$qrc" 2 "-Q without a time is a usage error: $(cat q.err)"
pass "-Q finds offsets for times"
