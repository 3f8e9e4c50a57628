#!/usr/bin/env bash
# Benchmark (not a test): MiB bytes from stdin (a pipe) into one object, and that object back to stdout, on
# one local MinIO (the seed's S3 store; BENCH_S3_SERVER=swift: Swift's S3 layer instead), in the same run:
#   s3-put vs `aws s3 cp - s3://...` (Debian awscli), `mc pipe` (MinIO's client) and `rclone rcat`;
#   s3-cat vs `mc cat`, `aws s3 cp s3://... -` and `rclone cat`, all reading the same object.
# Timed as every row is (scripts/bench/lib.sh: warm-up, sides in turn, median of pairs, spread), each
# side's peak RSS beside. Every written object is read back (s3-cat) and compared by MD5 after its run,
# then deleted; every reader's output goes through md5sum in its timed run and is compared (the `md5sum`
# floor row: the hash alone over the same bytes from a pipe, the part of a reader's time that is not its own).
# Usage: scripts/bench/s3.sh [MiB]   (BIN_DIR defaults to build/bin; MiB to BENCH_S3_MIB, else
#        512 x BENCH_MESSAGES / 1M)
# mc: BENCH_MC=PATH, else the one scripts/minio.sh builds into the cache (`build-mc`, minutes, once per
# machine; Debian's `mc` is Midnight Commander), built here unless BENCH_BUILD_MC=0. No mc: its rows are
# skipped with the reason (on Swift, `mc pipe` fails: Swift's S3 layer refuses mc's aws-chunked uploads).
# aws and rclone are configured by the environment, mc by a config directory in the temp dir: nothing is left.
set -euo pipefail
SRC_DIR=$(cd "$(dirname "$0")/../.." && pwd)
source "$SRC_DIR/scripts/bench/lib.sh"
BIN_DIR=${BIN_DIR:-$SRC_DIR/build/bin}
MIB=${1:-${BENCH_S3_MIB:-$(bench_scaled 512)}}
SERVER=${BENCH_S3_SERVER:-minio}
case $SERVER in
  minio) need=() ;;
  swift) need=(swift-proxy-server) ;;
  *) echo "bench s3: BENCH_S3_SERVER must be minio or swift, not '$SERVER'" >&2; exit 2 ;;
esac
bench_need_ours "$BIN_DIR/s3-put" "$BIN_DIR/s3-cat"
bench_need_ref /usr/bin/aws rclone /usr/bin/time "${need[@]}"
work=$(mktemp -d /tmp/sp-bench-s3.XXXXXX)
cleanup() { "$SRC_DIR/scripts/$SERVER.sh" stop "$work/server" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
bench_init "$work"
bench_start "the $SERVER S3 server (scripts/$SERVER.sh)" "$SRC_DIR/scripts/$SERVER.sh" start "$work/server"
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY AWS_REGION=$S3_REGION
export AWS_DEFAULT_REGION=$S3_REGION AWS_ENDPOINT_URL=$S3_ENDPOINT
# aws 2.9 ignores AWS_ENDPOINT_URL; its config and credentials files must not be the user's
export AWS_CONFIG_FILE=$work/aws-config AWS_SHARED_CREDENTIALS_FILE=$work/aws-credentials
aws() { /usr/bin/aws --endpoint-url "$S3_ENDPOINT" "$@"; }
aws s3 mb s3://bench >/dev/null 2>"$work/mb.err" || bench_skip "aws s3 mb failed: $(tail -n 2 "$work/mb.err")"
head -c $((MIB * 1024 * 1024)) /dev/urandom >"$work/data"
want=$(md5sum <"$work/data" | cut -d' ' -f1)

# rclone: a remote from the environment only (RCLONE_CONFIG: a file in $work it never needs to write)
export RCLONE_CONFIG=$work/rclone.conf RCLONE_CONFIG_BS_TYPE=s3 RCLONE_CONFIG_BS_ENDPOINT=$S3_ENDPOINT
export RCLONE_CONFIG_BS_ACCESS_KEY_ID=$S3_ACCESS_KEY RCLONE_CONFIG_BS_SECRET_ACCESS_KEY=$S3_SECRET_KEY
export RCLONE_CONFIG_BS_REGION=$S3_REGION RCLONE_CONFIG_BS_FORCE_PATH_STYLE=true
if [ "$SERVER" = minio ]; then export RCLONE_CONFIG_BS_PROVIDER=Minio; else export RCLONE_CONFIG_BS_PROVIDER=Other; fi
rclone() { env -u AWS_CA_BUNDLE rclone "$@"; }

# mc: the alias "bs" in a config directory of its own in $work (removed at exit; not MC_HOST_bs, whose URL
# form mc does not decode: Swift's key test:tester signed as test%3Atester). Any reason it cannot run marks
# both of its sides broken, so that their rows print SKIPPED with it.
mc_bin=${BENCH_MC:-}
mc_why=
if [ -z "$mc_bin" ]; then
  # the build's messages (minutes, once per machine; a failure's log) go to stderr as they come
  [ "${BENCH_BUILD_MC:-1}" = 0 ] || "$SRC_DIR/scripts/minio.sh" build-mc || true
  mc_bin=$("$SRC_DIR/scripts/minio.sh" mc-path --cached 2>"$work/mc.err") || mc_why=$(tail -n 1 "$work/mc.err" | sed 's/^minio\.sh: //')
fi
if [ -z "$mc_why" ] && [ ! -x "$mc_bin" ]; then mc_why="$mc_bin is not an executable"; fi
if [ -n "$mc_why" ]; then
  bench_broken mc_put "not available: $mc_why"
  bench_broken mc_cat "not available: $mc_why"
fi
json() { printf %s "$1" | sed 's/[\\"]/\\&/g'; }
mkdir -m 700 "$work/mc"
printf '{"version":"10","aliases":{"bs":{"url":"%s","accessKey":"%s","secretKey":"%s","api":"s3v4","path":"auto"}}}\n' \
  "$(json "$S3_ENDPOINT")" "$(json "$S3_ACCESS_KEY")" "$(json "$S3_SECRET_KEY")" >"$work/mc/config.json"
mc="'$mc_bin' --config-dir '$work/mc' --quiet --no-color --disable-pager"

# when ours fails: does the server still store and return an object for a reference client?
bench_server_ok() {
  printf probe | rclone rcat bs:bench/probe && [ "$(rclone cat bs:bench/probe)" = probe ]
}
md5() { "$BIN_DIR/s3-cat" -q "s3://bench/$1" | md5sum | cut -d' ' -f1; }
# keeps the server's disk small (rclone: aws' Python start-up costs seconds per call on a busy machine)
gone() { rclone deletefile "bs:bench/$1" >/dev/null 2>&1 || true; }

# writers: the bytes come through a pipe, as in a pipeline (a file on stdin could be stat'ed and seeked)
put_ours() {
  bench_ours put_ours bash -o pipefail -c "cat '$work/data' | '$BIN_DIR/s3-put' -q s3://bench/ours.bin"
  bench_check_ours "s3-put: the object's MD5" "$(md5 ours.bin)" "$want"
  gone ours.bin
}
put_ref() { # SIDE KEY CMD: CMD reads the pipe and stores s3://bench/KEY
  local side=$1 key=$2 cmd=$3
  bench_ref "$side" bash -o pipefail -c "cat '$work/data' | $cmd >/dev/null" || return 0
  bench_check_ref "$side" "$side: the object's MD5" "$(md5 "$key")" "$want" || true
  gone "$key"
}
put_aws() { put_ref put_aws aws.bin "/usr/bin/aws --endpoint-url '$S3_ENDPOINT' s3 cp - s3://bench/aws.bin"; }
put_mc() { put_ref mc_put mc.bin "$mc pipe bs/bench/mc.bin"; }
put_rclone() { put_ref put_rclone rclone.bin "env -u AWS_CA_BUNDLE rclone rcat bs:bench/rclone.bin"; }

# readers: the same object (stored once by s3-put, untimed), to stdout, through md5sum
cat_side() { # SIDE ours|ref CMD
  local side=$1 kind=$2 cmd=$3
  if [ "$kind" = ours ]; then
    bench_ours "$side" bash -o pipefail -c "$cmd | md5sum >'$work/got'"
    bench_check_ours "s3-cat: the output's MD5" "$(cut -d' ' -f1 "$work/got")" "$want"
  else
    bench_ref "$side" bash -o pipefail -c "$cmd | md5sum >'$work/got'" || return 0
    bench_check_ref "$side" "$side: the output's MD5" "$(cut -d' ' -f1 "$work/got")" "$want" || true
  fi
}
cat_ours() { cat_side cat_ours ours "'$BIN_DIR/s3-cat' -q s3://bench/src.bin"; }
cat_mc() { cat_side mc_cat ref "$mc cat bs/bench/src.bin"; }
cat_aws() { cat_side cat_aws ref "/usr/bin/aws --endpoint-url '$S3_ENDPOINT' s3 cp s3://bench/src.bin -"; }
cat_rclone() { cat_side cat_rclone ref "env -u AWS_CA_BUNDLE rclone cat bs:bench/src.bin"; }
cat_floor() { bench_ref md5_floor bash -o pipefail -c "cat '$work/data' | md5sum >/dev/null" || true; }

"$BIN_DIR/s3-put" -q s3://bench/src.bin <"$work/data" 2>"$work/src.err" ||
  _bench_ours_failed "s3-put of the readers' object: $(tail -n 3 "$work/src.err" | tr '\n' ' ')"
bench_check_ours "s3-put of the readers' object: its MD5" "$(md5 src.bin)" "$want"
bench_rounds put_ours put_aws put_mc put_rclone
bench_rounds cat_ours cat_mc cat_aws cat_rclone cat_floor

declare -A label=([put_ours]="s3-put (8M parts, 4 in flight)" [put_aws]="aws s3 cp -" [mc_put]="mc pipe"
  [put_rclone]="rclone rcat" [cat_ours]=s3-cat [mc_cat]="mc cat" [cat_aws]="aws s3 cp s3://... -"
  [cat_rclone]="rclone cat" [md5_floor]="md5sum alone (the floor)")
row() { # SIDE
  if bench_is_broken "$1"; then printf '%-34s %9s %8s  (%s)\n' "${label[$1]}" - - "$(cut -d' ' -f2- "$BENCH_DIR/$1.broken")"
  else printf '%-34s %9s %8s\n' "${label[$1]}" "$(bench_median "$1")" "$(bench_rss_mb "$1")"; fi
}
# the issue's target: at most 1.0x the fastest reference, under 128 MiB (printed, not enforced)
fastest() { # SIDE...: the side with the lowest median among those measured
  local s
  for s in "$@"; do bench_is_broken "$s" || echo "$(bench_median "$s") $s"; done | sort -g | head -n 1 | cut -d' ' -f2
}
target() { # NAME OURS REF...
  local name=$1 ours=$2; shift 2
  local best; best=$(fastest "$@")
  [ -n "$best" ] || { echo "target $name: no reference measured"; return 0; }
  awk -v n="$name" -v o="$(bench_median "$ours")" -v r="$(bench_median "$best")" -v b="${label[$best]}" -v m="$(bench_rss_mb "$ours")" \
    'BEGIN { printf "target %s: %.2fx the fastest reference (%s; goal <= 1.0), peak RSS %s MiB (goal < 128)\n", n, (r > 0 ? o / r : 0), b, m }'
}
echo "server: $SERVER; ${MIB} MiB from a pipe; mc: ${mc_why:+not available: }${mc_why:-$mc_bin}"
printf '%-34s %9s %8s\n' "writer (stdin -> one object)" seconds rss_mb
for side in put_ours put_aws mc_put put_rclone; do row $side; done
printf '%-34s %9s %8s\n' "reader (one object -> md5sum)" seconds rss_mb
for side in cat_ours mc_cat cat_aws cat_rclone md5_floor; do row $side; done
bench_about
target s3-put put_ours put_aws mc_put put_rclone
target s3-cat cat_ours mc_cat cat_aws cat_rclone
bench_result s3-put-vs-aws put_ours put_aws
bench_result s3-put-vs-mc put_ours mc_put
bench_result s3-put-vs-rclone put_ours put_rclone
bench_result s3-cat-vs-mc cat_ours mc_cat
bench_result s3-cat-vs-aws cat_ours cat_aws
bench_result s3-cat-vs-rclone cat_ours cat_rclone
