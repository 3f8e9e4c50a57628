#!/usr/bin/env bash
# make bench: every tool against its reference tool on the same data in the same run, then the
# end-to-end pipeline. Prints each benchmark's own table, then one summary table of all ratios.
# Not a test: figures depend on the machine and its load; run on a quiet machine.
#
# Every timed row is measured the same way (scripts/bench/lib.sh): warm-up rounds not counted, the
# sides alternating, the median of BENCH_PAIRS pairs and the spread (min-max) of their ratio.
# Environment: BENCH_PAIRS (default 5), BENCH_WARMUP (default 1), BENCH_MESSAGES (default 1000000;
# the S3 object size scales with it), BENCH_ONLY="parse ch ..." (a subset of the sections); the s3
# section's own (scripts/bench/s3.sh): BENCH_S3_MIB, BENCH_S3_SERVER=swift, BENCH_MC, BENCH_BUILD_MC=0.
# The soak's (scripts/bench/soak.sh, last): BENCH_SOAK=0 skips it, BENCH_SOAK_MESSAGES, BENCH_SOAK_RATE, BENCH_SOAK_CSV.
#
# Exit status: 0 when every section measured or was skipped (a server that does not start, a reference
# tool missing or misbehaving: said why, in the summary too); 1 when one of our tools failed or gave a
# wrong result, or a section ended without saying why.
set -uo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
[ -d "$build/bin" ] || { echo "bench: no $build/bin; build first (make build)" >&2; exit 1; }
export BIN_DIR
BIN_DIR="$(cd "$build/bin" && pwd)"
sections=${BENCH_ONLY:-parse ch ch_cluster ch_storage kafka kafka_real s3 e2e profile seed_spark soak}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
t0=$SECONDS
for b in $sections; do
  script="$here/scripts/bench/$b.sh"
  [ -f "$script" ] || { echo "bench: no section '$b' (scripts/bench/$b.sh)" >&2; exit 2; }
  echo "=== $b"
  s0=$SECONDS
  # parse.sh and e2e.sh take the build dir; the others read BIN_DIR; sizes come from BENCH_MESSAGES
  args=()
  case $b in parse | e2e) args=("$build") ;; esac
  BENCH_SECTION=$b bash "$script" "${args[@]}" 2>&1 | tee "$out.section"
  rc=${PIPESTATUS[0]}
  cat "$out.section" >>"$out"
  case $rc in
    0) grep -Eq '^(RESULT|SKIPPED) ' "$out.section" ||
         { echo "FAILED $b: printed neither a RESULT nor a SKIPPED line" | tee -a "$out"; status=1; } ;;
    3) grep -q "^SKIPPED $b: " "$out.section" ||
         echo "SKIPPED $b: it gave no reason (exit 3)" | tee -a "$out" ;;
    *) grep -q "^FAILED $b: " "$out.section" ||
         echo "FAILED $b: exit $rc (see above)" | tee -a "$out"
       status=1 ;;
  esac
  echo "($b: $((SECONDS - s0)) s)"
  echo
done
rm -f "$out.section"
echo "=== summary (ratio = our wall time / reference wall time, the median of the pairs; < 1 is faster;"
echo "    spread = the lowest and highest ratio of one pair; ch-storage: bytes on disk, not time)"
printf '%-46s %9s %9s %7s %13s %8s %5s\n' benchmark ours reference ratio spread "RSS MiB" pairs
grep -E '^(RESULT|SKIPPED|FAILED) ' "$out" | while read -r kind name rest; do
  case $kind in
    RESULT)
      declare -A f=()
      for kv in $rest; do f[${kv%%=*}]=${kv#*=}; done
      printf '%-46s %9s %9s %7s %13s %8s %5s\n' "$name" "${f[ours]:--}" "${f[ref]:--}" "${f[ratio]:--}" \
        "${f[spread]:--}" "${f[rss_mb]:--}" "${f[pairs]:--}"
      unset f ;;
    SKIPPED) printf '%-46s skipped: %s\n' "${name%:}" "$rest" ;;
    FAILED) printf '%-46s FAILED: %s\n' "${name%:}" "$rest" ;;
  esac
done
echo "(bench: $((SECONDS - t0)) s; BENCH_PAIRS=${BENCH_PAIRS:-5} BENCH_WARMUP=${BENCH_WARMUP:-1} BENCH_MESSAGES=${BENCH_MESSAGES:-1000000})"
exit $status
