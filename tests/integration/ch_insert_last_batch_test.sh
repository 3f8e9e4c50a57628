#!/usr/bin/env bash
# ch-insert's last batch cut into --parallel pieces sent at once (issue 25: the end of a run, where the
# last INSERT ran alone), on a real clickhouse-server, with rows from sensor-parse (envelopes of 4
# partitions): every row stored once, the acks those of the one batch it was before (each partition to
# its end; with a row ClickHouse refused and no --rejects, its partition held back from that row on,
# also by the pieces after the one that held it). --batch-rows 100000: batches of 6250, 12500, 25000
# rows (the first ones smaller), then the last 30000 rows at the end of the input: two INSERTs. And
# --first-batch-rows sets where the ramp starts.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ch_lib.sh"
start_clickhouse_for_ch_insert

total=73750
sensor-gen -c $total --seed 11 | grep -v '^$' |
  awk '{ printf "{\"topic\":\"t\",\"partition\":%d,\"offset\":%d,\"value\":%s}\n", (NR - 1) % 4, int((NR - 1) / 4), $0 }' |
  sensor-parse -q >all.jsonl 2>/dev/null
n=$(wc -l <all.jsonl)
# a refused row in the first piece of the last batch (ClickHouse refuses a text temperature)
bad=$((n - 20000))
[ "$n" -gt 70000 ] || fail "expected over 70000 rows from sensor-parse, got $n"
awk -v bad=$bad 'NR == bad { sub(/"temperature":[-0-9.eE+]+/, "\"temperature\":\"hot\"") } { print }' all.jsonl >rows.jsonl
grep -q '"temperature":"hot"' rows.jsonl || fail "the refused row was not made: $(sed -n ${bad}p all.jsonl)"
bad_part=$(sed -n ${bad}p rows.jsonl | sed 's/.*"_partition":\([0-9]*\).*/\1/')
bad_off=$(sed -n ${bad}p rows.jsonl | sed 's/.*"_offset":\([0-9]*\).*/\1/')
# last_ack FILE PARTITION: the last offset acknowledged for it
last_ack() { grep "\"partition\":$2," "$1" | tail -n 1 | sed 's/.*"offset":\([0-9]*\).*/\1/'; }
# the last offset of each partition in the rows
end_of() { grep "\"_partition\":$1," rows.jsonl | tail -n 1 | sed 's/.*"_offset":\([0-9]*\).*/\1/'; }

# --- kept in --rejects: every partition acknowledged to its end
ch-insert -v --create-table --table kept --batch-rows 100000 --acks acks.kept --rejects rejects.kept <rows.jsonl 2>kept.err ||
  fail "ch-insert exited $?: $(tail -3 kept.err)"
last=$((n - 43750))
for want in "batch 3: INSERT of 25000 rows sent" "batch 4: INSERT of $((last / 2)) rows sent" \
  "batch 5: INSERT of $((last - last / 2)) rows sent"; do
  assert_contains "$(cat kept.err)" "$want" "the batches (the last one in two pieces)"
done
assert_eq "$(grep -c 'batch 6:' kept.err)" 0 "batches after the last one's pieces"
assert_eq "$(q 'SELECT count() FROM kept')" "$((n - 1))" "rows stored"
assert_eq "$(q 'SELECT uniqExact(id) FROM kept')" "$((n - 1))" "distinct ids"
assert_eq "$(wc -l <rejects.kept)" 1 "rejects"
for p in 0 1 2 3; do assert_eq "$(last_ack acks.kept $p)" "$(end_of $p)" "last ack of partition $p (rejects kept)"; done

# --- no --rejects: the refused row's partition held back from it on, the others to their ends
ch-insert -q --create-table --table lost --batch-rows 100000 --acks acks.lost <rows.jsonl 2>lost.err ||
  fail "ch-insert exited $?: $(tail -3 lost.err)"
assert_eq "$(q 'SELECT count() FROM lost')" "$((n - 1))" "rows stored (no rejects file)"
for p in 0 1 2 3; do
  if [ "$p" = "$bad_part" ]; then
    assert_eq "$(last_ack acks.lost $p)" "$((bad_off - 1))" "partition $p held back from the refused row's offset $bad_off"
  else
    assert_eq "$(last_ack acks.lost $p)" "$(end_of $p)" "last ack of partition $p (no rejects file)"
  fi
done
# --- --first-batch-rows: the ramp from there (20000, 40000, then the rest: too few rows to cut)
ch-insert -v --create-table --table given --batch-rows 100000 --first-batch-rows 20000 --rejects rejects.given \
  --no-acks <rows.jsonl 2>given.err || fail "ch-insert --first-batch-rows exited $?: $(tail -3 given.err)"
for want in "batch 1: INSERT of 20000 rows sent" "batch 2: INSERT of 40000 rows sent"; do
  assert_contains "$(cat given.err)" "$want" "the batches with --first-batch-rows 20000"
done
assert_eq "$(grep -c 'batch 4:' given.err)" 0 "batches after the third"
assert_eq "$(q 'SELECT count() FROM given')" "$((n - 1))" "rows stored (--first-batch-rows)"
pass "the last batch in pieces: every row once, the acks of the one batch"
