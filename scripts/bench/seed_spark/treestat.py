#!/usr/bin/env python3
"""Runs one command and measures its whole process tree, for the Spark baseline's bench section
(scripts/bench/seed_spark.sh), where one side is a pipe of three tools and the other a Python driver that
starts a JVM which forks Python workers:

    treestat.py OUT -- CMD [ARGS...]

OUT gets one line: "wall_s=.. cpu_s=.. user_s=.. sys_s=.. max_rss_kb=.. sum_rss_kb=.. samples=.. rc=..":
  - cpu_s: user + sys of every process of the tree. This script makes itself a child subreaper
    (prctl PR_SET_CHILD_SUBREAPER), so descendants whose parent exits or never waits for them (the JVM
    pyspark starts, its Python workers) are reparented to it and reaped here; the kernel then adds their
    CPU to this process's RUSAGE_CHILDREN, as it does for waited children. Its own CPU (the sampling) is
    not counted.
  - max_rss_kb: the peak RSS of the largest single process (RUSAGE_CHILDREN ru_maxrss).
  - sum_rss_kb: the peak of the sum of the tree's RSS, sampled every 0.1 s from /proc (pages shared
    between processes count once per process, as `ps` shows them).
The command's exit status is this script's (the tree's last processes are waited for first).
"""
import ctypes
import os
import resource
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def tree_rss_kb(root):
    """The sum of RSS of root's descendants (root itself not included), from /proc."""
    children, rss = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d, "rb") as f:
                s = f.read()
        except OSError:
            continue  # gone meanwhile
        # comm may hold spaces and parentheses: the fields after it start at the last ')'
        fields = s[s.rindex(b")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(d))
        rss[int(d)] = int(fields[21]) * PAGE_KB
    total, todo = 0, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        total += rss[pid]
        todo.extend(children.get(pid, []))
    return total


def main(argv):
    if len(argv) < 3 or argv[1] != "--":
        sys.stderr.write("usage: treestat.py OUT -- CMD [ARGS...]\n")
        return 2
    out, cmd = argv[0], argv[2:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.stderr.write("treestat.py: prctl(PR_SET_CHILD_SUBREAPER) failed: %s\n" % os.strerror(ctypes.get_errno()))
        return 70
    me = os.getpid()
    # what this interpreter's start already reaped (a site hook may run a child) is not the command's
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    child = subprocess.Popen(cmd)
    # SIGCHLD blocked (after the start: the command must not inherit the mask) and waited for with a timeout:
    # a child's end is seen at once, so the wall time is not rounded up to the sampling period of 0.1 s. A
    # child that ended before the block is reaped by the first round of the loop.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    # a SIGTERM to this script (the bench ending) ends the command too
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    rc, peak_sum, samples = None, 0, 0
    while True:
        # reap whatever ended: the command and the orphans reparented to us
        try:
            while True:
                pid, status = os.waitpid(-1, os.WNOHANG)
                if pid == 0:
                    break
                if pid == child.pid:
                    rc = os.waitstatus_to_exitcode(status)
                    child.returncode = rc  # Popen must not wait for it again
        except ChildProcessError:
            break  # no child left: the whole tree has ended
        peak_sum = max(peak_sum, tree_rss_kb(me))
        samples += 1
        signal.sigtimedwait({signal.SIGCHLD}, 0.1)
    wall = time.monotonic() - t0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    user, sys_ = ru.ru_utime - ru0.ru_utime, ru.ru_stime - ru0.ru_stime
    with open(out, "w") as f:
        f.write("wall_s=%.3f cpu_s=%.2f user_s=%.2f sys_s=%.2f max_rss_kb=%d sum_rss_kb=%d samples=%d rc=%d\n" % (
            wall, user + sys_, user, sys_, ru.ru_maxrss, peak_sum, samples,
            rc if rc is not None else 70))
    if rc is None:
        return 70
    return rc if rc >= 0 else 128 - rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
