#!/usr/bin/env bash
# The Debian package (`make deb`: CPack over the install rules): lintian reports no error or warning;
# it holds every tool, its man page and its completions, the README, the examples (once: the doc
# dir's examples is a symlink to them) and the systemd unit, and nothing enables the unit; postinst
# creates the unit's system user and only restarts running instances on upgrade, prerm stops the
# running instances on remove, postrm purges the unit's state directory; dpkg installs it into a throwaway root (--root: the machine's own /usr, /etc and dpkg
# database are not touched), the user exists there, every tool's --version runs from there, and
# dpkg removes it again leaving no file behind but the user (Debian keeps system users).
# Usage: deb_test.sh BUILD_DIR
set -euo pipefail
build=$1
fail() { echo "FAIL deb: $*" >&2; exit 1; }
tmp=$(mktemp -d /tmp/sp-deb_test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
tools=$(cd "$build/bin" && ls)
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
[ -n "$version" ] || fail "no project version in $build/CMakeCache.txt"

(cd "$build" && cpack -G DEB -B "$tmp/pkg" >"$tmp/cpack.log" 2>&1) || fail "cpack: $(tail -20 "$tmp/cpack.log")"
deb=$(ls "$tmp"/pkg/sensor-pipeline_"$version"_*.deb) || fail "no .deb for version $version in $(ls "$tmp/pkg")"

# lintian: no error and no warning (informational tags are listed, not fatal)
lintian --fail-on error,warning --tag-display-limit 0 "$deb" >"$tmp/lintian.out" 2>&1 ||
  fail "lintian: $(cat "$tmp/lintian.out")"
! grep -E '^(E|W): ' "$tmp/lintian.out" || fail "lintian tags above"

# contents
dpkg-deb -c "$deb" >"$tmp/listing"
awk '{print $6}' "$tmp/listing" | sed 's#^\./#/#' >"$tmp/files"
need() { grep -qxF "$1" "$tmp/files" || fail "package lacks $1"; }
for t in $tools; do
  need "/usr/bin/$t"
  need "/usr/share/man/man1/$t.1.gz"
  need "/usr/share/bash-completion/completions/$t"
  need "/usr/share/zsh/vendor-completions/_$t"
  need "/usr/share/fish/vendor_completions.d/$t.fish"
done
need /usr/lib/systemd/system/sensor-pipeline@.service
need /usr/lib/sysusers.d/sensor-pipeline.conf
need /usr/share/doc/sensor-pipeline/copyright
need /usr/share/doc/sensor-pipeline/README.md
need /usr/share/sensor-pipeline/examples/config.ini
need /usr/share/sensor-pipeline/examples/backfill-hour.sh
need /usr/share/sensor-pipeline/examples/prometheus/sensor-pipeline-rules.yml
need /usr/share/sensor-pipeline/examples/grafana/sensor-pipeline.json
# the examples once (issue 27: they were in share/sensor-pipeline and share/doc both): the doc dir's
# examples is a relative symlink to them
grep -qE ' \./usr/share/doc/sensor-pipeline/examples -> \.\./\.\./sensor-pipeline/examples$' "$tmp/listing" ||
  fail "doc/examples is not the symlink to ../../sensor-pipeline/examples: $(grep doc/sensor-pipeline/examples "$tmp/listing" | head -3)"
dups=$(sed -n 's#^.*/examples/##p' "$tmp/files" | grep -v '^$' | sort | uniq -d)
[ -z "$dups" ] || fail "examples installed twice: $dups"
! grep -q '^/etc/systemd' "$tmp/files" || fail "the package enables a unit: $(grep '^/etc/systemd' "$tmp/files")"
scripts=$(dpkg-deb --ctrl-tarfile "$deb" | tar -t | sed 's#^\./##' | grep -E '^(postinst|prerm|postrm|preinst)$' | sort | xargs)
[ "$scripts" = "postinst postrm prerm" ] || fail "maintainer scripts: want postinst, postrm, prerm, got: $scripts"
for s in postinst prerm postrm; do
  dpkg-deb --ctrl-tarfile "$deb" | tar -xO "./$s" >"$tmp/$s"
  sh -n "$tmp/$s" || fail "$s: sh -n"
done
! grep -v '^ *#' "$tmp/postinst" | grep -nE 'enable|systemctl (start|restart)|deb-systemd-invoke start|invoke-rc|update-rc' ||
  fail "postinst may not enable or start the unit"
# prerm: on remove, when systemd runs the machine, the running instances are stopped
grep -q '\[ -d /run/systemd/system \]' "$tmp/prerm" && grep -q "systemctl list-units .*'sensor-pipeline@\*\.service'" "$tmp/prerm" &&
  grep -q 'deb-systemd-invoke stop' "$tmp/prerm" || fail "prerm does not stop the running instances: $(cat "$tmp/prerm")"
dpkg-deb -f "$deb" Depends | grep -q librdkafka1 || fail "Depends lacks librdkafka1: $(dpkg-deb -f "$deb" Depends)"
# the Depends are satisfiable on this machine (dry run against the real dpkg database: nothing changes)
dpkg --dry-run -i "$deb" >"$tmp/dry.log" 2>&1 || fail "dpkg --dry-run -i: $(cat "$tmp/dry.log")"

# install into a throwaway root with its own dpkg database; the libraries come from this machine
root=$tmp/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/etc"  # a root has /etc (sysusers locks passwd there)
: >"$root/var/lib/dpkg/status"
# chrootless: the root has no shell; postinst honours $DPKG_ROOT
dpkg --root="$root" --force-depends --force-script-chrootless -i "$deb" >"$tmp/install.log" 2>&1 ||
  fail "dpkg -i: $(cat "$tmp/install.log")"
dpkg --root="$root" -s sensor-pipeline | grep -qx 'Status: install ok installed' || fail "not installed in $root"
for t in $tools; do
  out=$("$root/usr/bin/$t" --version) || fail "$t --version exited $?"
  [ "$out" = "$t $version" ] || fail "$t --version printed '$out', want '$t $version'"
  # (not zcat | grep -q: grep leaves at the first match, and zcat, writing a page over 32 KiB in two
  # writes, can get SIGPIPE on the second: sensor-parse.1 passed 32 KiB with its Rollups section)
  [ "$(zcat "$root/usr/share/man/man1/$t.1.gz" | grep -c '^\.TH')" = 1 ] || fail "$t.1.gz is not a man page"
done
# the installed bash completion completes an option of the installed tool
compl=$(bash -c "source '$root/usr/share/bash-completion/completions/sensor-parse'
  COMP_WORDS=(sensor-parse --sta); COMP_CWORD=1; _sensor_parse; printf '%s\n' \"\${COMPREPLY[@]}\"")
[ "$compl" = "--stats" ] || fail "installed bash completion of 'sensor-parse --sta': '$compl'"
[ -z "$(find "$root/etc" -path '*systemd*' 2>/dev/null)" ] || fail "install enabled a unit: $(find "$root/etc" -path '*systemd*')"
# the unit's User=sensor / Group=sensor: a system user without a login shell
user=$(grep '^sensor:' "$root/etc/passwd" 2>/dev/null) || fail "postinst made no user sensor: $(cat "$tmp/install.log")"
IFS=: read -r _ _ uid gid _ home shell <<<"$user"
[ "$uid" -lt 1000 ] && [ "$home" = /var/lib/sensor-pipeline ] && [[ $shell == */nologin ]] || fail "user sensor: $user"
grep -q "^sensor:x:$gid:" "$root/etc/group" || fail "no group sensor ($gid): $(cat "$root/etc/group")"
grep -q '^User=sensor$' "$root/usr/lib/systemd/system/sensor-pipeline@.service" || fail "the unit runs as another user"
# the cron file (and the doc dir's view of it) runs a script the package installs, executable (issue
# 27: it named /usr/local/share/..., where the .deb puts nothing)
for cron in "$root"/usr/share/sensor-pipeline/examples/hourly-backfill.cron "$root"/usr/share/doc/sensor-pipeline/examples/hourly-backfill.cron; do
  script=$(awk '/^[0-9*]/ {print $7}' "$cron") || fail "no $cron"
  [[ $script == /usr/share/* ]] && [ -x "$root$script" ] || fail "$cron runs '$script', which the package does not install"
done
echo "installed $(wc -l <"$tmp/files") paths into $root; every tool's --version ok"

# remove and purge: nothing of the package is left, nor the state the unit made (its rejects files
# under StateDirectory=); the user stays (README: Debian keeps system users)
mkdir -p "$root/var/lib/sensor-pipeline" && echo '{}' >"$root/var/lib/sensor-pipeline/rejects-1.jsonl"
dpkg --root="$root" --force-script-chrootless --purge sensor-pipeline >"$tmp/remove.log" 2>&1 || fail "dpkg --purge: $(cat "$tmp/remove.log")"
left=$(find "$root" -path "$root/var/lib/dpkg" -prune -o \( -type f -o -type l \) -print |
  grep -vxE "$root/etc/((passwd|group|shadow|gshadow)-?|\.pwd\.lock)" || true)
[ -z "$left" ] || fail "files left after purge: $left"
[ ! -e "$root/var/lib/sensor-pipeline" ] || fail "purge left the state directory /var/lib/sensor-pipeline"
dpkg --root="$root" -s sensor-pipeline >/dev/null 2>&1 && fail "still known to dpkg after purge"
echo "ok deb: $(basename "$deb"), lintian clean, installed, --version of $(echo $tools | wc -w) tools, purged"
