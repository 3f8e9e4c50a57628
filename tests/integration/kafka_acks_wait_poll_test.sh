#!/usr/bin/env bash
# kafka-cat-sensor --commit-acks keeps serving its group while it waits at the end for the last
# acknowledgements: with S3 down when the input ends, s3-put's last object (and its ack) comes only
# once S3 is back, later than max.poll.interval.ms. A consumer that does not poll meanwhile is put
# out of the group by librdkafka and its final commit fails: the whole run is read again next time.
# On a real Apache Kafka broker and a real S3 store (MinIO), acks from s3-put --acks.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka_lib.sh"
source "$(dirname "$0")/s3_lib.sh"
start_s3
cd "$TEST_TMP"
start_kafka 1 2 slow
aws_ref s3 mb s3://arch >/dev/null
sensor-gen -c 2000 --seed 3 | grep -v '^$' >gen.jsonl
n=$(wc -l <gen.jsonl)
kafka-cat-sensor -q -b "$BS" -P -t slow --key-field value.sensor_id <gen.jsonl

read_all() { [ "$(count_lines tee.out)" -ge "$n" ]; }
# max.poll.interval.ms as short as librdkafka allows (not below session.timeout.ms)
POLL_PROPS=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=500 -X max.poll.interval.ms=6000)
mkfifo s3-acks.fifo
# exec: no shell keeps the pipe to s3-put open, which sees its end when kafka-cat-sensor closes stdout
(echo $BASHPID >kcs.pid && exec kafka-cat-sensor -b "$BS" -t slow -G slow --envelope -v --commit-acks s3-acks.fifo \
  --ack-timeout 120 "${POLL_PROPS[@]}" 2>kcs.err) |
  s3-put --tee --acks s3-acks.fifo 's3://arch/raw/{run}-{seq}.jsonl' >tee.out 2>put.err &
pipeline=$!
on_exit "kill $pipeline"
wait_until 120 read_all || fail "s3-put got $(count_lines tee.out) lines: $(tail -3 kcs.err)"
# S3 goes down, the consumer is stopped: s3-put retries its one upload (and the ack of everything)
# until S3 is back, for longer than max.poll.interval.ms
s3_stop_endpoint
kill -TERM "$(cat kcs.pid)"
wait_until 60 grep -q 'waiting up to 120 s for the last acknowledgements' kcs.err ||
  fail "kafka-cat-sensor did not wait for its acks: $(tail -3 kcs.err)"
sleep 10
s3_start_endpoint
wait $pipeline || fail "pipeline exited $?: $(tail -3 kcs.err) / $(tail -3 put.err)"
assert_eq "$(s3-cat --prefix s3://arch/raw/ | wc -l)" "$n" "archived lines"
assert_contains "$(cat kcs.err)" "committed slow[" "final commit"
grep -q 'maximum poll interval' kcs.err && fail "left the group while waiting: $(grep -m1 'maximum poll interval' kcs.err)"
assert_lag_zero slow slow 2
kafka-cat-sensor -b "$BS" -t slow -G slow -e "${POLL_PROPS[@]}" >again.out 2>again.err ||
  fail "restart exited $?: $(tail -3 again.err)"
assert_eq "$(count_lines again.out)" 0 "messages read again after the restart"
pass "a late last ack (S3 down for longer than max.poll.interval.ms) is committed: the group was kept"
