# Starts a Swift S3 server for one test (sourced after lib.sh): sets S3_ENDPOINT, the AWS_* credentials,
# and aws_ref (Debian's aws CLI pointed at it). The server stops when the test ends.
start_swift() {
  SWIFT_DIR_ARG="$TEST_TMP/swift"
  eval "$("$SRC_DIR/scripts/swift.sh" start "$SWIFT_DIR_ARG")"
  on_exit "'$SRC_DIR/scripts/swift.sh' stop '$SWIFT_DIR_ARG'"
  export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY AWS_REGION=$S3_REGION
  export AWS_ENDPOINT_URL=$S3_ENDPOINT
}
# Debian's awscli (2.9 ignores AWS_ENDPOINT_URL, hence the flag).
aws_ref() { /usr/bin/aws --endpoint-url "$S3_ENDPOINT" "$@"; }
