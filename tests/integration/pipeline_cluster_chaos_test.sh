#!/usr/bin/env bash
# ctest-label: slow
# The delivery guarantee into a ClickHouse cluster (issue 15): a real Apache Kafka broker, and
#   kafka-cat-sensor -G --commit-acks ACKS | sensor-parse | ch-insert ... > ACKS
# into 2 shards x 2 replicas with ZooKeeper, twice:
#   1. through the Distributed table (ch-insert --cluster --balance --url x4): round 1 SIGKILLs a
#      replica a few seconds in (restarted 3 s later), round 2 stops ZooKeeper for 4 s (every
#      replicated table read-only meanwhile), round 3 SIGKILLs ch-insert;
#   2. shard-direct (ch-insert --shard r1,r2 --shard r1,r2 --balance): round 1 SIGKILLs ch-insert,
#      round 2 a replica, round 3 ch-insert while shard 2 hangs (SIGSTOP: batches stored on shard 1
#      only, re-delivered whole; the hung servers resume and may store what they had received);
# each time a last round runs to the end. Then every valid message id is in the cluster exactly once
# under FINAL, and nothing else; shard-direct, also each shard's own table (FINAL) summed over the
# shards, every row on the shard the Distributed table picks, and the group's lag 0 on every partition.
source "$(dirname "$0")/lib.sh"
N=${CHAOS_MESSAGES:-60000}
RANDOM=${CHAOS_SEED:-$$}
source "$(dirname "$0")/kafka_lib.sh"
source "$(dirname "$0")/cluster_lib.sh"
start_cluster_and_kafka sensor_metrics sensor_direct

produce_slice() { produce_paced "${slices[$1]}" 6 "$TOPIC"; }  # slice I over about 6 s, in the background
# a failed check mid-round must not leave the round's stages running
kill_stages() { local f; for f in "$TEST_TMP"/*/{kc,sp,ch}.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")"; done; }
on_exit kill_stages
on_exit "for m in s2r1 s2r2; do kill -CONT \$(cat '$TEST_TMP/cl/'\$m/pid); done"  # before the cluster's stop
start_pipeline() {  # ARGS: more kafka-cat-sensor options
  rm -f acks kc.pid sp.pid ch.pid
  mkfifo acks
  (
    stage kc kafka-cat-sensor -b "$B" -t "$TOPIC" -G "$GROUP" "$@" --envelope --commit-acks acks \
        --ack-timeout 10 "${GROUP_PROPS[@]}" 2>>kc.log |
      stage sp sensor-parse --rejects rejects.jsonl 2>>sp.log |
      stage ch ch-insert "${INSERT[@]}" --cluster "$CH_CLUSTER" --create-table --table "$TABLE" --batch-rows 2000 \
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
  r=$(q "$CH_URL" "SELECT count() FROM $TABLE" 2>/dev/null) && [[ $r =~ ^[0-9]+$ ]] && echo "$r" || echo '?'
}
stop_pipeline() {
  sleep 1
  local pid
  pid=$(cat kc.pid 2>/dev/null || true)
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
}

# chaos MESSAGES SEED VICTIM...: in the current directory, MESSAGES sensor-gen messages (1 % invalid)
# produced to $TOPIC in slices, one round of the pipeline per slice with the VICTIM's fault, a last
# round to the end; then every valid id once in $TABLE under FINAL. Sets n_valid.
chaos() {
  local n=$1 seed=$2 round victim delay m pid before held
  shift 2
  local victims=("$@") rounds=$(($# + 1))
  sensor-gen -c "$n" --bad-fraction 0.01 --seed "$seed" --sensors 40 | grep -v '^$' >msgs.jsonl
  n=$(wc -l <msgs.jsonl)
  sensor-parse --format tsv <msgs.jsonl 2>/dev/null | cut -f1 | sort >expected_ids
  n_valid=$(wc -l <expected_ids)
  split -n l/"$rounds" -d msgs.jsonl slice.
  slices=(slice.*)
  for ((round = 0; round < rounds - 1; round++)); do
    victim=${victims[$round]}
    before=$(rows)
    [ "$before" = "?" ] && before=0  # no table yet
    produce_slice "$round"
    start_pipeline
    # the fault lands while rows flow: once this round's first rows are in, a moment later
    grew() { local r; r=$(rows); [ "$r" != "?" ] && [ "$r" -gt "$before" ]; }
    wait_until 60 grew || fail "$TABLE round $round: no rows within 60 s"
    delay=$(printf '0.%d' $((2 + RANDOM % 8)))
    sleep "$delay"
    case $victim in
      replica)
        m=s$((1 + RANDOM % 2))r$((1 + RANDOM % 2))
        echo "$TABLE round $round: SIGKILL of replica $m ${delay}s after the first rows (back 3 s later); rows so far $(rows)"
        "$CH" kill "$TEST_TMP/cl/$m"
        sleep 3
        "$CH" restart "$TEST_TMP/cl/$m" >/dev/null
        ;;
      zookeeper)
        echo "$TABLE round $round: ZooKeeper stopped ${delay}s after the first rows, for 4 s; rows so far $(rows)"
        "$CH" stop "$TEST_TMP/cl/zk"
        sleep 4
        "$CH" restart "$TEST_TMP/cl/zk" >/dev/null
        ;;
      ch-insert-shard-hung)
        # shard 2 hangs (both replicas SIGSTOPped): the batches in flight are stored on shard 1 only
        # when ch-insert dies; the hung servers resume and may still store what they had received
        echo "$TABLE round $round: shard 2 hung ${delay}s after the first rows, ch-insert killed 1 s later; rows so far $(rows)"
        for m in s2r1 s2r2; do kill -STOP "$(cat "$TEST_TMP/cl/$m/pid")"; done
        sleep 1
        kill -9 "$(cat ch.pid)" || fail "ch-insert had already finished"
        sleep 0.5
        for m in s2r1 s2r2; do kill -CONT "$(cat "$TEST_TMP/cl/$m/pid")"; done
        ;;
      ch-insert)
        pid=$(cat ch.pid 2>/dev/null || true)
        if [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; then echo "$TABLE round $round: killed ch-insert ${delay}s after the first rows; rows so far $(rows)"
        else echo "$TABLE round $round: ch-insert had already finished"; fi
        ;;
    esac
    # give the stream time to go on after the fault before ending the round
    sleep 3
    stop_pipeline
    wait_pipeline "$round"
    wait $producer || fail "produce failed: $(tail -3 produce.log)"
  done
  produce_slice $((rounds - 1))
  wait $producer || fail "produce failed: $(tail -3 produce.log)"
  held=$(kafka-cat-sensor -q -b "$B" -t "$TOPIC" -e | wc -l)
  assert_eq "$held" "$n" "messages on $TOPIC"
  echo "$TABLE final round: runs to the end; rows so far $(rows)"
  start_pipeline -e
  wait_pipeline final

  # a Distributed SELECT reads one replica per shard: wait until a restarted replica has caught up
  want="$n_valid	$n_valid"
  final_ok() { test "$(q "$CH_URL" "SELECT count(), uniqExact(id) FROM $TABLE FINAL")" = "$want"; }
  wait_until 60 final_ok || fail "$TABLE: rows under FINAL (count, distinct ids): $(q "$CH_URL" "SELECT count(), uniqExact(id) FROM $TABLE FINAL"), want $want"
  q "$CH_URL" "SELECT id FROM $TABLE FINAL" | sort >got_ids
  cmp -s expected_ids got_ids || fail "$TABLE: ids differ: $(diff expected_ids got_ids | head -5)"
  for m in $CH_MEMBERS; do
    u=CH_URL_${m^^}
    rc=$(q "${!u}" "SELECT is_readonly FROM system.replicas WHERE table = '${TABLE}_local'")
    assert_eq "$rc" "0" "$m read-only after the rounds"
  done
  echo "$TABLE rows before FINAL: $(rows); retries logged by ch-insert: $(grep -c 'retry' ch.log || true)"
  grep "by endpoint" ch.log | tail -1
}

# --- 1. through the Distributed table
mkdir "$TEST_TMP/dist" && cd "$TEST_TMP/dist"
TOPIC=sensor_metrics GROUP=cluster-chaos TABLE=sensor_metrics INSERT=("${urls[@]}" --balance)
chaos "$N" 15 replica zookeeper ch-insert
pass "$n_valid valid messages in the cluster exactly once under FINAL after a replica SIGKILL, a ZooKeeper stop and a ch-insert SIGKILL"

# --- 2. shard-direct: every batch split by shard, each part straight into its shard's local table,
# acked once every shard stored its part
mkdir "$TEST_TMP/direct" && cd "$TEST_TMP/direct"
TOPIC=sensor_direct GROUP=shard-chaos TABLE=direct_metrics INSERT=("${shards[@]}" --balance)
chaos $((N / 2)) 16 ch-insert replica ch-insert-shard-hung
# each shard's own table, on each of its replicas: together every valid message once under FINAL
assert_contains "$(q "$CH_URL" "SELECT engine_full FROM system.tables WHERE name = '$TABLE'")" \
  "Distributed($CH_CLUSTER, default, ${TABLE}_local, cityHash64(sensor_id))" "the Distributed table's sharding (checked below)"
sum=0
for sh in 1 2; do
  local_final() { q "$1" "SELECT count() FROM ${TABLE}_local FINAL"; }
  u1=CH_URL_S${sh}R1 u2=CH_URL_S${sh}R2
  in_step() { test "$(local_final "${!u1}")" = "$(local_final "${!u2}")"; }
  wait_until 60 in_step || fail "shard $sh: replicas differ under FINAL: $(local_final "${!u1}") / $(local_final "${!u2}")"
  n=$(local_final "${!u1}")
  [ "$n" -gt 0 ] || fail "shard $sh took no row"
  sum=$((sum + n))
  # the Distributed table's rule: cityHash64(sensor_id) modulo the shards (weights 1, 1); every row,
  # re-deliveries too (no FINAL), on every replica
  for r in 1 2; do
    u=CH_URL_S${sh}R${r}
    assert_eq "$(q "${!u}" "SELECT countIf(cityHash64(sensor_id) % 2 != $((sh - 1))) FROM ${TABLE}_local")" "0" \
      "rows on s${sh}r${r} that the Distributed table puts on the other shard"
  done
done
assert_eq "$sum" "$n_valid" "rows under FINAL summed over the shards' own tables"
# every offset committed: the group's lag is 0 on each partition
assert_lag_zero "$GROUP" "$TOPIC" 4
pass "shard-direct: $n_valid valid messages exactly once under FINAL (shards' own tables: $sum), each on the Distributed table's shard, lag 0, after a ch-insert SIGKILL, a replica SIGKILL and a ch-insert SIGKILL while shard 2 hung"
