# Shared by every scripts/bench/*.sh (sourced): the one home of how a benchmark row is timed.
#
# A section names its sides (one shell function each: set-up untimed, then one timed run through
# bench_ours or bench_ref, then its correctness checks) and calls `bench_rounds SIDE...`:
#   - BENCH_WARMUP rounds (default 1) run every side once and are not counted: a fresh broker's JVM,
#     ClickHouse's caches or Swift's workers are warmed on the same kind of work as the timed runs;
#   - then BENCH_PAIRS rounds (default 5), every side once per round, the order turning each round
#     (two sides alternate), so that a busy neighbour or a warming server hurts both sides alike.
# `bench_result NAME OURS REF` then prints one line per row:
#   RESULT NAME ours=<median s>s ref=<median s>s ratio=<median of per-pair ratios> spread=<min>-<max> rss_mb=<peak> pairs=<n>
# where a pair is OURS's and REF's runs of the same round, and the spread is the min-max of their ratio.
#
# Failures: our tool failing or giving a wrong result (bench_ours, bench_check_ours) ends the section with
# exit 1 ("our tool is broken"), unless the section's bench_server_ok finds its server broken. A reference
# tool that fails or gives a wrong result (bench_ref, bench_check_ref) is marked broken: its other runs
# are skipped and its rows print
#   SKIPPED NAME: <why>
# A section that cannot measure at all (a server that does not start, a reference tool not installed)
# calls bench_skip: `SKIPPED <section>: <why>` and exit 3, which scripts/bench.sh reports as skipped.
#
# Knobs (environment): BENCH_PAIRS, BENCH_WARMUP, BENCH_MESSAGES (messages/rows per run, default 1000000:
# the short form of tests/integration/bench_short_test.sh uses a few thousand).
BENCH_PAIRS=${BENCH_PAIRS:-5}
BENCH_WARMUP=${BENCH_WARMUP:-1}
BENCH_MESSAGES=${BENCH_MESSAGES:-1000000}
BENCH_SECTION=${BENCH_SECTION:-$(basename "$0" .sh)}
BENCH_ROUND=0  # runs outside bench_rounds are not counted
[[ $BENCH_PAIRS =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCH_PAIRS must be 1 or more, not '$BENCH_PAIRS'" >&2; exit 2; }
[[ $BENCH_WARMUP =~ ^[0-9]+$ ]] || { echo "bench: BENCH_WARMUP must be 0 or more, not '$BENCH_WARMUP'" >&2; exit 2; }
[[ $BENCH_MESSAGES =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCH_MESSAGES must be 1 or more" >&2; exit 2; }

# bench_init DIR: where the timings go (a directory the section removes on exit)
BENCH_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)  # the source tree
bench_init() { BENCH_DIR=$1/timings; mkdir -p "$BENCH_DIR"; }

# bench_skip REASON: this section cannot measure here (not a failure of our tools)
bench_skip() { echo "SKIPPED $BENCH_SECTION: $*"; exit 3; }

# bench_fail MESSAGE: our tool is broken; ends the section
bench_fail() { echo "FAILED $BENCH_SECTION: $*" >&2; exit 1; }

# _bench_ours_failed MESSAGE: our tool failed or was wrong. A section may define bench_server_ok (its
# servers still answer a reference client correctly); when that fails too, the server is what broke (seen:
# a parallel Swift that took over a port) and the section is skipped, not failed.
_bench_ours_failed() {
  if declare -F bench_server_ok >/dev/null && ! bench_server_ok >"$BENCH_DIR/server.err" 2>&1; then
    bench_skip "the server stopped answering correctly ($(tail -n 2 "$BENCH_DIR/server.err" | tr '\n' ' ')); our tool's failure: $*"
  fi
  bench_fail "$@"
}

# bench_need_ref TOOL...: skip the section when a reference tool is not installed
bench_need_ref() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || bench_skip "reference tool '$t' is not installed (scripts/install-deps.sh installs it)"
  done
}

# bench_need_ours FILE...: our binaries must be built (a missing one is a failure, not a skip)
bench_need_ours() {
  local t
  for t in "$@"; do [ -x "$t" ] || bench_fail "$t is not built (make build)"; done
}

# bench_start WHAT CMD...: runs a server's start script and evals what it prints (its VAR=value lines);
# a server that does not start skips the section with the script's last words
bench_start() {
  local what=$1 out; shift
  out=$("$@" 2>"$BENCH_DIR/start.err") ||
    bench_skip "$what did not start: $(tail -n 3 "$BENCH_DIR/start.err" | tr '\n' ' ')"
  eval "$out"
}

# bench_ch_s3 WORK [S3_SCRIPT]: ClickHouse and an S3 server (scripts/minio.sh unless given) in WORK/ch and
# WORK/s3, the tools' connection variables exported, the bucket raw made. bench_kafka WORK: a real broker
# in WORK/kafka with the topic sensor_metrics (16 partitions); sets B. bench_stop_servers WORK [S3_SCRIPT]
# stops what they started (for the section's EXIT trap).
bench_ch_s3() {
  local s3=${2:-$BENCH_HERE/scripts/minio.sh}
  bench_start "clickhouse-server" "$BENCH_HERE/scripts/clickhouse.sh" start "$1/ch"
  export CLICKHOUSE_URL=$CH_URL CLICKHOUSE_USER=$CH_USER CLICKHOUSE_PASSWORD=$CH_PASSWORD
  bench_start "the S3 server (scripts/${s3##*/})" "$s3" start "$1/s3"
  export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY AWS_REGION=$S3_REGION AWS_ENDPOINT_URL=$S3_ENDPOINT
  /usr/bin/aws --endpoint-url "$S3_ENDPOINT" s3 mb s3://raw >/dev/null 2>"$1/mb.err" ||
    bench_skip "aws s3 mb failed: $(tail -n 2 "$1/mb.err")"
}
bench_kafka() {
  bench_start "the Kafka broker (scripts/kafka.sh)" "$BENCH_HERE/scripts/kafka.sh" start "$1/kafka" 1
  "$BENCH_HERE/scripts/kafka.sh" topic "$1/kafka" sensor_metrics 16 >/dev/null 2>"$1/topic.err" ||
    bench_skip "the broker did not create the topic: $(tail -n 2 "$1/topic.err")"
  B=$KAFKA_BOOTSTRAP
}
bench_stop_servers() {
  "$BENCH_HERE/scripts/kafka.sh" stop "$1/kafka" >/dev/null 2>&1 || true
  "$BENCH_HERE/scripts/clickhouse.sh" stop "$1/ch" >/dev/null 2>&1 || true
  "${2:-$BENCH_HERE/scripts/minio.sh}" stop "$1/s3" >/dev/null 2>&1 || true
}

# _bench_time SIDE CMD...: one run; CMD is a command or a shell function (functions run in this shell,
# without a peak RSS). Appends "round seconds rss_kb cpu_s" to $BENCH_DIR/SIDE when the round counts.
_bench_time() {
  # (names with a leading _: a function run here must not see them)
  local _side=$1 _s _e _rc=0 _rss=- _cpu=- _u _k; shift
  _s=$(date +%s.%N)
  if declare -F "$1" >/dev/null; then
    "$@" 2>"$BENCH_DIR/err" || _rc=$?
  else
    /usr/bin/time -f '%M %U %S' -o "$BENCH_DIR/rusage" "$@" 2>"$BENCH_DIR/err" || _rc=$?
  fi
  _e=$(date +%s.%N)
  [ $_rc -eq 0 ] || return $_rc
  if ! declare -F "$1" >/dev/null; then
    read -r _rss _u _k <"$BENCH_DIR/rusage"
    _cpu=$(awk -v u="$_u" -v k="$_k" 'BEGIN { printf "%.2f", u + k }')
  fi
  [ "$BENCH_ROUND" -ge 1 ] &&
    awk -v r="$BENCH_ROUND" -v s="$_s" -v e="$_e" -v m="$_rss" -v c="$_cpu" 'BEGIN { printf "%d %.3f %s %s\n", r, e - s, m, c }' \
      >>"$BENCH_DIR/$_side"
  return 0
}

# bench_ours SIDE CMD...: one timed run of our tool; a failure ends the section
bench_ours() {
  local side=$1; shift
  _bench_time "$side" "$@" ||
    _bench_ours_failed "$side (our tool) failed: $(tail -n 5 "$BENCH_DIR/err" | tr '\n' ' ')"
}

# bench_ref SIDE CMD...: one timed run of a reference tool; a failure marks SIDE broken (its rows are
# skipped) and returns 1, so that the caller leaves out its checks. Returns 1 at once when already broken.
bench_ref() {
  local side=$1; shift
  [ -f "$BENCH_DIR/$side.broken" ] && return 1
  _bench_time "$side" "$@" && return 0
  bench_broken "$side" "failed: $(tail -n 3 "$BENCH_DIR/err" | tr '\n' ' ')"
  return 1
}
bench_broken() { local side=$1; shift; echo "$side $*" >"$BENCH_DIR/$side.broken"; echo "bench: $BENCH_SECTION: reference $side $*" >&2; }
bench_is_broken() { [ -f "$BENCH_DIR/$1.broken" ]; }

# bench_check_ours WHAT GOT WANT: a wrong result of our tool ends the section
bench_check_ours() { [ "$2" = "$3" ] || _bench_ours_failed "$1: got $2, want $3"; }
# bench_check_ref SIDE WHAT GOT WANT: a wrong result of a reference marks it broken (returns 1)
bench_check_ref() {
  [ "$3" = "$4" ] && return 0
  bench_broken "$1" "gave a wrong result: $2: got $3, want $4"
  return 1
}

# bench_rounds SIDE...: BENCH_WARMUP uncounted rounds, then BENCH_PAIRS counted ones, each calling every
# SIDE function once, the order turning every round. BENCH_ROUND is the counted round (<= 0 in warm-up)
# and BENCH_RUN a name unique to the round (for topics, groups, keys).
bench_rounds() {
  # (names with a leading _: the side functions run in this scope and must not see them)
  local _sides=("$@") _n=$# _r _k _total=$((BENCH_WARMUP + BENCH_PAIRS))
  for ((_r = 0; _r < _total; _r++)); do
    BENCH_ROUND=$((_r - BENCH_WARMUP + 1))
    BENCH_RUN=r$_r
    for ((_k = 0; _k < _n; _k++)); do "${_sides[(_k + _r) % _n]}"; done
  done
}

# bench_server_now: ClickHouse's user+sys CPU seconds (/proc/$CH_PID/stat) and its INSERT count so far
# (system.events; needs CH_URL, and CH_USER/CH_PASSWORD when set). bench_server_note SIDE BEFORE: in a
# counted round, appends "cpu_s inserts" since BEFORE (a bench_server_now) to $BENCH_DIR/server.SIDE;
# bench_server_median SIDE FIELD: the median of field 1 (CPU s) or 2 (INSERTs). Robust where wall time
# is not: on a loaded machine, and for a side that is a shell function (no rusage of its own).
bench_server_now() {
  local hz; hz=$(getconf CLK_TCK)
  echo "$(sed 's/.*) //' /proc/"$CH_PID"/stat | awk -v hz="$hz" '{ printf "%.3f", ($12 + $13) / hz }') \
$(curl -sS ${CH_USER:+-H "X-ClickHouse-User: $CH_USER"} ${CH_PASSWORD:+-H "X-ClickHouse-Key: $CH_PASSWORD"} "$CH_URL/" \
    --data-binary "SELECT value FROM system.events WHERE event = 'InsertQuery'")"
}
bench_server_note() {
  [ "$BENCH_ROUND" -ge 1 ] || return 0
  echo "$2 $(bench_server_now)" | awk '{ printf "%.3f %d\n", $3 - $1, $4 - $2 }' >>"$BENCH_DIR/server.$1"
}
bench_server_median() {
  cut -d' ' -f"$2" "$BENCH_DIR/server.$1" 2>/dev/null | sort -g |
    awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_median SIDE [FIELD]: the median of one column of SIDE's counted runs (2 = seconds, 4 = CPU s)
bench_median() {
  awk -v f="${2:-2}" '$f != "-" { print $f }' "$BENCH_DIR/$1" 2>/dev/null | sort -g |
    awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# bench_rss_mb SIDE: the peak RSS of SIDE over its counted runs, in MiB ("-" when not measured)
bench_rss_mb() {
  awk '$3 != "-" { if ($3 > m) m = $3; seen = 1 } END { if (seen) printf "%.1f", m / 1024; else print "-" }' "$BENCH_DIR/$1" 2>/dev/null || echo -
}

# bench_result NAME OURS REF [RSS_SIDE|-]: the row's RESULT line (or SKIPPED when REF is broken). RSS is
# OURS's peak unless another side (or "-") is named.
bench_result() {
  local name=$1 ours=$2 ref=$3 rss_side=${4:-$2}
  if bench_is_broken "$ref"; then
    echo "SKIPPED $name: reference $(cut -d' ' -f2- "$BENCH_DIR/$ref.broken")"
    return 0
  fi
  local rss=-
  [ "$rss_side" != - ] && rss=$(bench_rss_mb "$rss_side")
  # pairs: the rounds both sides ran (join on the round number)
  join <(sort -k1,1 "$BENCH_DIR/$ours") <(sort -k1,1 "$BENCH_DIR/$ref") | awk -v name="$name" -v rss="$rss" '
    function median(a, n,    i, j, t) {
      for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function fmt(x) { return x < 0.1 ? sprintf("%.3f", x) : sprintf("%.2f", x) }
    { n++; o[n] = $2; r[n] = $5; q[n] = $5 > 0 ? $2 / $5 : 0 }
    END {
      if (n == 0) { print "SKIPPED " name ": no pair of runs was measured"; exit }
      lo = q[1]; hi = q[1]
      for (i = 1; i <= n; i++) { if (q[i] < lo) lo = q[i]; if (q[i] > hi) hi = q[i] }
      printf "RESULT %s ours=%.2fs ref=%.2fs ratio=%s spread=%s-%s rss_mb=%s pairs=%d\n",
        name, median(o, n), median(r, n), fmt(median(q, n)), fmt(lo), fmt(hi), rss, n
    }'
}

# bench_scaled FULL: FULL scaled by BENCH_MESSAGES / 1M, at least 1 (sizes that are not message counts)
bench_scaled() { awk -v f="$1" -v n="$BENCH_MESSAGES" 'BEGIN { v = int(f * n / 1000000 + 0.5); print v < 1 ? 1 : v }'; }

# bench_about: one line saying how the rows below were measured
bench_about() { echo "(timed rows: median of $BENCH_PAIRS alternating pairs after $BENCH_WARMUP warm-up round(s); spread = min-max of the per-pair ratio)"; }

# The consume rows of both Kafka sections (the mock cluster's and the real broker's): our consumer and
# kcat read topic seed at $BS to its end, each run's output counted (wc -l, the same cheap reader on
# both sides). Uses the section's KCS, BS, tmp and N when a side runs.
side_consume_ours() {
  bench_ours consume_ours sh -c "'$KCS' -q -b '$BS' -t seed -e | wc -l >'$tmp/n'"
  bench_check_ours "kafka-cat-sensor -e: messages" "$(cat "$tmp/n")" "$N"
}
side_consume_kcat() {
  bench_ref consume_kcat sh -c "kcat -C -q -b '$BS' -t seed -e | wc -l >'$tmp/n'" || return 0
  bench_check_ref consume_kcat "kcat -C -e: messages" "$(cat "$tmp/n")" "$N" || true
}
