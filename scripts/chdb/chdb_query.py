"""query(sql, fmt) against chDB (ClickHouse as a library): CHDB_LIB (scripts/chdb/fetch.sh) and
CHDB_PATH (the data directory) come from the environment, and CHDB_CONFIG (optional) a config file
(macros, remote_servers, ...). query_stable_v2 can run once per process:
one small process per query. Errors raise RuntimeError with ClickHouse's message."""
import subprocess, sys

RUNNER = r'''
import ctypes, os, sys
lib = ctypes.CDLL(os.environ["CHDB_LIB"])
class R(ctypes.Structure):
    _fields_ = [("buf", ctypes.c_char_p), ("len", ctypes.c_size_t), ("_vec", ctypes.c_void_p), ("elapsed", ctypes.c_double),
                ("rows_read", ctypes.c_uint64), ("bytes_read", ctypes.c_uint64), ("error_message", ctypes.c_char_p)]
lib.query_stable_v2.restype = ctypes.POINTER(R)
args = [b"clickhouse", b"--multiquery", b"--path=" + os.environ["CHDB_PATH"].encode(),
        b"--output-format=" + sys.argv[1].encode(), b"--query=" + sys.stdin.buffer.read()]
if os.environ.get("CHDB_CONFIG"): args.insert(1, b"--config-file=" + os.environ["CHDB_CONFIG"].encode())
p = lib.query_stable_v2(len(args), (ctypes.c_char_p * len(args))(*args))
if not p: sys.exit(1)
r = p.contents
if r.error_message: sys.stderr.write(r.error_message.decode()); sys.exit(1)
sys.stdout.buffer.write(ctypes.string_at(r.buf, r.len) if r.buf else b"")
'''


def query(sql, fmt="TSV"):
    p = subprocess.run([sys.executable, "-c", RUNNER, fmt], input=sql.encode(), capture_output=True)
    if p.returncode != 0 or b"DB::Exception" in p.stderr:  # errors also arrive on stderr only
        raise RuntimeError(p.stderr.decode())
    return p.stdout.decode()


class Checks:
    """report(what, good, detail): one line per check, "ok" or "FAILED" and the detail cut to `cut`
    characters; report.ok stays True until a check fails (the script's exit status)."""

    def __init__(self, width, cut):
        self.width, self.cut, self.ok = width, cut, True

    def __call__(self, what, good, detail=""):
        print("%-*s %s" % (self.width, what, "ok" if good else "FAILED " + detail[:self.cut]))
        self.ok &= bool(good)


def statements(text):
    """The statements of ch-insert --dry-run DDL text (one per ';' at a line end), without their ';'."""
    return [x.strip().rstrip(";") for x in text.split(";\n") if x.strip()]


def dry_run_parts(path, body):
    """ch-insert --dry-run --create-table's output at path: its DDL statements, returned, and the rows of
    its batches written to the file body (no INSERT line, no '-- ' comment) for INSERT ... FROM INFILE."""
    ddl, _, batches = open(path, encoding="utf-8").read().partition("\n-- batch ")
    rows = [l for l in ("-- batch " + batches).split("\n") if l and not l.startswith("-- ") and not l.startswith("INSERT INTO")]
    open(body, "w", encoding="utf-8").write("\n".join(rows) + "\n")
    return statements(ddl)
