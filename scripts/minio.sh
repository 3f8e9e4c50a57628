#!/usr/bin/env bash
# MinIO (the seed's S3 store), on 127.0.0.1 on free ports, in a temp dir, with its own root credentials.
#
#   scripts/minio.sh build                   # build the server once into the cache (install-deps, CI)
#   eval "$(scripts/minio.sh start [DIR])"   # prints MINIO_DIR=, S3_ENDPOINT= S3_ACCESS_KEY= S3_SECRET_KEY=
#                                            # S3_REGION= (for scripts), and exports what the tools (and aws)
#                                            # read: AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
#                                            # AWS_REGION
#   scripts/minio.sh start DIR               # on an existing DIR: restarts a stopped server, same port and data
#   scripts/minio.sh stop DIR                # stops the server (TERM, then KILL); data stays in DIR
#   scripts/minio.sh kill DIR                # SIGKILL, as a crash would
#   scripts/minio.sh stop-proxy DIR          # the endpoint refuses connections until `start DIR` (as swift.sh's)
#   scripts/minio.sh freeze DIR | thaw DIR   # SIGSTOP / SIGCONT: a server that accepts and never answers
#   scripts/minio.sh path                    # prints the cached server binary's path (builds it first)
#   scripts/minio.sh build-mc                # build MinIO's client `mc` once into the cache (the bench only)
#   scripts/minio.sh mc-path [--cached]      # prints the cached `mc` binary's path (builds it first; with
#                                            # --cached exits 1 with a reason instead of building)
#
# The server is built from its Go module with the machine's Go (about 7 minutes on 2 cores the first time,
# a 150 MB binary) and cached outside the work tree beside Kafka's jars, keyed by the version below.
# `mc` is built the same way on demand (its own version and cache entry; 308 s here under load with MinIO's
# modules already fetched, a 42 MB binary; only `make bench` compares with it, so install-deps does not
# build it). MINIO_VERSION, MC_VERSION and SENSOR_CACHE_DIR can be set. Region us-east-1, path-style addressing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
version=${MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}
cache_root=${SENSOR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sensor-pipeline}
cache=$cache_root/minio-$version
bin=$cache/bin/minio
mc_version=${MC_VERSION:-v0.0.0-20250313080218-cf909e1063a9}
mc_cache=$cache_root/mc-$mc_version

die() { echo "minio.sh: $*" >&2; exit 69; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 2; }
. "$here/ports.sh"  # free_ports N

# One build per machine; tests that start servers in parallel wait for it. A stamp marks a complete binary.
build_module() { # NAME MODULE VERSION CACHE_DIR MINUTES
  local name=$1 module=$2 ver=$3 dir=$4 minutes=$5
  [ -f "$dir/complete" ] && return 0
  mkdir -p "$dir"
  exec 9>"$dir.lock"
  flock 9
  [ -f "$dir/complete" ] && { exec 9>&-; return 0; }
  command -v go >/dev/null || die "go is not installed ($name is built from its Go module)"
  echo "minio.sh: building $name $ver into $dir (once per machine; about $minutes minutes on 2 cores)" >&2
  local t0=$SECONDS
  rm -rf "$dir/bin"
  if ! GOBIN="$dir/bin" GOFLAGS=-mod=mod go install "$module@$ver" >"$dir/build.log" 2>&1; then
    tail -20 "$dir/build.log" >&2
    die "could not build $name $ver (log: $dir/build.log)"
  fi
  touch "$dir/complete"
  exec 9>&-
  echo "minio.sh: built $name $ver in $((SECONDS - t0)) s" >&2
}
build() { build_module MinIO github.com/minio/minio "$version" "$cache" 7; }
build_mc() { build_module mc github.com/minio/mc "$mc_version" "$mc_cache" 5; }

alive() { [ -f "$1/run/minio.pid" ] && kill -0 "$(cat "$1/run/minio.pid")" 2>/dev/null; }

configure() {
  local dir=$1 port console
  mkdir -p "$dir/data" "$dir/log" "$dir/run"
  read -r port console <<<"$(free_ports 2)"
  # its own credentials per server: a secret no other test or user shares
  local secret
  secret=$(head -c 18 /dev/urandom | base64 | tr -d '/+=' | cut -c1-24)
  printf 'PORT=%s\nCONSOLE_PORT=%s\nACCESS_KEY=sensor-test\nSECRET_KEY=%s\n' "$port" "$console" "$secret" >"$dir/conf"
}

start() {
  local dir=$1
  # shellcheck disable=SC1091
  . "$dir/conf"
  if ! alive "$dir"; then
    (
      # a server must not keep the caller's pipes open (a test's FIFO would never see EOF)
      for fd in /proc/$BASHPID/fd/*; do
        fd=${fd##*/}
        if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-" 2>/dev/null || true; fi
      done
      MINIO_ROOT_USER=$ACCESS_KEY MINIO_ROOT_PASSWORD=$SECRET_KEY MINIO_BROWSER=off MINIO_UPDATE=off \
        MINIO_REGION=us-east-1 HOME="$dir" \
        exec setsid "$bin" server "$dir/data" --quiet --anonymous \
        --address "127.0.0.1:$PORT" --console-address "127.0.0.1:$CONSOLE_PORT" >>"$dir/log/minio.log" 2>&1 </dev/null
    ) &
    echo $! >"$dir/run/minio.pid"
  fi
  local ok=0
  for _ in $(seq 600); do
    if curl -sf "http://127.0.0.1:$PORT/minio/health/live" >/dev/null 2>&1; then ok=1; break; fi
    alive "$dir" || { tail -20 "$dir/log/minio.log" >&2; die "minio exited (log: $dir/log/minio.log)"; }
    sleep 0.1
  done
  [ $ok -eq 1 ] || die "MinIO on port $PORT not live after 60 s (log: $dir/log/minio.log)"
  # ready for requests, not only alive (the single drive is formatted on first start)
  for _ in $(seq 300); do
    curl -sf "http://127.0.0.1:$PORT/minio/health/ready" >/dev/null 2>&1 && break
    sleep 0.1
  done
}

signal_server() { # DIR SIGNAL
  alive "$1" || return 0
  kill "-$2" -- "-$(cat "$1/run/minio.pid")" 2>/dev/null || kill "-$2" "$(cat "$1/run/minio.pid")" 2>/dev/null || true
}

stop() {
  local dir=$1
  alive "$dir" || { rm -f "$dir/run/minio.pid"; return 0; }
  local pid; pid=$(cat "$dir/run/minio.pid")
  signal_server "$dir" CONT
  signal_server "$dir" TERM
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  signal_server "$dir" KILL
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$dir/run/minio.pid"
}

[ $# -ge 1 ] || usage
cmd=$1; shift
case "$cmd" in
  build) build ;;
  path) build; echo "$bin" ;;
  build-mc) build_mc ;;
  mc-path)
    if [ "${1:-}" = --cached ]; then
      [ -f "$mc_cache/complete" ] ||
        { echo "minio.sh: mc $mc_version is not built (scripts/minio.sh build-mc, once per machine)" >&2; exit 1; }
    else
      build_mc
    fi
    echo "$mc_cache/bin/mc" ;;
  start)
    dir=${1:-}
    [ -n "$dir" ] || dir=$(mktemp -d /tmp/sp-minio.XXXXXX)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    build
    [ -f "$dir/conf" ] || configure "$dir"
    start "$dir"
    # shellcheck disable=SC1091
    . "$dir/conf"
    cat <<OUT
MINIO_DIR=$dir
S3_ENDPOINT=http://127.0.0.1:$PORT
S3_ACCESS_KEY=$ACCESS_KEY
S3_SECRET_KEY=$SECRET_KEY
S3_REGION=us-east-1
export AWS_ENDPOINT_URL=http://127.0.0.1:$PORT AWS_ACCESS_KEY_ID=$ACCESS_KEY AWS_SECRET_ACCESS_KEY=$SECRET_KEY
export AWS_REGION=us-east-1
OUT
    ;;
  stop | stop-proxy) stop "${1:?usage: minio.sh $cmd DIR}" ;;
  kill)
    dir=${1:?usage: minio.sh kill DIR}
    signal_server "$dir" KILL
    rm -f "$dir/run/minio.pid"
    ;;
  freeze) signal_server "${1:?usage: minio.sh freeze DIR}" STOP ;;
  thaw) signal_server "${1:?usage: minio.sh thaw DIR}" CONT ;;
  *) usage ;;
esac
