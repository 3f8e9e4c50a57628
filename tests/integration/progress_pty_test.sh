#!/usr/bin/env bash
# In a pipeline on a terminal only the last stage draws a progress line (issue 27: the stages' lines
# overwrote each other). `sensor-parse | ch-insert --dry-run > /dev/null` runs with stderr on a pseudo
# terminal, fed sensor-gen's messages through a FIFO a chunk at a time so both stages run long enough to
# draw (a line every 4096 records, at most twice a second); the terminal must show ch-insert's progress
# line (its stdout is the pipeline's end) and never sensor-parse's (its stdout feeds ch-insert).
# Then sensor-parse alone with stdout to a file, and with stdout to a named FIFO: each is the end of
# its pipeline and draws.
source "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"
sensor-gen -c 8192 >chunk.jsonl

# pty_run CMD: runs `bash -c CMD` with stdin from in.fifo and stderr on a pseudo terminal, writing
# chunk.jsonl into in.fifo until the terminal shows a progress line of the stage named $WANT (up to 100
# chunks), then 3 more chunks; prints what the terminal received.
pty_run() {
  python3 - "$1" "$WANT" <<'PY'
import os, pty, subprocess, sys, threading, time
cmd, want = sys.argv[1], sys.argv[2].encode()
master, slave = pty.openpty()
os.mkfifo("in.fifo")
p = subprocess.Popen(["bash", "-c", "exec < in.fifo; " + cmd], stderr=slave, stdin=subprocess.DEVNULL)
os.close(slave)
seen = bytearray()
def read():
    while True:
        try:
            b = os.read(master, 65536)
        except OSError:
            return
        if not b:
            return
        seen.extend(b)
t = threading.Thread(target=read, daemon=True)
t.start()
chunk = open("chunk.jsonl", "rb").read()
with open("in.fifo", "wb") as f:
    extra = 0
    for _ in range(100):
        f.write(chunk)
        f.flush()
        time.sleep(0.3)  # pacing only: lets the stages' half-second redraw come due
        if b"\r" + want + b":" in seen:
            extra += 1
            if extra > 3:
                break
p.wait()
time.sleep(0.2)
os.unlink("in.fifo")
sys.stdout.buffer.write(bytes(seen))
PY
}

WANT=ch-insert pty_run "sensor-parse | ch-insert --dry-run > /dev/null" >tty.out
grep -q $'\r'"ch-insert: [0-9]* rows" tty.out || fail "ch-insert, the last stage, drew no progress line: $(tr '\r' '\n' <tty.out | head -5)"
if grep -q $'\r'"sensor-parse: " tty.out; then
  fail "sensor-parse drew a progress line although its stdout feeds ch-insert: $(tr '\r' '\n' <tty.out | grep -m2 'sensor-parse: ')"
fi
pass "pipeline: only the last stage drew"

WANT=sensor-parse pty_run "sensor-parse > rows.jsonl" >tty2.out
grep -q $'\r'"sensor-parse: [0-9]* records" tty2.out || fail "sensor-parse with stdout to a file drew no progress line"
mkfifo rows.fifo
cat rows.fifo >/dev/null &
WANT=sensor-parse pty_run "sensor-parse > rows.fifo" >tty3.out
wait
grep -q $'\r'"sensor-parse: [0-9]* records" tty3.out || fail "sensor-parse with stdout to a named FIFO (acks.fifo style) drew no progress line"
pass "a stage at the end of its pipeline (file, named FIFO) draws"
