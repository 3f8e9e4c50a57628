#!/usr/bin/env bash
# Issue 28 item 2: two s3-put at once on one key template (several pipelines on one host in one
# consumer group), against a real S3 (Swift), 400 lines in. A template with {seq} and no {run} renders
# the same keys in both; "HEAD, then PUT" let both find a key free and the second overwrite the first
# (400 lines in, about 210 in the archive, both exit 0 and both acknowledged every line). s3-put now
# takes such keys with a conditional write (If-None-Match: *; 412: the next {seq}) where the server
# honours it, which it checks at start with a probe object. Swift 2.30's s3api (Debian 12) does not:
# a conditional PUT answers 501 NotImplemented, and a conditional CompleteMultipartUpload answers 412
# for a key that exists but is not atomic (two writers completing one key at once both got 200, seen
# here: 80 lines in, 58 stored). On such a server a template that can collide is refused with --acks
# (an overwritten object would be acknowledged) and warned about without. Checked: every line a
# writer that exited 0 read is in the archive, and every acknowledged line is; with the README's
# template ({run}) both writers store all 400 lines and acknowledge exactly those.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/s3_lib.sh"
start_swift
cd "$TEST_TMP"
aws_ref s3 mb s3://raw >/dev/null
readme_tmpl=$(awk '/^### Streaming, at-least-once/ {f = 1; next} f && /^```sh/ {b = 1; next} b && /^```/ {exit} b' \
  "$SRC_DIR/README.md" | grep -o "'s3://[^']*'" | tr -d "'")
[[ $readme_tmpl == s3://raw/*'{run}'* ]] || fail "no key template with {run} in the README's streaming block: '$readme_tmpl'"

# 400 envelope lines (as kafka-cat-sensor --envelope writes them), every other one to each writer
sensor-gen -c 400 --envelope --partitions 4 >all.jsonl
awk 'NR % 2' all.jsonl >a.jsonl
awk 'NR % 2 == 0' all.jsonl >b.jsonl
coords() { jq -r '"\(.topic) \(.partition) \(.offset)"' | sort; }

# two_writers TEMPLATE PREFIX [s3-put flags]: both started, then both fed at once (FIFOs); sets rc_a rc_b
two_writers() {
  local tmpl=$1; shift
  rm -f in-a in-b acks-a acks-b && mkfifo in-a in-b
  s3-put --rotate-lines 1 "$@" --acks acks-a "$tmpl" <in-a 2>err-a & local pa=$!
  s3-put --rotate-lines 1 "$@" --acks acks-b "$tmpl" <in-b 2>err-b & local pb=$!
  { cat a.jsonl >in-a; } 2>/dev/null & { cat b.jsonl >in-b; } 2>/dev/null &
  rc_a=0; wait "$pa" || rc_a=$?
  rc_b=0; wait "$pb" || rc_b=$?
  wait
}

# check PREFIX: what the writers that exited 0 read is in the archive, nothing else, and every ack is
check() {
  local prefix=$1 want=""
  [ "$rc_a" = 0 ] && want+=$(cat a.jsonl)$'\n'
  [ "$rc_b" = 0 ] && want+=$(cat b.jsonl)$'\n'
  for w in a b; do
    local rc; rc=$([ $w = a ] && echo "$rc_a" || echo "$rc_b")
    [ "$rc" = 0 ] || { [ "$rc" = 2 ] && grep -q 'put {run} in the key template' "err-$w"; } ||
      fail "writer $w: exit $rc: $(cat "err-$w")"
  done
  s3-cat -q --prefix "s3://raw/$prefix" | coords >archived.txt
  printf '%s' "$want" | grep . | coords >want.txt || true
  assert_eq "$(wc -l <archived.txt)" "$(wc -l <want.txt)" "lines in the archive under $prefix (writers: exit $rc_a, $rc_b)"
  cmp -s archived.txt want.txt || fail "the archive under $prefix differs from what the writers read"
  { cat acks-a acks-b 2>/dev/null || true; } | jq -r '"\(.topic) \(.partition) \(.offset)"' | sort >acked.txt
  local unstored; unstored=$(comm -23 acked.txt archived.txt | head -3)
  [ -z "$unstored" ] || fail "acknowledged but not in the archive: $unstored"
}

# --- {seq} without {run}: never an overwritten object; on this server, refused (--acks)
two_writers 's3://raw/seq/fixed-{seq}.jsonl'
check seq/
echo "writers with {seq} and no {run}: exit $rc_a and $rc_b; $(wc -l <archived.txt) lines archived"
if [ "$rc_a" = 2 ]; then
  assert_contains "$(cat err-a)" "does not honour conditional writes" "the refusal says why"
  # without --acks: a warning at start, before any line is read
  echo x | s3-put -q --rotate-lines 1 's3://raw/warn/fixed-{seq}.jsonl' 2>warn.err || true
  echo x | s3-put --rotate-lines 1 's3://raw/warn/fixed-{seq}.jsonl' 2>warn.err
  assert_contains "$(cat warn.err)" "can overwrite each other's objects" "the warning without --acks"
fi
pass "two writers, {seq} without {run}: every line a writer took is archived, every ack is stored"

# --- the README's template: both store all 400 lines and acknowledge exactly them
two_writers "$readme_tmpl"
assert_eq "$rc_a:$rc_b" "0:0" "two writers with the README's template (stderr: $(cat err-a err-b))"
check sensors/
assert_eq "$(wc -l <archived.txt)" 400 "lines archived by the two writers"
cmp -s archived.txt <(coords <all.jsonl) || fail "the archive is not the 400 lines written"
assert_eq "$(sort -u acked.txt | wc -l)" 400 "every line acknowledged once it was stored (--rotate-lines 1: one ack per line)"
pass "two writers with the README's template: 400 lines in, 400 in the archive, 400 acknowledged"
