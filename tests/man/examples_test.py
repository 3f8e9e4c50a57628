#!/usr/bin/env python3
"""Every man page renders (scdoc, then groff as man(1) shows it) with its examples' shell line
continuations intact (issue 27: ch-insert(1)'s shard-direct example lost its '\\': scdoc takes a single
backslash as an escape, so only '\\\\' in the source shows one).

usage: examples_test.py MAN_DIR
For each MAN_DIR/*.scd:
  - in every ``` block: no line ends in an odd number of backslashes (scdoc drops the last one);
  - rendered: the EXAMPLES section's code lines, in order, match the source's, and every line whose
    source ends in a backslash (a continuation) still ends in one, with a next line in its block.
"""
import glob
import os
import re
import subprocess
import sys


def render(path):
    with open(path, "rb") as f:
        roff = subprocess.run(["scdoc"], stdin=f, capture_output=True, check=True).stdout
    # plain text as man(1) shows it, wide enough that no code line wraps
    out = subprocess.run(["groff", "-man", "-Tutf8", "-rLL=400n", "-P-cbou", "-ww"], input=roff,
                         capture_output=True, check=True)
    if out.stderr.strip():
        raise RuntimeError("groff: " + out.stderr.decode(errors="replace"))
    return out.stdout.decode()


def code_blocks(lines):
    """[(section, [lines...])] of the ``` blocks, with the section heading they are under."""
    blocks, section, cur = [], "", None
    for line in lines:
        if cur is None and line.startswith("# "):
            section = line[2:].strip()
        elif line.strip() == "```":
            if cur is None:
                cur = []
            else:
                blocks.append((section, cur))
                cur = None
        elif cur is not None:
            cur.append(line)
    return blocks


SWALLOWED = re.compile(r"(?<!\\)(?:\\\\)*\\(?=[A-Za-z0-9 \t]|$)")


def in_code(src, no):
    """Whether 1-based line no is inside a ``` block (its continuation has its own message)."""
    return sum(l.strip() == "```" for l in src[:no - 1]) % 2 == 1


def trailing_backslashes(s):
    return len(s) - len(s.rstrip("\\"))


def unescape(s):
    return re.sub(r"\\(.)", r"\1", s)


def check_page(path):
    problems = []
    name = os.path.basename(path)
    src = open(path, encoding="utf-8").read().split("\n")
    blocks = code_blocks(src)
    for section, block in blocks:
        for line in block:
            n = trailing_backslashes(line.rstrip())
            if n % 2 == 1:
                problems.append(f"{name} ({section}): '{line.strip()}' ends in a single backslash: scdoc drops it, "
                                "write \\\\ for a line continuation")
    # anywhere (prose too): a single backslash before a letter, digit, blank or the line end is eaten
    # by scdoc ("\xNN" shows "xNN", "\t" shows "t"); before * _ \ it is scdoc's own escape
    for no, line in enumerate(src, 1):
        for m in SWALLOWED.finditer(line.rstrip()):
            if not (m.end() == len(line.rstrip()) and trailing_backslashes(line.rstrip()) % 2 == 1 and in_code(src, no)):
                problems.append(f"{name}:{no}: a single backslash in '{line.strip()[:80]}' is not shown (write \\\\)")
                break
    text = render(path).split("\n")
    try:
        start = text.index("EXAMPLES")
    except ValueError:
        return problems + [f"{name}: no EXAMPLES section in the rendered page"]
    section = []
    for line in text[start + 1:]:
        if line and not line[0].isspace():
            break
        section.append(line)
    examples = [b for s, b in blocks if s == "EXAMPLES"]
    if not examples:
        return problems + [f"{name}: no code block under EXAMPLES"]
    # prose is indented 7, code blocks 11 (.RS 4): the code lines in order
    rendered = [l for l in section if l.startswith(" " * 11) and l.strip()]
    want = [(b, i) for b in examples for i in range(len(b)) if b[i].strip()]
    # compared without trailing backslashes: those are what the check below is about
    got_text = [l.strip().rstrip("\\").rstrip() for l in rendered]
    want_text = [unescape(b[i]).strip().rstrip("\\").rstrip() for b, i in want]
    if got_text != want_text:
        return problems + [f"{name}: rendered EXAMPLES code lines differ from the source's: "
                           f"{[x for x in want_text if x not in got_text][:3]} / {[x for x in got_text if x not in want_text][:3]}"]
    for (block, i), line in zip(want, rendered):
        if block[i].rstrip().endswith("\\"):
            if not line.rstrip().endswith("\\"):
                problems.append(f"{name}: EXAMPLES: the line continuation of '{line.strip()}' is lost when rendered")
            if i + 1 >= len(block) or not block[i + 1].strip():
                problems.append(f"{name}: EXAMPLES: '{line.strip()}' continues into nothing")
    return problems


def main():
    pages = sorted(glob.glob(os.path.join(sys.argv[1], "*.scd")))
    if not pages:
        sys.exit("no man pages in " + sys.argv[1])
    problems, continuations = [], 0
    for p in pages:
        problems += check_page(p)
        continuations += sum(l.rstrip().endswith("\\") for _, b in code_blocks(open(p).read().split("\n")) for l in b)
    for p in problems:
        print("FAIL:", p, file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"ok: {len(pages)} man pages, {continuations} example line continuations rendered")


if __name__ == "__main__":
    main()
