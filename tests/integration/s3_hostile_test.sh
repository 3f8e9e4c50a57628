#!/usr/bin/env bash
# s3-put / s3-cat against a real S3 (MinIO; the key rules on Swift too, where they differ) with hostile
# input (issue 16): keys with . and .. segments, keys over S3's 1024 bytes, corrupt gzip/zstd objects,
# a second SIGTERM during a multipart upload,
# and the summary line's format.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/s3_lib.sh"
start_s3
cd "$TEST_TMP"
aws_ref s3 mb s3://hst >/dev/null

# --- item 7: '.' and '..' segments are part of the key: sent as signed, not normalised away by curl.
# Swift stores such keys; MinIO (objects are files) refuses them, and both tools say so (400
# XMinioInvalidResourceName, exit 65) without storing anything under a normalised key.
dot_keys() {
  local key
  for key in "a/../b.txt" "a/./c.txt" "../up.txt" "d/.." "e/./../f.txt"; do
    if [ "$S3_SERVER" = minio ]; then
      set +e
      echo "$key" | s3-put "s3://hst/$key" 2>put.err; put_rc=$?
      s3-cat "s3://hst/$key" >/dev/null 2>cat.err; cat_rc=$?
      set -e
      assert_eq "$put_rc/$cat_rc" "65/65" "MinIO: s3-put/s3-cat of s3://hst/$key ($(cat put.err))"
      assert_contains "$(cat put.err)" "XMinioInvalidResourceName" "s3-put names MinIO's refusal"
      assert_contains "$(cat cat.err)" "MinIO refuses a key with a '.' or '..' segment" "s3-cat says which keys MinIO refuses"
      continue
    fi
    echo "$key" | s3-put "s3://hst/$key" 2>put.err || fail "s3-put s3://hst/$key: $(cat put.err)"
    assert_eq "$(s3-cat "s3://hst/$key")" "$key" "s3-cat of $key"
    assert_eq "$(aws_ref s3api head-object --bucket hst --key "$key" --query ContentLength --output text)" \
      "$(( ${#key} + 1 ))" "the object stored under the key $key exactly"
  done
  assert_eq "$(aws_ref s3api head-object --bucket hst --key b.txt 2>&1 | grep -c ContentLength || true)" 0 \
    "a/../b.txt must not have been stored as b.txt"
  [ "$S3_SERVER" = minio ] || assert_eq "$(s3-cat --prefix s3://hst/e/ | head -1)" "e/./../f.txt" "prefix read of keys with dot segments"
  pass "$S3_SERVER: keys with . and .. segments"
}

# --- item 8: one rule for the key length in s3-put and s3-cat: at most 1024 bytes, else a usage error
# (2). MinIO also refuses a path segment over 255 bytes (a file name): a 1024-byte key is stored there
# only in shorter segments.
long_keys() {
  local seg255 k1024 k1025 k
  seg255=$(printf 'k%.0s' $(seq 255))
  k1024=$(printf 'k%.0s' $(seq 1024))
  k1025=${k1024}k
  for k in "$seg255/$seg255/$seg255/${seg255:0:253}" "$k1024"; do
    if [ "$S3_SERVER" = minio ] && [ "$k" = "$k1024" ]; then
      set +e
      echo long | s3-put "s3://hst/$k" 2>put.err; rc=$?
      set -e
      assert_eq "$rc" 65 "MinIO: a 1024-byte key in one segment"
      assert_contains "$(cat put.err)" "XMinioInvalidObjectName" "s3-put names MinIO's refusal"
      continue
    fi
    echo long | s3-put "s3://hst/$k" || fail "a 1024-byte key must be accepted (${#k} bytes)"
    assert_eq "$(s3-cat "s3://hst/$k")" long "1024-byte key read back"
  done
  for k in "$k1025" "$(printf 'x%.0s' $(seq 9000))"; do
    set +e
    echo x | s3-put "s3://hst/$k" 2>put.err; put_rc=$?
    s3-cat "s3://hst/$k" >/dev/null 2>cat.err; cat_rc=$?
    s3-cat --prefix "s3://hst/$k" >/dev/null 2>prefix.err; prefix_rc=$?
    set -e
    assert_eq "$put_rc/$cat_rc/$prefix_rc" "2/2/2" "keys over 1024 bytes: s3-put/s3-cat/s3-cat --prefix exit codes"
    assert_contains "$(cat cat.err)" "bytes long; S3 allows at most 1024"
    assert_eq "$(sed 's/^s3-put/TOOL/' put.err)" "$(sed 's/^s3-cat/TOOL/' cat.err)" "the same message from both tools"
    [ "$(wc -c <cat.err)" -lt 400 ] || fail "the message should not repeat the whole key: $(wc -c <cat.err) bytes"
  done
  pass "$S3_SERVER: keys over 1024 bytes"
}

# --- an object whose key is another object's key and a '/' more: both servers store it and return it
# by name, but MinIO (the first object is a file, so no directory can have its name) leaves it out of
# listings, and so out of s3-cat --prefix and --list: key templates must not nest (no tool can see it)
nested_keys() {
  echo parent | s3-put -q s3://hst/n/hour
  echo child | s3-put -q s3://hst/n/hour/0001.jsonl
  assert_eq "$(s3-cat s3://hst/n/hour/0001.jsonl)" child "$S3_SERVER: the nested object by name"
  local want=$'s3://hst/n/hour\ns3://hst/n/hour/0001.jsonl'
  [ "$S3_SERVER" = minio ] && want=s3://hst/n/hour
  assert_eq "$(s3-cat --list s3://hst/n/ | cut -f3)" "$want" "$S3_SERVER: what a listing shows of nested keys"
  pass "$S3_SERVER: nested keys (MinIO lists only the outer one)"
}

# --- storage classes: MinIO takes STANDARD and REDUCED_REDUNDANCY, Swift only STANDARD; both refuse
# the others (400 InvalidStorageClass, exit 65) before anything is stored
storage_classes() {
  set +e
  echo x | s3-put --storage-class REDUCED_REDUNDANCY s3://hst/sc/rr.txt 2>sc.err; rr=$?
  echo x | s3-put --storage-class GLACIER s3://hst/sc/glacier.txt 2>sc2.err; gl=$?
  set -e
  assert_eq "$gl" 65 "$S3_SERVER: --storage-class GLACIER ($(cat sc2.err))"
  assert_contains "$(cat sc2.err)" InvalidStorageClass
  if [ "$S3_SERVER" = minio ]; then
    assert_eq "$rr" 0 "MinIO: --storage-class REDUCED_REDUNDANCY ($(cat sc.err))"
    assert_eq "$(aws_ref s3api head-object --bucket hst --key sc/rr.txt --query StorageClass --output text)" \
      REDUCED_REDUNDANCY "MinIO: the object's storage class"
  else
    assert_eq "$rr" 65 "Swift: --storage-class REDUCED_REDUNDANCY ($(cat sc.err))"
  fi
  echo x | s3-put --storage-class STANDARD s3://hst/sc/std.txt
  pass "$S3_SERVER: storage classes"
}
dot_keys
long_keys
nested_keys
storage_classes

# --- item 11: a corrupt compressed object never streams the bytes of a member that fails its check
sensor-gen -c 40000 >msgs.jsonl
head -20000 msgs.jsonl >first.jsonl
tail -n +20001 msgs.jsonl >second.jsonl
# flip one byte at offset $2 of file $1 (negative: from the end)
flip() { python3 -c 'import sys; p=sys.argv[1]; o=int(sys.argv[2]); b=bytearray(open(p,"rb").read()); b[o]^=0x55; open(p,"wb").write(b)' "$1" "$2"; }
expect_corrupt() {  # expect_corrupt KEY WANT_STDOUT_FILE
  set +e
  s3-cat "s3://hst/$1" >got.out 2>got.err; local rc=$?
  set -e
  assert_eq "$rc" 65 "s3-cat of corrupt $1: exit code ($(cat got.err))"
  cmp -s got.out "$2" || fail "corrupt $1: stdout ($(wc -c <got.out) bytes) should be exactly the members before the bad one ($(wc -c <"$2") bytes)"
}
gzip -c first.jsonl >one.gz
flip one.gz -6  # the CRC-32 / size trailer
aws_ref s3 cp one.gz s3://hst/c/crc.jsonl.gz >/dev/null
expect_corrupt c/crc.jsonl.gz /dev/null
gzip -c first.jsonl >mid.gz
flip mid.gz $(( $(wc -c <mid.gz) / 2 ))  # inside the deflate data
aws_ref s3 cp mid.gz s3://hst/c/mid.jsonl.gz >/dev/null
expect_corrupt c/mid.jsonl.gz /dev/null
gzip -c second.jsonl >two.gz
flip two.gz -6
cat <(gzip -c first.jsonl) two.gz >members.gz  # a good member, then a bad one
aws_ref s3 cp members.gz s3://hst/c/members.jsonl.gz >/dev/null
expect_corrupt c/members.jsonl.gz first.jsonl
zstd -q -c second.jsonl >two.zst
flip two.zst -2  # the frame's content checksum
cat <(zstd -q -c first.jsonl) two.zst >frames.zst
aws_ref s3 cp frames.zst s3://hst/c/frames.jsonl.zst >/dev/null
expect_corrupt c/frames.jsonl.zst first.jsonl
# s3-put's own objects: members/frames end every few MiB at a line end, so a reader loses one member's worth at most
head -c $((20 * 1024 * 1024)) /dev/zero | tr '\0' 'x' | fold -w 99 >big.txt
for z in gzip zstd; do
  s3-put --$z s3://hst/c/big.txt <big.txt
  ext=$([ $z = gzip ] && echo gz || echo zst)
  aws_ref s3 cp s3://hst/c/big.txt.$ext big.$ext >/dev/null
  flip big.$ext -2
  aws_ref s3 cp big.$ext s3://hst/c/bad-big.txt.$ext >/dev/null
  set +e
  s3-cat s3://hst/c/bad-big.txt.$ext >got.out 2>got.err; rc=$?
  set -e
  assert_eq "$rc" 65 "$z: corrupt end of a large object"
  n=$(wc -c <got.out)
  [ "$n" -ge $((8 * 1024 * 1024)) ] && [ "$n" -lt $((20 * 1024 * 1024)) ] || fail "$z: $n bytes written before the bad member"
  cmp -s got.out <(head -c "$n" big.txt) || fail "$z: what was written is not the start of the object"
  [ "$(tail -c 1 got.out)" = "" ] || fail "$z: members should end at a line end"
  s3-cat s3://hst/c/big.txt.$ext | cmp - big.txt || fail "$z: large object reads back"
done
pass "corrupt gzip/zstd objects: no bytes of a bad member"

# --- item 13: the summary line
s3-cat s3://hst/c/big.txt.gz 2>cat.err >/dev/null
grep -Eq 'written in [0-9]+\.[0-9]{2} s$' cat.err || fail "s3-cat summary: $(cat cat.err)"
echo x | s3-put s3://hst/sum.txt 2>put.err
grep -Eq ' in [0-9]+\.[0-9]{2} s \(' put.err || fail "s3-put summary: $(cat put.err)"
pass "summary format"

# --- item 5: a second SIGTERM during a multipart upload aborts the upload instead of leaving it behind
head -c $((127 * 1024 * 1024)) /dev/urandom >sig.bin
mkfifo in.fifo
s3-put -v --part-size 64M s3://hst/sig.bin <in.fifo 2>sig.err &
pid=$!
exec 3>in.fifo
cat sig.bin >&3
sleep 1  # part 1 is stored; the rest (63 MiB) waits in memory for the end of the input
kill -TERM $pid
sleep 0.2
kill -0 $pid 2>/dev/null || fail "s3-put ended before the second signal (test too fast for this machine?): $(cat sig.err)"
kill -TERM $pid
t0=$SECONDS
set +e
wait $pid; rc=$?
set -e
exec 3>&-
assert_eq "$rc" 130 "exit code after a second signal ($(cat sig.err))"
[ $((SECONDS - t0)) -le 15 ] || fail "the second signal should end s3-put promptly"
uploads=$(aws_ref s3api list-multipart-uploads --bucket hst --prefix sig.bin --query 'Uploads[].UploadId' --output text)
[ -z "$uploads" ] || [ "$uploads" = None ] || fail "multipart upload left behind: $uploads; stderr: $(cat sig.err)"
grep -q "aborted multipart upload of s3://hst/sig.bin" sig.err || fail "no word of the aborted upload: $(cat sig.err)"
pass "second signal aborts the multipart upload"

# --- issue 30, item 10: the server's own listings, read with pugixml: keys with XML's special characters, a
# character reference written as a key, a key named like the listing's own IsTruncated and one of spaces
# come back exactly, across pages of two keys (NextContinuationToken)
keys=("x/a&b.txt" "x/<lt>&gt;.txt" "x/q\"uo'te.txt" $'x/\xc3\xa9\xe2\x98\xba.txt' "x/IsTruncated" "x/   " "x/&#38;.txt")
for k in "${keys[@]}"; do printf '%s\n' "$k" | s3-put -q "s3://hst/$k"; done
want=$(printf '%s\n' "${keys[@]}" | sort)
assert_eq "$(s3-cat --list --page-size 2 s3://hst/x/ | cut -f3)" "$(printf 's3://hst/%s\n' "${keys[@]}" | sort)" \
  "s3-cat --list of keys with XML's special characters"
assert_eq "$(s3-cat --page-size 2 s3://hst/x/ | sort)" "$want" "the objects read through the listing"
pass "keys with XML's special characters listed exactly, across pages"

# --- the key rules where Swift differs from MinIO: Swift stores what MinIO refuses
"$S3_SCRIPT" stop "$S3_DIR"
start_swift
aws_ref s3 mb s3://hst >/dev/null
dot_keys
long_keys
nested_keys
storage_classes
