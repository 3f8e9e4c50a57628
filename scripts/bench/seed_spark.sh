#!/usr/bin/env bash
# Benchmark (not a test): the seed's PySpark Structured Streaming job, the one the toolkit replaces
# (scripts/bench/seed_spark/streaming_example.py: local[2], foreachBatch + INSERT ... VALUES over HTTP,
# trigger(availableNow=True) so that it stops when the topic is drained), beside the pipeline on the same
# broker, topic and table, in the same run:
#   spark     the seed's job, JVM start included
#   deployed  kafka-cat-sensor -G -e --envelope --commit-acks | sensor-parse | ch-insert > acks (group join included)
#   plain     kafka-cat-sensor -e | sensor-parse | ch-insert --no-acks
# N seed messages (BENCH_MESSAGES, default 1M) on one Apache Kafka broker (scripts/kafka.sh, 16 partitions)
# into one ClickHouse table (scripts/clickhouse.sh), emptied before each run. Every run is measured as a
# process tree (scripts/bench/seed_spark/treestat.py): wall time, CPU seconds (user + sys of every process,
# the JVM and Spark's Python workers included), the peak RSS of the largest process and the peak of the sum
# of all (sampled every 0.1 s); also the time from the start to the first row visible in ClickHouse (a
# count() polled every 0.05 s, after 2 s every 0.2 s), Spark's own start-up (from the start to its session
# being ready), and the CPU the broker and ClickHouse spent meanwhile. Every run's rows must equal those of
# a reference load by the plain pipeline (scripts/bench/seed_spark/same_rows.sh: same ids, same values), so
# that both sides do the same work. Timed as every row is (scripts/bench/lib.sh): warm-up, sides in turn,
# medians.
# Skipped (with the reason) when pyspark is not installed: scripts/spark.sh install, once per machine.
#   scripts/bench/seed_spark.sh [N_MESSAGES]   (BIN_DIR defaults to build/bin)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/scripts/bench/lib.sh"
n=${1:-$BENCH_MESSAGES}
bin=${BIN_DIR:-$here/build/bin}
export PATH="$bin:$PATH"
for t in kafka-cat-sensor sensor-parse ch-insert sensor-gen; do bench_need_ours "$bin/$t"; done
bench_need_ref java curl
# Debian's python3: a pyenv shim would run children of its own, counted in treestat's figures
py=/usr/bin/python3
[ -x "$py" ] || py=python3
work=$(mktemp -d /tmp/sp-bench-spark.XXXXXX)
cleanup() {
  [ -n "${watch_pid:-}" ] && kill "$watch_pid" 2>/dev/null
  "$here/scripts/kafka.sh" stop "$work/kafka" >/dev/null 2>&1 || true
  "$here/scripts/clickhouse.sh" stop "$work/ch" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
bench_init "$work"
[ "${BENCH_SPARK:-1}" != 0 ] || bench_skip "BENCH_SPARK=0 (the Spark baseline is left out of this run)"
"$here/scripts/spark.sh" check 2>"$work/spark.check" || bench_skip "$(sed 's/^spark.sh: //' "$work/spark.check")"
eval "$("$here/scripts/spark.sh" env)"
bench_start "clickhouse-server" "$here/scripts/clickhouse.sh" start "$work/ch"
export CLICKHOUSE_URL=$CH_URL CLICKHOUSE_USER=$CH_USER CLICKHOUSE_PASSWORD=$CH_PASSWORD
bench_start "the Kafka broker (scripts/kafka.sh)" "$here/scripts/kafka.sh" start "$work/kafka" 1
"$here/scripts/kafka.sh" topic "$work/kafka" sensor_metrics 16 >/dev/null 2>"$work/topic.err" ||
  bench_skip "the broker did not create the topic: $(tail -n 2 "$work/topic.err")"
B=$KAFKA_BOOTSTRAP
sensor-gen -c "$n" --seed 3 --sensors 1000 |
  kafka-cat-sensor -q -P -b "$B" -t sensor_metrics --key-field value.sensor_id

q() { curl -sS -H "X-ClickHouse-User: $CH_USER" -H "X-ClickHouse-Key: $CH_PASSWORD" "$CH_URL/" --data-binary "$1"; }
for t in sensor_metrics expected; do ch-insert -q --create-table --table $t </dev/null >/dev/null; done
bench_server_ok() { [ "$(q 'SELECT 1')" = 1 ] && kill -0 "$kafka_pid"; }
rows() { q "SELECT count() FROM $1"; }
mkfifo "$work/acks"

plain_cmd() { # TABLE
  echo "kafka-cat-sensor -q -b '$B' -t sensor_metrics -e | sensor-parse -q | ch-insert -q --table $1 --no-acks"
}
# the reference rows: the plain pipeline once, untimed
sh -c "$(plain_cmd expected)" || bench_fail "the plain pipeline failed loading the reference rows"
bench_check_ours "reference load: rows" "$(rows expected)" "$n"
deployed_cmd() { # GROUP
  echo "kafka-cat-sensor -q -b '$B' -t sensor_metrics -G '$1' -e --envelope --commit-acks '$work/acks' \
    | sensor-parse -q | ch-insert -q --table sensor_metrics >'$work/acks'"
}
spark_cmd() { # CHECKPOINT LOG
  echo "'$here/scripts/spark.sh' run --bootstrap '$B' --topic sensor_metrics --table sensor_metrics \
    --checkpoint '$1' 2>'$2'"
}

cpu_of() { # PID: its user + sys clock ticks so far
  awk '{ s = $0; sub(/.*\) /, "", s); split(s, f, " "); print f[12] + f[13] }' "/proc/$1/stat" 2>/dev/null || echo 0
}
kafka_pid=$(cat "$work/kafka/node1/pid")
hz=$(getconf CLK_TCK)
# watch_first_row FILE: the epoch when the table first holds a row, written to FILE (runs in the background).
# Polled every 0.05 s for the first 2 s (the pipelines' first rows), then every 0.2 s: over a Spark run of
# a minute a curl every 0.05 s would load the machine it is measured on.
watch_first_row() {
  local i=0
  until [ "$(rows sensor_metrics 2>/dev/null)" -gt 0 ] 2>/dev/null; do
    if [ $((i += 1)) -le 40 ]; then sleep 0.05; else sleep 0.2; fi
  done
  date +%s.%N >"$1"
}

# measured SIDE KIND CMD: one run of CMD (a shell command line) as a measured process tree; KIND is ours or
# ref (a failure of ours ends the section, one of the reference marks it broken). Appends to the side's
# timings (lib.sh: "round seconds rss_kb cpu_s") and to SIDE.more ("round sum_rss_kb first_row_s
# startup_s broker_cpu_s ch_cpu_s") when the round counts.
measured() {
  local side=$1 kind=$2 cmd=$3 t0 k0 c0 rc=0 first=- startup=- ready
  q "TRUNCATE TABLE sensor_metrics" >/dev/null
  rm -f "$work/first"
  k0=$(cpu_of "$kafka_pid") c0=$(cpu_of "$CH_PID")
  t0=$(date +%s.%N)
  watch_first_row "$work/first" &
  watch_pid=$!
  "$py" "$here/scripts/bench/seed_spark/treestat.py" "$work/stat" -- sh -c "$cmd" 2>"$BENCH_DIR/err" || rc=$?
  # the rows are in when the run ends: the watcher's next poll sees them
  for _ in $(seq 40); do [ -f "$work/first" ] && break; sleep 0.05; done
  kill "$watch_pid" 2>/dev/null || true
  wait "$watch_pid" 2>/dev/null || true
  watch_pid=
  if [ $rc -ne 0 ]; then
    local why
    why="exit $rc: $(tail -n 5 "$BENCH_DIR/err" | tr '\n' ' ')"
    [ "$side" = spark ] && why="exit $rc: $(grep -E 'ERROR|Error|error' "$work/spark.log" | tail -n 3 | tr '\n' ' ')"
    if [ "$kind" = ours ]; then _bench_ours_failed "$side (our tool) failed: $why"; fi
    bench_broken "$side" "failed: $why"
    return 1
  fi
  [ -f "$work/first" ] && first=$(awk -v a="$t0" -v b="$(cat "$work/first")" 'BEGIN { printf "%.2f", b - a }')
  if [ "$side" = spark ]; then
    ready=$(sed -n 's/.*session ready: .*ready_epoch=\([0-9.]*\).*/\1/p' "$work/spark.log")
    [ -n "$ready" ] && startup=$(awk -v a="$t0" -v b="$ready" 'BEGIN { printf "%.2f", b - a }')
  fi
  declare -A f=()
  local kv
  for kv in $(cat "$work/stat"); do f[${kv%%=*}]=${kv#*=}; done
  [ "$BENCH_ROUND" -ge 1 ] || return 0
  echo "$BENCH_ROUND ${f[wall_s]} ${f[max_rss_kb]} ${f[cpu_s]}" >>"$BENCH_DIR/$side"
  echo "$BENCH_ROUND ${f[sum_rss_kb]} $first $startup $(awk -v a="$k0" -v b="$(cpu_of "$kafka_pid")" -v h="$hz" \
    'BEGIN { printf "%.2f", (b - a) / h }') $(awk -v a="$c0" -v b="$(cpu_of "$CH_PID")" -v h="$hz" \
    'BEGIN { printf "%.2f", (b - a) / h }')" >>"$BENCH_DIR/$side.more"
}
same_rows() { "$here/scripts/bench/seed_spark/same_rows.sh" sensor_metrics expected 2>&1 | tail -n 4 | paste -sd ' '; }

side_spark() {
  bench_is_broken spark && return 0
  rm -rf "$work/ckpt"
  measured spark ref "$(spark_cmd "$work/ckpt" "$work/spark.log")" || return 0
  bench_check_ref spark "the seed's Spark job: rows" "$(rows sensor_metrics)" "$n" || return 0
  bench_check_ref spark "the seed's Spark job: rows equal to the pipeline's" "$(same_rows)" "same rows: $n" || true
}
side_deployed() {
  measured deployed ours "$(deployed_cmd "spark$BENCH_RUN")"
  bench_check_ours "deployed pipeline: rows" "$(rows sensor_metrics)" "$n"
}
side_plain() {
  measured plain ours "$(plain_cmd sensor_metrics)"
  bench_check_ours "plain pipeline: rows" "$(rows sensor_metrics)" "$n"
  bench_check_ours "plain pipeline: rows equal to the reference load" "$(same_rows)" "same rows: $n"
}
bench_rounds side_spark side_deployed side_plain

# medians of the side's columns: timings (2 wall, 3 max RSS, 4 CPU) and SIDE.more (2 sum RSS, 3 first row,
# 4 start-up, 5 broker CPU, 6 ClickHouse CPU)
med() { bench_median "$@"; }
mib() { [ "$1" = - ] && echo - || awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
printf "the seed's Spark job vs the pipeline: %d messages, Apache Kafka %s (1 broker, 16 partitions), %d CPUs,\n" \
  "$n" "$KAFKA_VERSION" "$(nproc)"
printf 'pyspark %s local[2]\n' "$SPARK_VERSION"
printf '%-44s %7s %7s %9s %9s %9s %9s %8s %8s\n' side wall_s cpu_s max_rss sum_rss first_row startup broker_s \
  ch_cpu_s
for s in spark deployed plain; do
  case $s in
    spark) what="spark: the seed's job (availableNow)" ;;
    deployed) what="deployed: -G --envelope --commit-acks" ;;
    plain) what="plain: -e | sensor-parse | ch-insert" ;;
  esac
  if bench_is_broken "$s"; then
    printf '%-44s %s\n' "$what" "skipped: $(cut -d' ' -f2- "$BENCH_DIR/$s.broken")"
    continue
  fi
  printf '%-44s %7s %7s %8sM %8sM %9s %9s %8s %8s\n' "$what" "$(med "$s" 2)" "$(med "$s" 4)" "$(mib "$(med "$s" 3)")" \
    "$(mib "$(med "$s.more" 2)")" "$(med "$s.more" 3)" "$(med "$s.more" 4)" "$(med "$s.more" 5)" "$(med "$s.more" 6)"
done
echo "(medians; cpu_s: user+sys of the whole process tree, JVM included; max_rss: the largest process, sum_rss: the"
echo " peak of all together (sampled); first_row and startup: seconds from the start; broker_s and ch_cpu_s: the"
echo " broker's and ClickHouse's CPU seconds during the run, not in cpu_s)"
bench_about
bench_result seed_spark-deployed-pipeline-vs-spark deployed spark
bench_result seed_spark-plain-pipeline-vs-spark plain spark
