#!/usr/bin/env bash
# Starts / stops a throwaway clickhouse-server (Debian 18.16 or newer) in a directory, on free
# ports on 127.0.0.1, for tests, benchmarks and the demo. No systemd, no root paths touched.
#
#   eval "$(scripts/clickhouse.sh start DIR)"   # prints CH_URL= CH_HTTP_PORT= CH_TCP_PORT= CH_PID= CH_DIR=
#                                                #        CH_USER=writer CH_PASSWORD=... (the password user)
#   scripts/clickhouse.sh stop DIR               # SIGTERM, wait up to 20 s, then SIGKILL
#   scripts/clickhouse.sh restart DIR            # same ports and data (tests that kill the server)
#
# Users: `default` without a password, and `writer` whose password is in DIR/writer.password
# (random per start unless CH_WRITER_PASSWORD is set). Timezone UTC. Logs in DIR/log/.
# CH_TLS=1 also serves HTTPS with a fresh self-signed certificate for 127.0.0.1 (prints
# CH_HTTPS_URL= and CH_CA_FILE=, the certificate to trust).
set -euo pipefail

usage() { echo "usage: $0 start|stop|restart|status DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

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

case $cmd in
  start)
    if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
      echo "clickhouse.sh: already running in $dir (pid $(cat "$dir/pid"))" >&2; exit 1
    fi
    pass=${CH_WRITER_PASSWORD:-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')}
    https=""
    [ "${CH_TLS:-0}" = 1 ] && https=$(free_port)
    write_config "$(free_port)" "$(free_port)" "$(free_port)" "$pass" "$https"
    launch
    ;;
  restart)
    [ -f "$dir/env" ] || { echo "clickhouse.sh: $dir was never started" >&2; exit 1; }
    stop
    launch
    ;;
  stop) stop ;;
  status)
    if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then cat "$dir/env"; echo "CH_PID=$(cat "$dir/pid")"
    else echo "clickhouse.sh: not running" >&2; exit 1; fi
    ;;
  *) usage ;;
esac
