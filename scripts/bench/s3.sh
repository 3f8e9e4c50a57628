#!/usr/bin/env bash
# Benchmark (not a test): MiB bytes from stdin into one object on the same local Swift S3 server, in the
# same run: s3-put vs `aws s3 cp - s3://...` (Debian awscli) vs `rclone rcat`. Timed as every row is
# (scripts/bench/lib.sh: warm-up, sides in turn, median of pairs, spread); every object is read back
# (s3-cat) and compared by MD5 after its run, then deleted. Prints a table and RESULT lines.
# Usage: scripts/bench/s3.sh [MiB]   (BIN_DIR defaults to build/bin; MiB to 512 x BENCH_MESSAGES / 1M)
set -euo pipefail
SRC_DIR=$(cd "$(dirname "$0")/../.." && pwd)
source "$SRC_DIR/scripts/bench/lib.sh"
BIN_DIR=${BIN_DIR:-$SRC_DIR/build/bin}
MIB=${1:-$(bench_scaled 512)}
bench_need_ours "$BIN_DIR/s3-put" "$BIN_DIR/s3-cat"
bench_need_ref /usr/bin/aws rclone /usr/bin/time swift-proxy-server
work=$(mktemp -d /tmp/sp-bench-s3.XXXXXX)
cleanup() { "$SRC_DIR/scripts/swift.sh" stop "$work/swift" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
bench_init "$work"
bench_start "the Swift S3 server (scripts/swift.sh)" "$SRC_DIR/scripts/swift.sh" start "$work/swift"
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY AWS_REGION=$S3_REGION
export AWS_DEFAULT_REGION=$S3_REGION AWS_ENDPOINT_URL=$S3_ENDPOINT
aws() { /usr/bin/aws --endpoint-url "$S3_ENDPOINT" "$@"; }
aws s3 mb s3://bench >/dev/null 2>"$work/mb.err" || bench_skip "aws s3 mb failed: $(tail -n 2 "$work/mb.err")"
head -c $((MIB * 1024 * 1024)) /dev/urandom >"$work/data"
want=$(md5sum <"$work/data" | cut -d' ' -f1)
export RCLONE_CONFIG_SW_TYPE=s3 RCLONE_CONFIG_SW_PROVIDER=Other RCLONE_CONFIG_SW_ENDPOINT=$S3_ENDPOINT
export RCLONE_CONFIG_SW_ACCESS_KEY_ID=$S3_ACCESS_KEY RCLONE_CONFIG_SW_SECRET_ACCESS_KEY=$S3_SECRET_KEY
export RCLONE_CONFIG_SW_REGION=$S3_REGION RCLONE_CONFIG_SW_FORCE_PATH_STYLE=true

# when ours fails: does the server still store and return an object for a reference client?
bench_server_ok() {
  printf probe | env -u AWS_CA_BUNDLE rclone rcat sw:bench/probe && [ "$(env -u AWS_CA_BUNDLE rclone cat sw:bench/probe)" = probe ]
}
md5() { "$BIN_DIR/s3-cat" -q "s3://bench/$1" | md5sum | cut -d' ' -f1; }
# keeps the server's disk small (rclone: aws' Python start-up costs seconds per call on a busy machine)
gone() { env -u AWS_CA_BUNDLE rclone deletefile "sw:bench/$1" >/dev/null 2>&1 || true; }
side_ours() {
  bench_ours ours sh -c "'$BIN_DIR/s3-put' -q s3://bench/ours.bin <'$work/data'"
  bench_check_ours "s3-put: the object's MD5" "$(md5 ours.bin)" "$want"
  gone ours.bin
}
side_aws() {
  bench_ref aws sh -c "/usr/bin/aws --endpoint-url '$S3_ENDPOINT' s3 cp - s3://bench/aws.bin <'$work/data' >/dev/null" || return 0
  bench_check_ref aws "aws s3 cp -: the object's MD5" "$(md5 aws.bin)" "$want" || true
  gone aws.bin
}
side_rclone() {
  bench_ref rclone sh -c "env -u AWS_CA_BUNDLE rclone rcat sw:bench/rclone.bin <'$work/data'" || return 0
  bench_check_ref rclone "rclone rcat: the object's MD5" "$(md5 rclone.bin)" "$want" || true
  gone rclone.bin
}
bench_rounds side_ours side_aws side_rclone

printf '%-28s %9s %8s\n' "tool (${MIB} MiB stdin)" seconds rss_mb
printf '%-28s %9s %8s\n' "s3-put (8M parts, 4 in flight)" "$(bench_median ours)" "$(bench_rss_mb ours)" \
  "aws s3 cp -" "$(bench_median aws)" "$(bench_rss_mb aws)" "rclone rcat" "$(bench_median rclone)" "$(bench_rss_mb rclone)"
bench_about
bench_result s3-put-vs-aws ours aws
bench_result s3-put-vs-rclone ours rclone
