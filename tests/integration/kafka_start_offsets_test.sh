#!/usr/bin/env bash
# A manual assignment (no -G) at the beginning (the default) or the end, on a real Apache Kafka broker
# (issue 25, where the pipeline's time goes): kafka-cat-sensor asks the broker for the partitions'
# first or last offsets and assigns them as numbers. Assigned as logical offsets, librdkafka 2.0 looked
# each one up only after the partition had joined its broker; assign() came first, so it found "no
# current leader" and waited for its offset query timer: 0.4 s before the first message of every run
# (profile.sh's timeline). Checked without timing: librdkafka's fetch log must start every partition
# at a number, never at a logical offset to look up; and what is read must be what it was before (every message
# from the beginning; only those produced after the start with -o end).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka_lib.sh"
cd "$TEST_TMP"
start_kafka 1 4 starts
sensor-gen -c 400 --seed 7 | kafka-cat-sensor -q -b "$BS" -P -t starts --key-field value.sensor_id
K=(kafka-cat-sensor -b "$BS" -t starts)

# --- from the beginning (the default): every message, each partition in order, no offset query timer
"${K[@]}" -vv -X debug=consumer,fetch,topic -e >begin.out 2>begin.err || fail "consume from the beginning exited $?: $(tail -3 begin.err)"
assert_eq "$(count_lines begin.out)" 400 "messages read from the beginning"
# (the old way: "offset reset ... to BEGINNING", then a lookup now or, when the partition had not
# joined its broker yet, after "(re)starting offset query timer": a race, lost on most runs of 16)
assert_eq "$(grep -c 'offset reset\|logical offset\|offset query timer' begin.err || true)" 0 \
  "librdkafka looked the start offsets up itself: $(grep -m 2 'offset reset\|logical offset' begin.err)"
assert_eq "$(grep -c 'start fetching at offset 0$' begin.err || true)" 4 "partitions started at offset 0: $(grep -m 4 'start fetching' begin.err)"
# the same messages as -J (per partition, in offset order) with the explicit -o beginning
"${K[@]}" -q -o beginning -J -e >begin.json || fail "-o beginning -J exited $?"
assert_eq "$(count_lines begin.json)" 400 "messages with -o beginning"
for p in 0 1 2 3; do
  offs=$(grep "\"partition\":$p," begin.json | sed 's/.*"offset":\([0-9]*\).*/\1/' | tr '\n' ' ')
  want=$(seq 0 $(($(grep -c "\"partition\":$p," begin.json) - 1)) | tr '\n' ' ')
  assert_eq "$offs" "$want" "partition $p's offsets from the beginning"
done

# --- retention moved a partition's beginning: the first offset the broker keeps, not 0
echo '{"partitions":[{"topic":"starts","partition":0,"offset":5}],"version":1}' >delete.json
kafka_sh tool org.apache.kafka.tools.DeleteRecordsCommand --bootstrap-server "$BS" --offset-json-file delete.json \
  >delete.out 2>&1 || fail "delete-records failed: $(cat delete.out)"
"${K[@]}" -q -p 0 -J -e >p0.json || fail "-p 0 exited $?"
assert_eq "$(head -1 p0.json | sed 's/.*"offset":\([0-9]*\).*/\1/')" 5 "partition 0's first offset after records were deleted"

# --- from the end: nothing of what is there, then exactly what is produced after the start
"${K[@]}" -q -o end -e >end.out || fail "-o end -e exited $?"
assert_eq "$(count_lines end.out)" 0 "messages read from the end with -e"
"${K[@]}" -vv -X debug=consumer,fetch,topic -o end -c 5 >tail.out 2>tail.err &
pid=$!
on_exit "kill $pid 2>/dev/null"
# produced only once every partition has started fetching (at its end then)
for _ in $(seq 600); do
  [ "$(grep -c 'start fetching at offset' tail.err || true)" -ge 4 ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
assert_eq "$(grep -c 'start fetching at offset' tail.err || true)" 4 "partitions started with -o end: $(tail -3 tail.err)"
assert_eq "$(grep -c 'offset reset\|logical offset\|offset query timer' tail.err || true)" 0 \
  "librdkafka looked the end offsets up itself: $(grep -m 2 'offset reset\|logical offset' tail.err)"
sensor-gen -c 5 --seed 8 | kafka-cat-sensor -q -b "$BS" -P -t starts --key-field value.sensor_id
wait $pid || fail "-o end -c 5 exited $?: $(tail -3 tail.err)"
assert_eq "$(sort tail.out)" "$(sensor-gen -c 5 --seed 8 | sort)" "-o end: the messages produced after the start"
echo "PASS"
