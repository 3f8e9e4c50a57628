#!/usr/bin/env bash
# Where the time goes (issue 25; a benchmark, not a test): N seed messages (BENCH_MESSAGES) on a real
# Kafka broker (16 partitions) into a real ClickHouse (and MinIO), the pipelines as scripts/bench/e2e.sh
# runs them, each stage under /usr/bin/time (user+sys CPU seconds), the broker's, ClickHouse's and
# MinIO's CPU from /proc/PID/stat before and after, and the idle waits:
#   join      from the start to kafka-cat-sensor's "assigned N partitions" (-v, stamped as it comes)
#   ack lag   from its "waiting ... for the last acknowledgements" (the input's end) to the last ack
#             line ch-insert wrote (stamped by a relay between ch-insert and the acks FIFO)
#   batch timer: the acked pipeline with --batch-seconds 0.1 beside the default 1 s
# Sides: plain (-e | sensor-parse | ch-insert), acked (group, envelopes, acks FIFO), archived (the same
# with s3-put --tee --zstd --level 1 --acks: README's deployed block with -e), each with JSONEachRow
# between sensor-parse and ch-insert (the default; the deployed block before issue 25) and with
# --format tsv (the change measured: both carry the coordinates in TSV; the deployed block now). Timed as every row is (lib.sh: warm-up, sides in turn, medians). The implied floor: the sum of
# every process's CPU over the machine's cores.
# Then ClickHouse's own CPU per row format for the same N rows: ch-insert from files sensor-parse made
# (json, tsv, csv), and the raw bodies POSTed by curl (uncompressed: the server's parse alone), with
# RowBinary made by ClickHouse itself (SELECT ... FORMAT RowBinary) to show what a binary format saves.
# Every pipeline run also has a utilisation timeline (timeline.py: each process sampled every 20 ms;
# per phase, start / steady / end, the wall and the cores each process kept busy, and the first bytes
# out of each stage, the first INSERT, the last INSERT's duration). PROFILE_SIDES="plain_tsv
# archived_tsv" runs only those sides; PROFILE_FORMATS=no leaves out the per-format section.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/scripts/bench/lib.sh"
n=$BENCH_MESSAGES
bin=${BIN_DIR:-$here/build/bin}
export PATH="$bin:$PATH"
for t in kafka-cat-sensor sensor-parse ch-insert s3-put s3-cat sensor-gen; do bench_need_ours "$bin/$t"; done
bench_need_ref /usr/bin/aws /usr/bin/time curl
[ "${BASH_VERSINFO[0]}" -ge 5 ] || bench_skip "bash 5 is needed (EPOCHREALTIME)"
work=$(mktemp -d /tmp/sp-bench-profile.XXXXXX)
cleanup() {
  bench_stop_servers "$work"
  rm -rf "$work"
}
trap cleanup EXIT
bench_init "$work"
bench_ch_s3 "$work"
bench_kafka "$work"
sensor-gen -c "$n" --seed 3 --sensors 1000 | kafka-cat-sensor -q -P -b "$B" -t sensor_metrics --key-field value.sensor_id

# the servers' processes (the broker: the JVM that setsid started; MinIO: its pid file)
pid_broker=$(cat "$work/kafka/node1/pid")
[ "$(cat /proc/"$pid_broker"/comm 2>/dev/null)" = java ] || pid_broker=$(cat /proc/"$pid_broker"/task/*/children | awk '{ print $1 }')
pid_minio=$(cat "$work/s3/run/minio.pid")
[ "$(cat /proc/"$pid_minio"/comm 2>/dev/null)" = minio ] ||
  pid_minio=$(for c in $(cat /proc/"$pid_minio"/task/*/children); do [ "$(cat /proc/"$c"/comm)" = minio ] && echo "$c"; done | head -1)
hz=$(getconf CLK_TCK)
# cpu PID: the process's user+sys CPU seconds so far
cpu() { sed 's/.*) //' /proc/"$1"/stat | awk -v hz="$hz" '{ printf "%.3f\n", ($12 + $13) / hz }'; }
servers_cpu() { echo "$(cpu "$pid_broker") $(cpu "$CH_PID") $(cpu "$pid_minio")"; }

q() { curl -sS -H "X-ClickHouse-User: $CH_USER" -H "X-ClickHouse-Key: $CH_PASSWORD" "$CH_URL/" --data-binary "$1"; }
for t in plain_metrics acked_metrics fmt_metrics; do ch-insert -q --create-table --table $t </dev/null >/dev/null; done
bench_server_ok() { [ "$(q 'SELECT 1')" = 1 ] && /usr/bin/aws --endpoint-url "$S3_ENDPOINT" s3 ls s3://raw/ >/dev/null; }
rows() { q "SELECT count() FROM $1"; }
mkfifo "$work/acks" "$work/s3acks"
# $T FILE CMD...: CMD's user+sys CPU seconds to FILE, from bash's `times` in a small script whose only
# child is CMD. Not /usr/bin/time, nor a shell function: either keeps a copy of CMD's stdout open until
# CMD has exited, so kafka-cat-sensor's closing of its output at the end of input (the last batch sent,
# the archive's object stored; then it waits for their acks) would not reach the next stage, which
# would wait for its timers instead (ch-insert's --batch-seconds; s3-put's --rotate-seconds: then the
# 30 s of --ack-timeout). The script drops its own stdout once CMD runs and is run as a plain command
# of the pipe (exec'd, no shell in between); stdin is handed on explicitly ("&" would give /dev/null).
T=$work/tcpu
cat >"$T" <<'EOF'
#!/usr/bin/env bash
out=$1; shift
exec 3<&0
"$@" <&3 3<&- &
echo $! >"$out.pid"   # for the timeline's sampler
exec >/dev/null 3<&-
rc=0; wait $! || rc=$?
times >"$out.times"   # (not in a pipe: there a subshell would report no children)
tail -n 1 "$out.times" | awk '{ for (i = 1; i <= 2; i++) { split($i, p, /m/); s += p[1] * 60 + p[2] } printf "%.2f\n", s }' >"$out"
exit $rc
EOF
chmod +x "$T"
# stamp FILE: stdin's lines to FILE, each after the time it arrived. Run as 2> >(stamp F), it inherits the
# stage's stdout (the pipe to the next stage): exec drops that copy, or the next stage would see the end
# of its input only when stamp ends.
stamp() { local l; exec >"$1"; while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done; }
# ackrelay: ch-insert's ack lines on to the FIFO, the time of each to $work/ack.times
ackrelay() { local l; while IFS= read -r l; do printf '%s\n' "$l"; echo "$EPOCHREALTIME" >>"$work/ack.times"; done; }

plain_run() {
  "$T" "$work/cpu.kc" kafka-cat-sensor -q -b "$B" -t sensor_metrics -e | "$T" "$work/cpu.sp" sensor-parse -q "${fmt[@]}" |
    "$T" "$work/cpu.ch" ch-insert -v --table plain_metrics --no-acks "${fmt[@]}" 2> >(stamp "$work/ch.log")
}
acked_run() {
  "$T" "$work/cpu.kc" kafka-cat-sensor -v -b "$B" -t sensor_metrics -G "$g" -e --envelope --commit-acks "$work/acks" 2> >(stamp "$work/kc.log") |
    "$T" "$work/cpu.sp" sensor-parse -q "${fmt[@]}" | "$T" "$work/cpu.ch" ch-insert -v --table acked_metrics "${fmt[@]}" "${bs[@]}" 2> >(stamp "$work/ch.log") | ackrelay >"$work/acks"
}
archived_run() {
  "$T" "$work/cpu.kc" kafka-cat-sensor -v -b "$B" -t sensor_metrics -G "$g" -e --envelope --commit-acks "$work/acks" \
      --commit-acks "$work/s3acks" 2> >(stamp "$work/kc.log") |
    "$T" "$work/cpu.s3" s3-put -q --tee --zstd --level 1 --rotate-seconds 60 --acks "$work/s3acks" \
      "s3://raw/$g/%Y/%m/%d/%H%M%S-{host}-{run}-{seq}.jsonl" |
    "$T" "$work/cpu.sp" sensor-parse -q "${fmt[@]}" | "$T" "$work/cpu.ch" ch-insert -v --table acked_metrics "${fmt[@]}" "${bs[@]}" 2> >(stamp "$work/ch.log") | ackrelay >"$work/acks"
}
# run SIDE KIND FORMAT [BATCH_SECONDS]: one run of KIND_run (plain, acked, archived) with ch-insert's and
# sensor-parse's --format; its figures appended to $BENCH_DIR/prof.SIDE (counted rounds only):
#   wall kc s3 sp ch broker clickhouse minio join ack_lag
run() {
  local side=$1 kind=$2 fmt=(--format "$3") bs=(--batch-seconds "${4:-1}") g=$1$BENCH_RUN table=acked_metrics
  local s0 s1 t0 t1 st f cpus=() join=- lag=- tend tlast
  [ "$kind" = plain ] && table=plain_metrics
  q "TRUNCATE TABLE $table" >/dev/null
  rm -f "$work"/cpu.* "$work/ack.times" "$work/kc.log" "$work/ch.log"
  # the timeline: every process sampled through the run (timeline.py)
  local stages=(kc=@"$work/cpu.kc.pid" sp=@"$work/cpu.sp.pid" ch=@"$work/cpu.ch.pid") sampler
  [ "$kind" = archived ] && stages+=(s3=@"$work/cpu.s3.pid" minio="$pid_minio")
  python3 "$here/scripts/bench/timeline.py" sample "$work/tl.samples" "${stages[@]}" broker="$pid_broker" \
    clickhouse="$CH_PID" &
  sampler=$!
  for _ in $(seq 200); do [ -e "$work/tl.samples.ready" ] && break; sleep 0.05; done
  rm -f "$work/tl.samples.ready"
  s0=$(servers_cpu) t0=$EPOCHREALTIME
  bench_ours "$side" "${kind}_run"
  t1=$EPOCHREALTIME s1=$(servers_cpu)
  kill -TERM "$sampler"
  wait "$sampler" || true
  bench_check_ours "$side: rows" "$(rows "$table")" "$n"
  [ "$kind" = archived ] &&
    bench_check_ours "$side: lines in the archive" "$(s3-cat -q --prefix "s3://raw/$g/" | wc -l)" "$n"
  [ "$BENCH_ROUND" -ge 1 ] || return 0
  # the stamping readers may still be writing ch-insert's last lines
  for _ in $(seq 20); do grep -q 'info: .* rows' "$work/ch.log" 2>/dev/null && break; sleep 0.1; done
  for st in kc s3 sp ch; do
    f=$work/cpu.$st
    if [ -s "$f" ]; then cpus+=("$(cat "$f")"); else cpus+=(-); fi
  done
  if [ "$kind" != plain ]; then
    # the stamping reader may still be writing its last lines
    for _ in $(seq 20); do grep -q 'info: [0-9]* messages' "$work/kc.log" 2>/dev/null && break; sleep 0.1; done
    join=$(awk -v t0="$t0" '/assigned [0-9]+ partitions/ { printf "%.2f", $1 - t0; exit }' "$work/kc.log")
    tend=$(awk '/waiting up to .* for the last acknowledgements/ { print $1; exit }' "$work/kc.log")
    tlast=$(tail -n 1 "$work/ack.times" 2>/dev/null)
    [ -n "$tend" ] && [ -n "$tlast" ] && lag=$(awk -v a="$tend" -v b="$tlast" 'BEGIN { printf "%.2f", b - a }')
  fi
  read -r b0 c0 m0 <<<"$s0"
  read -r b1 c1 m1 <<<"$s1"
  echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') ${cpus[*]}" \
    "$(awk -v a="$b0" -v b="$b1" -v c="$c0" -v d="$c1" -v e="$m0" -v f="$m1" 'BEGIN { printf "%.2f %.2f %.2f", b - a, d - c, f - e }')" \
    "${join:--} $lag" >>"$BENCH_DIR/prof.$side"
  python3 "$here/scripts/bench/timeline.py" analyse "$work/tl.samples" "$t0" "$t1" "$work/ch.log" "$work/kc.log" \
    "$BENCH_DIR/tl.$side" "$BENCH_DIR/bins.$side"
}
side_plain() { run plain plain json; }
side_plain_tsv() { run plain_tsv plain tsv; }
side_acked() { run acked acked json; }
side_acked_tsv() { run acked_tsv acked tsv; }
side_acked_b01() { run acked_b01 acked json 0.1; }
side_archived() { run archived archived json; }
side_archived_tsv() { run archived_tsv archived tsv; }
# PROFILE_SIDES: the sides to run (default all of them; e.g. "plain_tsv archived_tsv")
sides=(${PROFILE_SIDES:-plain acked archived plain_tsv acked_tsv archived_tsv acked_b01})
bench_rounds "${sides[@]/#/side_}"

# the median of every column of prof.SIDE
medians() {
  awk '{ for (i = 1; i <= NF; i++) v[i, NR] = $i; nf = NF } END {
    for (i = 1; i <= nf; i++) {
      m = 0; for (r = 1; r <= NR; r++) if (v[i, r] != "-") a[++m] = v[i, r] + 0
      for (x = 2; x <= m; x++) { t = a[x]; for (y = x - 1; y >= 1 && a[y] > t; y--) a[y + 1] = a[y]; a[y + 1] = t }
      if (m == 0) out = "-"; else out = (m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2)
      printf "%s%s", (i > 1 ? " " : ""), out
    }
    print ""
  }' "$BENCH_DIR/prof.$1"
}
echo "where the time goes: $n messages, Apache Kafka $KAFKA_VERSION (1 broker, 16 partitions), ClickHouse, MinIO, $(nproc) CPUs"
echo "(medians of $BENCH_PAIRS runs after $BENCH_WARMUP warm-up round(s); CPU = user+sys seconds; the machine is shared: noisy)"
printf '| %-34s | %5s | %5s | %6s | %5s | %5s | %6s | %5s | %5s | %5s | %6s | %5s | %7s |\n' \
  pipeline wall kcs s3-put parse ch-ins broker CH MinIO sum floor join ack_lag
for side in plain plain_tsv acked acked_tsv acked_b01 archived archived_tsv; do
  [ -s "$BENCH_DIR/prof.$side" ] || continue
  read -r wall kc s3 sp ch br chs mi join lag < <(medians "$side")
  case $side in
    plain) what="plain: -e | parse | ch-insert" ;; plain_tsv) what="plain, --format tsv" ;;
    acked) what="acked: -G --envelope --commit-acks" ;; acked_tsv) what="acked, --format tsv" ;;
    acked_b01) what="acked, ch-insert --batch-seconds 0.1" ;;
    archived) what="deployed, JSONEachRow (before)" ;; archived_tsv) what="deployed, --format tsv (README)" ;;
  esac
  [ "$s3" = - ] && mi=-
  sum=$(awk -v a="$kc" -v b="$s3" -v c="$sp" -v d="$ch" -v e="$br" -v f="$chs" -v g="$mi" 'BEGIN { printf "%.2f", a + b + c + d + e + f + g }')
  printf '| %-34s | %5s | %5s | %6s | %5s | %5s | %6s | %5s | %5s | %5s | %6s | %5s | %7s |\n' "$what" "$wall" "$kc" "$s3" \
    "$sp" "$ch" "$br" "$chs" "$mi" "$sum" "$(awk -v s="$sum" -v c="$(nproc)" 'BEGIN { printf "%.2f", s / c }')" "$join" "$lag"
done
echo "(floor = sum / $(nproc) cores: the wall time if every CPU second ran in parallel; join = start to the group's"
echo " assignment; ack_lag = the input's end to the last ack ch-insert wrote; the broker's and MinIO's CPU include"
echo " their idle housekeeping over the wall time)"
bench_about
bench_result profile-plain-tsv-vs-json plain_tsv plain -
bench_result profile-acked-tsv-vs-json acked_tsv acked -
bench_result profile-deployed-tsv-vs-json archived_tsv archived -
bench_result profile-acked-batch-0.1s-vs-1s acked_b01 acked -
for side in "${sides[@]}"; do
  [ -s "$BENCH_DIR/tl.$side" ] || continue
  python3 "$here/scripts/bench/timeline.py" report "$BENCH_DIR/tl.$side" "$BENCH_DIR/bins.$side" "$side"
done
# PROFILE_FORMATS=no: the pipelines only, not ClickHouse's CPU per row format
[ "${PROFILE_FORMATS:-yes}" = no ] && exit 0

# ClickHouse's CPU per row format: the same N rows from files, in ch-insert (gzip'd, as shipped) and
# raw through curl; RowBinary made by the server from the loaded rows.
kafka-cat-sensor -q -b "$B" -t sensor_metrics -e >"$work/raw.jsonl"
for f in json tsv csv; do sensor-parse -q -f "$f" <"$work/raw.jsonl" >"$work/rows.$f"; done
rm -f "$work/raw.jsonl"
q "TRUNCATE TABLE fmt_metrics" >/dev/null
# RowBinary in the rows' own order (a Log table keeps it; read back from fmt_metrics it came sorted by
# the table's key, which spared the server the sort every other body pays: 0.39 CPU-s, not a parse figure)
q "DROP TABLE IF EXISTS fmt_order" >/dev/null
q "CREATE TABLE fmt_order AS fmt_metrics ENGINE = Log" >/dev/null
ch-insert -q --no-acks --parallel 1 --table fmt_order <"$work/rows.json"
q "SELECT * FROM fmt_order FORMAT RowBinary" >"$work/rows.rowbinary"
declare -A chfmt=([json]=JSONEachRow [tsv]=TabSeparated [csv]=CSV [rowbinary]=RowBinary)
# fmt_run HOW FORMAT: one insert; "ch-insert's CPU, ClickHouse's CPU" appended to $BENCH_DIR/fmt.HOW.FORMAT
fmt_run() {
  local how=$1 f=$2 c0 c1 own=-
  q "TRUNCATE TABLE fmt_metrics" >/dev/null
  c0=$(cpu "$CH_PID")
  if [ "$how" = ch-insert ]; then
    # tsv: sent as text (ch-insert's default); tsv-rowbinary: the same rows re-encoded (--send-rowbinary)
    local args=(--format "$f") file=$f
    [ "$f" = tsv-rowbinary ] && args=(--format tsv --send-rowbinary) file=tsv
    "$T" "$work/cpu.fi" ch-insert -q --no-acks --table fmt_metrics "${args[@]}" <"$work/rows.$file" || bench_fail "ch-insert ${args[*]} failed"
    own=$(cat "$work/cpu.fi")
  else
    curl -sS --fail -H "X-ClickHouse-User: $CH_USER" -H "X-ClickHouse-Key: $CH_PASSWORD" --data-binary @"$work/rows.$f" \
      "$CH_URL/?date_time_input_format=best_effort&query=INSERT%20INTO%20fmt_metrics%20FORMAT%20${chfmt[$f]}" >"$work/curl.out" 2>&1 ||
      bench_skip "ClickHouse refused a $f body from curl: $(head -c 300 "$work/curl.out")"
  fi
  c1=$(cpu "$CH_PID")
  bench_check_ours "$how $f: rows" "$(rows fmt_metrics)" "$n"
  [ "$BENCH_ROUND" -ge 1 ] && echo "$BENCH_ROUND $(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.3f", b - a }') - $own" \
    >>"$BENCH_DIR/fmt.$how.$f"
  return 0
}
side_fmt() { local f; for f in json tsv tsv-rowbinary csv; do fmt_run ch-insert "$f"; done; for f in json tsv csv rowbinary; do fmt_run curl "$f"; done; }
bench_rounds side_fmt
echo "ClickHouse's CPU per row format, $n rows (median of $BENCH_PAIRS; CPU seconds of clickhouse-server per insert)"
printf '%-10s %10s %16s %14s %13s\n' format body_MiB "CH via ch-insert" "ch-insert CPU" "CH via curl"
for f in json tsv tsv-rowbinary csv rowbinary; do
  printf '%-10s %10s %16s %14s %13s\n' "$f" "$(awk -v b="$(stat -c %s "$work/rows.${f%-rowbinary}")" 'BEGIN { printf "%.1f", b / 1048576 }')" \
    "$(bench_median "fmt.ch-insert.$f")" "$(bench_median "fmt.ch-insert.$f" 4)" "$(bench_median "fmt.curl.$f")"
done
echo "(via ch-insert: gzip'd batches of 100000 rows, as shipped; tsv-rowbinary: the tsv rows with --send-rowbinary,"
echo " re-encoded; via curl: the raw file in one POST, the parse alone; rowbinary: made by ClickHouse itself,"
echo " in the rows' order)"
for f in tsv csv rowbinary; do bench_result "profile-clickhouse-cpu-$f-vs-json" "fmt.curl.$f" fmt.curl.json -; done
bench_result profile-clickhouse-cpu-tsv-rowbinary-vs-text fmt.ch-insert.tsv-rowbinary fmt.ch-insert.tsv -
