#!/usr/bin/env python3
"""Shell completions generated from a tool's own --help (CLI11), so they cannot drift from it.

usage: gen-completions.py TOOL_BINARY OUT_DIR
writes OUT_DIR/bash/TOOL, OUT_DIR/zsh/_TOOL and OUT_DIR/fish/TOOL.fish.
The build runs it on every tool after linking (completions/CMakeLists.txt); the installed files
are the ones for the exact --help of the installed binary. Options whose help mentions a file
complete file names; an option whose type is "{a,b,c}" (sp::cli::choices) completes those values;
other options that take a value complete nothing (the value is free text).
"""
import os
import re
import subprocess
import sys

# CLI11 prints "  SPEC<padding>DESCRIPTION" with the description at a fixed column (where -h,--help's
# "Print this help message" starts); a SPEC too long for it pushes the description to the next line.
SPEC = re.compile(r"^(?P<names>(?:-[A-Za-z0-9],)?--[A-Za-z0-9][A-Za-z0-9-]*)(?P<type> .+)?$")


def parse_help(text):
    """[{short, long, value (takes one), file (its value is a file), desc}] in --help order."""
    lines = text.splitlines()
    col = next((l.index("Print this help") for l in lines if l.startswith("  -h,--help")), None)
    if col is None:
        return []
    opts, section, cur = [], None, None
    for line in lines:
        if line and not line.startswith(" "):
            section = line[:-1] if line.endswith(":") else None
            cur = None
            continue
        if section != "Options" or not line.strip():
            continue
        if line.startswith("  -"):
            fits = len(line) <= col or line[col - 1] == " "
            spec, desc = (line[:col].strip(), line[col:].strip()) if fits else (line.strip(), "")
            m = SPEC.match(spec)
            if not m:
                raise SystemExit(f"gen-completions: cannot read option line {line!r}")
            names = m.group("names").split(",")
            # a type "{a,b,c}" (sp::cli::choices) lists the values the option takes
            choices = re.search(r"\{([^}]*)\}", m.group("type") or "")
            cur = {"short": names[0][1:] if len(names) == 2 else None, "long": names[-1][2:],
                   "value": bool(m.group("type")), "desc": desc,
                   "choices": choices.group(1).split(",") if choices else []}
            opts.append(cur)
        elif cur is not None and not cur["desc"]:
            cur["desc"] = line.strip()  # the description on its own line
    for o in opts:
        o["file"] = o["value"] and re.search(r"\bfile\b|\bFILE\b|\bfile's\b", o["desc"], re.I) is not None
    return opts


def bash(tool, opts):
    fn = "_" + re.sub(r"[^A-Za-z0-9]", "_", tool)
    words = " ".join(sorted({"--" + o["long"] for o in opts} | {"-" + o["short"] for o in opts if o["short"]}))
    files = "|".join(n for o in opts if o["file"] for n in (["-" + o["short"]] if o["short"] else []) + ["--" + o["long"]])
    values = "|".join(n for o in opts if o["value"] and not o["file"] and not o["choices"]
                      for n in (["-" + o["short"]] if o["short"] else []) + ["--" + o["long"]])
    cases = []
    for o in opts:
        if o["choices"]:
            names = "|".join((["-" + o["short"]] if o["short"] else []) + ["--" + o["long"]])
            cases.append(f"    {names})\n      COMPREPLY=($(compgen -W '{' '.join(o['choices'])}' -- \"$cur\"))\n      return ;;")
    if files:
        cases.append(f"    {files})\n      COMPREPLY=($(compgen -f -- \"$cur\"))\n      compopt -o filenames 2>/dev/null\n      return ;;")
    if values:
        cases.append(f"    {values})\n      return ;;  # a value: free text")
    return f"""# bash completion for {tool}; generated from `{tool} --help` by completions/gen-completions.py
{fn}() {{
  local cur=${{COMP_WORDS[COMP_CWORD]}} prev=
  [ "$COMP_CWORD" -gt 0 ] && prev=${{COMP_WORDS[COMP_CWORD-1]}}
  COMPREPLY=()
  case $prev in
{chr(10).join(cases)}
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W '{words}' -- "$cur"))
    return
  fi
  COMPREPLY=($(compgen -f -- "$cur"))
  compopt -o filenames 2>/dev/null
}}
complete -F {fn} {tool}
"""


def zsh_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def zsh(tool, opts):
    specs = []
    for o in opts:
        desc = o["desc"].replace("[", "(").replace("]", ")").replace("\\", "\\\\")
        action = ""
        if o["value"]:
            action = ":file:_files" if o["file"] else f":value:({' '.join(o['choices'])})" if o["choices"] else ":value: "
        if o["short"]:
            excl = f"(-{o['short']} --{o['long']})"
            specs.append(zsh_quote(f"{excl}") + "{" + f"-{o['short']},--{o['long']}" + "}" + zsh_quote(f"[{desc}]{action}"))
        else:
            specs.append(zsh_quote(f"--{o['long']}[{desc}]{action}"))
    body = " \\\n  ".join(specs)
    return f"""#compdef {tool}
# zsh completion for {tool}; generated from `{tool} --help` by completions/gen-completions.py
_arguments -s \\
  {body} \\
  '*:file:_files'
"""


def fish(tool, opts):
    lines = [f"# fish completion for {tool}; generated from `{tool} --help` by completions/gen-completions.py"]
    for o in opts:
        parts = [f"complete -c {tool}"]
        if o["short"]:
            parts.append(f"-s {o['short']}")
        parts.append(f"-l {o['long']}")
        if o["value"]:
            parts.append("-r -F" if o["file"] else "-x -a '" + " ".join(o["choices"]) + "'" if o["choices"] else "-x")
        parts.append("-d " + "'" + o["desc"].replace("\\", "\\\\").replace("'", "\\'") + "'")
        lines.append(" ".join(parts))
    return "\n".join(lines) + "\n"


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    binary, out = argv[1], argv[2]
    tool = os.path.basename(binary)
    text = subprocess.run([binary, "--help"], check=True, capture_output=True, text=True).stdout
    opts = parse_help(text)
    if not opts or not any(o["long"] == "help" for o in opts):
        print(f"gen-completions: no options parsed from {tool} --help", file=sys.stderr)
        return 1
    for sub, name, gen in (("bash", tool, bash), ("zsh", "_" + tool, zsh), ("fish", tool + ".fish", fish)):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
        with open(os.path.join(out, sub, name), "w", encoding="utf-8") as f:
            f.write(gen(tool, opts))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
