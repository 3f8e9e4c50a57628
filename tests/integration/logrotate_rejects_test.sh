#!/usr/bin/env bash
# The shipped logrotate file (examples/logrotate, /etc/logrotate.d/sensor-pipeline) run as written by
# Debian's logrotate, forced (-f) four times while a running sensor-parse appends to its rejects file
# where the systemd unit puts it (/var/lib/sensor-pipeline/rejects-INSTANCE.jsonl, as user sensor),
# then the same while a ch-insert inserting into a real ClickHouse appends to its --rejects there:
# after each rotation the new rejects go to a new live file (the rotated ones stop growing), and
# across the live and rotated files (compressed ones too) every reject line is there once, whole, the
# same as one sensor-parse run over the same input writes without rotation. Without systemd here,
# nothing restarts the instance: the writer must follow the rename itself. In a private mount
# namespace (tmpfs /var/lib and /run, a user sensor in a private /etc/passwd): needs root.
if [ -z "${SP_IN_MOUNT_NS:-}" ]; then
  [ "$(id -u)" = 0 ] || { echo "$(basename "$0" .sh): FAIL: needs root (unshare, mount)" >&2; exit 1; }
  SP_IN_MOUNT_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ch_lib.sh"
cd "$TEST_TMP"
command -v logrotate >/dev/null || fail "logrotate missing (Debian package logrotate; scripts/install-deps.sh)"
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /var/lib
# the package's user and group (packaging/deb/sensor-pipeline.sysusers), in this namespace only
cp /etc/passwd passwd && cp /etc/group group
echo 'sensor:x:64999:64999:sensor-pipeline:/nonexistent:/usr/sbin/nologin' >>passwd
echo 'sensor:x:64999:' >>group
mount --bind passwd /etc/passwd
mount --bind group /etc/group
# StateDirectory=sensor-pipeline with User=sensor
install -d -o sensor -g sensor -m 0755 /var/lib/sensor-pipeline
LIVE=/var/lib/sensor-pipeline/rejects-0.jsonl

# sensor-gen's messages, a third of them bad
sensor-gen -c 3000 --bad-fraction 0.3 --seed 31 | grep -v '^$' >msgs.jsonl

all_rejects() { local f; for f in "$LIVE"*; do [ ! -e "$f" ] || zcat -f "$f"; done; }
count_is() { [ "$(all_rejects | wc -l)" = "$1" ]; }
lines() { if [ -e "$1" ]; then zcat -f "$1" | wc -l; else echo 0; fi; }

# rotations LIVE INPUT REFERENCE WRITER...: WRITER (run as user sensor, appending its rejects to
# LIVE) reads INPUT in five chunks through a FIFO; after each of the first four chunks' rejects are
# out, the shipped file rotates (forced). REFERENCE FILE writes to FILE the rejects of its stdin
# without any rotation: what every prefix of INPUT must have given, across the live and rotated files.
rotations() {
  LIVE=$1; local input=$2 reference=$3; shift 3
  "$reference" all.ref <"$input"
  local total; total=$(wc -l <all.ref)
  [ "$total" -gt 100 ] || fail "too few rejects in the reference: $total"
  rm -f chunk.0*; split -n l/5 -d "$input" chunk.
  rm -f in.fifo; mkfifo -m 0644 in.fifo
  setpriv --reuid sensor --regid sensor --clear-groups "$@" <in.fifo >writer.out 2>writer.err &
  local writer=$!
  on_exit "kill $writer"
  exec 3>in.fifo
  local sent=0 want before rotated
  for i in 0 1 2 3 4; do
    cat "chunk.0$i" >&3
    sent=$((sent + $(wc -l <"chunk.0$i")))
    head -n "$sent" "$input" | "$reference" prefix.ref
    want=$(wc -l <prefix.ref)
    wait_until 120 count_is "$want" || fail "$1 round $i: $(all_rejects | wc -l) reject lines, want $want: $(ls -l "$(dirname "$LIVE")")"
    if [ "$i" -gt 0 ]; then
      # what this round rejected went to the live file, the one the last rotation left for it
      [ -e "$LIVE" ] || fail "$1 round $i: no live $LIVE after the rotation: the writer went on into the rotated file ($(ls "$(dirname "$LIVE")" | tr '\n' ' '))"
      assert_eq "$(lines "$LIVE")" "$((want - before))" "$1 round $i: the new rejects are in the live file"
      assert_eq "$(lines "$LIVE.1")" "$rotated" "$1 round $i: the rotated file did not grow"
    fi
    [ "$i" = 4 ] && break
    before=$want
    rotated=$(lines "$LIVE")
    logrotate -f -s "$TEST_TMP/logrotate.state" "$SRC_DIR/examples/logrotate" 2>logrotate.err ||
      fail "logrotate: $(cat logrotate.err)"
    [ ! -e "$LIVE" ] || fail "$1 round $i: logrotate left $LIVE in place"
  done
  exec 3>&-
  wait "$writer" || fail "$1 exited $?: $(tail -3 writer.err)"
  assert_contains "$(ls "$(dirname "$LIVE")")" "$(basename "$LIVE").2.gz" "$1: older rotations compressed"
  all_rejects >got.jsonl
  assert_eq "$(jq -c . got.jsonl 2>&1 | wc -l)" "$total" "$1: every reject line is whole JSON"
  assert_eq "$(sort got.jsonl | md5sum)" "$(sort all.ref | md5sum)" "$1: the rejects across the rotated files are the reference's, each once"
  pass "$1: 4 rotations by the shipped logrotate file while it writes: $total reject lines, none lost, torn or twice; each round's in the live file"
}

parse_ref() { rm -f "$1"; sensor-parse -q --rejects "$1" >/dev/null; }
rotations /var/lib/sensor-pipeline/rejects-0.jsonl msgs.jsonl parse_ref \
  sensor-parse -q --rejects /var/lib/sensor-pipeline/rejects-0.jsonl

# ch-insert's --rejects: rows with a column missing (rejected before sending) among sensor-parse's
start_clickhouse
export CLICKHOUSE_URL=$CH_URL CLICKHOUSE_USER=$CH_USER CLICKHOUSE_PASSWORD=$CH_PASSWORD
sensor-parse -q <msgs.jsonl 2>/dev/null | awk 'NR % 5 == 0 {print "{\"id\":\"short-" NR "\"}"} {print}' >rows.jsonl
insert_ref() { rm -f "$1"; ch-insert -q --dry-run --rejects "$1" >/dev/null; }
rotations /var/lib/sensor-pipeline/rejects-ch.jsonl rows.jsonl insert_ref \
  ch-insert -q --table rotated --create-table --batch-rows 100 --batch-seconds 1 --no-acks \
  --rejects /var/lib/sensor-pipeline/rejects-ch.jsonl
assert_eq "$(q 'SELECT count() FROM rotated')" "$(grep -vc '"id":"short-' rows.jsonl)" "ch-insert stored every other row"
