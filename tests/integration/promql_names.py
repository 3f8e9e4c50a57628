#!/usr/bin/env python3
"""Metric names in PromQL expressions, checked against what the tools really export.

usage: promql_names.py check EXPOSITION_FILE RULES_YML EXPR_FILE...
  EXPR_FILE: a Prometheus rules file (.yml: every `expr`) or a Grafana dashboard (.json: every
  target's `expr`). Each name must be a family in EXPOSITION_FILE (the concatenated /metrics of the
  live stages; a histogram's _bucket/_sum/_count count as its family), a series Prometheus makes
  itself (up, scrape_*), or a recording rule of RULES_YML. Prints one line per expression checked
  and exits 1 naming every unknown metric.
usage: promql_names.py names EXPR...   prints the metric names of each expression (for tests)
usage: promql_names.py exprs FILE      prints the expressions of a rules file or dashboard, one a line
"""
import json
import re
import sys

# Words of PromQL that are not metric names: functions (followed by "(" anyway), aggregations,
# keywords, and the grouping/matching clauses whose label lists are skipped separately.
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
            "unless", "offset", "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk",
            "bottomk", "quantile", "count_values", "group", "inf", "nan", "atan2"}
SYNTHETIC = {"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_series_added",
             "scrape_samples_post_metric_relabeling"}
IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def names(expr):
    """The metric names an expression selects (PromQL lexing reduced to what dashboards use)."""
    # Grafana variables ($__rate_interval, ${job}) and durations in [...] are not names.
    expr = re.sub(r"\$\{?[a-zA-Z_]+\}?", "1m", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals (label values)
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    # label lists of by/without/on/ignoring/group_left/group_right
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    found = []
    for m in IDENT.finditer(expr):
        word = m.group(0)
        start, end = m.start(), m.end()
        if start > 0 and (expr[start - 1].isdigit() or expr[start - 1] == "."):
            continue  # part of a number such as 1e3
        if word.lower() in KEYWORDS or expr[end:].lstrip().startswith("("):
            continue
        if word not in found:
            found.append(word)
    return found


def families(exposition):
    fams = set()
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            fams.add(line.split()[2])
    return fams


def known(name, fams, recorded):
    if name in fams or name in SYNTHETIC or name in recorded:
        return True
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[: -len(suffix)] in fams:
            return True
    return False


def exprs_of(path):
    text = open(path, encoding="utf-8").read()
    if path.endswith(".json"):
        out = []

        def walk(node, where):
            if isinstance(node, dict):
                if isinstance(node.get("expr"), str) and node["expr"].strip():
                    out.append((where, node["expr"]))
                title = node.get("title", where)
                for v in node.values():
                    walk(v, title)
            elif isinstance(node, list):
                for v in node:
                    walk(v, where)

        walk(json.loads(text), path)
        return out
    # rules YAML (no PyYAML needed): "expr: X" on one line, or "expr: |" and an indented block
    out, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        m = re.match(r"^(\s*)(?:- )?(record|alert|expr):\s*(.*)$", lines[i])
        if m and m.group(2) in ("record", "alert"):
            where = m.group(3)
        if m and m.group(2) == "expr":
            if m.group(3).strip() in ("|", ">", "|-", ">-"):
                indent, block = None, []
                i += 1
                while i < len(lines) and (not lines[i].strip() or indent is None or
                                          len(lines[i]) - len(lines[i].lstrip()) >= indent):
                    if lines[i].strip():
                        indent = indent or len(lines[i]) - len(lines[i].lstrip())
                        block.append(lines[i].strip())
                    i += 1
                out.append((where, " ".join(block)))
                continue
            out.append((where, m.group(3)))
        i += 1
    return out


def recorded_names(rules_path):
    return set(re.findall(r"^\s*- record:\s*(\S+)", open(rules_path, encoding="utf-8").read(), re.M))


def main(argv):
    if len(argv) == 3 and argv[1] == "exprs":
        for _, e in exprs_of(argv[2]):
            print(e)
        return 0
    if len(argv) >= 2 and argv[1] == "names":
        for e in argv[2:]:
            print(" ".join(names(e)))
        return 0
    if len(argv) < 5 or argv[1] != "check":
        print(__doc__, file=sys.stderr)
        return 2
    fams = families(open(argv[2], encoding="utf-8").read())
    recorded = recorded_names(argv[3])
    bad, count = [], 0
    for path in argv[4:]:
        for where, expr in exprs_of(path):
            count += 1
            ns = names(expr)
            if not ns:
                bad.append(f"{path}: {where}: no metric name found in {expr!r}")
            for n in ns:
                if not known(n, fams, recorded):
                    bad.append(f"{path}: {where}: {n} is not exported by any stage (expr {expr!r})")
            print(f"{where}: {' '.join(ns)}")
    for b in bad:
        print(b, file=sys.stderr)
    if count == 0:
        print("no expressions found", file=sys.stderr)
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
