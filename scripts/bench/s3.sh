#!/usr/bin/env bash
# Benchmark (not a test): 512 MiB from stdin into one object on the same local Swift S3 server, in
# the same run: s3-put vs `aws s3 cp - s3://...` (Debian awscli) vs `rclone rcat`. Prints a table and
#   RESULT <name> ours=<s>s ref=<s>s ratio=<ours/ref> rss_mb=<our peak RSS>
# Usage: scripts/bench/s3.sh [MiB]   (BIN_DIR defaults to build/bin)
set -euo pipefail
SRC_DIR=$(cd "$(dirname "$0")/../.." && pwd)
BIN_DIR=${BIN_DIR:-$SRC_DIR/build/bin}
MIB=${1:-512}
work=$(mktemp -d /tmp/sp-bench-s3.XXXXXX)
cleanup() { "$SRC_DIR/scripts/swift.sh" stop "$work/swift" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
eval "$("$SRC_DIR/scripts/swift.sh" start "$work/swift")"
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY AWS_REGION=$S3_REGION
export AWS_DEFAULT_REGION=$S3_REGION AWS_ENDPOINT_URL=$S3_ENDPOINT
/usr/bin/aws --endpoint-url "$S3_ENDPOINT" s3 mb s3://bench >/dev/null
head -c $((MIB * 1024 * 1024)) /dev/urandom >"$work/data"
want=$(md5sum <"$work/data" | cut -d' ' -f1)

# runs "$@" reading the data on stdin; sets secs and rss_mb
measure() {
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -f %M -o "$work/rss" "$@" <"$work/data" >/dev/null
  end=$(date +%s.%N)
  secs=$(echo "$end - $start" | bc -l)
  rss_mb=$(echo "$(tail -1 "$work/rss") / 1024" | bc)
}
check() {
  local got
  got=$("$BIN_DIR/s3-cat" "s3://bench/$1" | md5sum | cut -d' ' -f1)
  [ "$got" = "$want" ] || { echo "bench: $1 md5 $got != $want" >&2; exit 1; }
}

measure "$BIN_DIR/s3-put" -q s3://bench/ours.bin
ours=$secs ours_rss=$rss_mb
check ours.bin
measure /usr/bin/aws --endpoint-url "$S3_ENDPOINT" s3 cp - s3://bench/aws.bin
aws_s=$secs aws_rss=$rss_mb
check aws.bin
export RCLONE_CONFIG_SW_TYPE=s3 RCLONE_CONFIG_SW_PROVIDER=Other RCLONE_CONFIG_SW_ENDPOINT=$S3_ENDPOINT
export RCLONE_CONFIG_SW_ACCESS_KEY_ID=$S3_ACCESS_KEY RCLONE_CONFIG_SW_SECRET_ACCESS_KEY=$S3_SECRET_KEY
export RCLONE_CONFIG_SW_REGION=$S3_REGION RCLONE_CONFIG_SW_FORCE_PATH_STYLE=true
measure env -u AWS_CA_BUNDLE rclone rcat sw:bench/rclone.bin
rc_s=$secs rc_rss=$rss_mb
check rclone.bin

printf '%-28s %9s %8s\n' "tool (${MIB} MiB stdin)" seconds rss_mb
printf '%-28s %9.2f %8s\n' "s3-put (8M parts, 4 in flight)" "$ours" "$ours_rss" "aws s3 cp -" "$aws_s" "$aws_rss" "rclone rcat" "$rc_s" "$rc_rss"
printf 'RESULT s3-put-vs-aws ours=%.2fs ref=%.2fs ratio=%.2f rss_mb=%s\n' "$ours" "$aws_s" "$(echo "$ours / $aws_s" | bc -l)" "$ours_rss"
printf 'RESULT s3-put-vs-rclone ours=%.2fs ref=%.2fs ratio=%.2f rss_mb=%s\n' "$ours" "$rc_s" "$(echo "$ours / $rc_s" | bc -l)" "$ours_rss"
