#!/usr/bin/env bash
# Benchmark (not a test): sensor-parse against jq doing the same flattening of N seed messages,
# measured in the same run on the same file (scripts/bench/lib.sh: warm-up, alternating pairs, median,
# spread). Prints a small table and one RESULT line per comparison. Every run's line count is checked.
# Usage: scripts/bench/parse.sh [BUILD_DIR] [N]   (defaults: build, BENCH_MESSAGES or 1000000)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/scripts/bench/lib.sh"
build=${1:-build} n=${2:-$BENCH_MESSAGES}
bin=$(cd "$build/bin" 2>/dev/null && pwd) || bench_fail "no $build/bin; build first (make build)"
bench_need_ours "$bin/sensor-parse" "$bin/sensor-gen"
bench_need_ref jq /usr/bin/time
work=$(mktemp -d /tmp/sp-bench-parse.XXXXXX)
trap 'rm -rf "$work"' EXIT
bench_init "$work"

"$bin/sensor-gen" -c "$n" --seed 1 > "$work/msgs.jsonl"
# the same kind of messages as kafka-cat-sensor --envelope lines (value embedded as JSON)
"$bin/sensor-gen" -c "$n" --seed 1 --envelope > "$work/env.jsonl"
size_mb=$(( $(stat -c %s "$work/msgs.jsonl") / 1048576 ))

jqflat='[.id,.timestamp,.value.sensor_id,.value.temperature,.value.humidity,.value.pressure]|@tsv'
jqvalues="\"(\" + ([(.id|@json), (.timestamp|@json), (.value.sensor_id|@json), .value.temperature, .value.humidity, .value.pressure]|map(tostring)|join(\", \")) + \")\""
declare -A REF=(
  [parse-tsv-vs-jq]="jq -r '$jqflat' < '$work/msgs.jsonl'"
  [parse-envelope-vs-jq]="jq -r '.value|$jqflat' < '$work/env.jsonl'"
  [parse-values-vs-jq]="jq -r '$jqvalues' < '$work/msgs.jsonl'"
)
declare -A OURS=(
  [parse-tsv-vs-jq]="'$bin/sensor-parse' -q -f tsv < '$work/msgs.jsonl'"
  [parse-envelope-vs-jq]="'$bin/sensor-parse' -q -f tsv < '$work/env.jsonl'"
  [parse-values-vs-jq]="'$bin/sensor-parse' -q -f values < '$work/msgs.jsonl'"
)
# every seed message is valid: both sides write one line per message
side_ours() {
  bench_ours "ours.$cmp" bash -c "${OURS[$cmp]} > '$work/ours.out'"
  bench_check_ours "$cmp: sensor-parse's lines" "$(wc -l < "$work/ours.out")" "$n"
}
side_ref() {
  bench_ref "ref.$cmp" bash -c "${REF[$cmp]} > '$work/ref.out'" || return 0
  bench_check_ref "ref.$cmp" "jq's lines" "$(wc -l < "$work/ref.out")" "$n" || true
}

echo "sensor-parse benchmark: $n seed messages ($size_mb MiB), $(nproc) CPUs"
results=()
printf '%-22s %8s %8s %8s %8s %12s\n' comparison "ours" "ref" "ours cpu" "ref cpu" "rate wall/cpu"
for cmp in parse-tsv-vs-jq parse-envelope-vs-jq parse-values-vs-jq; do
  bench_rounds side_ours side_ref
  o=$(bench_median "ours.$cmp") oc=$(bench_median "ours.$cmp" 4)
  printf '%-22s %8s %8s %8s %8s %12s\n' "$cmp" "${o}s" "$(bench_median "ref.$cmp")s" "${oc}s" "$(bench_median "ref.$cmp" 4)s" \
    "$(awk -v n="$n" -v s="$o" -v c="$oc" 'BEGIN { printf "%.2f/%.2fM", (s > 0 ? n / s / 1e6 : 0), (c > 0 ? n / c / 1e6 : 0) }')"
  results+=("$(bench_result "$cmp" "ours.$cmp" "ref.$cmp")")
done
bench_about
printf '%s\n' "${results[@]}"
