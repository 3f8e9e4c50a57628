#!/usr/bin/env bash
# kcat's habits, compared byte for byte with real kcat on the same real topic (scripts/kafka.sh):
# -f format strings (each token, escapes, binary values, null keys and values, headers) and the
# layout of -Q's offsets for times.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka_lib.sh"
cd "$TEST_TMP"
start_kafka 1 3 fmt

# What the format must render: keyed sensor lines, keyless ones, headers (repeated, empty), a
# tombstone with a key, an empty key and value, a value with a newline, binary bytes.
sensor-gen -c 300 --seed 11 >in.jsonl
sed -E 's/^(.*"sensor_id":"([^"]*)".*)$/\2\t\1/' in.jsonl | kcat -P -b "$BS" -t fmt -K $'\t'
sensor-gen -c 30 --seed 12 | kcat -P -b "$BS" -t fmt
printf 'h1\n' | kcat -P -b "$BS" -t fmt -p 1 -H trace=abc -H empty= -H trace=def
printf 'k1:\n' | kcat -P -b "$BS" -t fmt -p 1 -K: -Z
printf ':\n' | kcat -P -b "$BS" -t fmt -p 2 -K:
printf 'two\nlines|||\xff\xfe\x00bin|||' | kcat -P -b "$BS" -t fmt -p 2 -D '|||'

# Each format through both tools, partition by partition (the order within one is the log's).
formats=(
  'Topic %t [%p] at offset %o: key %k: %s\n'
  '%T|%S|%K|%h|100%%\t%s\r\n'
  '%R%s'
  '\x41\101\0101 %o\\%k\n'
  '%s'
)
for f in "${formats[@]}"; do
  for p in 0 1 2; do
    kcat -C -b "$BS" -t fmt -p "$p" -e -q -f "$f" >"kcat.$p" || fail "kcat -f '$f' -p $p"
    kafka-cat-sensor -b "$BS" -t fmt -p "$p" -e -q -f "$f" >"ours.$p" 2>ours.err ||
      fail "kafka-cat-sensor -f '$f' -p $p exited $?: $(cat ours.err)"
    [ -s "kcat.$p" ] || fail "kcat wrote nothing for -f '$f' -p $p"
    cmp "kcat.$p" "ours.$p" >/dev/null ||
      fail "-f '$f' -p $p differs from kcat: $(diff <(od -c "kcat.$p") <(od -c "ours.$p") | head -8)"
  done
done
assert_contains "$(kafka-cat-sensor -b "$BS" -t fmt -p 1 -e -q -f '%h\n')" "trace=abc,empty=,trace=def" "headers as kcat writes them"
pass "-f gives kcat's bytes for every token"

# A group read (-G) formats too; what is read is the same as the raw values.
kafka-cat-sensor -b "$BS" -G fmtgroup "${GROUP_PROPS[@]}" -t fmt -e -q -f '%s\n' | grep -a sensor_id | sort >g.out
assert_eq "$(md5sum <g.out)" "$(cat in.jsonl <(sensor-gen -c 30 --seed 12) | sort | md5sum)" "-G -f: every value once"
set +e
kafka-cat-sensor -b "$BS" -t fmt -e -f '%s %x' >/dev/null 2>bad.err; rc1=$?
kafka-cat-sensor -b "$BS" -t fmt -e -J -f '%s' >/dev/null 2>j.err; rc2=$?
set -e
assert_eq "$rc1" 2 "an unknown token is a usage error"
assert_contains "$(cat bad.err)" "unknown token %x" "the token named"
assert_eq "$rc2" 2 "-f with -J"
pass "-f with a group; bad formats refused"

# -Q: the same lines as kcat -Q for the same queries (a message's own time, the beginning), in
# kcat's order (by topic and partition, whatever the order of the -t); then after the last message.
# (One partition once per call: the broker answers a partition asked twice in one request with -1.)
queries=()
want=()
for p in 2 0; do
  kcat -C -b "$BS" -t fmt -p "$p" -e -q -f '%o %T\n' >"times.$p"
  t=$(sed -n '5s/.* //p' "times.$p")
  [ -n "$t" ] || fail "no fifth message in partition $p"
  queries+=(-t "fmt:$p:$t")
  want+=("fmt [$p] offset $(awk -v t="$t" '$2 >= t {print $1; exit}' "times.$p")")
done
queries+=(-t "fmt:1:0")
kcat -Q -b "$BS" "${queries[@]}" >kq.out || fail "kcat -Q"
kafka-cat-sensor -Q -b "$BS" "${queries[@]}" >oq.out 2>oq.err || fail "kafka-cat-sensor -Q exited $?: $(cat oq.err)"
assert_eq "$(cat oq.out)" "$(cat kq.out)" "-Q lines as kcat -Q"
assert_eq "$(cat oq.out)" "$(printf '%s\n' "${want[1]}" "fmt [1] offset 0" "${want[0]}")" "-Q finds the log's offsets"
late=(-t "fmt:0:$((t + 86400000))")
assert_eq "$(kafka-cat-sensor -Q -b "$BS" "${late[@]}")" "$(kcat -Q -b "$BS" "${late[@]}")" "-Q after the last message as kcat"
pass "-Q prints kcat's lines"
