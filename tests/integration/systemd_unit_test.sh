#!/usr/bin/env bash
# The shipped systemd unit (examples/sensor-pipeline.service, installed as sensor-pipeline@.service)
# runs as written: `systemd-analyze verify` finds nothing in it, and its ExecStartPre/ExecStart,
# taken from the file with systemd's escapes resolved (%i, %%, $$) and run the way systemd runs
# them (a clean environment with RUNTIME_DIRECTORY, STATE_DIRECTORY and the unit's Environment=,
# its own process group), move every message from a real Kafka broker into a real ClickHouse and a
# real S3 (MinIO), reading only the config file. `systemctl stop` (SIGTERM to every process of the
# unit at once, KillMode=control-group) in the middle of a stream and at the end loses nothing, ends
# within TimeoutStopSec, and after the last stop every offset is committed: a restart re-reads
# nothing. Then an instance past @9 (@10 and up) with /etc/sensor-pipeline/%i.env (EnvironmentFile=)
# setting another topic, group, table and archive: its messages land there, and its four stages serve
# /metrics on the ports the unit documents for it (issue 27: the topic, group, table and archive were
# fixed in the unit, and @10 asked for port 91010).
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
start_s3
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
read_unit() {
python3 - "$UNIT" "$1" <<'PY' || fail "could not read the unit's commands"
import re, shlex, sys
text = open(sys.argv[1]).read().replace("\\\n", " ")  # a continued line joins with a space
inst = sys.argv[2]
keys = {}
for line in text.splitlines():
    m = re.match(r"^(ExecStartPre|ExecStart|Environment|EnvironmentFile)=(.*)$", line)
    if m:
        keys.setdefault(m.group(1), []).append(m.group(2))
def resolve(s):  # specifiers: %i, %% (and nothing else is used); $$ is a literal $
    s = re.sub(r"%(.)", lambda m: {"i": inst, "%": "%"}[m.group(1)], s)
    return s.replace("$$", "$")
for k in ("ExecStartPre", "ExecStart"):
    assert len(keys.get(k, [])) == 1, f"want one {k}"
    with open(k + ".argv", "wb") as f:
        f.write(b"\0".join(a.encode() for a in shlex.split(resolve(keys[k][0]))))
with open("unit.env", "wb") as f:  # one assignment each, NUL-separated: a value may hold spaces
    f.write(b"\0".join(a.encode() for e in keys.get("Environment", []) for a in shlex.split(resolve(e))))
with open("unit.envfile", "w") as f:
    f.write("\n".join(resolve(e) for e in keys.get("EnvironmentFile", [])) + "\n")
PY
grep -qzx 'SENSOR_PIPELINE_CONFIG=/etc/sensor-pipeline/config.ini' unit.env || fail "unit's Environment: $(tr '\0' ' ' <unit.env)"
grep -qx -- "-/etc/sensor-pipeline/$1.env" unit.envfile || fail "unit's EnvironmentFile: $(cat unit.envfile)"
mapfile -d '' pre <ExecStartPre.argv
mapfile -d '' start <ExecStart.argv
mapfile -d '' defaults <unit.env
# systemd's environment for the service: nothing of this shell's (no CLICKHOUSE_*/AWS_* variables);
# the unit's Environment=, then its EnvironmentFile= (which wins), then the paths systemd sets (the
# test's /etc/sensor-pipeline is $TEST_TMP/etc)
local -a from_file=()
if [ -f "etc/$1.env" ]; then mapfile -t from_file < <(grep -v '^#' "etc/$1.env"); fi
unit_env=(env -i PATH="$PATH" HOME="$TEST_TMP/svc-home" LANG=C.UTF-8 "${defaults[@]}" "${from_file[@]}"
          RUNTIME_DIRECTORY="$TEST_TMP/run" STATE_DIRECTORY="$TEST_TMP/state" SENSOR_PIPELINE_CONFIG="$TEST_TMP/etc/config.ini")
}
read_unit "$instance"
grep -qzx 'PIPELINE_GROUP=sensor-ingest' unit.env || fail "unit's default group: $(tr '\0' ' ' <unit.env)"
mkdir run state svc-home

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

# An instance past @9 with its own env file: another topic, group, table and archive prefix. Its
# ports: 9140 + 4 * (i - 10) + stage, as the unit's header says; an instance whose four are free here.
kafka_topic plant2 2
instance=
for i in 10 42 57 73 88 99 123 250; do
  python3 - "$i" <<'PY' && { instance=$i; break; }
import socket, sys
base = 9140 + 4 * (int(sys.argv[1]) - 10)
for p in range(base, base + 4):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        sys.exit(1)
    finally:
        s.close()
PY
done
[ -n "$instance" ] || fail "no instance past @9 with four free ports"
ports=$(seq $((9140 + 4 * (instance - 10))) $((9143 + 4 * (instance - 10))))
cat >etc/"$instance".env <<'EOF'
# what an admin writes in /etc/sensor-pipeline/INSTANCE.env (% literal: no systemd specifiers here)
PIPELINE_TOPIC=plant2
PIPELINE_GROUP=plant2-ingest
PIPELINE_TABLE=plant2_metrics
PIPELINE_ARCHIVE=s3://raw/plant2/%Y/%m/%d/%H%M%S-{host}-{run}-{seq}.jsonl
EOF
read_unit "$instance"
sensor-gen -c 3000 --seed 22 --sensors 10 | grep -v '^$' >plant2.jsonl
sensor-parse --format tsv <plant2.jsonl 2>/dev/null | cut -f1 | sort >plant2_ids
kafka-cat-sensor -P -b "$B" -t plant2 --key-field value.sensor_id <plant2.jsonl 2>/dev/null || fail "produce to plant2"
: >unit.log
start_unit
wait_until 120 bash -c "[ \$(curl -sS -H 'X-ClickHouse-User: $CH_USER' -H 'X-ClickHouse-Key: $CH_PASSWORD' '$CH_URL/' --data-binary 'SELECT uniqExact(id) FROM plant2_metrics' 2>/dev/null || echo 0) -ge $(wc -l <plant2_ids) ]" ||
  fail "@$instance did not load topic plant2 into plant2_metrics: $(tail -5 unit.log)"
for p in $ports; do
  curl -fsS "http://127.0.0.1:$p/metrics" >metrics.$p || fail "@$instance: nothing serves /metrics on port $p: $(tail -5 unit.log)"
done
stop_unit
! grep -E ': error: ' unit.log || fail "errors in @$instance's log (above)"
q "SELECT id FROM plant2_metrics FINAL FORMAT TSV" | sort >got_plant2
cmp -s plant2_ids got_plant2 || fail "plant2 ids differ: $(diff plant2_ids got_plant2 | head -5)"
assert_eq "$(q "SELECT count() FROM sensor_metrics FINAL FORMAT TSV")" "$n_valid" "rows in sensor_metrics after @$instance (it must not write there)"
n_arch=$(s3-cat --prefix s3://raw/plant2/ 2>/dev/null | wc -l)
assert_eq "$n_arch" "$(wc -l <plant2.jsonl)" "messages archived under s3://raw/plant2/"
assert_lag_zero plant2-ingest plant2 2
pass "@$instance with its env file: topic plant2 -> plant2_metrics, archive s3://raw/plant2/, group plant2-ingest, /metrics on $(echo $ports)"
