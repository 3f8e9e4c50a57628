#!/usr/bin/env bash
# --setting NAME=VALUE (issue 27) against clickhouse-server 18.16: the setting reaches ClickHouse with
# every INSERT and changes what it does (log_queries=1: ClickHouse logs those INSERTs, and only
# those), and a setting the
# server does not know, or a value it cannot parse, ends the run at start with 78, nothing sent, not
# retried. (The quorum on a replicated cluster: ch_insert_quorum_test.sh.)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ch_lib.sh"
start_clickhouse_for_ch_insert
make_rows 200 4

# log_queries (0 on this server): ClickHouse logs the INSERTs of the run that sends it, and only those
assert_eq "$(q "SELECT value FROM system.settings WHERE name = 'log_queries'")" 0 "the server's default"
rc=0; ch-insert --create-table --table plain --batch-rows 50 <rows.jsonl >acks.out 2>err.txt || rc=$?
assert_eq "$rc" 0 "without the setting: exit status ($(tail -2 err.txt))"
rc=0; ch-insert --create-table --table logged --batch-rows 50 --setting log_queries=1 <rows.jsonl >acks.out 2>err.txt || rc=$?
assert_eq "$rc" 0 "with --setting log_queries=1: exit status ($(tail -2 err.txt))"
assert_eq "$(q 'SELECT count() FROM logged')" "$n" "rows stored with the setting"
assert_contains "$(tail -1 acks.out)" "\"offset\":$((n - 1))" "the last row acknowledged"
q "SYSTEM FLUSH LOGS"
inserts() { q "SELECT count() FROM system.query_log WHERE type = 2 AND query LIKE 'INSERT INTO $1 %'"; }
assert_eq "$(inserts plain)" 0 "INSERTs logged without the setting"
[ "$(inserts logged)" -ge $((n / 50)) ] || fail "INSERTs logged with the setting: $(inserts logged), want at least $((n / 50))"
pass "--setting log_queries=1 reaches ClickHouse with every INSERT: $(inserts logged) INSERTs logged, none without it"

# a setting 18.16 does not know (Code 115), a misspelled one: 78 at start, nothing sent (18.16 takes
# insert_quorum=two without a word, so a value it cannot parse is not tried here)
for bad in no_such_setting=1 insert_qorum=2; do
  rc=0; ch-insert --table logged --retries 1000 --setting "$bad" <rows.jsonl >acks.out 2>err.txt || rc=$?
  assert_eq "$rc" 78 "--setting $bad: exit status ($(tail -2 err.txt))"
  assert_contains "$(cat err.txt)" "refused the settings (--setting, [clickhouse_settings]): " "--setting $bad: the reason"
  assert_contains "$(cat err.txt)" "(nothing was sent)" "--setting $bad: what happened"
  ! grep -q "retry" err.txt || fail "--setting $bad was retried: $(grep retry err.txt | head -2)"
  [ ! -s acks.out ] || fail "--setting $bad: something was acknowledged"
done
assert_contains "$(ch-insert --table logged --setting no_such_setting=1 <rows.jsonl 2>&1 >/dev/null)" "Code: 115" "ClickHouse's code"
assert_eq "$(q 'SELECT count() FROM logged')" "$n" "rows stored by the refused runs"
pass "a setting unknown to ClickHouse 18.16: exit 78 at start, not retried, nothing sent"

# The config file's [clickhouse_settings] (examples/config.ini) reach ClickHouse the same way, and
# --dry-run shows them; a --setting of the same name wins over the file.
printf '[clickhouse_settings]\nlog_queries = 1\n' >settings.ini
assert_contains "$(ch-insert --config settings.ini --dry-run -q --table fromfile <rows.jsonl | head -3)" \
  "-- settings: log_queries=1" "--dry-run shows the file's settings"
assert_contains "$(ch-insert --config settings.ini --dry-run -q --setting log_queries=0 <rows.jsonl | head -3)" \
  "-- settings: log_queries=0" "--dry-run: the flag wins"
rc=0; ch-insert --config settings.ini --create-table --table fromfile --batch-rows 50 <rows.jsonl >acks.out 2>err.txt || rc=$?
assert_eq "$rc" 0 "with [clickhouse_settings] log_queries = 1: exit status ($(tail -2 err.txt))"
rc=0; ch-insert --config settings.ini --create-table --table overridden --batch-rows 50 --setting log_queries=0 <rows.jsonl >acks.out 2>err.txt || rc=$?
assert_eq "$rc" 0 "the file's setting overridden by --setting: exit status ($(tail -2 err.txt))"
q "SYSTEM FLUSH LOGS"
[ "$(inserts fromfile)" -ge $((n / 50)) ] || fail "INSERTs logged with the file's setting: $(inserts fromfile)"
assert_eq "$(inserts overridden)" 0 "INSERTs logged when --setting log_queries=0 overrides the file"
printf '[clickhouse_settings]\nno_such_setting = 1\n' >bad.ini
rc=0; ch-insert --config bad.ini --table logged <rows.jsonl >acks.out 2>err.txt || rc=$?
assert_eq "$rc" 78 "an unknown setting from the file: exit status ($(tail -2 err.txt))"
assert_contains "$(cat err.txt)" "refused the settings (--setting, [clickhouse_settings]): " "the file's setting refused by the server"
pass "[clickhouse_settings] in the config file: sent with every INSERT, shown by --dry-run, overridden by --setting"
