#!/usr/bin/env bash
# Benchmark (not a test): sensor-parse against jq doing the same flattening of N seed messages,
# measured in the same run on the same file. Prints a small table and one RESULT line per comparison:
#   RESULT <name> ours=<s>s ref=<s>s ratio=<ours/ref> rss_mb=<our peak RSS>
# Usage: scripts/bench/parse.sh [BUILD_DIR] [N] [RUNS]   (defaults: build 1000000 3; best of RUNS)
set -euo pipefail
build=${1:-build} n=${2:-1000000} runs=${3:-3}
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(cd "$build/bin" 2>/dev/null && pwd) || { echo "bench: no $build/bin; build first (make build)" >&2; exit 1; }
for t in jq /usr/bin/time; do command -v "$t" >/dev/null || { echo "bench: $t missing (scripts/install-deps.sh)" >&2; exit 1; }; done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bin/sensor-gen" -c "$n" --seed 1 > "$work/msgs.jsonl"
# the same kind of messages as kafka-cat-sensor --envelope lines (value embedded as JSON)
"$bin/sensor-gen" -c "$n" --seed 1 --envelope > "$work/env.jsonl"
size_mb=$(( $(stat -c %s "$work/msgs.jsonl") / 1048576 ))

# best wall time of $runs runs; also leaves the CPU seconds (user+sys) and peak RSS (KiB) of that run
# in $cpu and $rss. CPU time shows the single-core rate even when the machine is busy.
best() {
  local out=$1; shift
  local b="" r="" c=""
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M %U %S" -o "$work/t" "$@" > "$out"
    read -r s m u k < "$work/t"
    if [ -z "$b" ] || awk -v a="$s" -v b="$b" 'BEGIN{exit !(a<b)}'; then b=$s r=$m c=$(awk -v u="$u" -v k="$k" 'BEGIN{printf "%.2f", u+k}'); fi
  done
  secs=$b rss=$r cpu=$c
}

jqflat='[.id,.timestamp,.value.sensor_id,.value.temperature,.value.humidity,.value.pressure]|@tsv'
declare -a results
compare() {  # name, ref command (string), ours command (string)
  local name=$1 ref=$2 ours=$3
  best "$work/ours.out" bash -c "$ours"
  local o=$secs orss=$rss ocpu=$cpu
  best "$work/ref.out" bash -c "$ref"
  local r=$secs rcpu=$cpu
  local rows_ours rows_ref
  rows_ours=$(wc -l < "$work/ours.out") rows_ref=$(wc -l < "$work/ref.out")
  [ "$rows_ours" = "$rows_ref" ] || { echo "bench: $name: $rows_ours rows from sensor-parse, $rows_ref from the reference" >&2; exit 1; }
  local ratio rssmb rate
  ratio=$(awk -v a="$o" -v b="$r" 'BEGIN{printf "%.3f", (b>0)?a/b:0}')
  rssmb=$(awk -v k="$orss" 'BEGIN{printf "%.1f", k/1024}')
  rate=$(awk -v n="$n" -v s="$o" 'BEGIN{printf "%.2f", (s>0)?n/s/1e6:0}')
  local cpurate
  cpurate=$(awk -v n="$n" -v s="$ocpu" 'BEGIN{printf "%.2f", (s>0)?n/s/1e6:0}')
  printf '%-22s %8s %8s %8s %8s %9s %12s %8s\n' "$name" "${o}s" "${r}s" "${ocpu}s" "${rcpu}s" \
    "$(awk -v a="$o" -v b="$r" 'BEGIN{printf "%.1fx", (a>0)?b/a:0}')" "${rate}/${cpurate}M" "${rssmb}"
  results+=("RESULT $name ours=${o}s ref=${r}s ratio=$ratio rss_mb=$rssmb")
}

echo "sensor-parse benchmark: $n seed messages ($size_mb MiB), best of $runs runs, $(nproc) CPUs"
printf '%-22s %8s %8s %8s %8s %9s %12s %8s\n' comparison "ours" "ref" "ours cpu" "ref cpu" speedup "rate wall/cpu" "RSS MiB"
compare parse-tsv-vs-jq "jq -r '$jqflat' < '$work/msgs.jsonl'" "'$bin/sensor-parse' -q -f tsv < '$work/msgs.jsonl'"
compare parse-envelope-vs-jq "jq -r '.value|$jqflat' < '$work/env.jsonl'" "'$bin/sensor-parse' -q -f tsv < '$work/env.jsonl'"
compare parse-values-vs-jq "jq -r '\"(\" + ([(.id|@json), (.timestamp|@json), (.value.sensor_id|@json), .value.temperature, .value.humidity, .value.pressure]|map(tostring)|join(\", \")) + \")\"' < '$work/msgs.jsonl'" \
  "'$bin/sensor-parse' -q -f values < '$work/msgs.jsonl'"
printf '%s\n' "${results[@]}"
