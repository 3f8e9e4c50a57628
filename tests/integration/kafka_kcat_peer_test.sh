#!/usr/bin/env bash
# kcat is the real peer: kcat produces, we consume (raw, envelope, headers, keys, binary values);
# we produce, kcat consumes (keys land per sensor on one partition). Offsets, counts, unknown topics.
# Against a real Apache Kafka broker (scripts/kafka.sh).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka_lib.sh"
cd "$TEST_TMP"
start_kafka 1 4 sensor_metrics produced
kafka_topic bin 1
kafka_topic keyed 1
kafka_topic keyless 4
kafka_topic slow 8
K=(kafka-cat-sensor -b "$BS" -q)

# --- kcat produces 1000 seed messages, keyed; we read them all back, raw and as envelopes
sensor-gen -c 1000 --seed 7 >in.jsonl
sed -E 's/^(.*"sensor_id":"([^"]*)".*)$/\2\t\1/' in.jsonl | kcat -P -b "$BS" -t sensor_metrics -K $'\t'
"${K[@]}" -e >raw.out
assert_eq "$(sort raw.out | md5sum)" "$(sort in.jsonl | md5sum)" "raw values equal what kcat produced"
"${K[@]}" -e -J >env.out
assert_eq "$(count_lines env.out)" 1000 "envelope lines"
assert_eq "$(jq -c .value env.out | sort | md5sum)" "$(jq -c . in.jsonl | sort | md5sum)" "envelope values are the JSON"
assert_eq "$(jq -r 'select(.key != .value.value.sensor_id)' env.out | wc -l)" 0 "keys are the sensor ids"
assert_eq "$(jq -r '"\(.partition) \(.offset)"' env.out | sort -u | wc -l)" 1000 "coordinates unique"
assert_eq "$(jq -r 'select((.timestamp_ms|type) != "number" or (.timestamp|test("Z$")|not))' env.out | wc -l)" 0 "timestamps"
pass "kcat -> kafka-cat-sensor, raw and envelope"

# --- -c, -o -N, -p, -o N
assert_eq "$("${K[@]}" -e -c 10 | wc -l)" 10 "-c 10"
assert_eq "$("${K[@]}" -e -o -5 | wc -l)" 20 "-o -5 on 4 partitions"
p0=$(jq -r 'select(.partition==0)' -c env.out | wc -l)
assert_eq "$("${K[@]}" -e -p 0 | wc -l)" "$p0" "-p 0"
assert_eq "$("${K[@]}" -e -p 0 -o 3 -J | head -1 | jq .offset)" 3 "-o 3"
pass "-c, -o -N, -p, -o N"

# --- headers, null keys, binary and non-UTF-8 values, values with newlines
printf 'plain\n' | kcat -P -b "$BS" -t bin -p 0 -H trace=abc -H empty= -H trace=def
printf '\xff\xfe\x00bin|||{"a":\n 1}|||two\nlines|||' | kcat -P -b "$BS" -t bin -p 0 -D '|||'
printf 'k1:\n' | kcat -P -b "$BS" -t bin -p 0 -K: -Z  # an empty value with -Z: null (a tombstone)
"${K[@]}" -t bin -e -J >bin.env
assert_eq "$(count_lines bin.env)" 5 "envelope keeps every message"
assert_eq "$(sed -n 1p bin.env | jq -c '[.key, .headers, .value]')" '[null,{"trace":["abc","def"],"empty":""},"plain"]' "headers"
assert_eq "$(sed -n 2p bin.env | jq -r .value_encoding)" base64 "non-UTF-8 value encoding"
assert_eq "$(sed -n 2p bin.env | jq -r .value | base64 -d | od -An -tx1 | tr -d ' ')" "fffe0062696e" "non-UTF-8 value bytes"
assert_eq "$(sed -n 3p bin.env | jq -c .value)" '{"a":1}' "multi-line JSON embedded"
assert_eq "$(sed -n 4p bin.env | jq -r .value)" $'two\nlines' "text with a newline kept in envelope"
assert_eq "$(sed -n 5p bin.env | jq -c '[.key, .value]')" '["k1",null]' "null value"
kafka-cat-sensor -b "$BS" -t bin -e >bin.raw 2>bin.err
assert_eq "$(count_lines bin.raw)" 3 "raw: the line-breaking text value and the tombstone are skipped"
assert_eq "$(sed -n 2p bin.raw | od -An -tx1 | tr -d ' ')" "fffe0062696e0a" "raw: binary written as is"
assert_eq "$(sed -n 3p bin.raw)" '{"a":1}' "raw: multi-line JSON compacted"
assert_contains "$(cat bin.err)" "bin [0] offset 3: value is not JSON and contains a newline: skipped" "raw skip reported"
assert_contains "$(cat bin.err)" "bin [0] offset 4: null value (tombstone) skipped" "tombstone reported"
assert_contains "$(cat bin.err)" "1 skipped (not JSON, with a newline), 1 null values skipped" "raw skips counted in the summary"
pass "headers, null keys, binary, newlines"

# --- we produce keyed by sensor; kcat reads: every sensor on exactly one partition, nothing lost
"${K[@]}" -P -t produced --key-field value.sensor_id <in.jsonl
kcat -C -b "$BS" -t produced -e -q -f '%p\t%k\t%s\n' >kcat.out
assert_eq "$(cut -f3 kcat.out | sort | md5sum)" "$(sort in.jsonl | md5sum)" "kcat reads what we produced"
assert_eq "$(cut -f1,2 kcat.out | sort -u | cut -f2 | sort | uniq -d | wc -l)" 0 "one partition per key"
assert_eq "$(cut -f2 kcat.out | grep -c '^sensor-')" 1000 "keys set"
# per-sensor order kept: ids of one sensor ascend in partition order
first=$(jq -r 'select(.value.sensor_id=="sensor-007") | .id' in.jsonl | tr '\n' ' ')
got=$(grep -P '\tsensor-007\t' kcat.out | cut -f3 | jq -r .id | tr '\n' ' ')
assert_eq "$got" "$first" "per-sensor order"
pass "kafka-cat-sensor -P -> kcat"

# --- unknown topic, -k and -K
set +e
"${K[@]}" -t no_such_topic -e 2>err.txt; rc=$?
set -e
assert_eq "$rc" 66 "unknown topic exit"
printf 'k1:v1\nnodelim\n' | "${K[@]}" -P -t keyed -K :
assert_eq "$(kcat -C -b "$BS" -t keyed -e -q -f '%k=%s\n' | sort | tr '\n' ' ')" "=nodelim k1=v1 " "-K"
pass "unknown topic, -K"

# --- keyless lines: runs on each partition in turn, so the partitions stay even
seq 1 20000 | "${K[@]}" -P -t keyless
per=$(kcat -C -b "$BS" -t keyless -e -q -f '%p\n' | sort | uniq -c | awk '{print $1}' | sort -n | tr '\n' ' ')
assert_eq "$(wc -w <<<"$per")" 4 "keyless lines on every partition ($per)"
read -r lo _ _ hi <<<"$per"
[ "$lo" -ge 2500 ] && [ "$hi" -le 7500 ] || fail "keyless partitions uneven: $per"
pass "keyless lines spread evenly ($per)"

# --- a closed pipe ends quietly with 0
set +e
kafka-cat-sensor -b "$BS" -e 2>pipe.err | head -3 >/dev/null; rc=${PIPESTATUS[0]}
set -e
assert_eq "$rc" 0 "closed pipe exit"
assert_eq "$(grep -c error pipe.err || true)" 0 "closed pipe quiet"
pass "SIGPIPE"

# --- a reader that falls behind: the queue fills to its limit (5000 messages here) and librdkafka
# 2.0 stops fetching; once the reader drains it, kafka-cat-sensor must wake the fetchers (FetchWaker,
# common/kafka/kafka.hpp), and every message still arrives exactly once. 1 KiB messages, so that the pipe
# and our buffer (2 MiB) hold only a tenth of them while the reader sleeps.
pad=$(head -c 1000 /dev/zero | tr '\0' x)
seq 1 20000 | sed "s/\$/ $pad/" | kcat -P -b "$BS" -t slow -X sticky.partitioning.linger.ms=0
kafka-cat-sensor -b "$BS" -t slow -vv -e -X queued.min.messages=5000 2>slow.err | { sleep 2; cat; } >slow.out
assert_eq "$(cut -d' ' -f1 slow.out | grep -cE '^[0-9]+$')" 20000 "every message through a slow reader"
assert_eq "$(cut -d' ' -f1 slow.out | sort -u | wc -l)" 20000 "none twice"
wakes=$(sed -n 's/.*woke the brokers. fetchers \([0-9]*\) times.*/\1/p' slow.err)
[ "${wakes:-0}" -ge 1 ] || fail "the fetchers were not woken after the queue drained: $(tail -3 slow.err)"
pass "slow reader: the fetch resumes as the queue drains ($wakes wakes)"
