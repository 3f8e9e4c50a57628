#!/usr/bin/env bash
# OpenStack Swift with the S3 API (s3api + tempauth), on 127.0.0.1 on free ports, in a temp dir.
#
#   eval "$(scripts/swift.sh start [DIR])"   # prints SWIFT_DIR=, S3_ENDPOINT= S3_ACCESS_KEY= S3_SECRET_KEY=
#                                            # S3_REGION= (for scripts), and exports what the tools
#                                            # (and aws) read: AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
#                                            # AWS_SECRET_ACCESS_KEY, AWS_REGION
#   scripts/swift.sh stop DIR                # stops every process it started in DIR
#   scripts/swift.sh stop-proxy DIR          # stops only the S3 endpoint (fault tests); data stays
#   scripts/swift.sh start DIR               # on an existing DIR: restarts what is down, same ports
#
# Credentials: access key test:tester (note the ':'), secret testing, region us-east-1, path-style.
# Swift checks signatures, Content-MD5, x-amz-content-sha256 and multipart rules like AWS does.
set -euo pipefail

die() { echo "swift.sh: $*" >&2; exit 1; }
. "$(dirname "${BASH_SOURCE[0]}")/ports.sh"  # free_ports N

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_one() {
  local pidf=$1
  if alive "$pidf"; then
    local pid; pid=$(cat "$pidf")
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidf"
}

configure() {
  local dir=$1
  mkdir -p "$dir/srv/d1" "$dir/log" "$dir/run"
  cp /etc/swift/swift.conf "$dir/swift.conf" 2>/dev/null || printf '[swift-hash]\nswift_hash_path_suffix = sp\nswift_hash_path_prefix = sp\n[storage-policy:0]\nname = Policy-0\ndefault = yes\n' >"$dir/swift.conf"
  local proxy_port account_port container_port object_port
  read -r proxy_port account_port container_port object_port <<<"$(free_ports 4)"
  printf 'PROXY_PORT=%s\nACCOUNT_PORT=%s\nCONTAINER_PORT=%s\nOBJECT_PORT=%s\n' \
    "$proxy_port" "$account_port" "$container_port" "$object_port" >"$dir/ports"
  local common="bind_ip = 127.0.0.1
devices = $dir/srv
mount_check = false
workers = 0
user = $(id -un)
swift_dir = $dir
log_name = swift"
  for kind in account container object; do
    local port_var="${kind^^}_PORT"
    local port
    port=$(sed -n "s/^${port_var}=//p" "$dir/ports")
    cat >"$dir/$kind-server.conf" <<CONF
[DEFAULT]
bind_port = $port
$common

[pipeline:main]
pipeline = $kind-server

[app:$kind-server]
use = egg:swift#$kind
CONF
    (cd "$dir" && swift-ring-builder "$kind.builder" create 10 1 1 >/dev/null &&
      swift-ring-builder "$kind.builder" add "r1z1-127.0.0.1:$port/d1" 100 >/dev/null &&
      swift-ring-builder "$kind.builder" rebalance >/dev/null) || die "ring $kind failed"
  done
  cat >"$dir/proxy-server.conf" <<CONF
[DEFAULT]
bind_port = $proxy_port
bind_ip = 127.0.0.1
workers = 0
user = $(id -un)
swift_dir = $dir
log_name = proxy

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache s3api tempauth copy dlo slo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:s3api]
use = egg:swift#s3api
location = us-east-1
# AWS allows 10,000 parts per upload (Swift's default is 1,000)
max_upload_part_num = 10000

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:cache]
use = egg:swift#memcache

[filter:copy]
use = egg:swift#copy

[filter:dlo]
use = egg:swift#dlo

[filter:slo]
use = egg:swift#slo
max_manifest_segments = 10000
CONF
}

start_one() {
  local dir=$1 kind=$2
  alive "$dir/run/$kind.pid" && return 0
  (
    # a server must not keep the caller's pipes open (a test's FIFO would never see EOF)
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    exec setsid "swift-$kind-server" "$dir/$kind-server.conf" >>"$dir/log/$kind.log" 2>&1 </dev/null
  ) &
  echo $! >"$dir/run/$kind.pid"
}

cmd=${1:-}  # a bare call prints the usage (before, it started a server nobody stopped)
case "$cmd" in
  start)
    dir=${2:-}
    if [ -z "$dir" ]; then dir=$(mktemp -d /tmp/sp-swift.XXXXXX); fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ -f "$dir/ports" ] || configure "$dir"
    # shellcheck disable=SC1091
    . "$dir/ports"
    for kind in account container object proxy; do start_one "$dir" "$kind"; done
    ok=0
    for _ in $(seq 300); do
      if curl -sf "http://127.0.0.1:$PROXY_PORT/healthcheck" >/dev/null 2>&1; then ok=1; break; fi
      for kind in account container object proxy; do
        alive "$dir/run/$kind.pid" || { tail -20 "$dir/log/$kind.log" >&2; die "swift-$kind-server exited (log: $dir/log/$kind.log)"; }
      done
      sleep 0.1
    done
    [ $ok -eq 1 ] || die "proxy on port $PROXY_PORT not healthy after 30 s (logs in $dir/log)"
    cat <<OUT
SWIFT_DIR=$dir
S3_ENDPOINT=http://127.0.0.1:$PROXY_PORT
S3_ACCESS_KEY=test:tester
S3_SECRET_KEY=testing
S3_REGION=us-east-1
export AWS_ENDPOINT_URL=http://127.0.0.1:$PROXY_PORT AWS_ACCESS_KEY_ID=test:tester AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1
OUT
    ;;
  stop)
    dir=${2:?usage: swift.sh stop DIR}
    for kind in proxy object container account; do stop_one "$dir/run/$kind.pid"; done
    ;;
  stop-proxy)
    dir=${2:?usage: swift.sh stop-proxy DIR}
    stop_one "$dir/run/proxy.pid"
    ;;
  *) die "usage: swift.sh start [DIR] | stop DIR | stop-proxy DIR" ;;
esac
