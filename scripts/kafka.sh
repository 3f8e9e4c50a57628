#!/usr/bin/env bash
# Starts / stops throwaway Apache Kafka 4.x brokers (KRaft, no ZooKeeper) in a directory, on free ports
# on 127.0.0.1, for tests, benchmarks and the demo. The broker's jars come from Maven Central once
# (scripts/kafka/pom.xml, `mvn dependency:copy-dependencies`) into a cache outside the work tree; after
# that nothing is downloaded.
#
#   eval "$(scripts/kafka.sh start DIR [NODES])"  # NODES brokers (default 1; 3 for failover tests), each
#                                                 # broker+controller. Prints KAFKA_BOOTSTRAP= (PLAINTEXT)
#                                                 # KAFKA_SASL_BOOTSTRAP= (SASL_SSL, SCRAM-SHA-512)
#                                                 # KAFKA_CA_FILE= KAFKA_SASL_USER= KAFKA_SASL_PASSWORD=
#                                                 # KAFKA_NODES= KAFKA_DIR= KAFKA_VERSION=
#   scripts/kafka.sh stop DIR                     # SIGTERM every broker, SIGKILL what is left after 20 s
#   scripts/kafka.sh kill DIR NODE                # SIGKILL one broker (node ids 1..NODES)
#   scripts/kafka.sh stop-node DIR NODE           # SIGTERM one broker and wait for it
#   scripts/kafka.sh start-node DIR NODE          # start a stopped or killed broker again (same ports, data)
#   scripts/kafka.sh topic DIR NAME PARTITIONS [REPLICAS [KEY=VALUE...]]   # create a topic (topic configs)
#   scripts/kafka.sh leader DIR TOPIC PARTITION   # the node id leading that partition
#   scripts/kafka.sh tool DIR CLASS [ARGS...]     # run one of Kafka's own tools (classpath set), e.g.
#                                                 # org.apache.kafka.tools.consumer.ConsoleConsumer
#   scripts/kafka.sh fetch                        # only fill the cache (install-deps, CI)
#
# The SASL_SSL listener's certificate is signed by a throwaway CA made at start (KAFKA_CA_FILE); the
# SCRAM user is created at format time with a random password (KAFKA_SASL_PASSWORD, also in
# DIR/sasl.password). Logs: DIR/nodeN/server.log. KAFKA_HEAP (default 768m per broker: three fit beside
# ClickHouse and Swift on a 24 GiB, 2-core machine) and KAFKA_VERSION (default: the pom's) can be set.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
pom=$here/kafka/pom.xml
version=${KAFKA_VERSION:-$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")}
cache=${SENSOR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sensor-pipeline}/kafka-$version
heap=${KAFKA_HEAP:-768m}

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 2; }
[ $# -ge 1 ] || usage
cmd=$1; shift

# A start that fails leaves no broker behind.
started=()
die() {
  echo "kafka.sh: $*" >&2
  [ ${#started[@]} -eq 0 ] || kill -KILL "${started[@]}" 2>/dev/null || true
  exit 69
}

. "$here/ports.sh"  # free_ports N

# The jars, fetched once. A stamp marks a complete copy, so an interrupted fetch is redone.
fetch() {
  [ -f "$cache/complete" ] && return 0
  mkdir -p "$cache"
  # tests start brokers in parallel: one fetch, the others wait for it
  exec 9>"$cache.lock"
  flock 9
  [ -f "$cache/complete" ] && { exec 9>&-; return 0; }
  command -v mvn >/dev/null || die "mvn is not installed (scripts/install-deps.sh installs it)"
  command -v java >/dev/null || die "java is not installed (scripts/install-deps.sh installs it)"
  mkdir -p "$cache"
  rm -rf "$cache/libs"
  local t0=$SECONDS
  if ! mvn -q -B -f "$pom" -Dkafka.version="$version" dependency:copy-dependencies \
        -DoutputDirectory="$cache/libs" >"$cache/mvn.log" 2>&1; then
    tail -20 "$cache/mvn.log" >&2
    die "could not fetch Apache Kafka $version from Maven Central (log: $cache/mvn.log)"
  fi
  touch "$cache/complete"
  exec 9>&-
  echo "kafka.sh: fetched Apache Kafka $version into $cache in $((SECONDS - t0)) s" >&2
}

java_run() { # CLASS ARGS...: one of Kafka's classes with the cached jars, quiet logging
  local cls=$1; shift
  java -Xmx256m -Dlog4j2.configurationFile="$cache/tools-log4j2.properties" -cp "$cache/libs/*" "$cls" "$@"
}

tools_log_config() {
  [ -f "$cache/tools-log4j2.properties" ] || cat >"$cache/tools-log4j2.properties" <<'EOF'
status = error
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.err.ref = STDERR
EOF
}

# Throwaway CA and a certificate for 127.0.0.1 in PEM (Kafka reads PEM key stores directly).
make_tls() {
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/ca.key" -out "$dir/ca.crt" -days 7 \
    -subj "/CN=sensor-pipeline test CA" >/dev/null 2>&1
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/broker.key" >/dev/null 2>&1
  openssl req -new -key "$dir/broker.key" -subj "/CN=127.0.0.1" -out "$dir/broker.csr" >/dev/null 2>&1
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$dir/san.ext"
  openssl x509 -req -in "$dir/broker.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 7 -extfile "$dir/san.ext" -out "$dir/broker.crt" >/dev/null 2>&1
  cat "$dir/broker.key" "$dir/broker.crt" >"$dir/broker.pem"
}

write_node_config() { # NODE
  local n=$1 nodes=$2 voters=$3 rf
  rf=$(( nodes < 3 ? nodes : 3 ))
  local nd=$dir/node$n
  mkdir -p "$nd/data"
  local plain sasl ctrl
  plain=$(cat "$dir/ports/plain.$n") sasl=$(cat "$dir/ports/sasl.$n") ctrl=$(cat "$dir/ports/ctrl.$n")
  cat >"$nd/server.properties" <<EOF
node.id=$n
process.roles=broker,controller
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$plain,SASL_SSL://127.0.0.1:$sasl,CONTROLLER://127.0.0.1:$ctrl
advertised.listeners=PLAINTEXT://127.0.0.1:$plain,SASL_SSL://127.0.0.1:$sasl
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$nd/data
num.partitions=1
default.replication.factor=1
# as most production clusters: a misspelt topic is an error, not a new topic
auto.create.topics.enable=false
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# a killed broker is noticed in seconds (defaults: 9 s), so failover tests stay short
broker.session.timeout.ms=3000
broker.heartbeat.interval.ms=500
# tests use short group timeouts (SERVICES.md); the broker's floor must allow them
group.min.session.timeout.ms=1000
num.network.threads=2
num.io.threads=4
log.segment.bytes=67108864
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PEM
ssl.keystore.location=$dir/broker.pem
EOF
  cat >"$nd/log4j2.properties" <<EOF
status = error
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $nd/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = FILE
logger.kafka.name = kafka
logger.kafka.level = info
logger.state.name = state.change.logger
logger.state.level = warn
EOF
}

start_node() { # NODE: start the broker in the background, record its pid
  local n=$1 nd=$dir/node$1
  # setsid: the broker must not die with the shell that started it (tests start it from subshells)
  setsid java -Xms256m -Xmx"$heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$nd/log4j2.properties" -cp "$cache/libs/*" kafka.Kafka "$nd/server.properties" \
    >"$nd/stdout.log" 2>&1 </dev/null &
  echo $! >"$nd/pid"
  started+=($!)
}

alive() { [ -f "$dir/node$1/pid" ] && kill -0 "$(cat "$dir/node$1/pid")" 2>/dev/null; }

# Ready when the node answers metadata on its PLAINTEXT port and sees EXPECT brokers.
wait_ready() { # NODE EXPECT TIMEOUT_S
  local n=$1 expect=$2 limit=$3 t0=$SECONDS port
  port=$(cat "$dir/ports/plain.$n")
  while [ $((SECONDS - t0)) -lt "$limit" ]; do
    alive "$n" || { tail -30 "$dir/node$n/server.log" "$dir/node$n/stdout.log" >&2 2>/dev/null; die "broker $n exited during start"; }
    local seen
    seen=$(kcat -L -b "127.0.0.1:$port" -m 3 2>/dev/null | sed -n 's/^ *\([0-9]*\) brokers:.*/\1/p' | head -1 || true)
    [ -n "$seen" ] && [ "$seen" -ge "$expect" ] && return 0
    sleep 0.3
  done
  die "broker $n not ready after $limit s (log: $dir/node$n/server.log)"
}

nodes_of() { cat "$dir/nodes"; }

bootstrap() { # KIND: plain|sasl
  local n out=""
  for n in $(seq 1 "$(nodes_of)"); do out+="${out:+,}127.0.0.1:$(cat "$dir/ports/$1.$n")"; done
  echo "$out"
}

print_env() {
  cat <<EOF
KAFKA_BOOTSTRAP=$(bootstrap plain)
KAFKA_SASL_BOOTSTRAP=$(bootstrap sasl)
KAFKA_CA_FILE=$dir/ca.crt
KAFKA_SASL_USER=sensor
KAFKA_SASL_PASSWORD=$(cat "$dir/sasl.password")
KAFKA_NODES=$(nodes_of)
KAFKA_DIR=$dir
KAFKA_VERSION=$version
EOF
}

case "$cmd" in
  fetch)
    fetch ;;
  start)
    [ $# -ge 1 ] || usage
    dir=$(mkdir -p "$1" && cd "$1" && pwd); nodes=${2:-1}
    fetch; tools_log_config
    t0=$(date +%s%N)
    mkdir -p "$dir/ports"; echo "$nodes" >"$dir/nodes"
    voters=""
    for n in $(seq 1 "$nodes"); do
      read -r p_plain p_sasl p_ctrl <<<"$(free_ports 3)"
      echo "$p_plain" >"$dir/ports/plain.$n"; echo "$p_sasl" >"$dir/ports/sasl.$n"; echo "$p_ctrl" >"$dir/ports/ctrl.$n"
      voters+="${voters:+,}$n@127.0.0.1:$(cat "$dir/ports/ctrl.$n")"
    done
    make_tls
    head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$dir/sasl.password"
    cluster_id=$(java_run kafka.tools.StorageTool random-uuid)
    for n in $(seq 1 "$nodes"); do
      write_node_config "$n" "$nodes" "$voters"
      java_run kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/node$n/server.properties" \
        --add-scram "SCRAM-SHA-512=[name=sensor,password=$(cat "$dir/sasl.password")]" >/dev/null
    done
    for n in $(seq 1 "$nodes"); do start_node "$n"; done
    for n in $(seq 1 "$nodes"); do wait_ready "$n" "$nodes" 120; done
    started=()
    echo "kafka.sh: Apache Kafka $version, $nodes broker(s) ready in $(( ($(date +%s%N) - t0) / 1000000 )) ms" >&2
    print_env ;;
  stop)
    [ $# -eq 1 ] || usage
    dir=$(cd "$1" && pwd)
    pids=()
    for n in $(seq 1 "$(nodes_of)"); do alive "$n" && pids+=("$(cat "$dir/node$n/pid")"); done
    [ ${#pids[@]} -gt 0 ] || exit 0
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 1 200); do
      left=0; for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && left=1; done
      [ $left -eq 0 ] && exit 0
      sleep 0.1
    done
    # a controller that lost its quorum may not finish a controlled shutdown: end it
    kill -KILL "${pids[@]}" 2>/dev/null || true ;;
  kill|stop-node)
    [ $# -eq 2 ] || usage
    dir=$(cd "$1" && pwd); n=$2
    alive "$n" || exit 0
    pid=$(cat "$dir/node$n/pid")
    if [ "$cmd" = kill ]; then kill -KILL "$pid"; else kill -TERM "$pid"; fi
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true ;;
  start-node)
    [ $# -eq 2 ] || usage
    dir=$(cd "$1" && pwd); n=$2
    alive "$n" && exit 0
    start_node "$n"; wait_ready "$n" 1 120; started=() ;;
  topic)
    [ $# -ge 3 ] || usage
    dir=$(cd "$1" && pwd); name=$2 parts=$3 rf=${4:-1}; shift $(( $# < 4 ? $# : 4 ))
    cfg=(); for kv in "$@"; do cfg+=(--config "$kv"); done
    java_run org.apache.kafka.tools.TopicCommand --bootstrap-server "$(bootstrap plain | cut -d, -f1)" \
      --create --topic "$name" --partitions "$parts" --replication-factor "$rf" "${cfg[@]}" >/dev/null ;;
  leader)
    [ $# -eq 3 ] || usage
    dir=$(cd "$1" && pwd)
    kcat -L -b "$(bootstrap plain)" -t "$2" -J 2>/dev/null \
      | jq -r --argjson p "$3" '.topics[0].partitions[] | select(.partition == $p) | .leader' ;;
  tool)
    [ $# -ge 2 ] || usage
    dir=$(cd "$1" && pwd); cls=$2; shift 2
    tools_log_config
    java_run "$cls" "$@" ;;
  status)
    [ $# -eq 1 ] || usage
    dir=$(cd "$1" && pwd)
    for n in $(seq 1 "$(nodes_of)"); do
      if alive "$n"; then echo "node $n: running (pid $(cat "$dir/node$n/pid"))"; else echo "node $n: stopped"; fi
    done ;;
  *) usage ;;
esac
