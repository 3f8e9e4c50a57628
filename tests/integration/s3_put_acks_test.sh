#!/usr/bin/env bash
# s3-put as an archive that acknowledges (issue 11), against a real S3 (Swift):
# keys never collide between runs ({run}, and a taken key is never overwritten), --acks writes an
# ack line per topic/partition only once the object holding those lines is completed (not while S3
# is down, not for a line torn at the end of the input), and SIGTERM stores what was read and exits 0.
# Then with a real Kafka broker: kafka-cat-sensor --commit-acks CH --commit-acks S3 commits nothing the
# archive does not hold, although the other sink acknowledged everything.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/s3_lib.sh"
source "$(dirname "$0")/kafka_lib.sh"
start_s3
cd "$TEST_TMP"
aws_ref s3 mb s3://arch >/dev/null
keys() { s3-cat --list "s3://arch/$1" | wc -l; }

# --- 1. two runs within one second with the README's template keep both objects
tmpl='s3://arch/k/%Y/%m/%d/%H%M%S-{host}-{run}-{seq}.jsonl'
echo first | s3-put --rotate-seconds 1 "$tmpl"
echo second | s3-put --rotate-seconds 1 "$tmpl"
assert_eq "$(keys k/)" 2 "two quick runs with the README template: objects kept ($(s3-cat --list s3://arch/k/))"
assert_eq "$(s3-cat --prefix s3://arch/k/ | sort | tr '\n' ' ')" "first second " "both runs' data"
# a template without {run}: the second run finds its first key taken and moves on, never overwrites
echo one | s3-put --rotate-lines 1 's3://arch/n/fixed-{seq}.jsonl'
echo two | s3-put --rotate-lines 1 's3://arch/n/fixed-{seq}.jsonl' 2>skip.log
assert_eq "$(keys n/)" 2 "a taken key is not overwritten ($(cat skip.log))"
assert_eq "$(s3-cat --prefix s3://arch/n/ | sort | tr '\n' ' ')" "one two " "both runs' data without {run}"
pass "object keys never collide between runs"

# --- 2. --acks: one line per topic/partition with its highest offset, once the object is completed
sensor-gen -c 1000 --envelope --partitions 4 >env.jsonl
s3-put --tee --acks acks.jsonl --rotate-lines 300 's3://arch/a/{run}-{seq}.jsonl' <env.jsonl >tee.out
cmp -s tee.out env.jsonl || fail "--tee with --acks changed the data"
assert_eq "$(keys a/)" 4 "objects of 300 lines"
# the last ack per partition is the highest offset the input had for it
want=$(jq -r '"\(.topic) \(.partition) \(.offset)"' env.jsonl | sort -k1,1 -k2,2n -k3,3n | awk '{m[$1" "$2]=$3} END {for (k in m) print k, m[k]}' | sort)
got=$(jq -r '"\(.topic) \(.partition) \(.offset)"' acks.jsonl | awk '{m[$1" "$2]=$3} END {for (k in m) print k, m[k]}' | sort)
assert_eq "$got" "$want" "highest acked offset per partition"
assert_eq "$(wc -l <acks.jsonl)" 16 "4 objects x 4 partitions: one ack line each"
# every acknowledged offset is in the archive
s3-cat --prefix s3://arch/a/ | jq -r '"\(.topic) \(.partition) \(.offset)"' | sort >archived.txt
jq -r '"\(.topic) \(.partition) \(.offset)"' acks.jsonl | sort | comm -23 - archived.txt >missing.txt
[ ! -s missing.txt ] || fail "acknowledged but not archived: $(head -3 missing.txt)"
pass "--acks: highest offset per partition after each completed object"

# --- 3. nothing is acknowledged before its object is stored: not while open, not while S3 is down
mkfifo in.fifo
exec 7<>in.fifo
s3-put --acks acks3.jsonl --rotate-seconds 1 's3://arch/b/{run}-{seq}.jsonl' <in.fifo 2>put3.log &
pid=$!
head -5 env.jsonl >&7
sleep 0.3
[ ! -s acks3.jsonl ] || fail "acknowledged before the object was completed: $(cat acks3.jsonl)"
wait_until 10 test -s acks3.jsonl || fail "no ack after the rotation: $(cat put3.log)"
s3_stop_endpoint
before=$(wc -l <acks3.jsonl)
sed -n 6,20p env.jsonl >&7
sleep 4  # rotation is due; the object cannot be stored
assert_eq "$(wc -l <acks3.jsonl)" "$before" "acks while S3 was down"
s3_start_endpoint
wait_until 60 bash -c "[ \$(wc -l <acks3.jsonl) -gt $before ]" || fail "no ack after S3 came back: $(tail -5 put3.log)"
# a line torn at the end of the input (the stage before was killed) is archived, never acknowledged
printf '%s' '{"topic":"sensor_metrics","partition":0,"offset":777777,"timestamp":null,"val' >&7
sleep 0.3
kill -TERM $pid
exec 7>&-
rc=0; wait $pid || rc=$?
assert_eq "$rc" 0 "exit code after SIGTERM ($(tail -3 put3.log))"
grep -q 777777 acks3.jsonl && fail "a torn last line was acknowledged"
s3-cat --prefix s3://arch/b/ | grep -c '"offset"' >n3.txt
assert_eq "$(cat n3.txt)" 21 "lines archived (20 whole, 1 torn)"
# ...and ends with a newline, so that s3-cat --prefix never glues it to the next object's first line
assert_eq "$(s3-cat --prefix s3://arch/b/ | tail -c 1 | od -An -c | tr -d ' ')" '\n' "the torn line ends its object with a newline"
pass "acks only for completed objects: not while open, not while S3 is down, not for a torn line; SIGTERM exits 0"

# --- 4. SIGINT stores what was read and exits 130
mkfifo in4.fifo
exec 7<>in4.fifo
s3-put --acks acks4.jsonl 's3://arch/c/one.jsonl' <in4.fifo 2>put4.log &
pid=$!
head -3 env.jsonl >&7
sleep 0.5
kill -INT $pid
exec 7>&-
rc=0; wait $pid || rc=$?
assert_eq "$rc" 130 "exit code after SIGINT"
assert_eq "$(s3-cat s3://arch/c/one.jsonl | wc -l)" 3 "lines stored after SIGINT"
assert_eq "$(wc -l <acks4.jsonl)" "$(head -3 env.jsonl | jq -r .partition | sort -u | wc -l)" "acks after SIGINT"
pass "SIGINT: stored, acknowledged, exit 130"

# --- 5. two ack sources: nothing is committed while the archive cannot store, all once it can
start_kafka 1 4 arch
sensor-gen -c 2000 --seed 5 | kafka-cat-sensor -q -b "$BS" -P -t arch
K=(kafka-cat-sensor -b "$BS" -t arch -G g1 -e -J -v "${GROUP_PROPS[@]}" --ack-timeout 3)
mkfifo ch.fifo s3.fifo
# the other sink (ClickHouse in the pipeline) acknowledges every line at once
ack_all() { jq -c --unbuffered '{topic, partition, offset}'; }
s3_stop_endpoint
( "${K[@]}" --commit-acks ch.fifo --commit-acks s3.fifo 2>k1.err \
    | s3-put --tee --acks s3.fifo --rotate-seconds 1 's3://arch/p/{run}-{seq}.jsonl' 2>p1.err \
    | ack_all >ch.fifo ) &
pipe=$!
wait_until 60 grep -q 'waiting up to 3 s for the last acknowledgements' k1.err || fail "run 1 did not reach its end: $(tail -3 k1.err)"
wait_until 30 bash -c "grep -q 'partitions are not fully acknowledged' k1.err" || fail "run 1: $(tail -3 k1.err)"
s3_start_endpoint
wait $pipe || true
grep -q 'committed arch\[' k1.err && fail "committed while the archive held nothing: $(grep committed k1.err | head -3)"
# run 2 reads everything again; S3 is up, so both sinks acknowledge and all is committed
( "${K[@]}" --commit-acks ch.fifo --commit-acks s3.fifo 2>k2.err \
    | s3-put --tee --acks s3.fifo --rotate-seconds 1 's3://arch/p/{run}-{seq}.jsonl' 2>p2.err \
    | ack_all >ch.fifo ) >/dev/null
assert_contains "$(cat k2.err)" "info: 2000 messages" "run 2 read everything again"
"${K[@]}" >run3.out 2>k3.err
assert_eq "$(wc -l <run3.out)" 0 "run 3 after both sinks acknowledged: left to read ($(tail -2 k3.err))"
pass "two ack sources: committed only what the archive and the other sink both hold"
