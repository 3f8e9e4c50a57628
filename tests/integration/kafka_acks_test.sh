#!/usr/bin/env bash
# --commit-acks against hostile or stale ack lines (issue 16): an ack for an offset this process
# never wrote (beyond what it wrote, a partition it does not hold, another topic, or from before a
# restart) is refused with a warning and never committed; a restarted group still reads everything
# after the last genuine ack. Ack lines are echoed escaped, never as raw bytes. On a real Apache Kafka
# broker (the mock cluster only for its control channel's echo at the end).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka_lib.sh"
cd "$TEST_TMP"
start_kafka 1 1 lossy
K=(kafka-cat-sensor -b "$BS" -t lossy "${GROUP_PROPS[@]}")
seq 0 4095 | kafka-cat-sensor -q -b "$BS" -P -t lossy

read_ge() { [ "$(count_lines "$1")" -ge "$2" ]; }
committed_at() { grep -q "committed lossy\[0\]=$2\$" "$1"; }
commits() { grep -o 'committed lossy\[0\]=[0-9]*' "$1" | tr '\n' ' '; }

# --- the issue's scenario: 4,096 messages written, then an ack for offset 19000 (and 999999)
mkfifo acks.fifo
exec 7<>acks.fifo  # our writer end, kept open like ch-insert's stdout
"${K[@]}" -G lossy -J -v --commit-acks acks.fifo --commit-interval 100 --ack-timeout 1 >run1.out 2>run1.err &
p1=$!
on_exit "kill $p1"
wait_until 60 read_ge run1.out 4096 || fail "first run read $(count_lines run1.out)"
echo '{"topic":"lossy","partition":0,"offset":99}' >&7
wait_until 30 committed_at run1.err 100 || fail "a genuine ack was not committed: $(commits run1.err)"
echo '{"topic":"lossy","partition":0,"offset":19000}' >&7
echo '{"topic":"lossy","partition":0,"offset":999999}' >&7
echo '{"topic":"lossy","partition":7,"offset":5}' >&7
echo '{"topic":"other","partition":0,"offset":5}' >&7
printf '{"topic":"lossy\\u001b[31m","partition":0,"offset":5}\n' >&7
printf 'junk \033[2J\377 here\n' >&7
# a genuine ack after the stray ones still counts
echo '{"topic":"lossy","partition":0,"offset":199}' >&7
wait_until 30 committed_at run1.err 200 || fail "the ack after the stray ones was not committed: $(commits run1.err)"
kill -TERM $p1
wait $p1 || fail "first run exited $?: $(tail -3 run1.err)"
assert_eq "$(grep -c 'committed lossy\[0\]=\(19001\|1000000\)' run1.err || true)" 0 \
  "stray acks committed ($(commits run1.err))"
assert_contains "$(cat run1.err)" "line 2: lossy [0] offset 19000: refused: this process wrote offsets 0 to 4095 of it" \
  "ack beyond what was written"
assert_contains "$(cat run1.err)" "line 3: lossy [0] offset 999999: refused" "second stray ack"
assert_contains "$(cat run1.err)" "line 4: lossy [7] offset 5: refused: partition not assigned to this process" "unassigned partition"
assert_contains "$(cat run1.err)" "line 5: other [0] offset 5: refused: topic not read by this process" "other topic"
assert_contains "$(cat run1.err)" 'line 6: lossy\x1b[31m [0] offset 5: refused' "escaped topic"
assert_contains "$(cat run1.err)" 'line 7: not a JSON object: junk \x1b[2J\xff here' "escaped bad line"
assert_eq "$(grep -c $'\033' run1.err || true)" 0 "no raw escape byte on stderr"
assert_eq "$(grep -c ': refused: ' run1.err)" 5 "one warning per refused ack"
pass "acks beyond what was written, for other partitions or topics: refused, not committed"

# a restarted member resumes after the last genuine ack: nothing skipped
"${K[@]}" -G lossy -J -e >run2.out 2>run2.err || fail "restart exited $?: $(tail -3 run2.err)"
assert_eq "$(count_lines run2.out)" 3896 "messages after the last genuine ack"
assert_eq "$(head -1 run2.out | jq -r .offset)" 200 "restart offset"
pass "restart reads offsets 200-4095 again"

# --- acks for offsets written before a restart (a stale FIFO): not written by this process, refused
mkfifo acks2.fifo
exec 8<>acks2.fifo
"${K[@]}" -G stale -J -v --commit-acks acks2.fifo --commit-interval 100 --ack-timeout 1 -o 1000 >run3.out 2>run3.err &
p3=$!
on_exit "kill $p3"
wait_until 60 read_ge run3.out 3096 || fail "third run read $(count_lines run3.out)"
echo '{"topic":"lossy","partition":0,"offset":499}' >&8
sleep 1  # several commit intervals: a stale ack taken would be committed by then
echo '{"topic":"lossy","partition":0,"offset":1499}' >&8
wait_until 30 committed_at run3.err 1500 || fail "a genuine ack was not committed: $(commits run3.err)"
kill -TERM $p3
wait $p3 || fail "third run exited $?: $(tail -3 run3.err)"
assert_eq "$(grep -c 'committed lossy\[0\]=500' run3.err || true)" 0 "stale ack committed ($(commits run3.err))"
assert_contains "$(cat run3.err)" "line 1: lossy [0] offset 499: refused: this process wrote offsets 1000 to 4095 of it" \
  "ack before what was written"
pass "an ack for an offset before what this process wrote: refused"

# --- manual assignment (-G with -p, no rebalance): the same window
mkfifo acks3.fifo
exec 9<>acks3.fifo
"${K[@]}" -G manual -p 0 -J -v --commit-acks acks3.fifo --commit-interval 100 --ack-timeout 1 >run4.out 2>run4.err &
p4=$!
on_exit "kill $p4"
wait_until 60 read_ge run4.out 4096 || fail "fourth run read $(count_lines run4.out)"
echo '{"topic":"lossy","partition":0,"offset":4096}' >&9
echo '{"topic":"lossy","partition":0,"offset":4095}' >&9
wait_until 30 committed_at run4.err 4096 || fail "a genuine ack was not committed: $(commits run4.err)"
kill -TERM $p4
wait $p4 || fail "fourth run exited $?: $(tail -3 run4.err)"
assert_eq "$(grep -c 'committed lossy\[0\]=4097' run4.err || true)" 0 "ack one past the last written committed"
assert_contains "$(cat run4.err)" "line 1: lossy [0] offset 4096: refused: this process wrote offsets 0 to 4095 of it" "-p: refused"
pass "manual assignment: the ack of the last offset written is taken, one past it refused"

# --- the mock cluster's control channel echoes a bad command escaped too
start_kafka_mock 1 1 lossy
printf 'bogus \033[2J\n' >"$MOCK_CTL"
wait_until 10 grep -q "mock-control: 'bogus" mock.err || fail "bad control command not reported: $(tail -2 mock.err)"
assert_contains "$(cat mock.err)" "--mock-control: 'bogus \\x1b[2J': unknown command" "escaped control command"
assert_eq "$(grep -c $'\033' mock.err || true)" 0 "no raw escape byte from the control channel"
pass "bad control commands are echoed escaped"
