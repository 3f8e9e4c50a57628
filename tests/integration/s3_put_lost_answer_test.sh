#!/usr/bin/env bash
# The answer to s3-put's CompleteMultipartUpload lost on the way back (the connection cut after the
# server completed the object): s3-put retries the completion, and the servers answer the retry
# differently. Swift (as AWS) answers 200 again; MinIO forgets a completed upload at once and answers
# 404 NoSuchUpload, which s3-put took for a failure (exit 66, "NoSuchUpload") although the object was
# stored. Now it checks the key: holding this object's ETag, the completion is done. Both servers, each
# behind a relay (tests/integration/relay.py; it only forwards bytes) that cuts the connection instead
# of passing on the first completion's answer: every answer s3-put sees is the server's.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/s3_lib.sh"
cd "$TEST_TMP"
head -c $((11 * 1024 * 1024)) /dev/urandom >obj.bin  # 3 parts of 5 MiB

for server in minio swift; do
  "start_$server"
  aws_ref s3 mb s3://lost >/dev/null
  port=$(free_port)
  backend=${S3_ENDPOINT#http://}
  python3 "$SRC_DIR/tests/integration/relay.py" --cut-first-completion "$port" "${backend%/}" >"relay-$server.log" 2>&1 &
  relay=$!
  on_exit "kill $relay"
  wait_until 10 grep -q ready "relay-$server.log" || fail "relay did not start: $(cat "relay-$server.log")"
  rc=0
  s3-put -v --part-size 5M --endpoint "http://127.0.0.1:$port" s3://lost/obj.bin <obj.bin 2>"put-$server.log" || rc=$?
  grep -q "cut the answer to a completion: HTTP/1.1 200" "relay-$server.log" ||
    fail "$server: the relay cut no completion's answer: $(cat "relay-$server.log"; tail -3 "put-$server.log")"
  assert_eq "$rc" 0 "$server: s3-put whose completion's answer was lost ($(grep -v debug "put-$server.log" | tail -2))"
  # (libcurl itself sends a request again when a reused connection dies before any answer)
  if [ "$server" = minio ]; then
    grep -q "a retried completion: the first try had stored it" "put-$server.log" ||
      fail "minio: the retried completion was not answered NoSuchUpload: $(grep -v debug "put-$server.log" | tail -2)"
  fi
  assert_eq "$(aws_ref s3 cp s3://lost/obj.bin - | md5sum)" "$(md5sum <obj.bin)" "$server: the object"
  assert_eq "$(aws_ref s3api list-multipart-uploads --bucket lost --prefix obj.bin --query 'length(Uploads || `[]`)')" 0 \
    "$server: uploads left"
  pass "$server: a completion whose answer was lost is retried, and the object counts as stored"
  kill "$relay"
  "$S3_SCRIPT" stop "$S3_DIR"
done
