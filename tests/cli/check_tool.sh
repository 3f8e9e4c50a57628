#!/usr/bin/env bash
# Checks every tool must pass: --help (exit 0, on stdout), --version, a bad flag (exit 2 with a hint),
# that every option --help lists appears in the tool's man page source, and that --help's footer and
# the man page's EXIT STATUS list the same exit statuses (the tool's own, from tool_main's list).
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

# exit statuses: "Exit status: 0 ok, 2 usage error, ..." in --help; "*N*" items in EXIT STATUS
help_codes=$(printf '%s\n' "$help" | sed -n 's/^Exit status: //p' | tr ',' '\n' | grep -oE '^ *[0-9]+' | tr -d ' ' | sort -n | tr '\n' ' ')
man_codes=$(awk '/^# EXIT STATUS/ {on = 1; next} /^# / {on = 0} on' "$man" | grep -E '^\*[0-9]+\*' |
            grep -oE '\*[0-9]+\*' | tr -d '*' | sort -un | tr '\n' ' ')
[ -n "$help_codes" ] || fail "--help lists no exit statuses"
[ "$help_codes" == "$man_codes" ] || fail "exit statuses differ: --help lists '$help_codes', $man EXIT STATUS '$man_codes'"
echo "ok $tool"
