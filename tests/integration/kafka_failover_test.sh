#!/usr/bin/env bash
# ctest-label: slow
# Broker failover on three real Apache Kafka brokers: a topic with replication factor 3 and
# min.insync.replicas=2. The leader of a partition is SIGKILLed while kafka-cat-sensor -P writes
# (the idempotent producer must lose and duplicate nothing) and, after it came back, another leader is
# SIGKILLed while kafka-cat-sensor reads (the consumer carries on to the end: every message once).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka_lib.sh"
cd "$TEST_TMP"
N=${FAILOVER_MESSAGES:-200000}
start_kafka 3 4
kafka_topic rep 4 3 min.insync.replicas=2

sensor-gen -c "$N" --seed 21 --sensors 200 | grep -v '^$' >in.jsonl
N=$(wc -l <in.jsonl)
# a steady flow (pauses every 10000 lines), so that the kill lands while messages are in flight
throttle() { awk -v every="$1" '{print} NR % every == 0 {fflush(); system("sleep 0.2")}'; }

# --- kill the leader of partition 0 while producing
leader=$(kafka_sh leader rep 0)
[ -n "$leader" ] || fail "no leader for rep[0]"
throttle 10000 <in.jsonl | kafka-cat-sensor -b "$BS" -P -t rep --key-field value.sensor_id -v 2>produce.err &
producer=$!
sleep 1.5
kafka_sh kill "$leader"
rc=0; wait $producer || rc=$?
assert_eq "$rc" 0 "producer exit status with a leader killed: $(tail -3 produce.err)"
new_leader=$(kafka_sh leader rep 0)
[ -n "$new_leader" ] && [ "$new_leader" != "$leader" ] || fail "rep[0] did not move away from broker $leader (now '$new_leader')"
kafka-cat-sensor -b "$BS" -t rep -e -q >all.jsonl
assert_eq "$(count_lines all.jsonl)" "$N" "messages stored after the leader was killed during -P"
assert_eq "$(jq -r .id all.jsonl | sort | uniq -d | wc -l)" 0 "no message stored twice"
assert_eq "$(jq -r .id all.jsonl | sort | md5sum)" "$(jq -r .id in.jsonl | sort | md5sum)" "every message stored"
pass "leader $leader of rep[0] killed during -P: $N messages, none lost, none twice (new leader $new_leader)"

# --- bring it back, then kill a leader while consuming
kafka_sh start-node "$leader"
leader=$(kafka_sh leader rep 1)
kafka-cat-sensor -b "$BS" -t rep -e -v 2>consume.err | throttle 20000 >read.jsonl &
consumer=$!
sleep 1.5
kafka_sh kill "$leader"
rc=0; wait $consumer || rc=$?
assert_eq "$rc" 0 "consumer exit status with a leader killed: $(tail -3 consume.err)"
assert_eq "$(count_lines read.jsonl)" "$N" "messages read while leader $leader was killed"
assert_eq "$(jq -r .id read.jsonl | sort | uniq -d | wc -l)" 0 "no message read twice"
pass "leader $leader of rep[1] killed during -C: the consumer read all $N once"
