#!/usr/bin/env bash
# ctest-label: slow
# ch-insert --exactly-once on the replicated cluster (issue 26): 2 shards x 2 replicas of ClickHouse 18.16
# with ZooKeeper, a real Apache Kafka broker, the acked streaming pipeline
#   kafka-cat-sensor -G --envelope --commit-acks ACKS | sensor-parse | ch-insert --exactly-once ... > ACKS
# into the tables --create-table --cluster makes (ReplicatedReplacingMergeTree TABLE_local, partitioned by
# month, and the Distributed TABLE; messages 5 minutes apart, so one batch spans months: several parts per
# shard, committed one by one), twice:
#   1. through the Distributed table (--cluster sensors, a --url per server, --balance);
#   2. shard-direct (--shard r1,r2 --shard r1,r2 --balance: each batch split per shard, each part into
#      its shard's TABLE_local).
# Every INSERT into a TABLE_local takes 0.4 s more (a materialized view that sleeps, on every server), so
# the kills land while inserts run. Each round produces a slice while the pipeline runs; a few seconds
# after the round's first rows ch-insert is SIGKILLed, except one round that SIGKILLs a replica instead
# (restarted 3 s later); a last round runs to the end. Then, without FINAL, through the Distributed table:
# count() is the number of valid messages, every id once; the group's lag is 0; and a rerun of the whole
# topic (a backfill) adds nothing.
# A last part kills a run whose INSERT runs on shard 2 only and checks the next run waits for it there.
# EO_PARTS (default "dist direct wait") picks the parts to run.
# EO_FLAG=--keep-coordinates runs the same without the mode: count() then exceeds the valid messages
# (rows re-delivered after the kills are stored twice): the evidence that the test fails without it.
source "$(dirname "$0")/lib.sh"
N=${EO_MESSAGES:-16000}
EO_FLAG=${EO_FLAG:---exactly-once}
RANDOM=${EO_SEED:-$$}
source "$(dirname "$0")/kafka_lib.sh"
source "$(dirname "$0")/cluster_lib.sh"
start_cluster_and_kafka eo_dist eo_direct

kill_stages() { local f; for f in "$TEST_TMP"/*/{kc,sp,ch}.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")"; done; }
on_exit kill_stages

start_pipeline() {  # ARGS: more kafka-cat-sensor options
  rm -f acks kc.pid sp.pid ch.pid
  mkfifo acks
  (
    stage kc kafka-cat-sensor -b "$B" -t "$TOPIC" -G "$GROUP" "$@" --envelope --commit-acks acks \
        --ack-timeout 10 "${GROUP_PROPS[@]}" 2>>kc.log |
      stage sp sensor-parse --rejects rejects.jsonl 2>>sp.log |
      stage ch ch-insert $EO_FLAG "${INSERT[@]}" --cluster "$CH_CLUSTER" --create-table --table "$TABLE" \
        --batch-rows 1000 --batch-seconds 0.3 --retries -1 --retry-max-delay 1 >acks 2>>ch.log
  ) &
  pipeline=$!
}
wait_pipeline() {
  wait_until 180 bash -c "! kill -0 $pipeline 2>/dev/null" || {
    tail -5 kc.log sp.log ch.log >&2
    fail "$TABLE: pipeline did not end within 180 s after round $1"
  }
  wait "$pipeline" 2>/dev/null || true
}
rows() {  # '?' while the table is missing or a shard unreachable
  local r
  r=$(q "$CH_URL" "SELECT count() FROM $TABLE" 2>/dev/null) && [[ $r =~ ^[0-9]+$ ]] && echo "$r" || echo '?'
}

# run MESSAGES SEED VICTIM...: MESSAGES sensor-gen messages (2 % invalid) produced to $TOPIC in slices, one
# round per VICTIM (ch-insert or replica), a last round to the end; then the checks.
run() {
  local n=$1 seed=$2 round victim delay m pid before
  shift 2
  local victims=("$@") rounds=$(($# + 1))
  sensor-gen -c "$n" --bad-fraction 0.02 --seed "$seed" --sensors 40 --interval 5m | grep -v '^$' >msgs.jsonl
  sensor-parse --format tsv <msgs.jsonl 2>/dev/null | cut -f1 | sort >expected_ids
  n_valid=$(wc -l <expected_ids)
  split -n l/"$rounds" -d msgs.jsonl slice.
  slices=(slice.*)
  # the tables first (an empty run makes them with the coordinate columns, and the state table; the same
  # tables for EO_FLAG=--keep-coordinates), then the slow view on every server
  ch-insert --exactly-once "${INSERT[@]}" --cluster "$CH_CLUSTER" --create-table --table "$TABLE" --no-acks \
    </dev/null 2>create.log || fail "$TABLE: creating the tables: $(tail -3 create.log)"
  q "$CH_URL" "CREATE TABLE ${TABLE}_slow ON CLUSTER $CH_CLUSTER (n UInt8) ENGINE = Null" >/dev/null ||
    fail "create the slow sink"
  q "$CH_URL" "CREATE MATERIALIZED VIEW ${TABLE}_slow_mv ON CLUSTER $CH_CLUSTER TO ${TABLE}_slow
    AS SELECT sleep(0.4) AS n FROM ${TABLE}_local" >/dev/null || fail "create the slow view"
  for ((round = 0; round < rounds - 1; round++)); do
    victim=${victims[$round]}
    before=$(rows)
    produce_paced "${slices[$round]}" 6 "$TOPIC"
    start_pipeline
    grew() { local r; r=$(rows); [ "$r" != "?" ] && [ "$r" -gt "$before" ]; }
    wait_until 90 grew || fail "$TABLE round $round: no rows within 90 s: $(tail -3 ch.log)"
    delay=$(printf '%d.%d' $((1 + RANDOM % 2)) $((RANDOM % 10)))
    sleep "$delay"
    case $victim in
      replica)
        m=s$((1 + RANDOM % 2))r$((1 + RANDOM % 2))
        echo "$TABLE round $round: SIGKILL of replica $m ${delay}s after the first rows (back 3 s later); rows so far $(rows)"
        "$CH" kill "$TEST_TMP/cl/$m"
        sleep 3
        "$CH" restart "$TEST_TMP/cl/$m" >/dev/null
        ;;
      ch-insert)
        pid=$(cat ch.pid 2>/dev/null || true)
        if [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; then
          echo "$TABLE round $round: killed ch-insert ${delay}s after the first rows; rows so far $(rows)"
        else echo "$TABLE round $round: ch-insert had already ended"; fi
        ;;
    esac
    sleep 2
    pid=$(cat kc.pid 2>/dev/null || true)
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
    wait_pipeline "$round"
    wait $producer || fail "produce failed: $(tail -3 produce.log)"
  done
  produce_paced "${slices[$((rounds - 1))]}" 1 "$TOPIC"
  wait $producer || fail "produce failed: $(tail -3 produce.log)"
  echo "$TABLE final round: runs to the end; rows so far $(rows)"
  start_pipeline -e
  wait_pipeline final

  found=$({ grep -o 'batch [0-9]*: [0-9]* of its rows are stored already' ch.log || true; } | awk '{n += $3} END {print n + 0}')
  echo "$TABLE: rows $(rows); ch-insert runs $(grep -c 'exactly-once: run' ch.log || true); rows found stored and" \
    "not sent again: $found; waits for a killed run's inserts: $(grep -c 'waiting for the inserts of run' ch.log || true)"
  # a Distributed SELECT reads one replica per shard: a restarted replica may still be fetching
  want="$n_valid	$n_valid"
  counted() { test "$(q "$CH_URL" "SELECT count(), uniqExact(id) FROM $TABLE")" = "$want"; }
  wait_until 60 counted ||
    fail "$TABLE: rows without FINAL (count, distinct ids): $(q "$CH_URL" "SELECT count(), uniqExact(id) FROM $TABLE"), want $want"
  q "$CH_URL" "SELECT id FROM $TABLE" | sort >got_ids
  cmp -s expected_ids got_ids || fail "$TABLE: ids differ: $(diff expected_ids got_ids | head -5)"
  # each replica of each shard holds its shard's rows once (no FINAL): no copy hidden on the other replica
  local sh u1 u2
  for sh in 1 2; do
    u1=CH_URL_S${sh}R1 u2=CH_URL_S${sh}R2
    same() { test "$(q "${!u1}" "SELECT count() FROM ${TABLE}_local")" = "$(q "${!u2}" "SELECT count() FROM ${TABLE}_local")"; }
    wait_until 60 same || fail "$TABLE shard $sh: replicas differ"
    assert_eq "$(q "${!u1}" "SELECT count() - uniqExact(id) FROM ${TABLE}_local")" "0" "$TABLE shard $sh: ids stored twice"
  done
  assert_lag_zero "$GROUP" "$TOPIC" 4
  # a rerun of the whole topic (a backfill) stores nothing: every row found stored, acknowledged, not sent
  kafka-cat-sensor -q -b "$B" -t "$TOPIC" -e --envelope -o beginning | sensor-parse -q 2>/dev/null |
    ch-insert $EO_FLAG "${INSERT[@]}" --cluster "$CH_CLUSTER" --table "$TABLE" --no-acks 2>backfill.log ||
    fail "$TABLE backfill: $(tail -3 backfill.log)"
  grep 'rows,' backfill.log
  assert_contains "$(cat backfill.log)" "; 0 inserted, 0 rejected, $n_valid already stored" "$TABLE backfill summary"
  assert_eq "$(q "$CH_URL" "SELECT count(), uniqExact(id) FROM $TABLE")" "$want" "$TABLE rows after the backfill rerun"
}

# --- 0. --cluster with fewer --url than the cluster has servers: refused (a lookup must read every one)
rc=0
ch-insert --exactly-once --url "$CH_URL" --cluster "$CH_CLUSTER" --no-acks </dev/null 2>"$TEST_TMP/short.log" || rc=$?
assert_eq "$rc" 2 "--exactly-once --cluster with one --url of four: exit status ($(tail -1 "$TEST_TMP/short.log"))"
assert_contains "$(cat "$TEST_TMP/short.log")" "the cluster has 4 servers, 1 --url given" "the refusal"

part() { [[ " ${EO_PARTS:-dist direct wait} " == *" $1 "* ]]; }

# --- 1. through the Distributed table
if part dist; then
mkdir "$TEST_TMP/dist" && cd "$TEST_TMP/dist"
TOPIC=eo_dist GROUP=eo-dist TABLE=sensor_metrics INSERT=("${urls[@]}" --balance)
run "$N" 26 ch-insert replica ch-insert ch-insert
pass "Distributed: $n_valid valid messages stored once without FINAL after 3 SIGKILLs of ch-insert and one of a replica; a backfill rerun added nothing"
fi

# --- 2. shard-direct
if part direct; then
mkdir "$TEST_TMP/direct" && cd "$TEST_TMP/direct"
TOPIC=eo_direct GROUP=eo-direct TABLE=direct_metrics INSERT=("${shards[@]}" --balance)
run "$N" 27 ch-insert ch-insert replica ch-insert
pass "shard-direct: $n_valid valid messages stored once without FINAL after 3 SIGKILLs of ch-insert and one of a replica; a backfill rerun added nothing"
fi

# --- 3. a killed run's INSERT still running on a server other than the first: shard-direct rows that all
# go to shard 2, into a local table whose every INSERT sleeps 9 s (defaults that sleep; 3 s is the most
# one sleep() call may take). The next run waits until no server runs a query of the killed run
# (system.processes of every server); asking the first server only, it would find nothing running there,
# nothing stored yet, and store every row a second time.
part wait || exit 0
mkdir "$TEST_TMP/wait" && cd "$TEST_TMP/wait"
q "$CH_URL" "CREATE TABLE slow_local ON CLUSTER $CH_CLUSTER (id String, ts DateTime, sensor_id String,
    temperature Float64, humidity Float64, pressure Float64, _topic String, _partition Int32, _offset Int64,
    slow1 UInt8 DEFAULT sleep(3), slow2 UInt8 DEFAULT sleep(3), slow3 UInt8 DEFAULT sleep(3))
  ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/default/slow_local', '{replica}')
  PARTITION BY toYYYYMM(ts) ORDER BY (sensor_id, ts, id)" >/dev/null || fail "create slow_local"
sensor-gen -c 3000 --envelope --partitions 4 --interval 5m --sensors 40 | sensor-parse -q >all_rows.jsonl
shard2=()
for sensor in $(grep -o '"sensor_id":"[^"]*"' all_rows.jsonl | sort -u | cut -d'"' -f4); do
  [ "$(q "$CH_URL" "SELECT cityHash64('$sensor') % 2")" = 1 ] && shard2+=("\"sensor_id\":\"$sensor\"")
done
[ ${#shard2[@]} -gt 0 ] || fail "no sensor of shard 2"
grep -F -f <(printf '%s\n' "${shard2[@]}") all_rows.jsonl >slow_rows.jsonl
n_slow=$(wc -l <slow_rows.jsonl)
slow_insert=(ch-insert $EO_FLAG "${shards[@]}" --table slow --local-table slow_local --no-acks)
running_on() { [ "$(q "$1" "SELECT count() FROM system.processes WHERE query_id LIKE 'sp-eo-%'")" -gt 0 ]; }
stage slow "${slow_insert[@]}" --batch-rows 100000 <slow_rows.jsonl 2>slow1.log &
wait_until 60 running_on "$CH_URL_S2R1" || wait_until 1 running_on "$CH_URL_S2R2" ||
  fail "the first run's INSERT never showed on shard 2: $(tail -3 slow1.log)"
kill -9 "$(cat slow.pid)"
wait $! 2>/dev/null || true
running_on "$CH_URL_S1R1" && fail "shard 1 runs an insert of the killed run: the rows were meant for shard 2 only"
running_on "$CH_URL_S2R1" || running_on "$CH_URL_S2R2" || fail "the killed run's INSERT ended before the next run started"
# other batches than the first run's (the replicated table would drop an identical block by itself)
"${slow_insert[@]}" --batch-rows 500 <slow_rows.jsonl 2>slow2.log || fail "second run: $(tail -3 slow2.log)"
grep -E 'waiting|rows,' slow2.log
got() { q "$1" "SELECT count(), uniqExact(id) FROM slow_local"; }
assert_eq "$(got "$CH_URL_S2R1")" "$n_slow	$n_slow" "rows of slow_local on shard 2 after a run killed mid-insert and the next one"
assert_contains "$(cat slow2.log)" "waiting for the inserts of run" "second run's log"
pass "a killed run's insert running on shard 2 only was waited for: its $n_slow rows stored once"
