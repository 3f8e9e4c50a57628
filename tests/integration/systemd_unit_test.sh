#!/usr/bin/env bash
# The shipped systemd unit (examples/sensor-pipeline.service, installed as sensor-pipeline@.service)
# runs as written: `systemd-analyze verify` finds nothing in it, and its ExecStartPre/ExecStart,
# taken from the file with systemd's escapes resolved (%i, %%, $$) and run the way systemd runs
# them (a clean environment with RUNTIME_DIRECTORY, STATE_DIRECTORY and the unit's Environment=,
# its own process group), move every message from a real Kafka broker into a real ClickHouse and a
# real S3 (Swift), reading only the config file. `systemctl stop` (SIGTERM to every process of the
# unit at once, KillMode=control-group) in the middle of a stream and at the end loses nothing, ends
# within TimeoutStopSec, and after the last stop every offset is committed: a restart re-reads
# nothing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pipeline_lib.sh"
source "$(dirname "$0")/s3_lib.sh"
UNIT=$SRC_DIR/examples/sensor-pipeline.service
cd "$TEST_TMP"
command -v systemd-analyze >/dev/null || fail "systemd-analyze missing (Debian package systemd)"

# the unit file itself, as the template it is installed as
mkdir unit && cp "$UNIT" unit/sensor-pipeline@.service
out=$(cd unit && systemd-analyze verify --man=no ./sensor-pipeline@1.service 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify complains: $out"
pass "systemd-analyze verify: the unit is clean"

start_servers 4
start_swift
aws_ref s3 mb s3://raw >/dev/null
N=40000
sensor-gen -c "$N" --bad-fraction 0.02 --seed 21 --sensors 40 | grep -v '^$' >msgs.jsonl
N=$(wc -l <msgs.jsonl)
sensor-parse --format tsv <msgs.jsonl 2>/dev/null | cut -f1 | sort >expected_ids
n_valid=$(wc -l <expected_ids)

# /etc/sensor-pipeline as an admin writes it: the config and the secret files beside it
mkdir etc && umask 077
printf '%s' "$CH_PASSWORD" >etc/clickhouse.password
printf '%s' "$S3_SECRET_KEY" >etc/s3.secret
cat >etc/config.ini <<EOF
[kafka]
brokers = $B
[clickhouse]
url = $CH_URL
user = $CH_USER
password_file = $TEST_TMP/etc/clickhouse.password
[s3]
endpoint = $S3_ENDPOINT
region = $S3_REGION
access_key_id = $S3_ACCESS_KEY
secret_access_key_file = $TEST_TMP/etc/s3.secret
EOF
umask 022

# an instance whose four metrics ports (91X%i) are free here
instance=
for i in 1 2 3 4 5 6 7 8 9 0; do
  python3 - "$i" <<'PY' && { instance=$i; break; }
import socket, sys
for p in (9100, 9110, 9120, 9130):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p + int(sys.argv[1])))
    except OSError:
        sys.exit(1)
    finally:
        s.close()
PY
done
[ -n "$instance" ] || fail "no instance with free ports 910i..913i"

# The unit's commands with systemd's escapes resolved: one argv per line, NUL-separated, and the
# Environment= assignments.
python3 - "$UNIT" "$instance" <<'PY' || fail "could not read the unit's commands"
import re, shlex, sys
text = open(sys.argv[1]).read().replace("\\\n", " ")  # a continued line joins with a space
inst = sys.argv[2]
keys = {}
for line in text.splitlines():
    m = re.match(r"^(ExecStartPre|ExecStart|Environment)=(.*)$", line)
    if m:
        keys.setdefault(m.group(1), []).append(m.group(2))
def resolve(s):  # specifiers: %i, %% (and nothing else is used); $$ is a literal $
    s = re.sub(r"%(.)", lambda m: {"i": inst, "%": "%"}[m.group(1)], s)
    return s.replace("$$", "$")
for k in ("ExecStartPre", "ExecStart"):
    assert len(keys.get(k, [])) == 1, f"want one {k}"
    with open(k + ".argv", "wb") as f:
        f.write(b"\0".join(a.encode() for a in shlex.split(resolve(keys[k][0]))))
with open("unit.env", "w") as f:
    for e in keys.get("Environment", []):
        f.write(resolve(e) + "\n")
PY
grep -qx 'SENSOR_PIPELINE_CONFIG=/etc/sensor-pipeline/config.ini' unit.env || fail "unit's Environment: $(cat unit.env)"
grep -q 'kafka-cat-sensor -G sensor-ingest' ExecStart.argv || fail "ExecStart: $(tr '\0' ' ' <ExecStart.argv)"
mkdir run state svc-home
# systemd's environment for the service: nothing of this shell's (no CLICKHOUSE_*/AWS_* variables)
unit_env=(env -i PATH="$PATH" HOME="$TEST_TMP/svc-home" LANG=C.UTF-8 RUNTIME_DIRECTORY="$TEST_TMP/run"
          STATE_DIRECTORY="$TEST_TMP/state" SENSOR_PIPELINE_CONFIG="$TEST_TMP/etc/config.ini")
mapfile -d '' pre <ExecStartPre.argv
mapfile -d '' start <ExecStart.argv

# start_unit: ExecStartPre, then ExecStart in its own process group (the unit's cgroup)
start_unit() {
  (cd / && "${unit_env[@]}" "${pre[@]}") || fail "ExecStartPre failed"
  [ -p run/acks ] && [ -p run/s3-acks ] || fail "ExecStartPre made no FIFOs: $(ls -l run)"
  (cd / && exec setsid "${unit_env[@]}" "${start[@]}") >>unit.out 2>>unit.log &
  unit=$!
}
# stop_unit: `systemctl stop`: SIGTERM to every process of the unit, then wait TimeoutStopSec (60)
stop_unit() {
  local t0=$SECONDS
  kill -TERM -- "-$unit" 2>/dev/null || true
  wait_until 60 bash -c "! pgrep -g $unit >/dev/null" || {
    tail -20 unit.log >&2
    kill -KILL -- "-$unit" 2>/dev/null
    fail "the unit's processes outlived TimeoutStopSec after SIGTERM: $(pgrep -a -g $unit)"
  }
  wait "$unit" 2>/dev/null || true
  echo "stopped in $((SECONDS - t0)) s"
}
rows() { q "SELECT count() FROM sensor_metrics FORMAT TSV" 2>/dev/null || echo 0; }
on_exit "kill -KILL -- -\${unit:-0} 2>/dev/null"

# run 1: a quarter is waiting, the rest is produced over about 6 s while the unit runs; the unit is
# stopped 3 s in, while messages flow
head -n $((N / 4)) msgs.jsonl | kafka-cat-sensor -P -b "$B" -t sensor_metrics --key-field value.sensor_id 2>/dev/null
tail -n +$((N / 4 + 1)) msgs.jsonl | python3 -c '
import sys, time
lines = sys.stdin.buffer.readlines()
for i in range(0, len(lines), len(lines) // 60):
    sys.stdout.buffer.write(b"".join(lines[i:i + len(lines) // 60])); sys.stdout.flush(); time.sleep(0.1)
' | kafka-cat-sensor -P -b "$B" -t sensor_metrics --key-field value.sensor_id 2>produce.log &
producer=$!
start_unit
sleep 3
echo "run 1: stopping with $(rows) rows in"
stop_unit
wait $producer || fail "produce failed: $(cat produce.log)"
# what the stages had not read when they stopped is read again next time; kafka-cat-sensor sees that
# the acknowledging stages exited instead of waiting out --ack-timeout (30 s) for acks that cannot come
if grep 'not fully acknowledged' unit.log | grep -v 'every stage that acknowledges has exited'; then
  fail "kafka-cat-sensor waited out --ack-timeout although the stages that acknowledge had exited"
fi
[ ! -s unit.out ] || fail "the unit wrote to stdout (the journal): $(head -3 unit.out)"

# run 2: catches up, then stopped again
start_unit
wait_until 120 bash -c "[ \$(curl -sS -H 'X-ClickHouse-User: $CH_USER' -H 'X-ClickHouse-Key: $CH_PASSWORD' '$CH_URL/' --data-binary 'SELECT uniqExact(id) FROM sensor_metrics' 2>/dev/null || echo 0) -ge $n_valid ]" ||
  fail "run 2 did not catch up: $(rows) rows, want $n_valid distinct; $(tail -5 unit.log)"
sleep 1
stop_unit
! grep -E ': error: ' unit.log || fail "errors in the unit's log (above)"

got=$(q "SELECT count(), uniqExact(id) FROM sensor_metrics FINAL FORMAT TSV")
assert_eq "$got" "$n_valid	$n_valid" "rows under FINAL (count, distinct ids)"
q "SELECT id FROM sensor_metrics FINAL FORMAT TSV" | sort >got_ids
cmp -s expected_ids got_ids || fail "ids differ: $(diff expected_ids got_ids | head -5)"
n_rej=$(jq -r '"\(.topic) \(.partition) \(.offset)"' state/rejects-"$instance".jsonl | sort -u | wc -l)
assert_eq "$n_rej" "$((N - n_valid))" "distinct messages in the unit's rejects file"

# the archive, under the unit's key template, holds every message (by its coordinates)
s3-cat --prefix s3://raw/sensors/ >archive.jsonl 2>s3cat.log || fail "s3-cat: $(tail -3 s3cat.log)"
n_arch=$(jq -r '"\(.partition) \(.offset)"' archive.jsonl | sort -u | wc -l)
assert_eq "$n_arch" "$N" "distinct messages in the archive"
aws_ref s3 ls --recursive s3://raw/sensors/ | awk '{print $4}' >keys
grep -qvE "^sensors/[0-9]{4}/[0-9]{2}/[0-9]{2}/[0-9]{6}-[^-]+-$instance-[^-]+-[0-9]+\.jsonl\.zst$" keys &&
  fail "archive keys not as the unit's template: $(grep -vE "-$instance-" keys | head -3)"
pass "two runs of the unit, stopped as systemd stops it: $n_valid rows once under FINAL, $n_rej rejects, all $N messages in $(wc -l <keys) archive objects"

# everything is committed: a restart reads nothing (the group's lag is 0 on every partition)
assert_lag_zero sensor-ingest sensor_metrics 4
pass "after systemctl stop every offset is committed (lag 0 on 4 partitions)"
