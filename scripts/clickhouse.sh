#!/usr/bin/env bash
# Starts / stops a throwaway clickhouse-server (Debian 18.16 or newer) in a directory, on free
# ports on 127.0.0.1, for tests, benchmarks and the demo. No systemd, no root paths touched.
#
#   eval "$(scripts/clickhouse.sh start DIR)"   # prints CH_URL= CH_HTTP_PORT= CH_TCP_PORT= CH_PID= CH_DIR=
#                                                #        CH_USER=writer CH_PASSWORD=... (the password user)
#   scripts/clickhouse.sh stop DIR               # SIGTERM, wait up to 20 s, then SIGKILL
#   scripts/clickhouse.sh restart DIR            # same ports and data (tests that kill the server)
#   scripts/clickhouse.sh kill DIR               # SIGKILL (a crash), no wait; `restart DIR` brings it back
#
# A cluster: ZooKeeper plus SHARDS x REPLICAS servers (default 2 x 2), all on 127.0.0.1 free ports:
#   eval "$(scripts/clickhouse.sh cluster DIR [SHARDS REPLICAS])"
#     prints CH_CLUSTER=sensors CH_CLUSTER_DIR=DIR ZK_PORT= ZK_DIR=DIR/zk CH_URLS="url ..." (every member,
#     shard by shard), CH_URL (the first), CH_URL_S1R1=... per member, CH_USER/CH_PASSWORD(_FILE) (the
#     same writer on every member). Members live in DIR/s<shard>r<replica>, ZooKeeper in DIR/zk;
#     stop|kill|restart|status of one member (or of DIR/zk) take its directory; `stop DIR` stops all.
#   Each server has macros {shard} (01, 02...) and {replica} (s1r1...), the remote_servers entry
#   `sensors` (internal_replication: the replicated tables copy, not the Distributed table) and
#   distributed DDL, so `CREATE TABLE ... ON CLUSTER sensors ... ReplicatedReplacingMergeTree(
#   '/clickhouse/tables/{shard}/t', '{replica}')` works. CH_CLUSTER_NAME overrides the name;
#   CH_SHARD_WEIGHTS="1,3" gives the shards those weights (default: each 1).
#
# Users: `default` without a password, and `writer` whose password is in DIR/writer.password
# (random per start unless CH_WRITER_PASSWORD is set). Timezone UTC. Logs in DIR/log/.
# CH_TLS=1 also serves HTTPS with a fresh self-signed certificate for 127.0.0.1 (prints
# CH_HTTPS_URL= and CH_CA_FILE=, the certificate to trust).
set -euo pipefail

usage() { echo "usage: $0 start|stop|kill|restart|status DIR | cluster DIR [SHARDS REPLICAS]" >&2; exit 2; }
[ $# -eq 2 ] || { [ $# -eq 4 ] && [ "$1" = cluster ]; } || usage
cmd=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)

. "$(dirname "${BASH_SOURCE[0]}")/ports.sh"  # free_ports N, free_port

server_bin() {
  if command -v clickhouse-server >/dev/null 2>&1; then echo clickhouse-server
  elif command -v clickhouse >/dev/null 2>&1; then echo "clickhouse server"
  else echo "clickhouse.sh: clickhouse-server is not installed (apt-get install clickhouse-server)" >&2; exit 69
  fi
}

write_config() {
  local http=$1 tcp=$2 inter=$3 pass=$4 https=$5
  mkdir -p "$dir/data" "$dir/tmp" "$dir/user_files" "$dir/format_schemas" "$dir/log"
  local tls_xml=""
  if [ -n "$https" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/server.key" -out "$dir/server.crt" -days 7 \
      -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" >/dev/null 2>&1
    tls_xml="<https_port>$https</https_port>
    <openSSL><server>
        <certificateFile>$dir/server.crt</certificateFile>
        <privateKeyFile>$dir/server.key</privateKeyFile>
        <verificationMode>none</verificationMode>
        <loadDefaultCAFile>false</loadDefaultCAFile>
        <cacheSessions>true</cacheSessions>
        <disableProtocols>sslv2,sslv3</disableProtocols>
        <preferServerCiphers>true</preferServerCiphers>
    </server></openSSL>"
  fi
  cat >"$dir/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
    <logger>
        <level>information</level>
        <log>$dir/log/clickhouse-server.log</log>
        <errorlog>$dir/log/clickhouse-server.err.log</errorlog>
        <size>100M</size>
        <count>2</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>$http</http_port>
    <tcp_port>$tcp</tcp_port>
    $tls_xml
    <interserver_http_port>$inter</interserver_http_port>
    <interserver_http_host>127.0.0.1</interserver_http_host>
    <max_connections>256</max_connections>
    <keep_alive_timeout>10</keep_alive_timeout>
    <max_concurrent_queries>100</max_concurrent_queries>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <mark_cache_size>268435456</mark_cache_size>
    <path>$dir/data/</path>
    <tmp_path>$dir/tmp/</tmp_path>
    <user_files_path>$dir/user_files/</user_files_path>
    <format_schema_path>$dir/format_schemas/</format_schema_path>
    <users_config>$dir/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
    <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
    <max_session_timeout>3600</max_session_timeout>
    <default_session_timeout>60</default_session_timeout>
${cluster_xml:-}
</yandex>
XML
  local sha
  sha=$(printf '%s' "$pass" | sha256sum | cut -d' ' -f1)
  cat >"$dir/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>4000000000</max_memory_usage>
            <load_balancing>random</load_balancing>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
        <writer>
            <password_sha256_hex>$sha</password_sha256_hex>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </writer>
    </users>
    <quotas>
        <default>
            <interval><duration>3600</duration><queries>0</queries><errors>0</errors>
            <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval>
        </default>
    </quotas>
</yandex>
XML
  printf '%s\n' "$pass" >"$dir/writer.password"
  chmod 600 "$dir/writer.password"
  cat >"$dir/env" <<ENV
CH_URL=http://127.0.0.1:$http
CH_HTTP_PORT=$http
CH_TCP_PORT=$tcp
CH_DIR=$dir
CH_USER=writer
CH_PASSWORD=$pass
CH_PASSWORD_FILE=$dir/writer.password
ENV
  if [ -n "$https" ]; then
    printf 'CH_HTTPS_URL=https://127.0.0.1:%s\nCH_CA_FILE=%s\n' "$https" "$dir/server.crt" >>"$dir/env"
  fi
}

launch() {
  local http
  http=$(sed -n 's/^CH_HTTP_PORT=//p' "$dir/env")
  # setsid: the server must not get the caller's terminal signals (Ctrl-C of a test runner is
  # handled by the caller's cleanup, which stops it properly).
  # shellcheck disable=SC2046
  setsid $(server_bin) --config-file="$dir/config.xml" >"$dir/log/stdout.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$dir/pid"
  local i
  for i in $(seq 1 300); do
    if curl -fsS "http://127.0.0.1:$http/ping" >/dev/null 2>&1; then
      cat "$dir/env"
      echo "CH_PID=$pid"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "clickhouse.sh: clickhouse-server exited during start; last log lines:" >&2
      tail -n 20 "$dir/log/clickhouse-server.err.log" "$dir/log/stdout.log" >&2 2>/dev/null || true
      exit 69
    fi
    sleep 0.1
  done
  echo "clickhouse.sh: no answer on /ping after 30 s (see $dir/log)" >&2
  kill -KILL "$pid" 2>/dev/null || true
  exit 69
}

stop() {
  [ -f "$dir/pid" ] || return 0
  local pid
  pid=$(cat "$dir/pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    local i
    for i in $(seq 1 200); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "clickhouse.sh: server $pid ignored SIGTERM for 20 s, sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
    fi
  fi
  rm -f "$dir/pid"
}

# A crash: SIGKILL, then wait until the process is gone (its ports are free for `restart`).
kill_now() {
  [ -f "$dir/pid" ] || return 0
  local pid i
  pid=$(cat "$dir/pid")
  kill -KILL "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  rm -f "$dir/pid"
}

# --- ZooKeeper (Debian's zookeeper 3.8: its jar's manifest names its dependencies) ---------------
zk_ready() {
  python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)
s.settimeout(1)
s.sendall(b"srvr")
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk: break
    data += chunk
sys.exit(0 if b"Mode:" in data else 1)
PY
}

write_zk_config() {
  local port=$1
  mkdir -p "$dir/data" "$dir/log"
  [ -f /usr/share/java/zookeeper.jar ] || {
    echo "clickhouse.sh: ZooKeeper is not installed (apt-get install zookeeper)" >&2; exit 69; }
  # 4lw srvr: the readiness probe; the admin server would take port 8080
  cat >"$dir/zoo.cfg" <<CFG
tickTime=2000
dataDir=$dir/data
clientPort=$port
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=srvr,ruok
maxClientCnxns=0
CFG
  printf 'ZK_PORT=%s\nZK_DIR=%s\n' "$port" "$dir" >"$dir/env"
}

launch_zk() {
  local port pid i
  port=$(sed -n 's/^ZK_PORT=//p' "$dir/env")
  # a small heap and the serial collector: it holds a few hundred znodes, on a shared 2-core box
  setsid java -Xmx256m -XX:+UseSerialGC -Dzookeeper.log.dir="$dir/log" \
    -cp /usr/share/java/zookeeper.jar org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" \
    >"$dir/log/stdout.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$dir/pid"
  for i in $(seq 1 600); do
    if zk_ready "$port"; then cat "$dir/env"; echo "ZK_PID=$pid"; return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "clickhouse.sh: ZooKeeper exited during start; last log lines:" >&2
      tail -n 20 "$dir/log/stdout.log" >&2 2>/dev/null || true
      exit 69
    fi
    sleep 0.1
  done
  echo "clickhouse.sh: ZooKeeper did not answer srvr after 60 s (see $dir/log)" >&2
  kill -KILL "$pid" 2>/dev/null || true
  exit 69
}

is_zk() { [ -f "$dir/zoo.cfg" ]; }
is_cluster() { [ -f "$dir/cluster.env" ]; }
members() { sed -n "s/^CH_MEMBERS='\(.*\)'$/\1/p" "$dir/cluster.env"; }

# --- a cluster: ZooKeeper + SHARDS x REPLICAS servers ---------------------------------------------
cluster_start() {
  local shards=$1 replicas=$2 name=${CH_CLUSTER_NAME:-sensors}
  [[ $shards =~ ^[1-9]$ && $replicas =~ ^[1-9]$ ]] || { echo "clickhouse.sh: SHARDS and REPLICAS: 1..9" >&2; exit 2; }
  if is_cluster; then echo "clickhouse.sh: $dir already holds a cluster (its members: stop/restart DIR/s1r1...; a new one: another DIR)" >&2; exit 1; fi
  local n=$((shards * replicas)) root=$dir
  rm -f "$root/members.env.tmp"
  local -a ports
  read -r -a ports <<<"$(free_ports $((1 + 3 * n)))"
  local zk=${ports[0]} pass
  pass=${CH_WRITER_PASSWORD:-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')}
  local s r k=1 remote="" member_list="" urls=""
  local -a weights=()
  IFS=, read -r -a weights <<<"${CH_SHARD_WEIGHTS:-}"
  [ ${#weights[@]} -eq 0 ] || [ ${#weights[@]} -eq "$shards" ] ||
    { echo "clickhouse.sh: CH_SHARD_WEIGHTS has ${#weights[@]} weights for $shards shards" >&2; exit 2; }
  for ((s = 1; s <= shards; s++)); do
    remote+="            <shard><internal_replication>true</internal_replication>"
    [ ${#weights[@]} -eq 0 ] || remote+="<weight>${weights[s - 1]}</weight>"
    remote+=$'\n'
    for ((r = 1; r <= replicas; r++)); do
      remote+="                <replica><host>127.0.0.1</host><port>${ports[k + 1]}</port></replica>"$'\n'
      k=$((k + 3))
    done
    remote+="            </shard>"$'\n'
  done
  dir=$root/zk
  write_zk_config "$zk"
  launch_zk >/dev/null
  # every server at once: each start is mostly waiting (on ZooKeeper, on its own tables)
  local -a pids=()
  k=1
  for ((s = 1; s <= shards; s++)); do
    for ((r = 1; r <= replicas; r++)); do
      local m=s${s}r${r}
      dir=$root/$m
      # A replica restarted after SIGKILL waits for its old ZooKeeper session to expire (10 s here)
      # and retries every check period (60 s by default: too slow for tests and failover drills).
      # internal_replication: a Distributed insert writes one replica per shard and the replicated
      # table copies it, instead of the Distributed table writing every replica itself
      cluster_xml="    <zookeeper><node><host>127.0.0.1</host><port>$zk</port></node>
        <session_timeout_ms>10000</session_timeout_ms></zookeeper>
    <macros><shard>$(printf %02d "$s")</shard><replica>$m</replica></macros>
    <remote_servers><$name>
$remote        </$name></remote_servers>
    <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
    <merge_tree><zookeeper_session_expiration_check_period>2</zookeeper_session_expiration_check_period></merge_tree>"
      write_config "${ports[k]}" "${ports[k + 1]}" "${ports[k + 2]}" "$pass" ""
      (launch >/dev/null) &
      pids+=($!)
      member_list+="${member_list:+ }$m"
      urls+="${urls:+ }http://127.0.0.1:${ports[k]}"
      printf 'CH_URL_%s=http://127.0.0.1:%s\n' "${m^^}" "${ports[k]}" >>"$root/members.env.tmp"
      k=$((k + 3))
    done
  done
  dir=$root
  local failed=0 p
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  {
    echo "CH_CLUSTER=$name"
    echo "CH_CLUSTER_DIR=$root"
    echo "CH_MEMBERS='$member_list'"
    echo "CH_URLS='$urls'"
    echo "CH_URL=${urls%% *}"
    cat "$root/members.env.tmp"
    echo "ZK_PORT=$zk"
    echo "ZK_DIR=$root/zk"
    echo "CH_USER=writer"
    echo "CH_PASSWORD=$pass"
    echo "CH_PASSWORD_FILE=$root/${member_list%% *}/writer.password"
  } >"$root/cluster.env"
  rm -f "$root/members.env.tmp"
  if [ $failed -ne 0 ]; then
    echo "clickhouse.sh: a member did not start; stopping the cluster" >&2
    cluster_stop
    exit 69
  fi
  cat "$root/cluster.env"
}

cluster_stop() {
  local root=$dir m
  local -a pids=()
  for m in $(members); do (dir=$root/$m; stop) & pids+=($!); done
  for m in "${pids[@]}"; do wait "$m" || true; done
  dir=$root/zk
  stop
  dir=$root
}

case $cmd in
  cluster) cluster_start "${3:-2}" "${4:-2}" ;;
  start)
    if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
      echo "clickhouse.sh: already running in $dir (pid $(cat "$dir/pid"))" >&2; exit 1
    fi
    pass=${CH_WRITER_PASSWORD:-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')}
    https=""
    read -r -a ports <<<"$(free_ports 4)"
    [ "${CH_TLS:-0}" = 1 ] && https=${ports[3]}
    write_config "${ports[0]}" "${ports[1]}" "${ports[2]}" "$pass" "$https"
    launch
    ;;
  restart)
    is_cluster && { echo "clickhouse.sh: restart takes one member's directory ($dir/s1r1, $dir/zk...)" >&2; exit 2; }
    [ -f "$dir/env" ] || { echo "clickhouse.sh: $dir was never started" >&2; exit 1; }
    stop
    if is_zk; then launch_zk; else launch; fi
    ;;
  stop) if is_cluster; then cluster_stop; else stop; fi ;;
  kill)
    is_cluster && { echo "clickhouse.sh: kill takes one member's directory ($dir/s1r1, $dir/zk...)" >&2; exit 2; }
    kill_now
    ;;
  status)
    if is_cluster; then
      cat "$dir/cluster.env"
      rc=0
      for m in $(members) zk; do
        if [ -f "$dir/$m/pid" ] && kill -0 "$(cat "$dir/$m/pid")" 2>/dev/null; then echo "# $m: running"
        else echo "# $m: not running"; rc=1; fi
      done
      exit $rc
    fi
    if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
      cat "$dir/env"
      if is_zk; then echo "ZK_PID=$(cat "$dir/pid")"; else echo "CH_PID=$(cat "$dir/pid")"; fi
    else echo "clickhouse.sh: not running" >&2; exit 1; fi
    ;;
  *) usage ;;
esac
