#!/usr/bin/env bash
# Soak (issue 25; a benchmark, not a test): the deployed pipeline exactly as README's "Streaming,
# at-least-once, raw archive on the way" block runs it (group, --envelope, both --commit-acks FIFOs,
# s3-put --tee --zstd --acks with the README's key template, sensor-parse --format tsv --rejects,
# ch-insert --format tsv --create-table --retries -1; no -e: it runs until stopped) on a real Kafka broker (16 partitions),
# ClickHouse and MinIO, while a producer writes BENCH_SOAK_MESSAGES messages at a steady
# BENCH_SOAK_RATE (sensor-gen --rate | kafka-cat-sensor -P: generated on the fly, no disk).
# Once a second every stage's RSS (VmRSS) and open fds, and the table's row count, go to a CSV. When
# every valid row is in ClickHouse the stages are stopped as systemctl stop stops them (SIGTERM to all
# at once). Then it prints per stage the RSS after the first BENCH_MESSAGES consumed (a million by
# default) and at the end, with their ratio (the issue's goal: within 10%), the fds (max, grown or
# not), the group's lag (must be 0), the rows under FINAL (must equal the valid messages) and the
# archive's lines (at least the messages produced). Wrong counts or lag fail the section (exit 1); RSS
# growth is a figure, not an assertion.
# Knobs: BENCH_SOAK=0 skips it; BENCH_SOAK_MESSAGES (default 20 x BENCH_MESSAGES: 20M; the short form
# of make test: 40000); BENCH_SOAK_RATE messages/s (default 100000); BENCH_SOAK_CSV=FILE keeps the samples.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/scripts/bench/lib.sh"
[ "${BENCH_SOAK:-1}" = 0 ] && bench_skip "BENCH_SOAK=0 (the soak was not asked for)"
M=${BENCH_SOAK_MESSAGES:-$((BENCH_MESSAGES * 20))}
rate=${BENCH_SOAK_RATE:-100000}
[[ $M =~ ^[1-9][0-9]*$ ]] || { echo "bench soak: BENCH_SOAK_MESSAGES must be 1 or more" >&2; exit 2; }
[[ $rate =~ ^[1-9][0-9]*$ ]] || { echo "bench soak: BENCH_SOAK_RATE must be messages per second, 1 or more" >&2; exit 2; }
first=$((BENCH_MESSAGES < M ? BENCH_MESSAGES : M))  # the "first million" the RSS at the end is compared with
bin=${BIN_DIR:-$here/build/bin}
export PATH="$bin:$PATH"
for t in kafka-cat-sensor sensor-parse ch-insert s3-put s3-cat sensor-gen; do bench_need_ours "$bin/$t"; done
bench_need_ref /usr/bin/aws curl
work=$(mktemp -d /tmp/sp-bench-soak.XXXXXX)
stages=() prod=() sampler=
cleanup() {
  [ -n "$sampler" ] && kill "$sampler" 2>/dev/null
  for p in "${prod[@]}" "${stages[@]}"; do kill "$p" 2>/dev/null; done
  bench_stop_servers "$work"
  rm -rf "$work"
}
trap cleanup EXIT
bench_init "$work"
bench_ch_s3 "$work"
bench_kafka "$work"
q() { curl -sS -H "X-ClickHouse-User: $CH_USER" -H "X-ClickHouse-Key: $CH_PASSWORD" "$CH_URL/" --data-binary "$1"; }

# The messages: a fixed seed with a few malformed ones (sensor-parse rejects them; empty lines are left
# out as a producer would); the valid ones counted beforehand from the same generator.
gen() { sensor-gen -c "$M" --seed 11 --sensors 1000 --bad-fraction 0.0001 "$@" | grep -av '^$'; }
want=$(gen | sensor-parse -q -f tsv -r /dev/null | wc -l)

# The deployed pipeline, README's block as written (the broker's address and the FIFOs' paths are this
# run's); every stage's stderr kept.
mkfifo "$work/acks" "$work/s3-acks"
(
  kafka-cat-sensor -b "$B" -G ingest --envelope --commit-acks "$work/acks" --commit-acks "$work/s3-acks" 2>"$work/kc.log" \
    | s3-put --tee --zstd --level 1 --rotate-seconds 60 --acks "$work/s3-acks" \
        's3://raw/sensors/%Y/%m/%d/%H%M%S-{host}-{run}-{seq}.jsonl' 2>"$work/s3.log" \
    | sensor-parse --format tsv --rejects "$work/rejects.jsonl" 2>"$work/sp.log" \
    | ch-insert --format tsv --table sensor_metrics --create-table --retries -1 >"$work/acks" 2>"$work/ch.log"
) &
pipe=$!
# the four stages: the children of the pipeline's subshell, by name
declare -A pid=()
for _ in $(seq 100); do
  for c in $(cat /proc/"$pipe"/task/*/children 2>/dev/null); do
    case $(cat /proc/"$c"/comm 2>/dev/null) in
      kafka-cat-senso) pid[kc]=$c ;; s3-put) pid[s3]=$c ;; sensor-parse) pid[sp]=$c ;; ch-insert) pid[ch]=$c ;;
    esac
  done
  [ ${#pid[@]} -eq 4 ] && break
  sleep 0.1
done
[ ${#pid[@]} -eq 4 ] || bench_fail "the pipeline's four stages did not start (found ${!pid[*]})"
stages=("${pid[kc]}" "${pid[s3]}" "${pid[sp]}" "${pid[ch]}")
names=(kafka-cat-sensor s3-put sensor-parse ch-insert)
keys=(kc s3 sp ch)

# once a second: seconds, rows in the table, then per stage VmRSS (KiB) and open fds
csv=$work/samples.csv
echo "t_s,rows,kc_rss_kb,kc_fds,s3_rss_kb,s3_fds,sp_rss_kb,sp_fds,ch_rss_kb,ch_fds" >"$csv"
sample() {
  local line p
  line="$(($(date +%s) - t0)),$(q 'SELECT count() FROM sensor_metrics' 2>/dev/null || echo -)"
  for p in "${stages[@]}"; do
    line+=",$(awk '/^VmRSS:/ { print $2 }' /proc/"$p"/status 2>/dev/null),$(ls /proc/"$p"/fd 2>/dev/null | wc -l)"
  done
  echo "$line" >>"$csv"
}
t0=$(date +%s)
(set +e; while :; do sample; sleep 1; done) &
sampler=$!

# the producer at a steady rate, generated as it goes
s0=$(date +%s.%N)
gen --rate "$rate/s" | kafka-cat-sensor -q -P -b "$B" -t sensor_metrics 2>"$work/prod.log" &
prod=($!)
wait "${prod[0]}" || bench_fail "the producer failed: $(tail -n 3 "$work/prod.log" | tr '\n' ' ')"
prod=()
s1=$(date +%s.%N)
# every valid row in ClickHouse (a stage that died ends the wait: the check below says what is missing)
for _ in $(seq 600); do
  [ "$(q 'SELECT count() FROM sensor_metrics')" -ge "$want" ] 2>/dev/null && break
  for p in "${stages[@]}"; do kill -0 "$p" 2>/dev/null || break 2; done
  sleep 1
done
sample
lag_running=$(kafka-cat-sensor -q --lag -G ingest -b "$B" -t sensor_metrics | awk 'NR > 1 { s += $6 } END { print s + 0 }')
# stop as systemctl stop does: SIGTERM to every stage at once
kill -TERM "$sampler" "${stages[@]}" 2>/dev/null || true
sampler=
rc=0
wait "$pipe" || rc=$?
stages=()
grep -q ',$' "$csv" && sed -i '/,$/d' "$csv"   # a sample taken while a stage exited
[ -n "${BENCH_SOAK_CSV:-}" ] && cp "$csv" "$BENCH_SOAK_CSV"

lagout=$(kafka-cat-sensor -q --lag -G ingest -b "$B" -t sensor_metrics)
lag=$(awk 'NR > 1 { s += ($6 == "-" ? 0 : $6); if ($4 == "-") none++ } END { print s + 0 }' <<<"$lagout")
produced=$(awk 'NR > 1 { s += $5 } END { print s + 0 }' <<<"$lagout")
uncommitted=$(awk 'NR > 1 && $4 == "-" && $5 > 0 { n++ } END { print n + 0 }' <<<"$lagout")
final=$(q 'SELECT count() FROM sensor_metrics FINAL')
rejects=$(wc -l <"$work/rejects.jsonl" 2>/dev/null || echo 0)
archived=$(s3-cat -q --prefix s3://raw/sensors/ | wc -l)

mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
printf 'soak: %d messages produced at %d/s asked, %.0f/s achieved (%.0f s), %s, the README deployed block\n' \
  "$produced" "$rate" "$(awk -v n="$produced" -v a="$s0" -v b="$s1" 'BEGIN { print n / (b - a) }')" \
  "$(awk -v a="$s0" -v b="$s1" 'BEGIN { print b - a }')" "Apache Kafka $KAFKA_VERSION (1 broker, 16 partitions), ClickHouse, MinIO"
fmt='%-17s %10s %8s %7s %13s %8s %12s %s\n'
printf "$fmt" stage rss@first rss_end end/1st "range after 1st" "max/1st" "fds 1st/2nd" "fds grew"
rows=()
for i in 0 1 2 3; do
  # the first sample with FIRST rows stored (the last one when none had as many), the last sample, the
  # RSS range from the first on (a stage whose RSS swings, as s3-put's with its object buffers, is read
  # by its range, not by one sample), and the most fds open in the first and in the second half of the run
  read -r r1 rend rmin rmax fa fb < <(awk -F, -v c=$((3 + 2 * i)) -v first="$first" '
    NR > 1 && $(c) != "" { n++; r[n] = $(c); f[n] = $(c + 1); if (!at && $2 >= first) at = n }
    END {
      if (!at) at = n
      rmin = rmax = r[at]
      for (k = at; k <= n; k++) { if (r[k] < rmin) rmin = r[k]; if (r[k] > rmax) rmax = r[k] }
      for (k = 1; k <= n; k++) if (k <= n / 2) { if (f[k] > fa) fa = f[k] } else if (f[k] > fb) fb = f[k]
      print r[at], r[n], rmin, rmax, fa + 0, fb + 0
    }' "$csv")
  ratio=$(awk -v a="$r1" -v b="$rend" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')
  printf "$fmt" "${names[i]}" "$(mb "$r1")" "$(mb "$rend")" "$ratio" "$(mb "$rmin")-$(mb "$rmax")" \
    "$(awk -v a="$r1" -v b="$rmax" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')" "$fa/$fb" \
    "$([ "$fb" -gt "$fa" ] && echo "yes (+$((fb - fa)))" || echo no)"
  rows+=("RESULT soak-rss-end-vs-first-million-${names[i]} ours=$(mb "$rend")MiB ref=$(mb "$r1")MiB ratio=$ratio spread=- rss_mb=$(mb "$rmax") pairs=-")
done
echo "(MiB; rss@first: after the first $first messages were stored; end: the last sample before the stop; fds: the most open"
echo " in the first and in the second half of the run; samples: $(($(wc -l <"$csv") - 1)), once a second)"
echo "group lag before the stop: $lag_running; after the stop: $lag (partitions with messages but no commit: $uncommitted); pipeline exit status $rc (a stage stopped by a signal may say so)"
echo "rows under FINAL: $final, valid messages: $want (rejects file: $rejects lines); archive lines: $archived, produced: $produced"
printf '%s\n' "${rows[@]}"
[ "$lag" -eq 0 ] && [ "$uncommitted" -eq 0 ] || bench_fail "the group's lag after the stop is $lag ($uncommitted partitions uncommitted): $lagout"
[ "$final" = "$want" ] || bench_fail "rows under FINAL: $final, want $want (the valid messages)"
[ "$archived" -ge "$produced" ] || bench_fail "the archive holds $archived lines, fewer than the $produced produced"
