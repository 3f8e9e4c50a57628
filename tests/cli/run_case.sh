#!/usr/bin/env bash
# Runs one CLI golden case: tests/cli/<tool>/<case>/ holds
#   cmd          a bash command line, run in the case dir with the built tools first on PATH
#   stdin        (optional) fed to the command; else /dev/null
#   stdout       expected stdout, byte for byte (omit to ignore stdout)
#   exit         expected exit code (default 0)
#   stderr       expected stderr, byte for byte; or
#   stderr.grep  one extended regex per line, each must match somewhere in stderr
#   files/NAME   (optional) expected content of a file NAME the command writes into $OUT
set -u
bindir=$1 case=$2
name=$(basename "$(dirname "$case")")/$(basename "$case")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export PATH="$bindir:$PATH" OUT="$out" LC_ALL=C
unset KAFKA_BROKERS SENSOR_PIPELINE_CONFIG CLICKHOUSE_PASSWORD CLICKHOUSE_USER AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
export HOME="$out"  # no user config file leaks in
cd "$case"
stdin=/dev/null
[ -f stdin ] && stdin=stdin
bash -c "$(cat cmd)" <"$stdin" >"$out/.stdout" 2>"$out/.stderr"
rc=$?
want=0
[ -f exit ] && want=$(cat exit)
ok=1
if [ "$rc" != "$want" ]; then echo "$name: exit $rc, want $want" >&2; ok=0; fi
if [ -f stdout ] && ! cmp -s stdout "$out/.stdout"; then
  echo "$name: stdout differs:" >&2; diff -u stdout "$out/.stdout" | head -40 >&2; ok=0
fi
if [ -f stderr ] && ! cmp -s stderr "$out/.stderr"; then
  echo "$name: stderr differs:" >&2; diff -u stderr "$out/.stderr" | head -40 >&2; ok=0
fi
if [ -f stderr.grep ]; then
  while IFS= read -r pat; do
    [ -z "$pat" ] && continue
    grep -qE -- "$pat" "$out/.stderr" || { echo "$name: stderr lacks /$pat/" >&2; ok=0; }
  done <stderr.grep
fi
if [ -d files ]; then
  for f in files/*; do
    b=$(basename "$f")
    cmp -s "$f" "$out/$b" || { echo "$name: file $b differs:" >&2; diff -u "$f" "$out/$b" | head -40 >&2; ok=0; }
  done
fi
if [ $ok -eq 0 ]; then echo "--- stderr was:" >&2; head -c 3000 "$out/.stderr" >&2; exit 1; fi
echo "ok $name"
