#!/usr/bin/env bash
# Issue 28 item 2, issue 24: two s3-put at once on one key template (several pipelines on one host in
# one consumer group), on MinIO and on Swift. A template with {seq} and no {run} renders the same keys in
# both; "HEAD, then PUT" let both find a key free and the second overwrite the first (400 lines in,
# about 210 in the archive, both exit 0 and both acknowledged every line). s3-put takes such keys with
# a conditional write (If-None-Match: *; 412: the next {seq}) where the server honours it, which it
# checks at start with a probe object.
#  - MinIO honours it, on PUT and on CompleteMultipartUpload: both writers store every line they read,
#    each in exactly one object, none overwritten, with single-PUT objects and multipart ones. A
#    multipart object takes its key when its first part goes out (an empty object, If-None-Match: *):
#    a key found taken then still has the whole object in memory and moves on. Before, a multipart
#    object found its key taken only at the completion, with its parts gone from memory: that writer
#    gave up with exit 75 and its lines were not archived (seen in part 3 below).
#  - Swift 2.30's s3api (Debian 12) does not: a conditional PUT answers 501 NotImplemented, and a
#    conditional CompleteMultipartUpload answers 412 for a key that exists but is not atomic (two
#    writers completing one key at once both got 200, seen here: 80 lines in, 58 stored). There a
#    template that can collide is refused with --acks (an overwritten object would be acknowledged)
#    and warned about without.
# Checked: every line a writer that exited 0 read is in the archive, and every acknowledged line is;
# with the README's template ({run}) both writers store all 400 lines and acknowledge exactly those.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/s3_lib.sh"
cd "$TEST_TMP"
readme_tmpl=$(awk '/^### Streaming, at-least-once/ {f = 1; next} f && /^```sh/ {b = 1; next} b && /^```/ {exit} b' \
  "$SRC_DIR/README.md" | grep -o "'s3://[^']*'" | tr -d "'")
[[ $readme_tmpl == s3://raw/*'{run}'* ]] || fail "no key template with {run} in the README's streaming block: '$readme_tmpl'"
coords() { jq -r '"\(.topic) \(.partition) \(.offset)"' | sort; }
# IN OUT_A OUT_B: every other line of IN to each writer
split2() { awk 'NR % 2' "$1" >"$2"; awk 'NR % 2 == 0' "$1" >"$3"; }

# 400 envelope lines (as kafka-cat-sensor --envelope writes them); for multipart objects 140000 (42 MB)
sensor-gen -c 400 --envelope --partitions 4 >all.jsonl
split2 all.jsonl a.jsonl b.jsonl
sensor-gen -c 140000 --envelope --partitions 4 --seed 7 >big.jsonl
split2 big.jsonl big-a.jsonl big-b.jsonl

# two_writers TEMPLATE IN_A IN_B [s3-put flags]: both started, then both fed at once (FIFOs); sets rc_a rc_b
two_writers() {
  local tmpl=$1 in_a=$2 in_b=$3; shift 3
  rm -f in-a in-b acks-a acks-b && mkfifo in-a in-b
  s3-put -v "$@" --acks acks-a "$tmpl" <in-a 2>err-a & local pa=$!
  s3-put -v "$@" --acks acks-b "$tmpl" <in-b 2>err-b & local pb=$!
  { cat "$in_a" >in-a; } 2>/dev/null & { cat "$in_b" >in-b; } 2>/dev/null &
  rc_a=0; wait "$pa" || rc_a=$?
  rc_b=0; wait "$pb" || rc_b=$?
  wait
}

# check PREFIX IN_A IN_B: what the writers that exited 0 read is in the archive, each line once, nothing
# else, and every ack is
check() {
  local prefix=$1 in_a=$2 in_b=$3
  : >want.jsonl
  [ "$rc_a" = 0 ] && cat "$in_a" >>want.jsonl
  [ "$rc_b" = 0 ] && cat "$in_b" >>want.jsonl
  for w in a b; do
    local rc; rc=$([ $w = a ] && echo "$rc_a" || echo "$rc_b")
    [ "$rc" = 0 ] || { [ "$rc" = 2 ] && grep -q 'put {run} in the key template' "err-$w"; } ||
      fail "writer $w: exit $rc: $(grep -v debug "err-$w" | tail -3)"
  done
  s3-cat -q --prefix "s3://raw/$prefix" | coords >archived.txt
  coords <want.jsonl >want.txt
  assert_eq "$(wc -l <archived.txt)" "$(wc -l <want.txt)" "lines in the archive under $prefix (writers: exit $rc_a, $rc_b)"
  cmp -s archived.txt want.txt || fail "the archive under $prefix differs from what the writers read"
  { cat acks-a acks-b 2>/dev/null || true; } | jq -r '"\(.topic) \(.partition) \(.offset)"' | sort >acked.txt
  local unstored; unstored=$(comm -23 acked.txt archived.txt | head -3)
  [ -z "$unstored" ] || fail "acknowledged but not in the archive: $unstored"
}
moved() { cat err-a err-b | grep -c 'was stored by another writer meanwhile\|exists (from an earlier run' || true; }

for server in minio swift; do
  "start_$server"
  aws_ref s3 mb s3://raw >/dev/null

  # --- 1. {seq} without {run}, one line per object (single PUTs)
  two_writers "s3://raw/seq/fixed-{seq}.jsonl" a.jsonl b.jsonl --rotate-lines 1
  check seq/ a.jsonl b.jsonl
  echo "$server: writers with {seq} and no {run}: exit $rc_a and $rc_b; $(wc -l <archived.txt) lines archived, $(moved) keys found taken"
  if [ "$server" = minio ]; then
    assert_contains "$(cat err-a)" "keys are taken with conditional writes (If-None-Match: *)" "the probe finds MinIO honouring them"
    assert_eq "$rc_a:$rc_b" "0:0" "both writers on MinIO"
    assert_eq "$(wc -l <archived.txt)" 400 "every line archived once"
    assert_eq "$(sort -u acked.txt | wc -l)" 400 "every line acknowledged once it was stored (--rotate-lines 1: one ack per line)"
  else
    assert_eq "$rc_a:$rc_b" "2:2" "Swift: {seq} without {run} refused with --acks"
    assert_contains "$(cat err-a)" "does not honour conditional writes" "the refusal says why"
    # without --acks: a warning at start, before any line is read
    echo x | s3-put --rotate-lines 1 's3://raw/warn/fixed-{seq}.jsonl' 2>warn.err
    assert_contains "$(cat warn.err)" "can overwrite each other's objects" "the warning without --acks"
  fi
  pass "$server: two writers, {seq} without {run}, single PUTs: every line a writer took is archived once, every ack is stored"

  if [ "$server" = minio ]; then
    # --- 2. the same with multipart objects (about 11 MB, 3 parts of 5 MiB) written at once
    two_writers "s3://raw/mp/fixed-{seq}.jsonl" big-a.jsonl big-b.jsonl --rotate-bytes 11M --part-size 5M -j 2
    check mp/ big-a.jsonl big-b.jsonl
    assert_eq "$rc_a:$rc_b" "0:0" "both multipart writers on MinIO"
    assert_eq "$(wc -l <archived.txt)" 140000 "every line archived once (multipart)"
    grep -q "multipart upload of" err-a || fail "the objects were not multipart: $(grep -v debug err-a | tail -3)"
    echo "$server: multipart writers: $(moved) keys found taken"
    pass "$server: two writers, {seq} without {run}, multipart objects: every line archived once"

    # --- 3. a multipart object whose key another writer stores while its parts go out: writer A has sent
    # its first part of fixed-000000 and waits for more input; writer B then stores fixed-000000 and more.
    # A's object must not overwrite B's, and must not be lost (before: exit 75, its lines not archived).
    rm -f in-a acks-a acks-b && mkfifo in-a
    s3-put -v --part-size 5M --rotate-bytes 11M --acks acks-a 's3://raw/held/fixed-{seq}.jsonl' <in-a 2>err-a &
    pa=$!
    exec 3>in-a
    head -c $((6 * 1024 * 1024)) big-a.jsonl | sed '$d' >held-a.jsonl  # whole lines, more than a part
    cat held-a.jsonl >&3
    wait_until 120 grep -q "multipart upload of s3://raw/held/fixed-000000.jsonl started" err-a ||
      fail "writer A started no multipart upload: $(tail -3 err-a)"
    s3-put -v --part-size 5M --rotate-bytes 11M 's3://raw/held/fixed-{seq}.jsonl' <big-b.jsonl 2>err-b || fail "writer B: $(tail -3 err-b)"
    exec 3>&-
    rc_a=0; wait "$pa" || rc_a=$?
    rc_b=0
    check held/ held-a.jsonl big-b.jsonl
    assert_eq "$rc_a" 0 "writer A whose key was taken while its parts went out ($(grep -v debug err-a | tail -2))"
    pass "$server: a multipart object whose key is taken meanwhile moves to the next {seq}: nothing overwritten, nothing lost"

    # --- 4. a multipart object that fails (the server gone longer than the part retries) leaves neither
    # its parts nor the empty object that held its key
    rm -f in-a && mkfifo in-a
    s3-put -v --part-size 5M --retries 100000 --retry-time 2 --abort-time 300 's3://raw/fail/fixed-{seq}.jsonl' <in-a 2>err-a &
    pa=$!
    exec 3>in-a
    cat held-a.jsonl >&3
    wait_until 120 grep -q "multipart upload of s3://raw/fail/fixed-000000.jsonl started" err-a ||
      fail "no multipart upload: $(tail -3 err-a)"
    s3_stop_endpoint
    (cat held-a.jsonl >&3) 2>/dev/null &
    writer=$!
    wait_until 120 grep -q "aborting the multipart upload" err-a || fail "no abort attempt: $(grep -v debug err-a | tail -3)"
    s3_start_endpoint
    rc_a=0; wait "$pa" || rc_a=$?
    exec 3>&- || true
    kill "$writer" 2>/dev/null || true
    assert_eq "$rc_a" 75 "a multipart object given up ($(grep -v debug err-a | tail -2))"
    assert_eq "$(s3-cat --list s3://raw/fail/)" "" "objects left under fail/ (the empty object that held the key)"
    assert_eq "$(aws_ref s3api list-multipart-uploads --bucket raw --prefix fail/fixed-000000.jsonl --query 'length(Uploads || `[]`)')" 0 \
      "multipart uploads left"
    pass "$server: a failed multipart object leaves no parts and no empty object behind"
  fi

  # --- the README's template: both store all 400 lines and acknowledge exactly them
  two_writers "$readme_tmpl" a.jsonl b.jsonl --rotate-lines 1
  assert_eq "$rc_a:$rc_b" "0:0" "two writers with the README's template (stderr: $(grep -v debug err-a err-b | tail -4))"
  check sensors/ a.jsonl b.jsonl
  assert_eq "$(wc -l <archived.txt)" 400 "lines archived by the two writers"
  cmp -s archived.txt <(coords <all.jsonl) || fail "the archive is not the 400 lines written"
  assert_eq "$(sort -u acked.txt | wc -l)" 400 "every line acknowledged once it was stored (--rotate-lines 1: one ack per line)"
  pass "$server: two writers with the README's template: 400 lines in, 400 in the archive, 400 acknowledged"
  "$S3_SCRIPT" stop "$S3_DIR"
done
