# Kafka helpers for integration tests (sourced after lib.sh): real Apache Kafka brokers from
# scripts/kafka.sh, and, for the tests that need its fault injection, librdkafka's mock cluster run
# by kafka-cat-sensor itself with a FIFO for control. Both on free 127.0.0.1 ports, stopped on exit.

# start_kafka NODES PARTITIONS [TOPIC...]: NODES real brokers in the test's temp dir; creates each
# TOPIC with PARTITIONS partitions (replicated on min(NODES, 3) brokers); sets BS and the KAFKA_*
# variables of scripts/kafka.sh (SASL_SSL listener, CA file, SCRAM user). KAFKA_VERSION picks the release.
start_kafka() {
  local nodes=$1 parts=$2 rf; shift 2
  rf=$((nodes < 3 ? nodes : 3))
  local env
  env=$("$SRC_DIR/scripts/kafka.sh" start "$TEST_TMP/kafka" "$nodes") || fail "Kafka did not start"
  eval "$env"
  on_exit "$SRC_DIR/scripts/kafka.sh stop $TEST_TMP/kafka"
  BS=$KAFKA_BOOTSTRAP
  for t in "$@"; do kafka_topic "$t" "$parts" "$rf"; done
}

# kafka_topic NAME PARTITIONS [REPLICAS [KEY=VALUE...]]: creates a topic on the real brokers.
kafka_topic() { "$SRC_DIR/scripts/kafka.sh" topic "$TEST_TMP/kafka" "$@" || fail "topic $1 not created"; }

# kafka_sh COMMAND ARGS...: scripts/kafka.sh on this test's brokers (kill, stop-node, start-node, leader, tool).
kafka_sh() { local c=$1; shift; "$SRC_DIR/scripts/kafka.sh" "$c" "$TEST_TMP/kafka" "$@"; }

# Short group timeouts so that joins and rebalances take seconds, not minutes (SERVICES.md).
GROUP_PROPS=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=500 -X max.poll.interval.ms=10000)

# start_kafka_mock BROKERS PARTITIONS [TOPIC...]: sets BS (bootstrap servers) and MOCK_CTL (control FIFO).
start_kafka_mock() {
  local brokers=$1 parts=$2; shift 2
  local topics=()
  for t in "$@"; do topics+=(-t "$t"); done
  MOCK_CTL=$TEST_TMP/mock.ctl
  mkfifo "$MOCK_CTL"
  kafka-cat-sensor --mock-cluster "$brokers" --partitions "$parts" --mock-control "$MOCK_CTL" "${topics[@]}" \
    >"$TEST_TMP/mock.out" 2>"$TEST_TMP/mock.err" &
  MOCK_PID=$!
  on_exit "kill $MOCK_PID; wait $MOCK_PID"
  wait_until 10 test -s "$TEST_TMP/mock.out" || fail "mock cluster did not start: $(cat "$TEST_TMP/mock.err")"
  BS=$(head -1 "$TEST_TMP/mock.out")
}

# mock_ctl COMMAND: one fault-injection command; waits until the mock cluster has applied it.
mock_ctl() {
  local before
  before=$(grep -c "mock cluster: " "$TEST_TMP/mock.err" || true)
  echo "$*" >"$MOCK_CTL"
  # The count is read on every try (a "$(...)" argument of wait_until would be read once, when the
  # mock may not have got to the command yet: that made these tests fail on a loaded machine).
  wait_until 30 mock_applied "$before" || fail "mock control '$*' not applied"
}
mock_applied() { [ "$(grep -c "mock cluster: " "$TEST_TMP/mock.err")" -gt "$1" ]; }

# produce_paced FILE SECONDS TOPIC: FILE's lines to TOPIC on the real brokers (keyed by
# value.sensor_id), spread evenly over about SECONDS, in the background (its pid in $producer, its
# stderr appended to produce.log): a chaos test's faults then land while data flows.
produce_paced() {
  python3 - "$1" "$2" <<'PY' | kafka-cat-sensor -P -b "$BS" -t "$3" --key-field value.sensor_id 2>>produce.log &
import sys, time
lines = open(sys.argv[1], "rb").readlines()
rate = len(lines) / float(sys.argv[2])
step, out, t0 = max(1, int(rate / 20)), sys.stdout.buffer, time.time()
for i in range(0, len(lines), step):
    out.write(b"".join(lines[i:i + step]))
    out.flush()
    wait = t0 + (i + step) / rate - time.time()
    if wait > 0:
        time.sleep(wait)
PY
  producer=$!
}

# assert_lag_zero GROUP TOPIC PARTITIONS: Kafka's own group tool shows a committed offset with lag 0
# on each of the topic's PARTITIONS partitions (everything read was committed: a restart reads nothing).
assert_lag_zero() {
  local out
  out=$(kafka_sh tool org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --bootstrap-server "$BS" \
    --describe --group "$1" 2>&1) || fail "describing the group $1: $out"
  echo "$out" | awk -v t="$2" '$2 == t {print $3, $4, $5, $6}' >"$TEST_TMP/lag.$1"
  [ "$(wc -l <"$TEST_TMP/lag.$1")" = "$3" ] || fail "want a committed offset on each of $3 partitions in: $out"
  awk '$4 != 0 {exit 1}' "$TEST_TMP/lag.$1" || fail "offsets left uncommitted: $out"
}

# count_lines FILE: number of lines (0 when missing).
count_lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
