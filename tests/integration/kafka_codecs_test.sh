#!/usr/bin/env bash
# Compressed topics on a real Apache Kafka broker, with kcat as the peer: for gzip, snappy, lz4 and zstd,
# kafka-cat-sensor -P writes compressed batches that kcat reads back whole, and kcat writes compressed
# batches that kafka-cat-sensor reads back whole; a topic whose compression.type makes the broker
# recompress is read the same way.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka_lib.sh"
cd "$TEST_TMP"
start_kafka 1 2
sensor-gen -c 3000 --seed 5 >in.jsonl
want=$(sort in.jsonl | md5sum)

for codec in gzip snappy lz4 zstd; do
  kafka_topic "ours_$codec" 2
  kafka-cat-sensor -b "$BS" -P -t "ours_$codec" -X compression.codec=$codec -q <in.jsonl ||
    fail "kafka-cat-sensor -P with $codec exited $?"
  assert_eq "$(kcat -C -b "$BS" -t "ours_$codec" -e -q | sort | md5sum)" "$want" "$codec: kcat reads what we wrote"
  kafka_topic "kcat_$codec" 2
  kcat -P -b "$BS" -t "kcat_$codec" -z "$codec" <in.jsonl
  assert_eq "$(kafka-cat-sensor -b "$BS" -t "kcat_$codec" -e -q | sort | md5sum)" "$want" "$codec: we read what kcat wrote"
done
# the batches on disk are really compressed: the broker's log for gzip is far smaller than for none
kafka_topic plain 1
kafka_topic packed 1 1 compression.type=gzip
kafka-cat-sensor -b "$BS" -P -t plain -q <in.jsonl
kafka-cat-sensor -b "$BS" -P -t packed -q <in.jsonl
assert_eq "$(kafka-cat-sensor -b "$BS" -t packed -e -q | sort | md5sum)" "$want" "broker-recompressed topic read back"
size() { cat "$KAFKA_DIR"/node1/data/"$1"-0/*.log | wc -c; }  # the segments, not the preallocated indexes
[ "$(size packed)" -lt $(($(size plain) / 2)) ] || fail "gzip topic not smaller: $(size packed) vs $(size plain) bytes"
pass "gzip, snappy, lz4, zstd both ways with kcat; broker-side compression.type=gzip"
