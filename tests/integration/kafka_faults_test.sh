#!/usr/bin/env bash
# Faults against the mock cluster: at-least-once with --commit-acks across a SIGKILL (everything not
# acknowledged is read again, nothing acknowledged is), a broker taken down and brought back while
# consuming and while producing (nothing lost, nothing doubled), an unreachable broker at start.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka_lib.sh"
cd "$TEST_TMP"
start_kafka_mock 1 4 sensor_metrics
K=(kafka-cat-sensor -b "$BS" "${GROUP_PROPS[@]}")
sensor-gen -c 2000 --seed 11 | kafka-cat-sensor -q -b "$BS" -P --key-field value.sensor_id

# --- --commit-acks: only acknowledged offsets are committed; SIGKILL; restart re-reads the rest
mkfifo acks.fifo
exec 7<>acks.fifo  # our writer end, kept open like ch-insert's stdout
"${K[@]}" -G ingest -J -v --commit-acks acks.fifo --commit-interval 100 >run1.out 2>run1.err &
p1=$!
read_ge() { [ "$(count_lines "$1")" -ge "$2" ]; }
wait_until 60 read_ge run1.out 2000 || fail "first run read $(count_lines run1.out)"
# nothing acknowledged yet: nothing may be committed
assert_eq "$(grep -c 'debug: committed' run1.err || true)" 0 "no commit without acks"
# acknowledge the first half of every partition (as ch-insert would after its insert)
for p in 0 1 2 3; do
  n=$(jq -r "select(.partition==$p) | .offset" run1.out | sort -n | tail -1)
  half=$((n / 2))
  echo "{\"topic\":\"sensor_metrics\",\"partition\":$p,\"offset\":$half}" >&7
  echo "$p $half" >>acked.txt
done
echo 'not an ack' >&7
acked_all() { [ "$(grep -o 'sensor_metrics\[[0-9]\]=[0-9]*' run1.err | sort -u | wc -l)" -ge 4 ]; }
wait_until 30 acked_all || fail "acknowledged offsets not committed: $(tail -3 run1.err)"
while read -r p half; do
  assert_contains "$(cat run1.err)" "sensor_metrics[$p]=$((half + 1))" "commit of ack+1 for partition $p"
done <acked.txt
assert_contains "$(cat run1.err)" "line 5: not a JSON object" "a bad ack line is reported"
kill -KILL $p1
wait $p1 2>/dev/null || true
exec 7>&-
# restart without acks and -e: exactly the unacknowledged messages come again
"${K[@]}" -G ingest -J -e --commit-acks /dev/null --ack-timeout 0 >run2.out 2>run2.err || fail "restart exited $?: $(tail -3 run2.err)"
want=0
while read -r p half; do
  total=$(jq -r "select(.partition==$p)" -c run1.out | wc -l)
  want=$((want + total - half - 1))
  first=$(jq -r "select(.partition==$p) | .offset" run2.out | sort -n | head -1)
  assert_eq "$first" "$((half + 1))" "partition $p restarts after the last ack"
done <acked.txt
assert_eq "$(count_lines run2.out)" "$want" "unacknowledged messages read again"
pass "--commit-acks + SIGKILL: $(count_lines run2.out) unacknowledged messages read again"

# --- at exit with --commit-acks: stdout is closed, the last acks are awaited, then committed
mkfifo acks2.fifo
sensor-gen -c 100 --first-id 3001 | kafka-cat-sensor -q -b "$BS" -P --key-field value.sensor_id
# a stand-in for ch-insert: acks every line it reads, after its input ended (held in a file until
# then: jq's own output buffering flushed some runs' acks early, so there was nothing left to wait for)
( "${K[@]}" -G ingest -J -e -v --commit-acks acks2.fifo 2>run3.err | tee run3.out |
  { jq -c '{topic, partition, offset}' >acks2.txt; cat acks2.txt; } >acks2.fifo ) ||
  fail "ack pipeline failed: $(tail -3 run3.err)"
assert_contains "$(cat run3.err)" "waiting up to 30 s for the last acknowledgements" "waited for acks"
assert_eq "$(count_lines run3.out)" $((want + 100)) "third run reads the rest"
"${K[@]}" -G ingest -e >run4.out 2>run4.err || fail "fourth run exited $?"
assert_eq "$(count_lines run4.out)" 0 "everything acknowledged at exit was committed"
pass "--commit-acks waits for the last acks at exit"

# --- a broker down and back up while consuming and producing: nothing lost, nothing doubled
mock_ctl topic downup 4
seq 1 500 | kafka-cat-sensor -q -b "$BS" -P -t downup
kafka-cat-sensor -b "$BS" -t downup -G watcher -v "${GROUP_PROPS[@]}" >down.out 2>down.err &
pc=$!
on_exit "kill $pc"
wait_until 60 read_ge down.out 500 || fail "before the outage: $(count_lines down.out)"
# what was read is committed before the outage; otherwise a rejoin after it re-reads (at least once)
committed_total() {
  grep -o 'downup\[[0-9]*\]=[0-9]*' "$1" | awk -F= '{last[$1]=$2} END {for (p in last) s+=last[p]; print s+0}'
}
committed_ge() { [ "$(committed_total "$1")" -ge "$2" ]; }
wait_until 30 committed_ge down.err 500 || fail "not committed before the outage: $(committed_total down.err)"
mock_ctl down 1
seq 501 1000 | kafka-cat-sensor -q -b "$BS" -P -t downup 2>prod.err &
pp=$!
sleep 2  # producer and consumer both retry against the dead broker meanwhile
mock_ctl up 1
wait $pp || fail "producer across the outage exited $?: $(tail -3 prod.err)"
wait_until 60 read_ge down.out 1000 || fail "after the outage: $(count_lines down.out)"
kill -TERM $pc
wait $pc || fail "consumer exited $?"
assert_eq "$(sort -n down.out | uniq | wc -l)" 1000 "every message once"
assert_eq "$(sort -n down.out | uniq -d | wc -l)" 0 "no duplicates"
assert_contains "$(cat down.err)" "warning: Kafka:" "the outage was reported"
pass "broker down and up: consumption and production resume"

# --- deliveries that fail (broker down past message.timeout.ms): exit 75 with the count
{ seq 1 5; sleep 2; seq 6 10; } | kafka-cat-sensor -b "$BS" -P -t downup -X message.timeout.ms=2000 2>dr.err &
pd=$!
sleep 1  # the first five are delivered by then
mock_ctl down 1
rc=0; wait $pd || rc=$?
mock_ctl up 1
assert_eq "$rc" 75 "failed deliveries exit"
assert_contains "$(cat dr.err)" "5 of 10 messages were not delivered" "failure count"
pass "failed deliveries: exit 75 with the count"

# --- unreachable at start: a clear error within the bounded time, exit 69
port=$(free_port)
set +e
start=$SECONDS
kafka-cat-sensor -b 127.0.0.1:$port -e --connect-timeout 2 2>unreach.err; rc=$?
set -e
assert_eq "$rc" 69 "unreachable exit"
[ $((SECONDS - start)) -le 10 ] || fail "took $((SECONDS - start)) s"
assert_contains "$(cat unreach.err)" "no Kafka broker answered at 127.0.0.1:$port within 2.00 s" "message"
pass "unreachable broker: exit 69"
