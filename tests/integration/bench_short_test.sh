#!/usr/bin/env bash
# ctest-label: slow
# `make bench` in its short form (issue 29: the bench failed on a fresh clone and nothing caught it):
# scripts/bench.sh, the driver `make bench` runs, over every section with a few thousand messages and
# one pair of runs (no warm-up round: the time goes to server starts; the rounds' bookkeeping is checked
# on its own at the end, with sides that only sleep). It must exit 0; every section (scripts/bench/*.sh) must end
# with RESULT lines carrying the spread, or say SKIPPED with a reason (a server or reference tool this
# machine lacks); the summary table must be there with a row per RESULT. No timings are checked.
# Slow: it starts every server the benchmarks use (the sanitizer pass skips it). MinIO's client mc is not
# built here (minutes): when the cache has it, its s3 rows are measured, else skipped with the reason; a
# second short s3 run with no mc at all checks that path. The Spark baseline (a JVM, minutes) belongs to
# `make bench`, not `make test`: its section is left out here (BENCH_SPARK=0, checked to say so), and its
# row check is the `bench`-labelled seed_spark_rows_test that `make bench` runs first.
source "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"
rc=0
BENCH_MESSAGES=2000 BENCH_PAIRS=1 BENCH_WARMUP=0 BENCH_BUILD_MC=0 BENCH_SPARK=0 bash "$SRC_DIR/scripts/bench.sh" "$(dirname "$BIN_DIR")" >out.txt 2>&1 || rc=$?
cat out.txt
assert_eq "$rc" 0 "scripts/bench.sh's exit status"
! grep -q '^FAILED ' out.txt || fail "a section failed: $(grep '^FAILED ' out.txt)"

# the output of each section: from its "=== NAME" line to the next "=== "
section() { awk -v h="=== $1" '$0 == h || index($0, h " ") == 1 { on = 1; next } /^=== / { on = 0 } on' out.txt; }
sections=0
for script in "$SRC_DIR"/scripts/bench/*.sh; do
  b=$(basename "$script" .sh)
  [ "$b" = lib ] && continue
  sections=$((sections + 1))
  text=$(section "$b")
  [ -n "$text" ] || fail "section $b did not run"
  if grep -Eq "^SKIPPED $b: .{10,}" <<<"$text"; then
    echo "bench_short_test: section $b skipped: $(grep "^SKIPPED $b: " <<<"$text")"
    continue
  fi
  grep -Eq '^(RESULT|SKIPPED) ' <<<"$text" || fail "section $b printed neither RESULT nor SKIPPED with a reason"
  while read -r _ name rest; do
    [ -n "$name" ] || continue
    # timed rows carry the spread of one pair; the storage row (sizes) has none
    [[ $rest =~ ratio=[0-9.]+\ spread=([0-9.]+-[0-9.]+|-)\  ]] || fail "$b: RESULT $name lacks ratio and spread: $rest"
    [[ $rest == *" pairs=1"* || $rest == *" spread=- "* ]] || fail "$b: RESULT $name is not of one pair: $rest"
  done < <(grep '^RESULT ' <<<"$text" || true)
  # a row whose reference misbehaved is skipped with its reason, not dropped
  while read -r line; do
    [ -z "$line" ] || [[ $line =~ ^SKIPPED\ [^\ ]+:\ .{10,} ]] || fail "$b: a skipped row without a reason: $line"
  done < <(grep '^SKIPPED ' <<<"$text" || true)
done
[ "$sections" -ge 8 ] || fail "only $sections bench sections found"
grep -q '^SKIPPED seed_spark: BENCH_SPARK=0 ' <<<"$(section seed_spark)" ||
  fail "the Spark section ran in make test, or was skipped for another reason: $(section seed_spark)"

# the s3 section (issue 24): each of its six rows measured or skipped with a reason
s3_rows="s3-put-vs-aws s3-put-vs-mc s3-put-vs-rclone s3-cat-vs-mc s3-cat-vs-aws s3-cat-vs-rclone"
if ! grep -q '^SKIPPED s3: ' <<<"$(section s3)"; then
  for row in $s3_rows; do
    grep -Eq "^(RESULT $row |SKIPPED $row: .{10,})" <<<"$(section s3)" || fail "the s3 section has no row $row"
  done
  # no mc at all: its two rows are skipped with the reason, the section and the bench still pass
  rc=0
  BENCH_ONLY=s3 BENCH_MC="$TEST_TMP/no/mc" BENCH_MESSAGES=2000 BENCH_PAIRS=1 BENCH_WARMUP=0 \
    bash "$SRC_DIR/scripts/bench.sh" "$(dirname "$BIN_DIR")" >nomc.txt 2>&1 || rc=$?
  assert_eq "$rc" 0 "scripts/bench.sh's exit status without mc: $(cat nomc.txt)"
  for row in s3-put-vs-mc s3-cat-vs-mc; do
    grep -q "^SKIPPED $row: reference not available: $TEST_TMP/no/mc is not an executable" nomc.txt ||
      fail "without mc, $row is not skipped with the reason: $(cat nomc.txt)"
  done
  for row in s3-put-vs-aws s3-put-vs-rclone s3-cat-vs-aws s3-cat-vs-rclone; do
    grep -Eq "^(RESULT|SKIPPED) $row[: ]" nomc.txt || fail "without mc, the s3 section has no row $row: $(cat nomc.txt)"
  done
fi

summary=$(section summary)
assert_contains "$summary" "spread" "the summary table's spread column"
while read -r _ name _; do
  grep -Eq "^$name +[^ ]" <<<"$summary" || fail "the summary has no row for $name"
done < <(grep '^RESULT ' out.txt)
while read -r _ name _; do
  grep -Eq "^${name%:} +skipped: " <<<"$summary" || fail "the summary does not show $name as skipped"
done < <(grep '^SKIPPED ' out.txt)
# scripts/bench/lib.sh's rounds: warm-up runs are not counted, the two sides alternate, one row per pair
(
  BENCH_SECTION=rounds BENCH_WARMUP=2 BENCH_PAIRS=3
  source "$SRC_DIR/scripts/bench/lib.sh"
  bench_init "$TEST_TMP/rounds"
  side_a() { printf a >>"$TEST_TMP/order"; bench_ours a sleep 0.01; }
  side_b() { printf b >>"$TEST_TMP/order"; bench_ref b sleep 0.02; }
  bench_rounds side_a side_b
  bench_result a-vs-b a b
) >rounds.txt || fail "the rounds check failed: $(cat rounds.txt)"
assert_eq "$(cat "$TEST_TMP/order")" "abbaabbaab" "the sides' order over 2 warm-up and 3 counted rounds"
[[ $(cat rounds.txt) =~ ^RESULT\ a-vs-b\ ours=0\.[0-9]+s\ ref=0\.[0-9]+s\ ratio=[0-9.]+\ spread=[0-9.]+-[0-9.]+\ .*\ pairs=3$ ]] ||
  fail "bench_result over 3 counted pairs: $(cat rounds.txt)"
pass "make bench's short form: every section measured or skipped with a reason, summary with spreads"
