#!/usr/bin/env bash
# ctest-label: slow
# Exactly once through the README's whole streaming pipeline (issue 26):
#   kafka-cat-sensor -G --envelope --commit-acks ACKS --commit-acks S3ACKS
#     | s3-put --tee --zstd --acks S3ACKS 's3://raw/sensors/%Y/%m/%d/%H%M%S-{host}-{run}-{seq}.jsonl'
#     | sensor-parse --format tsv --schema examples/schema-rollups.json --rejects
#     | ch-insert --format tsv --exactly-once --create-table --schema examples/schema-rollups.json ... > ACKS
# against a real Apache Kafka broker, S3 (MinIO) and ClickHouse, in one of three deployments (EOC_MODE):
#   single       one server (default); the table on a plain MergeTree (see EOC_ENGINE below) and its two
#                rollups (per minute and per hour, AggregatingMergeTree fed by materialized views);
#   distributed  2 shards x 2 replicas of ClickHouse 18.16 with ZooKeeper, as "Scaling out" deploys it:
#                ch-insert --cluster sensors --balance --url (every server), rows into the Distributed table;
#                sensor_metrics_local on a ReplicatedMergeTree, the rollups' replicated locals and views;
#   shard        the same cluster, shard-direct: ch-insert --cluster sensors --balance --shard r1,r2 --shard
#                r1,r2 (each batch split per shard, each part into its shard's sensor_metrics_local).
# Messages (2% of them malformed) are produced while the rounds run. Each round restarts the pipeline and,
# a few seconds in, SIGKILLs one stage (kafka-cat-sensor, s3-put, sensor-parse, ch-insert in turn), or
# SIGKILLs ClickHouse and restarts it (one server; on the cluster a random replica, then in another round
# s1r1: the first --url, the first replica of the first --shard, and the server the test reads through),
# or rebalances the group: a second pipeline joins, then the first leaves. A last round runs to the end.
# Then, without FINAL (on the cluster through the Distributed tables, once each shard's replicas agree):
# count() is the number of valid messages, every id once (on the cluster: on every replica too); every
# rollup, read with the README's -Merge queries, equals the same aggregates recomputed from the raw rows;
# every malformed message is in the rejects files, every message in the archive (s3-cat), the group's lag
# is 0. Then backfill reruns, from the archive and from the topic read from the beginning, add nothing:
# count and rollups unchanged. Registered as three ctest entries: this script (single) and
# pipeline_exactly_once_chaos_{distributed,shard}_test.sh, which set EOC_MODE and source it.
# EOC_FLAG=--keep-coordinates runs the same scenario without the mode, the evidence that each fails then
# (figures printed before the checks; seen with the default 80,000 and 24,000 messages):
#   single:      count() 90212 for 78415 valid (the rollups, 90212 rows, count every copy the table holds);
#   distributed: count() 24670 for 23518 valid;
#   shard:       count() 24954 for 23518 valid;
#   single with EOC_ENGINE=ReplacingMergeTree (merges hid the copies from count(): 78415): the rollups
#     counted 82104, 2195 of 46306 one-minute buckets and 140 of 1150 hourly ones off.
# Found by the distributed variant (EOC_SEED=303, one run in six): a replica SIGKILLed inside a Distributed
# INSERT made it answer code 32 "while receiving packet from", taken for bad data: the batch was split and
# re-sent, count() 23579 for 23518 (fixed: that answer is retriable, an uncertain outcome resolved as such).
# EOC_ENGINE (default MergeTree): the table ch-insert would create, made first on that engine instead of
# ReplacingMergeTree (Replicated... on the cluster; ch-insert --create-table compares columns, not
# engines), so that without the mode the copies stay in count(); EOC_ENGINE=ReplacingMergeTree leaves
# the table to ch-insert --create-table.
# A ClickHouse SIGKILL that lands inside an INSERT can leave a rollup short of rows the table kept (the
# README's limit; seen in 3 of 10 single-server runs, each time with ch-insert's warning "were stored after
# all"): then the rollups must be short by at most those rows and count none twice; otherwise exact.
source "$(dirname "$0")/lib.sh"
EOC_MODE=${EOC_MODE:-single}
case $EOC_MODE in
  single) N=${EOC_MESSAGES:-80000} ;;
  distributed | shard) N=${EOC_MESSAGES:-24000} ;;
  *) fail "EOC_MODE must be single, distributed or shard, not '$EOC_MODE'" ;;
esac
EOC_FLAG=${EOC_FLAG:---exactly-once}
EOC_ENGINE=${EOC_ENGINE:-MergeTree}
RANDOM=${EOC_SEED:-$$}
source "$(dirname "$0")/kafka_lib.sh"
source "$(dirname "$0")/s3_lib.sh"
CH="$SRC_DIR/scripts/clickhouse.sh"
S=$SRC_DIR/examples/schema-rollups.json
TEMPLATE='s3://raw/sensors/%Y/%m/%d/%H%M%S-{host}-{run}-{seq}.jsonl'  # the README's
if [ "$EOC_MODE" = single ]; then
  source "$(dirname "$0")/pipeline_lib.sh"
  start_servers 8
  Q() { q "$1"; }  # Q SQL: the answer of the server (through the Distributed tables on the cluster)
  CH_ARGS=()  # the server from CLICKHOUSE_URL
  members=()
  victims=(kc s3 sp ch clickhouse rebalance)
else
  source "$(dirname "$0")/cluster_lib.sh"
  start_cluster 2 2
  cd "$TEST_TMP"
  start_kafka 1 8 sensor_metrics
  B=$BS
  Q() { q "$CH_URL" "$1"; }
  read -r -a members <<<"$CH_MEMBERS"
  CH_ARGS=(--cluster "$CH_CLUSTER" --balance)
  if [ "$EOC_MODE" = distributed ]; then
    for u in $CH_URLS; do CH_ARGS+=(--url "$u"); done
  else
    CH_ARGS+=(--shard "$CH_URL_S1R1,$CH_URL_S1R2" --shard "$CH_URL_S2R1,$CH_URL_S2R2")
  fi
  victims=(kc s3 sp ch replica clickhouse rebalance)
fi
start_s3
aws_ref s3 mb s3://raw >/dev/null

# The oracle: the same messages parsed locally tell which ids are valid and how many are not.
sensor-gen -c "$N" --bad-fraction 0.02 --seed 26 --sensors 50 | grep -v '^$' >msgs.jsonl
N=$(wc -l <msgs.jsonl)
sensor-parse --schema "$S" --format tsv <msgs.jsonl 2>/dev/null | cut -f1 | sort >expected_ids
n_valid=$(wc -l <expected_ids)
n_bad=$((N - n_valid))
[ "$n_bad" -gt 100 ] || fail "expected some malformed messages, got $n_bad"
# The table first, on EOC_ENGINE (see the header): the first statement of ch-insert's DDL, its engine swapped
if [ "$EOC_ENGINE" != ReplacingMergeTree ]; then
  Q "$(ch-insert -q --exactly-once --create-table --schema "$S" "${CH_ARGS[@]}" --dry-run </dev/null |
    awk 'BEGIN {RS = ";\n"} NR == 1' | sed "s/ENGINE = ReplacingMergeTree()/ENGINE = $EOC_ENGINE()/;
      s/ENGINE = ReplicatedReplacingMergeTree(/ENGINE = Replicated$EOC_ENGINE(/")" >/dev/null ||
    fail "creating the table on $EOC_ENGINE"
  case $EOC_MODE in
    single) want_engine=$EOC_ENGINE table=sensor_metrics ;;
    *) want_engine=Replicated$EOC_ENGINE table=sensor_metrics_local ;;
  esac
  assert_eq "$(Q "SELECT engine FROM system.tables WHERE name = '$table'")" "$want_engine" "the table's engine"
fi
# Without the mode, the same tables (--create-table adds the coordinates' columns only with --exactly-once)
if [ "$EOC_FLAG" != --exactly-once ]; then
  ch-insert -q --exactly-once --create-table --schema "$S" "${CH_ARGS[@]}" --no-acks </dev/null || fail "creating the table"
fi

ROUNDS=${#victims[@]}
split -n l/"$ROUNDS" -d msgs.jsonl slice.
slices=(slice.*)

# start_pipeline I [kafka-cat-sensor options]: pipeline I of the group, as the README deploys it; its stages'
# pids in kcI.pid s3I.pid spI.pid chI.pid, their stderr in kcI.log...; the subshell's pid in pipeI.
start_pipeline() {
  local i=$1
  shift
  rm -f "acks$i" "s3acks$i" "kc$i.pid" "s3$i.pid" "sp$i.pid" "ch$i.pid"
  mkfifo "acks$i" "s3acks$i"
  (
    stage "kc$i" kafka-cat-sensor -b "$B" -t sensor_metrics -G eochaos "$@" --envelope --commit-acks "acks$i" \
        --commit-acks "s3acks$i" --ack-timeout 10 -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 \
        -X max.poll.interval.ms=10000 2>>"kc$i.log" |
      stage "s3$i" s3-put --tee --zstd --level 1 --rotate-seconds 1 --acks "s3acks$i" --retries 1000 --retry-time 120 \
        "$TEMPLATE" 2>>"s3$i.log" |
      stage "sp$i" sensor-parse --format tsv --schema "$S" --rejects "rejects$i.jsonl" 2>>"sp$i.log" |
      stage "ch$i" ch-insert --format tsv --table sensor_metrics $EOC_FLAG --create-table --schema "$S" \
        "${CH_ARGS[@]}" --batch-rows 5000 --batch-seconds 0.3 \
        --retries -1 --retry-max-delay 1 --rejects "ch-rejects$i.jsonl" >"acks$i" 2>>"ch$i.log"
  ) &
  eval "pipe$i=\$!"
}
wait_pipeline() {  # wait_pipeline I ROUND: a stage that outlives its neighbours by two minutes is a hang
  local pid
  eval "pid=\$pipe$1"
  wait_until 120 bash -c "! kill -0 $pid 2>/dev/null" || {
    tail -5 "kc$1.log" "s3$1.log" "sp$1.log" "ch$1.log" >&2
    fail "pipeline $1 did not end within 120 s after round $2"
  }
  wait "$pid" 2>/dev/null || true
}
stop_pipeline() {  # stop_pipeline I: SIGTERM to its head, as a service manager stops it
  local pid
  pid=$(cat "kc$1.pid" 2>/dev/null || true)
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
}
rows() { local n; n=$(Q "SELECT count() FROM sensor_metrics FORMAT TSV" 2>/dev/null) || n=0; echo "$n"; }  # 0 before it exists
rows_above() { [ "$(rows)" -gt "$1" ]; }
# kill_server DIR WHAT: SIGKILL of one ClickHouse server, restarted 2 s later, answering again
kill_server() {
  echo "round $round: $2 SIGKILLed after the first rows + ${delay}s, restarted 2 s later; rows so far $(rows)"
  "$CH" kill "$1" >/dev/null
  sleep 2
  "$CH" restart "$1" >/dev/null
  wait_until 60 curl -sSf "$(sed -n 's/^CH_URL=//p' "$1/env")/" --data-binary "SELECT 1" ||
    fail "$2 did not come back after its SIGKILL"
  sleep 2
}

for ((round = 0; round < ROUNDS; round++)); do
  victim=${victims[$round]}
  produce_paced "${slices[$round]}" 10 sensor_metrics
  before=$(rows)
  start_pipeline 1
  # the fault lands while data flows: once this round's first rows are stored, after 0 to 2 s more
  wait_until 60 rows_above "$before" || fail "round $round: no row stored within 60 s: $(tail -3 ch1.log)"
  delay=$(printf '%d.%d' $((RANDOM % 2)) $((RANDOM % 10)))
  sleep "$delay"
  case "$victim" in
    clickhouse)
      if [ "$EOC_MODE" = single ]; then kill_server "$TEST_TMP/ch" ClickHouse
      else kill_server "$TEST_TMP/cl/s1r1" "server s1r1 (the first --url or --shard replica, the one the test reads)"; fi
      ;;
    replica)  # another member at random: s1r2, s2r1 or s2r2
      m=${members[$((1 + RANDOM % 3))]}
      kill_server "$TEST_TMP/cl/$m" "replica $m"
      ;;
    rebalance)
      echo "round $round: pipeline 2 joins the group after the first rows + ${delay}s; rows so far $(rows)"
      start_pipeline 2 -v  # -v logs its assignments
      wait_until 60 grep -q 'assigned [1-9]' kc2.log || fail "pipeline 2 got no partition: $(tail -3 kc2.log)"
      sleep 2
      echo "round $round: pipeline 1 leaves (SIGTERM); rows so far $(rows)"
      stop_pipeline 1
      wait_pipeline 1 "$round"
      sleep 3
      ;;
    *)
      pid=$(cat "${victim}1.pid" 2>/dev/null || true)
      if [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; then
        echo "round $round: killed $victim (pid $pid) after the first rows + ${delay}s; rows so far $(rows)"
      else
        echo "round $round: $victim had already finished after the first rows + ${delay}s"
      fi
      ;;
  esac
  sleep 1
  for i in 1 2; do
    stop_pipeline "$i"
    [ -z "$(eval "echo \${pipe$i:-}")" ] || wait_pipeline "$i" "$round"
  done
  wait $producer || fail "produce failed: $(tail -3 produce.log)"
done

held=$(kafka-cat-sensor -q -b "$B" -t sensor_metrics -e | wc -l)
assert_eq "$held" "$N" "messages on the topic"
echo "final round: runs to the end; rows so far $(rows)"
start_pipeline 1 -e
wait_pipeline 1 final

# The README's queries of the rollups, and the same aggregates from the raw rows (as ch_rollups_test; a
# bucket without pressure reads 0 from min/max). avg sums in another order: same_rollup compares the
# averages to 1e-9 relative (a merge of the rollup's parts sums them again), every other field exactly.
rollup_1m() {
  Q "SELECT sensor_id, ts, minMerge(temperature_min), avgMerge(temperature_avg), maxMerge(temperature_max),
       avgMerge(humidity_avg), minMerge(pressure_min), maxMerge(pressure_max), countMerge(count)
     FROM sensor_metrics_1m GROUP BY sensor_id, ts ORDER BY sensor_id, ts FORMAT TabSeparated"
}
raw_1m() {
  Q "SELECT sensor_id, toStartOfMinute(ts) AS t, min(temperature), avg(temperature), max(temperature),
       avg(humidity), ifNull(min(pressure), 0), ifNull(max(pressure), 0), count()
     FROM sensor_metrics GROUP BY sensor_id, t ORDER BY sensor_id, t FORMAT TabSeparated"
}
rollup_1h() {
  Q "SELECT sensor_id, ts, minMerge(temperature_min), avgMerge(temperature_avg), maxMerge(temperature_max),
       countMerge(count)
     FROM sensor_metrics_1h GROUP BY sensor_id, ts ORDER BY sensor_id, ts FORMAT TabSeparated"
}
raw_1h() {
  Q "SELECT sensor_id, toStartOfHour(ts) AS t, min(temperature), avg(temperature), max(temperature), count()
     FROM sensor_metrics GROUP BY sensor_id, t ORDER BY sensor_id, t FORMAT TabSeparated"
}
# same_rollup RAW ROLLUP [COLUMNS OF AVERAGES]: prints the number of buckets the rollup lacks or differs in;
# fails if any (the first five on stderr)
same_rollup() {
  python3 - "$@" <<'PY'
import math, sys
raw, rollup, avgs = sys.argv[1], sys.argv[2], {int(c) for c in sys.argv[3:]}
def rows(path):
    return {tuple(f[:2]): f for f in (l.rstrip("\n").split("\t") for l in open(path))}
a, b = rows(raw), rows(rollup)
def same(x, y):
    return len(x) == len(y) and all(
        math.isclose(float(u), float(v), rel_tol=1e-9) if i in avgs else u == v for i, (u, v) in enumerate(zip(x, y)))
bad = [k for k in a if k not in b or not same(a[k], b[k])] + [k for k in b if k not in a]
for k in bad[:5]:
    print("raw    ", "\t".join(a.get(k, ["-"])), "\nrollup ", "\t".join(b.get(k, ["-"])), file=sys.stderr)
print(len(bad))
sys.exit(1 if bad else 0)
PY
}
same_1m() { same_rollup 1m.raw 1m.rollup 3 5; }  # columns 3 and 5 (from 0): avg temperature, avg humidity
same_1h() { same_rollup 1h.raw 1h.rollup 3; }
# figures: the table's rows and distinct ids, each rollup's count total, buckets that differ from the rows'
figures() {
  local c1m c1h
  rollup_1m >1m.rollup
  raw_1m >1m.raw
  rollup_1h >1h.rollup
  raw_1h >1h.raw
  c1m=$(Q "SELECT countMerge(count) FROM sensor_metrics_1m FORMAT TSV")
  c1h=$(Q "SELECT countMerge(count) FROM sensor_metrics_1h FORMAT TSV")
  echo "$1: count() $(rows) (distinct ids $(Q 'SELECT uniqExact(id) FROM sensor_metrics FORMAT TSV'), valid $n_valid);" \
    "rollup counts 1m $c1m, 1h $c1h; buckets differing from the raw rows': 1m $(same_1m 2>/dev/null || true)" \
    "of $(wc -l <1m.raw), 1h $(same_1h 2>/dev/null || true) of $(wc -l <1h.raw)"
}
# On the cluster, a Distributed SELECT reads one replica per shard, and a restarted one may still be
# fetching parts: settle waits until both replicas of each shard hold the same rows and rollup counts.
settle() {
  [ "$EOC_MODE" = single ] && return 0
  local sh a b t
  in_step() {
    for sh in 1 2; do
      a=CH_URL_S${sh}R1 b=CH_URL_S${sh}R2
      for t in "count() FROM sensor_metrics_local" "countMerge(count) FROM sensor_metrics_1m_local" \
          "countMerge(count) FROM sensor_metrics_1h_local"; do
        [ "$(q "${!a}" "SELECT $t")" = "$(q "${!b}" "SELECT $t")" ] || return 1
      done
    done
  }
  wait_until 120 in_step || fail "a shard's replicas still differ 120 s after $1"
}
# the table without FINAL holds every valid id once
check_rows() {
  assert_eq "$(Q "SELECT count(), uniqExact(id) FROM sensor_metrics FORMAT TSV")" "$n_valid	$n_valid" \
    "rows without FINAL (count, distinct ids) $1"
  Q "SELECT id FROM sensor_metrics FORMAT TSV" | sort >got_ids
  cmp -s expected_ids got_ids || fail "ids differ $1: $(diff expected_ids got_ids | head -5)"
  local m u  # on the cluster, each replica too: no copy hidden on the replica the Distributed table skips
  for m in "${members[@]}"; do
    u=CH_URL_${m^^}
    assert_eq "$(q "${!u}" "SELECT count() - uniqExact(id) FROM sensor_metrics_local")" 0 "ids stored twice on $m $1"
  done
}
# each rollup equals the raw rows' aggregates (checked last, so that a run where a view fell short still
# checks all the rest; the inserts found stored after a failure are named: a ClickHouse crash in the
# middle of one INSERT can leave the views short of rows the table kept, a limit the README states)
rollups_are="both rollups exact"
check_rollups() {
  same_1m >/dev/null 2>&1 && same_1h >/dev/null 2>&1 && return 0
  local short
  short=$(cat ch*.log | { grep -o 'the [0-9]* rows of the failed insert [^ ]* were stored after all' || true; } |
    awk '{n += $2} END {print n + 0}')
  if [ "$short" -eq 0 ]; then
    same_1m >/dev/null || fail "the 1-minute rollup differs from the raw rows in $(same_1m 2>/dev/null) buckets $1"
    same_1h >/dev/null || fail "the 1-hour rollup differs from the raw rows in $(same_1h 2>/dev/null) buckets $1"
  fi
  # The README's limit, warned about by ch-insert: a ClickHouse SIGKILL inside an INSERT left the views
  # without up to $short rows the table kept. Then a rollup may lack at most those rows, never count one
  # twice: every bucket's count at most the raw rows', the totals short by at most $short.
  echo "ClickHouse was killed inside an INSERT whose $short rows the table kept (ch-insert warned): the rollups may lack them"
  rollups_are="both rollups short by at most the $short rows of an INSERT ClickHouse was killed in (ch-insert warned), none counted twice,"
  local r
  for r in 1m 1h; do
    r=$(python3 - "$r.raw" "$r.rollup" "$short" <<'PY'
import sys
def counts(path):
    return {tuple(f[:2]): int(f[-1]) for f in (l.rstrip("\n").split("\t") for l in open(path))}
raw, rollup, short = counts(sys.argv[1]), counts(sys.argv[2]), int(sys.argv[3])
over = [k for k in rollup if rollup[k] > raw.get(k, 0)]
missing = sum(raw.values()) - sum(rollup.values())
print("ok" if not over and 0 <= missing <= short else f"{len(over)} buckets over the raw rows, {missing} rows short")
PY
)
    [ "$r" = ok ] || fail "a rollup beyond the limit of a ClickHouse crash inside an INSERT ($short rows): $r $1"
  done
}

found=$(cat ch*.log | { grep -o 'batch [0-9]*: [0-9]* of its rows are stored already' || true; } | awk '{n += $3} END {print n + 0}')
echo "ch-insert runs $(cat ch*.log | grep -c 'exactly-once: run' || true); rows found stored and not sent again: $found;" \
  "failed inserts found stored after all: $(cat ch*.log | grep -c 'were stored after all' || true);" \
  "requests retried (the ClickHouse kills): $(cat ch*.log | { grep -o '[0-9]* retries' || true; } | awk '{n += $1} END {print n + 0}')"
settle "the rounds"
figures "after the rounds"
check_rows "after the rounds"
cp 1m.rollup 1m.before
cp 1h.rollup 1h.before

# every malformed message is in the rejects files (a re-read one is rejected again; a line torn by a
# killed kafka-cat-sensor is rejected as such and its message read again whole)
cat rejects*.jsonl >rejects.all
python3 - "$n_bad" rejects.all <<'PY' || fail "rejects files incomplete"
import json, sys
want = int(sys.argv[1])
seen, torn = set(), 0
for line in open(sys.argv[2], encoding="utf-8"):
    r = json.loads(line)
    if r["reason"].startswith("input ended mid-line"):
        torn += 1
        continue
    seen.add((r["topic"], r["partition"], r["offset"]))
print(f"distinct rejected messages: {len(seen)} (want {want}); torn lines rejected as such: {torn}")
sys.exit(0 if len(seen) == want else 1)
PY
cat ch-rejects*.jsonl >ch-rejects.all 2>/dev/null || true
if [ -s ch-rejects.all ] && jq -e 'select(.error | startswith("input ended mid-line") | not)' ch-rejects.all >/dev/null; then
  fail "ClickHouse rejected rows that sensor-parse had validated: $(jq -c 'select(.error | startswith("input ended mid-line") | not)' ch-rejects.all | head -2)"
fi

# every message is in the archive, whole, at least once: per partition the offsets 0..end, N in all
s3-cat --prefix s3://raw/sensors/ >archive.jsonl 2>s3cat.log || fail "s3-cat: $(tail -3 s3cat.log)"
python3 - "$N" archive.jsonl <<'PY' || fail "the archive misses messages"
import json, sys
want = int(sys.argv[1])
parts, lines, torn = {}, 0, 0
for line in open(sys.argv[2], encoding="utf-8", errors="replace"):
    lines += 1
    try:
        e = json.loads(line)
    except ValueError:
        torn += 1  # a piece a killed kafka-cat-sensor left; its message is archived whole too
        continue
    parts.setdefault(e["partition"], set()).add(e["offset"])
total = sum(len(s) for s in parts.values())
holes = {p: max(s) + 1 - len(s) for p, s in parts.items() if max(s) + 1 != len(s)}
print(f"archive: {lines} lines, {total} distinct messages (want {want}), {torn} torn pieces, holes {holes}")
sys.exit(0 if total == want and not holes else 1)
PY
assert_lag_zero eochaos sensor_metrics 8

# Backfill reruns add nothing: the archive (every message at least once, some twice), then the topic.
s3-cat --prefix s3://raw/sensors/ 2>>s3cat.log | sensor-parse -q --format tsv --schema "$S" 2>/dev/null |
  ch-insert --format tsv $EOC_FLAG --schema "$S" "${CH_ARGS[@]}" --no-acks 2>backfill-s3.log || fail "backfill from the archive: $(tail -3 backfill-s3.log)"
grep 'rows,' backfill-s3.log || true
settle "the backfill from the archive"
figures "after the backfill from the archive"
check_rows "after the backfill from the archive"
same_rollup 1m.before 1m.rollup 3 5 >/dev/null && same_rollup 1h.before 1h.rollup 3 >/dev/null ||
  fail "the backfill from the archive changed a rollup"
kafka-cat-sensor -q -b "$B" -t sensor_metrics -e --envelope -o beginning | sensor-parse -q --format tsv --schema "$S" 2>/dev/null |
  ch-insert --format tsv $EOC_FLAG --schema "$S" "${CH_ARGS[@]}" --no-acks 2>backfill-kafka.log || fail "backfill from Kafka: $(tail -3 backfill-kafka.log)"
grep 'rows,' backfill-kafka.log || true
assert_contains "$(cat backfill-kafka.log)" "; 0 inserted, 0 rejected, $n_valid already stored" "Kafka backfill summary"
settle "the backfill from Kafka"
figures "after the backfill from Kafka"
check_rows "after the backfill from Kafka"
same_rollup 1m.before 1m.rollup 3 5 >/dev/null && same_rollup 1h.before 1h.rollup 3 >/dev/null ||
  fail "the backfill from Kafka changed a rollup"
check_rollups "(after the rounds and both backfills)"
case $EOC_MODE in
  single) where="one server ($EOC_ENGINE)" servers=ClickHouse ;;
  distributed) where="the 2x2 cluster through the Distributed table" servers="two ClickHouse servers" ;;
  shard) where="the 2x2 cluster shard-direct" servers="two ClickHouse servers" ;;
esac
pass "$where: $n_valid valid messages stored once without FINAL and $rollups_are after SIGKILLs of every stage, of" \
  "$servers and a rebalance; $n_bad malformed in the rejects files; all $N in the archive; lag 0; two backfill reruns added nothing"
