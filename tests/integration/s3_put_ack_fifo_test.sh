#!/usr/bin/env bash
# Issue 30 item 5: s3-put --acks on a FIFO whose reader stops reading. s3-put writes its acks without
# blocking and drops them after 5 s (a message not acknowledged is read again, not lost); it dropped
# the rest of a partly written chunk, leaving a torn line in the FIFO that the next ack is glued to
# (a pipe takes a write whole only up to PIPE_BUF bytes). Here the FIFO is nearly full (its last page
# has room, no page is free) and the acks of one object span 200 partitions (over 10 KB): what the
# reader finds afterwards must be whole ack lines only. Real S3 (Swift); the reader is this test.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/s3_lib.sh"
start_s3
cd "$TEST_TMP"
aws_ref s3 mb s3://raw >/dev/null
sensor-gen -c 2000 --envelope --partitions 200 >env.jsonl
mkfifo acks
python3 - "$PWD/acks" <<'PY' || fail "the FIFO holds a torn ack line (see above)"
import fcntl, json, os, subprocess, sys
fifo = sys.argv[1]
fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # the reader: holds the FIFO open, reads only at the end
size = fcntl.fcntl(fd, 1032)  # F_GETPIPE_SZ
# whole ack lines filling every page but the last, and 1 byte of it: room left, no page free
fill = size - 4096 + 1
line = lambda n: (json.dumps({"topic": "prefill", "partition": 0, "offset": n}, separators=(",", ":")) + "\n").encode()
data, n = b"", 0
while len(data) + len(line(n)) <= fill - 60:
    data += line(n); n += 1
pad = fill - len(data)  # the last line, padded to the exact length
last = line(n)[:-2] + b" " * (pad - len(line(n))) + b"}\n"
data += last
assert len(data) == fill, (len(data), fill)
os.write(fd, data)
with open("env.jsonl", "rb") as inp, open("s3-put.err", "wb") as err:
    rc = subprocess.run(["s3-put", "--acks", fifo, "s3://raw/t/{run}-{seq}.jsonl"], stdin=inp, stderr=err).returncode
print("s3-put exit", rc, open("s3-put.err").read().strip().replace("\n", " | ")[:400])
got = b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except BlockingIOError:
        break
    if not chunk:
        break
    got += chunk
assert got.startswith(data), "the prefill is not where it was"
acks = got[len(data):]
print(len(acks), "bytes of acks in the FIFO")
bad = [l for l in acks.split(b"\n")[:-1] if not l.startswith(b'{"topic":"') or not l.endswith(b"}")]
for l in bad[:3]:
    print("torn or glued line:", l[:120], file=sys.stderr)
if not acks.endswith(b"\n") and acks:
    print("the FIFO ends mid-line:", acks[-80:], file=sys.stderr)
    sys.exit(1)
for l in acks.split(b"\n")[:-1]:
    json.loads(l)
sys.exit(1 if bad or rc != 0 else 0)
PY
pass "a FIFO nobody reads gets whole ack lines or none; s3-put stores the object and exits 0"
