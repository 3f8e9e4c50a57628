#!/usr/bin/env bash
# Checks every tool must pass: --help (exit 0, on stdout), --version, a bad flag (exit 2 with a hint),
# and that every option --help lists appears in the tool's man page source.
set -u
bin=$1 man=$2
tool=$(basename "$bin")
fail() { echo "FAIL $tool: $*" >&2; exit 1; }

help=$("$bin" --help) || fail "--help exited $?"
[ -n "$help" ] || fail "--help printed nothing on stdout"
ver=$("$bin" --version) || fail "--version exited $?"
[[ $ver == "$tool "* ]] || fail "--version printed '$ver'"
err=$("$bin" --no-such-flag-xyz 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "bad flag exited $rc, want 2"
[[ $err == *"$tool: error:"* ]] || fail "bad flag message lacks '$tool: error:': $err"
[[ $err == *"--help"* ]] || fail "bad flag message does not point to --help: $err"

[ -f "$man" ] || fail "no man page source $man"
missing=0
for opt in $(printf '%s\n' "$help" | grep -oE '(^|[ ,])--?[A-Za-z][A-Za-z0-9-]*' | sed 's/^[ ,]*//' | sort -u); do
  grep -qE -- "(^|[^A-Za-z0-9-])${opt}([^A-Za-z0-9-]|$)" "$man" || {
    echo "option $opt of --help is missing from $man" >&2; missing=1; }
done
[ $missing -eq 0 ] || fail "man page incomplete"
echo "ok $tool"
