#!/usr/bin/env bash
# ctest-label: slow
# The docs' examples work as written (issue 18): every ```sh block of README.md and every ``` block of
# a man page's EXAMPLES section runs against local real servers (ClickHouse, an Apache Kafka broker,
# MinIO S3). Only hosts, ports and credentials are adapted: ClickHouse and S3 through the variables
# the tools read (CLICKHOUSE_URL/USER/PASSWORD, AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...), and the docs'
# placeholder addresses and credentials (SUBST below: the broker kafka:9092, a local S3 endpoint and the
# keys a man page gives it) by the local ones, and the hourly backfill's hour (the last one) by this one.
#
# Each block runs as one `bash -e -o pipefail` script in a fresh directory and in a private mount
# namespace with empty /run and /var/lib (the paths the README's service layout uses, as on a fresh
# machine; only node_exporter's textfile directory exists, as where node_exporter runs). A block
# passes when it exits 0 with no "tool: error:" or "tool: warning:" line. A block whose kafka-cat-sensor consumes in a group
# (-G) without -e/-c streams until stopped: it passes when a message produced after it started reaches
# ClickHouse and no error was logged; then it gets SIGTERM. Blocks that need what is not here are in
# SKIP, each with its reason. Needs root (unshare/mount).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pipeline_lib.sh"
source "$(dirname "$0")/s3_lib.sh"

# block id (file: first command line) substring -> why it is not run
declare -A SKIP=(
  ["README.md: make demo"]="runs its own servers and the whole suite (demo_test.sh runs make demo)"
  ["README.md: make deb"]="builds a package and copies it to a server (deb_test.sh checks the package)"
  ["ch-insert.1.scd: CLICKHOUSE_USER=writer"]="needs two HTTPS ClickHouse servers ch1/ch2 and /etc/sensor-pipeline/ch.pass (ch_insert_tls_test covers --ca-file over HTTPS)"
  ["README.md: ch-insert --cluster sensors"]="needs the four servers ch1..ch4 of a cluster named sensors (ch_insert_cluster_test and ch_insert_shard_direct_test run these flags against scripts/clickhouse.sh cluster)"
  ["ch-insert.1.scd: ch-insert --cluster sensors"]="needs the four servers ch1..ch4 of a cluster named sensors (ch_insert_shard_direct_test runs --shard against scripts/clickhouse.sh cluster)"
  ["README.md: cp /usr/share/sensor-pipeline/examples/airflow"]="needs an Airflow installation (airflow_dags_test imports the connections and sets the Variables the same way, then runs the DAGs)"
  ["kafka-cat-sensor.1.scd: kafka-cat-sensor -b kafka:9093"]="needs a Kafka cluster with TLS client certificates (kafka_sasl_test covers SASL_SSL)"
)

# pipeline_lib's start_servers, but the topic keeps its records forever: the examples' data is of
# 2025-07-07 (their time-range window) and Kafka's default 7-day retention would delete it mid-test
cd "$TEST_TMP"
start_clickhouse
export CLICKHOUSE_URL=$CH_URL CLICKHOUSE_USER=$CH_USER CLICKHOUSE_PASSWORD=$CH_PASSWORD
start_kafka 1 4
kafka_topic sensor_metrics 4 1 retention.ms=-1
B=$BS
start_s3
export KAFKA_BROKERS=$B
# placeholders of the docs -> the local servers, one "PLACEHOLDER<TAB>LOCAL" a line (the man page's
# local-S3 example gives MinIO's default root user and port; the test's MinIO has its own)
# The cron block's hour too: it loads the last hour, and s3-put names an object by its own clock, so the
# streaming block's objects are of this hour; the cron block must load them (checked below).
SUBST="kafka:9092	$B
date -u -d '1 hour ago' +%Y-%m-%dT%H	date -u +%Y-%m-%dT%H
http://127.0.0.1:9000	$AWS_ENDPOINT_URL
AWS_ACCESS_KEY_ID=minioadmin AWS_SECRET_ACCESS_KEY=minioadmin	AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY"
[ "$(id -u)" = 0 ] || fail "needs root for the mount namespace"

# what the examples read: a topic with 99000 messages whose record timestamps are their own (for
# the time-range backfill), the ClickHouse table, the archive's buckets and a day and the last hours.
# Fewer than the Debugging block's -c 100000: a consumer example without -e must not wait for more
# (issue 27: it hung on a smaller topic).
sensor-gen -c 99000 --seed 1 | kafka-cat-sensor -q -P -t sensor_metrics --key-field value.sensor_id \
  --timestamp-field timestamp || fail "produce"
ch-insert -q --create-table </dev/null || fail "create table"
# The archive holds only what the README's streaming block (run before the cron block) writes with
# its template: no key is made by hand (issue 27: a backfill test on keys the pipeline never writes
# passed while the shipped backfill loaded nothing).
aws_ref s3 mb s3://raw >/dev/null && aws_ref s3 mb s3://archive >/dev/null || fail "buckets"

# extract: one file per block, and an index "N<TAB>id<TAB>kind"
mkdir -p "$TEST_TMP/ex"
python3 - "$SRC_DIR" "$TEST_TMP/ex" "$SUBST" <<'PY'
import os, re, sys
src, out, subst = sys.argv[1], sys.argv[2], [p.split("\t", 1) for p in sys.argv[3].split("\n")]
blocks = []
for line in open(os.path.join(src, "README.md")).read().split("\n```sh\n")[1:]:
    blocks.append(("README.md", line.split("\n```", 1)[0]))
for name in sorted(os.listdir(os.path.join(src, "man"))):
    text = open(os.path.join(src, "man", name)).read()
    m = re.search(r"^# EXAMPLES\n(.*?)(?=^# )", text, re.S | re.M)
    for b in re.findall(r"^```\n(.*?)^```$", m.group(1) if m else "", re.S | re.M):
        blocks.append((name, re.sub(r"\\(.)", r"\1", b)))  # scdoc escapes (\\ at line ends)
with open(os.path.join(out, "index"), "w") as idx:
    for n, (name, body) in enumerate(blocks):
        # named as the docs write it (the adapted block holds the local S3 server's secret key)
        first = next(l for l in body.split("\n") if l.strip() and not l.startswith("#"))
        for a, b in subst:
            body = body.replace(a, b)
        # a consumer in a group without -e or -c streams until stopped (--lag -G only reads the group's offsets)
        kind = "stream" if re.search(r"kafka-cat-sensor[^|]* -G ", body) and not re.search(r" -(e|c) | --lag ", body) else "run"
        open(os.path.join(out, f"{n}.sh"), "w").write(body + "\n")
        idx.write(f"{n}\t{name}: {first[:90]}\t{kind}\n")
PY

# start N: the block in its own session and mount namespace; sets PID (= its process group)
start() {
  mkdir -p "$TEST_TMP/ex/$1.d"
  setsid unshare -m bash -c 'mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /var/lib &&
    mkdir -p /var/lib/node_exporter/textfile && cd "$1" && exec bash -e -o pipefail "$2"' \
    _ "$TEST_TMP/ex/$1.d" "$TEST_TMP/ex/$1.sh" >"$TEST_TMP/ex/$1.out" 2>"$TEST_TMP/ex/$1.err" &
  PID=$!
}
stop() { kill -TERM -- "-$1" 2>/dev/null || true; sleep 1; kill -KILL -- "-$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
landed() { [ "$(q "SELECT count() FROM sensor_metrics WHERE id = '$1'")" -ge 1 ]; }
# errors and warnings (a deprecated flag, an empty time range...) fail an example; for a stream, what
# it logged before it was stopped
errors() { grep -E '^[a-z0-9-]+: (error|warning):' "$1"; }

failed=0 ran=0 marker=1000000
while IFS=$'\t' read -r n id kind; do
  reason=""
  for k in "${!SKIP[@]}"; do [[ $id == "$k"* ]] && reason=${SKIP[$k]}; done
  if [ -n "$reason" ]; then echo "skip: $id -- $reason"; continue; fi
  ran=$((ran + 1))
  start "$n"
  rc=0
  if [ "$kind" = stream ]; then
    # a message produced now must reach ClickHouse through the example
    sleep 2
    sensor-gen -c 50 --first-id $marker --start "$(date -u +%Y-%m-%dT%H:%M:%SZ)" |
      kafka-cat-sensor -q -P -t sensor_metrics --key-field value.sensor_id || fail "produce the marker"
    last="msg-$((marker + 49))"
    marker=$((marker + 1000))
    wait_until 120 landed "$last" || rc="$last did not reach ClickHouse in 120 s"
    if ! alive "$PID"; then
      wait "$PID" && rc="ended early (exit 0)" || rc="ended early (exit $?)"
    fi
    cp "$TEST_TMP/ex/$n.err" "$TEST_TMP/ex/$n.judged"
    stop "$PID"
    archived_hour=$(date -u +%Y-%m-%dT%H)  # the hour of the objects its s3-put stored (if it archives)
  else
    end=$((SECONDS + 180))
    while alive "$PID" && [ $SECONDS -lt $end ]; do sleep 0.2; done
    if alive "$PID"; then rc="still running after 180 s"; else wait "$PID" || rc="exit $?"; fi
    stop "$PID"  # and what it left in the background (the mock cluster)
    cp "$TEST_TMP/ex/$n.err" "$TEST_TMP/ex/$n.judged"
  fi
  if [ "$rc" = 0 ] && errors "$TEST_TMP/ex/$n.judged" >/dev/null; then
    rc="logged: $(errors "$TEST_TMP/ex/$n.judged" | head -n 1 | cut -c1-200)"
  fi
  # an hourly backfill must load the hour the streaming block archived (unless the hour turned since)
  if [ "$rc" = 0 ] && grep -q 's3-cat --hour' "$TEST_TMP/ex/$n.sh" && grep -q 'ch-insert' "$TEST_TMP/ex/$n.sh" &&
    [ "${archived_hour:-}" = "$(date -u +%Y-%m-%dT%H)" ] &&
    ! grep -qE 'ch-insert: .* [1-9][0-9]* inserted' "$TEST_TMP/ex/$n.err"; then
    rc="loaded no rows from the hour the streaming block archived"
  fi
  if [ "$rc" = 0 ]; then
    echo "ok: $id"
  else
    failed=$((failed + 1))
    echo "FAILED: $id: $rc" >&2
    sed 's/^/    /' "$TEST_TMP/ex/$n.sh" >&2
    echo "  stderr:" >&2; tail -n 15 "$TEST_TMP/ex/$n.err" | sed 's/^/    /' >&2
  fi
done <"$TEST_TMP/ex/index"
[ "$ran" -ge 15 ] || fail "only $ran examples found: is the extraction broken?"
[ "$failed" -eq 0 ] || fail "$failed of $ran examples do not work as written"
pass "$ran examples of README.md and the man pages work as written"
