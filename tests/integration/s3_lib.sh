# Starts an S3 server for one test (sourced after lib.sh): sets S3_ENDPOINT, the AWS_* credentials,
# S3_SERVER (minio or swift), S3_DIR, and aws_ref (Debian's aws CLI pointed at it). The server stops when
# the test ends.
#   start_s3          MinIO, the seed's S3 store (S3_SERVER=swift in the environment picks Swift instead)
#   start_minio       MinIO, for a test about MinIO's own behaviour
#   start_swift       OpenStack Swift's S3 layer, for a test about where Swift differs
#   s3_stop_endpoint  the endpoint refuses connections (data stays) until s3_start_endpoint
start_s3() {
  case "${S3_SERVER:-minio}" in
    minio) start_minio ;;
    swift) start_swift ;;
    *) echo "s3_lib: S3_SERVER must be minio or swift, not '$S3_SERVER'" >&2; exit 2 ;;
  esac
}
start_minio() {
  S3_SERVER=minio S3_SCRIPT="$SRC_DIR/scripts/minio.sh" S3_DIR="$TEST_TMP/minio"
  eval "$("$S3_SCRIPT" start "$S3_DIR")"
  on_exit "'$S3_SCRIPT' stop '$S3_DIR'"
  export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY AWS_REGION=$S3_REGION
  export AWS_ENDPOINT_URL=$S3_ENDPOINT
}
start_swift() {
  S3_SERVER=swift S3_SCRIPT="$SRC_DIR/scripts/swift.sh" S3_DIR="$TEST_TMP/swift"
  SWIFT_DIR_ARG=$S3_DIR  # older tests name it so
  eval "$("$S3_SCRIPT" start "$S3_DIR")"
  on_exit "'$S3_SCRIPT' stop '$S3_DIR'"
  export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY AWS_REGION=$S3_REGION
  export AWS_ENDPOINT_URL=$S3_ENDPOINT
}
s3_stop_endpoint() { "$S3_SCRIPT" stop-proxy "$S3_DIR"; }
s3_start_endpoint() { eval "$("$S3_SCRIPT" start "$S3_DIR")" >/dev/null; }
# Debian's awscli (2.9 ignores AWS_ENDPOINT_URL, hence the flag).
aws_ref() { /usr/bin/aws --endpoint-url "$S3_ENDPOINT" "$@"; }
