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
start_swift
aws_ref s3 mb s3://raw >/dev/null

mkfifo put.in
{ rc=0; stage put s3-put --parallel 4 's3://raw/sig/{run}-{seq}.jsonl' <put.in 2>put.err || rc=$?; echo $rc >put.rc; } &
exec 3>put.in
printf '{"n":%d}\n' $(seq 1 100) >&3
wait_until 20 test -s put.pid || fail "s3-put did not start"
pid=$(cat put.pid)
wait_until 20 bash -c "[ \$(ls /proc/$pid/task | wc -l) -gt 4 ]" || fail "s3-put started no upload threads: $(ls /proc/$pid/task)"
assert_eq "$(stop_signal_takers "$pid")" "" "s3-put helper threads that take SIGINT/SIGTERM"
kill -TERM "$pid"
wait_until 60 test -e put.rc || fail "s3-put did not stop on SIGTERM with its input still open ($(tail -3 put.err))"
exec 3>&-
assert_eq "$(cat put.rc)" 0 "s3-put's exit status after SIGTERM ($(tail -3 put.err))"
assert_eq "$(s3-cat --prefix s3://raw/sig/ | wc -l)" 100 "lines stored before the stop"
pass "s3-put: only the main thread takes SIGTERM, and it stores what it read"

# ch-insert: its sender threads (--parallel) must leave SIGTERM to the main thread reading stdin
start_clickhouse
mkfifo ch.in
sensor-gen -c 100 --seed 7 | sensor-parse >rows.jsonl 2>/dev/null
{ rc=0; stage ins ch-insert --url "$CH_URL" --table sensor_metrics --create-table --parallel 3 --batch-seconds 1 \
    <ch.in >/dev/null 2>ins.err || rc=$?; echo $rc >ins.rc; } &
exec 4>ch.in
cat rows.jsonl >&4
wait_until 20 test -s ins.pid || fail "ch-insert did not start"
pid=$(cat ins.pid)
wait_until 30 bash -c "[ \$(ls /proc/$pid/task | wc -l) -gt 3 ]" || fail "ch-insert started no sender threads: $(ls /proc/$pid/task)"
assert_eq "$(stop_signal_takers "$pid")" "" "ch-insert helper threads that take SIGINT/SIGTERM"
kill -TERM "$pid"
wait_until 60 test -e ins.rc || fail "ch-insert did not stop on SIGTERM with its input still open ($(tail -3 ins.err))"
exec 4>&-
assert_eq "$(cat ins.rc)" 130 "ch-insert's exit status after SIGTERM, what was read sent first ($(tail -3 ins.err))"
assert_eq "$(q 'SELECT count() FROM sensor_metrics FINAL')" 100 "rows stored before the stop"
pass "ch-insert: only the main thread takes SIGTERM, and it stores what it read"
