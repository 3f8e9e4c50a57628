# Shared helpers for integration tests (sourced). Each test runs in its own temp dir; servers it
# starts are registered with on_exit so they stop whatever happens.
set -euo pipefail
: "${SRC_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${BIN_DIR:=$SRC_DIR/build/bin}"
export PATH="$BIN_DIR:$PATH"
export LC_ALL=C
unset SENSOR_PIPELINE_CONFIG CLICKHOUSE_USER CLICKHOUSE_PASSWORD AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY \
  AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL 2>/dev/null || true
TEST_NAME=$(basename "$0" .sh)
TEST_TMP=$(mktemp -d "/tmp/sp-${TEST_NAME}.XXXXXX")
# downloads (Kafka's jars) stay cached across tests although HOME is a fresh directory for each
export SENSOR_CACHE_DIR="${SENSOR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sensor-pipeline}"
export HOME="$TEST_TMP/home"  # no user config or ~/.aws leaks in
mkdir -p "$HOME"
_exit_cmds=()
on_exit() { _exit_cmds+=("$*"); }
_run_exit() {
  local rc=$?
  for ((i = ${#_exit_cmds[@]} - 1; i >= 0; i--)); do eval "${_exit_cmds[$i]}" >/dev/null 2>&1 || true; done
  if [ $rc -eq 0 ]; then rm -rf "$TEST_TMP"; else echo "$TEST_NAME: FAILED (rc=$rc); files kept in $TEST_TMP" >&2; fi
}
trap _run_exit EXIT

fail() { echo "$TEST_NAME: FAIL: $*" >&2; exit 1; }
pass() { echo "$TEST_NAME: ok: $*"; }
assert_eq() { [ "$1" == "$2" ] || fail "${3:-values differ}: got '$1', want '$2'"; }
assert_contains() { [[ $1 == *"$2"* ]] || fail "${3:-missing text}: '$2' not in: ${1:0:2000}"; }

# free_port, free_ports N: TCP ports nobody listens on right now, below the ephemeral range (why:
# scripts/ports.sh).
. "$SRC_DIR/scripts/ports.sh"

# stage NAME CMD...: runs CMD with its pid in NAME.pid in the current directory (so that a test can
# kill exactly that process of a pipeline).
stage() { local name=$1; shift; bash -c 'echo $$ >"$0.pid"; exec "$@"' "$PWD/$name" "$@"; }

# wait_until SECONDS CMD...: retries CMD every 0.1 s until it succeeds or time runs out.
wait_until() {
  local secs=$1; shift
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.1
  done
}

# stop_signal_takers PID: the helper threads of PID (all but the main thread) that do not block
# SIGINT and SIGTERM, as "comm(tid)" words; empty when the main thread is the only one that can take
# a stop signal (issue 30 item 7: the tools' blocking reads return EINTR only in the thread that took it).
stop_signal_takers() {
  local pid=$1 task blk takers=""
  for task in /proc/"$pid"/task/*; do
    [ "${task##*/}" = "$pid" ] && continue
    blk=$(awk '/^SigBlk:/ {print $2}' "$task/status" 2>/dev/null) || continue
    [ -n "$blk" ] || continue
    (( (16#$blk & 16#4002) == 16#4002 )) || takers+=" $(cat "$task/comm" 2>/dev/null)(${task##*/})"
  done
  echo "${takers# }"
}
