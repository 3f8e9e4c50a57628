#!/usr/bin/env bash
# make bench: every tool against its reference tool on the same data in the same run, then the
# end-to-end pipeline. Prints each benchmark's own table, then one summary table of all ratios.
# Not a test: figures depend on the machine and its load; run on a quiet machine.
set -uo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
for b in parse ch ch_cluster ch_storage kafka kafka_real s3 e2e; do
  script="$here/scripts/bench/$b.sh"
  [ -f "$script" ] || continue
  echo "=== $b"
  # parse.sh and e2e.sh take the build dir; the others read BIN_DIR and take sizes as arguments
  args=()
  case $b in parse | e2e) args=("$build") ;; esac
  if ! BIN_DIR="$(cd "$build/bin" && pwd)" bash "$script" "${args[@]}" 2>&1 | tee -a "$out"; then
    echo "bench: $b failed" >&2
    status=1
  fi
  echo
done
echo "=== summary (ratio = our wall time / reference wall time; < 1 is faster)"
printf '%-34s %10s %10s %8s %9s\n' benchmark ours reference ratio "RSS MiB"
grep '^RESULT ' "$out" | while read -r _ name ours ref ratio rss; do
  printf '%-34s %10s %10s %8s %9s\n' "$name" "${ours#ours=}" "${ref#ref=}" "${ratio#ratio=}" "${rss#rss_mb=}"
done
exit $status
