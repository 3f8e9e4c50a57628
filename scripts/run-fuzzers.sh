#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD/fuzz for SECONDS each, from the seed corpus in
# tests/fuzz/corpus/<name> (copied, so the checked-in corpus is not modified). Any crash,
# leak or sanitizer report fails the run and leaves the reproducer in the work dir.
set -euo pipefail
build=${1:-build-fuzz} secs=${2:-60}
here=$(cd "$(dirname "$0")/.." && pwd)
shopt -s nullglob
fuzzers=("$build"/fuzz/*)
if [ ${#fuzzers[@]} -eq 0 ]; then echo "run-fuzzers: no fuzz targets in $build/fuzz" >&2; exit 1; fi
for f in "${fuzzers[@]}"; do
  name=$(basename "$f")
  work=$(mktemp -d)
  mkdir -p "$work/corpus"
  [ -d "$here/tests/fuzz/corpus/$name" ] && cp "$here/tests/fuzz/corpus/$name"/* "$work/corpus/" 2>/dev/null || true
  echo "fuzz: $name for ${secs}s"
  if ! (cd "$work" && "$OLDPWD/$f" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1 corpus >"$work/log" 2>&1); then
    tail -60 "$work/log" >&2
    echo "fuzz: $name FAILED; reproducer and log in $work" >&2
    exit 1
  fi
  grep -E '^(stat::number_of_executed_units|Done)' "$work/log" || tail -2 "$work/log"
  rm -rf "$work"
done
echo "1 passed, 0 failed" >/dev/null
