#!/usr/bin/env bash
# ctest-label: slow
# 200 MiB streamed from a pipe into s3-put (unknown size: multipart, 4 parts in flight), read back
# with a matching MD5 by s3-cat and by Debian's aws CLI; s3-put's peak RSS stays under
# part size x (concurrency + 1) + 32 MiB (a memory bound, not a timing).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/s3_lib.sh"
start_s3
cd "$TEST_TMP"
aws_ref s3 mb s3://large >/dev/null
head -c $((200 * 1024 * 1024)) /dev/urandom >src
want=$(md5sum <src)
cat src | /usr/bin/time -f %M -o rss.kb s3-put -j 4 --part-size 8M --zstd --level 1 s3://large/stream.bin 2>put.log ||
  fail "zstd upload: $(tail -3 put.log)"
cat src | /usr/bin/time -f %M -o rss2.kb s3-put -j 4 --part-size 8M s3://large/plain.bin 2>put.log ||
  fail "upload: $(tail -3 put.log)"
assert_eq "$(s3-cat s3://large/plain.bin | md5sum)" "$want" "s3-cat read back"
assert_eq "$(aws_ref s3 cp s3://large/plain.bin - | md5sum)" "$want" "aws read back"
assert_eq "$(s3-cat s3://large/stream.bin.zst | md5sum)" "$want" "zstd object read back"
limit_kb=$(((8 * 5 + 32) * 1024))
for f in rss.kb rss2.kb; do
  rss=$(tail -1 $f)
  [ "$rss" -lt "$limit_kb" ] || fail "peak RSS ${rss} KiB over the bound ${limit_kb} KiB ($f)"
done
pass "200 MiB streamed and read back (peak RSS $(tail -1 rss2.kb) KiB plain, $(tail -1 rss.kb) KiB zstd)"
