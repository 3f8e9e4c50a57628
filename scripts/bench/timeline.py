#!/usr/bin/env python3
"""Where a pipeline's wall time goes: a utilisation timeline (scripts/bench/profile.sh; issue 25).

  timeline.py sample OUT LABEL=PID|LABEL=@PIDFILE ...
      Every ~20 ms until SIGTERM: each process's user+sys CPU ticks (/proc/PID/stat) and the bytes it
      read and wrote through read()/write() (/proc/PID/io rchar, wchar), one line per process and tick:
      "time label ticks rchar wchar" (time: seconds since the epoch). @PIDFILE: a pipe stage whose pid
      is written there once it runs (profile.sh's CPU wrapper); polled until it appears.
  timeline.py analyse SAMPLES T0 T1 CHLOG KCLOG RESULT BINS
      One run's phases, appended to RESULT as one line of KEY=VALUE (the wall of each phase, each
      process's CPU seconds in it, the events), and its 100 ms bins written to BINS.
  timeline.py report RESULT BINS TITLE
      The medians of RESULT's runs per phase and process, then the bins of the last run.

Phases: start = from the pipeline's start to ch-insert's first INSERT (its -v line "INSERT of N rows
sent", stamped as it came); steady = from there to the input's end (kafka-cat-sensor's last write to its
output: its stamped -v line "waiting ... for the last acknowledgements" when there is one, else the tick
its output bytes last grew); end = from there to the pipeline's end. Events: the first bytes out of
kafka-cat-sensor (its wchar past 16 KiB: librdkafka's wake-ups write a few bytes each) and of
sensor-parse (-q: it writes only rows), the first INSERT sent, the last INSERT's duration ("stored in").
A tick is ~20 ms and /proc counts CPU in 10 ms ticks: times are +-20 ms, a phase's CPU +-10 ms per
process; a stage's CPU after its last tick (up to 20 ms before it exits) is missed.
"""
import os
import re
import signal
import statistics
import sys
import time

HZ = os.sysconf("SC_CLK_TCK")
ORDER = ["kc", "s3", "sp", "ch", "broker", "clickhouse", "minio"]
NAMES = {"kc": "kafka-cat-sensor", "s3": "s3-put", "sp": "sensor-parse", "ch": "ch-insert",
         "broker": "broker", "clickhouse": "ClickHouse", "minio": "MinIO"}
STAGES = {"kc", "s3", "sp", "ch"}


def read_proc(pid):
    """(ticks, rchar, wchar) of a live process, None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
        with open(f"/proc/{pid}/io") as f:
            io = f.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = st[st.rindex(")") + 2:].split()
    ticks = int(fields[11]) + int(fields[12])
    m = dict(line.split(": ") for line in io.splitlines() if ": " in line)
    return ticks, int(m.get("rchar", 0)), int(m.get("wchar", 0))


def sample(out, specs):
    procs = {}  # label -> [pid or None, pidfile or None, gone]
    for s in specs:
        label, _, what = s.partition("=")
        procs[label] = [None, what[1:], False] if what.startswith("@") else [int(what), None, False]
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    lines = []
    open(out + ".ready", "w").close()  # the caller starts the run only now: no first ticks missed
    while not stop:
        now = time.time()
        for label, p in procs.items():
            if p[2]:
                continue
            if p[0] is None:
                try:
                    with open(p[1]) as f:
                        p[0] = int(f.read().strip() or "0") or None
                except (FileNotFoundError, ValueError):
                    pass
                if p[0] is None:
                    continue
            r = read_proc(p[0])
            if r is None:
                p[2] = True
                continue
            lines.append(f"{now:.6f} {label} {r[0]} {r[1]} {r[2]}\n")
        time.sleep(max(0.0, 0.02 - (time.time() - now)))
    with open(out, "w") as f:
        f.writelines(lines)


def load(samples):
    series = {}  # label -> [(t, cpu_s, rchar, wchar)]
    with open(samples) as f:
        for line in f:
            t, label, ticks, rc, wc = line.split()
            series.setdefault(label, []).append((float(t), int(ticks) / HZ, int(rc), int(wc)))
    return series


def cpu_at(s, t, stage):
    """A process's CPU seconds at time t (linear between ticks; a stage is at 0 before its first)."""
    if not s:
        return 0.0
    if t <= s[0][0]:
        return 0.0 if stage else s[0][1]
    for (ta, ca, *_), (tb, cb, *_) in zip(s, s[1:]):
        if ta <= t <= tb:
            return ca + (cb - ca) * (t - ta) / (tb - ta) if tb > ta else cb
    return s[-1][1]


def stamped(path, pattern):
    """(time, match) of each line of a stamped log (stamp() in profile.sh) that matches."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            t, _, rest = line.partition(" ")
            m = re.search(pattern, rest)
            if m:
                out.append((float(t), m))
    return out


def first_over(s, col, limit):
    for row in s:
        if row[col] >= limit:
            return row[0]
    return None


def analyse(samples, t0, t1, chlog, kclog, result, bins):
    series = load(samples)
    t0, t1 = float(t0), float(t1)
    sent = stamped(chlog, r"INSERT of \d+ rows sent")
    stored = stamped(chlog, r"INSERT of \d+ rows stored in ([0-9.]+) s")
    ends = stamped(kclog, r"waiting .* for the last acknowledgements")
    kc = series.get("kc", [])
    if ends:
        t_end = ends[0][0]
    else:
        grew = [b[0] for a, b in zip(kc, kc[1:]) if b[3] > a[3]]
        t_end = grew[-1] if grew else t1
    t_first = sent[0][0] if sent else t1
    t_end = max(t_end, t_first)
    phases = [("start", t0, t_first), ("steady", t_first, t_end), ("end", t_end, t1)]
    kv = {}
    for name, a, b in phases:
        kv[f"{name}.wall"] = b - a
        for label, s in series.items():
            kv[f"{name}.{label}"] = cpu_at(s, b, label in STAGES) - cpu_at(s, a, label in STAGES)
    ev = {"kc_first_out": first_over(kc, 3, 16384), "sp_first_out": first_over(series.get("sp", []), 3, 1),
          "first_insert": sent[0][0] if sent else None, "input_end": t_end}
    for k, v in ev.items():
        kv[f"ev.{k}"] = (v - t0) if v is not None else None
    kv["ev.last_insert_s"] = float(stored[-1][1].group(1)) if stored else None
    kv["ev.inserts"] = len(sent)
    kv["wall"] = t1 - t0
    with open(result, "a") as f:
        f.write(" ".join(f"{k}={'-' if v is None else round(v, 4)}" for k, v in kv.items()) + "\n")
    with open(bins, "w") as f:
        labels = [l for l in ORDER if l in series]
        f.write("t_s " + " ".join(labels) + " all\n")
        t = t0
        while t < t1 - 1e-9:
            u = min(t + 0.1, t1)
            vals = [(cpu_at(series[l], u, l in STAGES) - cpu_at(series[l], t, l in STAGES)) / (u - t) for l in labels]
            f.write(f"{t - t0:.1f} " + " ".join(f"{v:.2f}" for v in vals) + f" {sum(vals):.2f}\n")
            t = u


def report(result, bins, title):
    runs = []
    with open(result) as f:
        for line in f:
            runs.append(dict(kv.split("=", 1) for kv in line.split()))

    def med(key):
        vals = [float(r[key]) for r in runs if r.get(key, "-") != "-"]
        return statistics.median(vals) if vals else None

    def fmt(v, spec="{:.2f}"):
        return "-" if v is None else spec.format(v)

    print(f"timeline, {title}: per run, the start / steady / end phases' wall, first bytes out of kafka-cat-sensor, first INSERT:")
    for r in runs:
        print("  " + " / ".join(r.get(f"{ph}.wall", "-") for ph in ("start", "steady", "end")) +
              f", {r.get('ev.kc_first_out', '-')}, {r.get('ev.first_insert', '-')}")
    labels = [l for l in ORDER if any(f"start.{l}" in r for r in runs)]
    print(f"timeline, {title} (medians of {len(runs)} runs; per process: cores busy = its CPU seconds in the phase / the phase's wall)")
    print(f"| {'phase':7} | {'wall':>6} | " + " | ".join(f"{NAMES[l]:>16}" for l in labels) + f" | {'all':>5} |")
    for ph in ("start", "steady", "end"):
        w = med(f"{ph}.wall")
        cells = []
        total = 0.0
        for l in labels:
            c = med(f"{ph}.{l}")
            total += c or 0
            cells.append(f"{fmt(c / w if w and c is not None else None):>16}")
        print(f"| {ph:7} | {fmt(w):>6} | " + " | ".join(cells) + f" | {fmt(total / w if w else None):>5} |")
    print(f"events (s from the start): kafka-cat-sensor's first bytes out {fmt(med('ev.kc_first_out'), '{:.3f}')},"
          f" sensor-parse's first rows out {fmt(med('ev.sp_first_out'), '{:.3f}')},"
          f" ch-insert's first INSERT {fmt(med('ev.first_insert'), '{:.3f}')},"
          f" the input's end {fmt(med('ev.input_end'), '{:.3f}')} of {fmt(med('wall'))};"
          f" the last INSERT took {fmt(med('ev.last_insert_s'), '{:.3f}')} s ({fmt(med('ev.inserts'), '{:.0f}')} INSERTs)")
    if os.path.exists(bins):
        print("the last run, per 100 ms (cores busy):")
        with open(bins) as f:
            head = f.readline().split()
            print("  " + " ".join(f"{NAMES.get(h, h)[:8]:>8}" for h in head))
            for line in f:
                print("  " + " ".join(f"{v:>8}" for v in line.split()))


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "sample" and len(sys.argv) >= 3:
        sample(sys.argv[2], sys.argv[3:])
    elif cmd == "analyse" and len(sys.argv) == 9:
        analyse(*sys.argv[2:])
    elif cmd == "report" and len(sys.argv) == 5:
        report(*sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
