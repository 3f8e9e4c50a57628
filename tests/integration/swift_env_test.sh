#!/usr/bin/env bash
# scripts/swift.sh start prints what the tools read (issue 18: it printed S3_* names only, so a new
# user's `eval "$(scripts/swift.sh start DIR)"` left s3-put without an endpoint or credentials):
# after the eval alone, s3-put and s3-cat reach the server.
source "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"
env_out=$("$SRC_DIR/scripts/swift.sh" start "$TEST_TMP/swift")
on_exit "$SRC_DIR/scripts/swift.sh stop $TEST_TMP/swift"
rc=0
bash -c "eval \"\$1\"; env -u AWS_CA_BUNDLE /usr/bin/aws --endpoint-url \"\$AWS_ENDPOINT_URL\" s3 mb s3://fresh >/dev/null &&
  echo hello | s3-put s3://fresh/hello.txt && s3-cat s3://fresh/hello.txt" x "$env_out" >out.txt 2>err.txt || rc=$?
assert_eq "$rc" 0 "s3-put and s3-cat after eval of swift.sh's output ($(tail -3 err.txt))"
assert_eq "$(cat out.txt)" hello "object read back"
pass "eval \"\$(scripts/swift.sh start DIR)\" is enough for the tools"
