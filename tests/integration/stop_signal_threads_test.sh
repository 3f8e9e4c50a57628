#!/usr/bin/env bash
# Issue 30 item 7: SIGINT/SIGTERM must reach the main thread of every long-running stage. The tools stop
# on a signal because a blocking read in the main loop returns EINTR; a process-directed signal goes to
# any thread that does not block it, so a helper thread (s3-put's part uploaders, ch-insert's senders)
# that takes it leaves the main thread blocked in read(). Each stage runs on a held-open input, its
# threads' masks are read from /proc, then SIGTERM must end it cleanly with what it read stored.
# (kafka-cat-sensor's threads: kafka_consumer_exit_test.)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/s3_lib.sh"
source "$(dirname "$0")/ch_lib.sh"
cd "$TEST_TMP"
# stops_on_term NAME THREADS WANT_RC INPUT CMD...: runs CMD as stage NAME reading the lines of file
# INPUT through a FIFO held open, waits for more than THREADS threads, checks that none but the main
# one takes SIGINT/SIGTERM, sends SIGTERM, and checks that it ends with WANT_RC while its input is open.
stops_on_term() {
  local name=$1 threads=$2 want=$3 input=$4 pid
  shift 4
  mkfifo "$name.in"
  { rc=0; stage "$name" "$@" <"$name.in" >/dev/null 2>"$name.err" || rc=$?; echo $rc >"$name.rc"; } &
  exec 3>"$name.in"
  cat "$input" >&3
  wait_until 20 test -s "$name.pid" || fail "$1 did not start"
  pid=$(cat "$name.pid")
  wait_until 30 bash -c "[ \$(ls /proc/$pid/task | wc -l) -gt $threads ]" ||
    fail "$1 started no helper threads: $(ls /proc/$pid/task)"
  assert_eq "$(stop_signal_takers "$pid")" "" "$1 helper threads that take SIGINT/SIGTERM"
  kill -TERM "$pid"
  wait_until 60 test -e "$name.rc" || fail "$1 did not stop on SIGTERM with its input still open ($(tail -3 "$name.err"))"
  exec 3>&-
  assert_eq "$(cat "$name.rc")" "$want" "$1's exit status after SIGTERM ($(tail -3 "$name.err"))"
}

start_s3
aws_ref s3 mb s3://raw >/dev/null
printf '{"n":%d}\n' $(seq 1 100) >lines.jsonl
stops_on_term put 4 0 lines.jsonl s3-put --parallel 4 's3://raw/sig/{run}-{seq}.jsonl'
assert_eq "$(s3-cat --prefix s3://raw/sig/ | wc -l)" 100 "lines stored before the stop"
pass "s3-put: only the main thread takes SIGTERM, and it stores what it read"

# ch-insert: its sender threads (--parallel); exit 130 after SIGTERM, what was read sent first
start_clickhouse
sensor-gen -c 100 --seed 7 | sensor-parse >rows.jsonl 2>/dev/null
stops_on_term ins 3 130 rows.jsonl ch-insert --url "$CH_URL" --table sensor_metrics --create-table --parallel 3
assert_eq "$(q 'SELECT count() FROM sensor_metrics FINAL')" 100 "rows stored before the stop"
pass "ch-insert: only the main thread takes SIGTERM, and it stores what it read"
