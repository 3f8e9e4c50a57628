#!/usr/bin/env bash
# ctest-label: slow
# The delivery guarantee into a ClickHouse cluster (issue 15): a real Apache Kafka broker, and
#   kafka-cat-sensor -G --commit-acks ACKS | sensor-parse | ch-insert --cluster --balance --url x4 > ACKS
# into 2 shards x 2 replicas with ZooKeeper. Round 1 SIGKILLs a replica a few seconds in (restarted
# 3 s later), round 2 stops ZooKeeper for 4 s (every replicated table read-only meanwhile), round 3
# SIGKILLs ch-insert; a last round runs to the end. Then every valid message id is in the cluster
# exactly once under FINAL through the Distributed table, and nothing else.
source "$(dirname "$0")/lib.sh"
N=${CHAOS_MESSAGES:-60000}
RANDOM=${CHAOS_SEED:-$$}
source "$(dirname "$0")/kafka_lib.sh"
cd "$TEST_TMP"
source "$(dirname "$0")/cluster_lib.sh"
start_cluster 2 2
CH="$SRC_DIR/scripts/clickhouse.sh"
start_kafka 1 4 sensor_metrics
B=$BS
urls=()
for u in $CH_URLS; do urls+=(--url "$u"); done

sensor-gen -c "$N" --bad-fraction 0.01 --seed 15 --sensors 40 | grep -v '^$' >msgs.jsonl
N=$(wc -l <msgs.jsonl)
sensor-parse --format tsv <msgs.jsonl 2>/dev/null | cut -f1 | sort >expected_ids
n_valid=$(wc -l <expected_ids)
ROUNDS=4
split -n l/"$ROUNDS" -d msgs.jsonl slice.
slices=(slice.*)
produce_slice() {  # slice I over about 6 s, in the background
  python3 - "${slices[$1]}" 6 <<'PY' | kafka-cat-sensor -P -b "$B" -t sensor_metrics --key-field value.sensor_id 2>>produce.log &
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
stage() { local name=$1; shift; bash -c 'echo $$ >"$0.pid"; exec "$@"' "$TEST_TMP/$name" "$@"; }
# a failed check mid-round must not leave the round's stages running
kill_stages() { local f; for f in kc sp ch; do [ -f "$TEST_TMP/$f.pid" ] && kill -9 "$(cat "$TEST_TMP/$f.pid")"; done; }
on_exit kill_stages
start_pipeline() {  # ARGS: more kafka-cat-sensor options
  rm -f acks kc.pid sp.pid ch.pid
  mkfifo acks
  (
    stage kc kafka-cat-sensor -b "$B" -t sensor_metrics -G cluster-chaos "$@" --envelope --commit-acks acks \
        --ack-timeout 10 "${GROUP_PROPS[@]}" 2>>kc.log |
      stage sp sensor-parse --rejects rejects.jsonl 2>>sp.log |
      stage ch ch-insert "${urls[@]}" --balance --cluster "$CH_CLUSTER" --create-table --batch-rows 2000 \
        --batch-seconds 0.3 --retries -1 --retry-max-delay 1 >acks 2>>ch.log
  ) &
  pipeline=$!
}
wait_pipeline() {
  wait_until 120 bash -c "! kill -0 $pipeline 2>/dev/null" || {
    tail -5 kc.log sp.log ch.log >&2
    fail "pipeline did not end within 120 s after round $1"
  }
  wait "$pipeline" 2>/dev/null || true
}
rows() {  # '?' while the table is missing or unreachable (q prints the error body: not a number)
  local r
  r=$(q "$CH_URL" "SELECT count() FROM sensor_metrics" 2>/dev/null) && [[ $r =~ ^[0-9]+$ ]] && echo "$r" || echo '?'
}
stop_pipeline() {
  sleep 1
  local pid
  pid=$(cat kc.pid 2>/dev/null || true)
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
}

victims=(replica zookeeper ch-insert)
for ((round = 0; round < ROUNDS - 1; round++)); do
  victim=${victims[$round]}
  before=$(rows)
  [ "$before" = "?" ] && before=0  # no table yet
  produce_slice "$round"
  start_pipeline
  # the fault lands while rows flow: once this round's first rows are in, a moment later
  grew() { local r; r=$(rows); [ "$r" != "?" ] && [ "$r" -gt "$before" ]; }
  wait_until 60 grew || fail "round $round: no rows within 60 s"
  delay=$(printf '0.%d' $((2 + RANDOM % 8)))
  sleep "$delay"
  case $victim in
    replica)
      m=s$((1 + RANDOM % 2))r$((1 + RANDOM % 2))
      echo "round $round: SIGKILL of replica $m ${delay}s after the first rows (back 3 s later); rows so far $(rows)"
      "$CH" kill "$TEST_TMP/cl/$m"
      sleep 3
      "$CH" restart "$TEST_TMP/cl/$m" >/dev/null
      ;;
    zookeeper)
      echo "round $round: ZooKeeper stopped ${delay}s after the first rows, for 4 s; rows so far $(rows)"
      "$CH" stop "$TEST_TMP/cl/zk"
      sleep 4
      "$CH" restart "$TEST_TMP/cl/zk" >/dev/null
      ;;
    ch-insert)
      pid=$(cat ch.pid 2>/dev/null || true)
      if [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; then echo "round $round: killed ch-insert ${delay}s after the first rows; rows so far $(rows)"
      else echo "round $round: ch-insert had already finished"; fi
      ;;
  esac
  # give the stream time to go on after the fault before ending the round
  sleep 3
  stop_pipeline
  wait_pipeline "$round"
  wait $producer || fail "produce failed: $(tail -3 produce.log)"
done
produce_slice $((ROUNDS - 1))
wait $producer || fail "produce failed: $(tail -3 produce.log)"
held=$(kafka-cat-sensor -q -b "$B" -t sensor_metrics -e | wc -l)
assert_eq "$held" "$N" "messages on the topic"
echo "final round: runs to the end; rows so far $(rows)"
start_pipeline -e
wait_pipeline final

# a Distributed SELECT reads one replica per shard: wait until a restarted replica has caught up
want="$n_valid	$n_valid"
final_ok() { test "$(q "$CH_URL" "SELECT count(), uniqExact(id) FROM sensor_metrics FINAL")" = "$want"; }
wait_until 60 final_ok || fail "rows under FINAL (count, distinct ids): $(q "$CH_URL" "SELECT count(), uniqExact(id) FROM sensor_metrics FINAL"), want $want"
q "$CH_URL" "SELECT id FROM sensor_metrics FINAL" | sort >got_ids
cmp -s expected_ids got_ids || fail "ids differ: $(diff expected_ids got_ids | head -5)"
for m in $CH_MEMBERS; do
  u=CH_URL_${m^^}
  rc=$(q "${!u}" "SELECT is_readonly FROM system.replicas WHERE table = 'sensor_metrics_local'")
  assert_eq "$rc" "0" "$m read-only after the rounds"
done
echo "rows before FINAL: $(rows); retries logged by ch-insert: $(grep -c 'retry' ch.log || true)"
grep "by endpoint" ch.log | tail -1
pass "$n_valid valid messages in the cluster exactly once under FINAL after a replica SIGKILL, a ZooKeeper stop and a ch-insert SIGKILL"
