#!/usr/bin/env bash
# kafka-cat-sensor --commit-acks with s3-put as the only acknowledging stage and --rotate-seconds
# longer than --ack-timeout: s3-put's first ack comes with its first stored object, after the
# "not one acknowledgement" warning (issue 28's check cannot tell late from never). The warning
# names that case, and the first ack is reported as undoing it, once; offsets are then committed.
# On a real Apache Kafka broker and a real S3 store (MinIO), acks from s3-put --acks.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka_lib.sh"
source "$(dirname "$0")/s3_lib.sh"
start_s3
cd "$TEST_TMP"
start_kafka 1 1 late
aws_ref s3 mb s3://arch >/dev/null
sensor-gen -c 200 --seed 5 | kafka-cat-sensor -q -b "$BS" -P -t late

mkfifo s3-acks.fifo
(echo $BASHPID >kcs.pid && exec kafka-cat-sensor -b "$BS" -t late -G late --envelope -v --commit-acks s3-acks.fifo \
  --ack-timeout 1 "${GROUP_PROPS[@]}" 2>kcs.err) |
  s3-put --acks s3-acks.fifo --rotate-seconds 10 's3://arch/raw/{run}-{seq}.jsonl' 2>put.err &
pipeline=$!
on_exit "kill $pipeline"
committed() { grep -q 'committed late\[0\]=' kcs.err; }
wait_until 120 committed || fail "nothing committed: $(tail -3 kcs.err) / $(tail -3 put.err)"
kill -TERM "$(cat kcs.pid)"
wait $pipeline || fail "pipeline exited $?: $(tail -3 kcs.err) / $(tail -3 put.err)"
assert_eq "$(grep -c 'not one acknowledgement in 1 s' kcs.err)" 1 "the warning, once"
assert_contains "$(cat kcs.err)" "s3-put acknowledges an object once it is stored: with --rotate-seconds longer than --ack-timeout" \
  "the warning names the late-ack case"
assert_eq "$(grep -c 'the warning above no longer applies' kcs.err)" 1 "the first ack undoes the warning, once"
# in that order: the warning, then the ack that undoes it, before the commit it allows
order=$(grep -o 'not one acknowledgement\|the warning above no longer applies\|committed late\[0\]' kcs.err | uniq | head -3 | tr '\n' '|')
assert_eq "$order" "not one acknowledgement|the warning above no longer applies|committed late[0]|" "order of the messages"
pass "s3-put's first ack, later than --ack-timeout: warned once, then reported as arrived, committed"
