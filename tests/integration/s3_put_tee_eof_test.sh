#!/usr/bin/env bash
# s3-put --tee passes the end of its input on at once (issue 11's speed): the stages after it finish
# their last batch while s3-put is still storing the last part. Before, its stdout stayed open until
# the object was complete, so a pipe's tail waited for S3 (here: for an endpoint that is down).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/s3_lib.sh"
cd "$TEST_TMP"
start_s3
aws_ref s3 mb s3://raw >/dev/null
mkfifo in.fifo out.fifo
# FIFOs, not a shell pipe: a subshell around s3-put would hold the pipe open itself
{ cat out.fifo >out.txt; touch eof; } &
{ s3-put --tee s3://raw/tail.jsonl <in.fifo >out.fifo 2>put.err; echo $? >put.rc; } &
exec 3>in.fifo
printf '{"n":1}\n' >&3
wait_until 10 test -s out.txt || fail "the first line was not passed on"
s3_stop_endpoint
printf '{"n":2}\n' >&3
exec 3>&-   # end of input while S3 is unreachable
wait_until 20 test -e eof || fail "the stage after s3-put --tee did not see the end of its input while the upload was pending"
[ ! -e put.rc ] || fail "s3-put had already finished (rc $(cat put.rc)): the test proves nothing ($(tail -3 put.err))"
assert_eq "$(cat out.txt)" $'{"n":1}\n{"n":2}' "passed on"
s3_start_endpoint
wait_until 120 test -e put.rc || fail "s3-put did not finish after the endpoint came back"
assert_eq "$(cat put.rc)" 0 "s3-put stored the object once S3 was back ($(tail -3 put.err))"
assert_eq "$(s3-cat s3://raw/tail.jsonl)" $'{"n":1}\n{"n":2}' "stored"
pass "downstream sees the end of input before the last upload finishes"
