#!/usr/bin/env bash
# No secret ever reaches stderr or stdout (issue 16, item 3). Every tool runs at -vv with secrets entering
# every way a user can give them (environment, password files, the config file, user:password@ in URLs from
# flags, the environment and the config file, [librdkafka] keys including misspelt ones, S3 secret keys and
# session tokens, ~/.aws), against real servers (ClickHouse, MinIO, the Kafka mock) and against unreachable
# endpoints so the error paths print too; every byte a tool writes is searched for every secret's value.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ch_lib.sh"
source "$(dirname "$0")/s3_lib.sh"
source "$(dirname "$0")/kafka_lib.sh"
cd "$TEST_TMP"

SECRET=Zq9kS3cr3tPw        # ClickHouse password (the real server's, so the good paths log in with it)
KSECRET=Kf7vSaslS3cr3t     # Kafka SASL / key passwords
TOKEN=Tk4wSessi0nT0ken     # S3 session token
FSECRET=Fx2mFileS3cr3t     # secrets read from files
export CH_WRITER_PASSWORD=$SECRET
start_clickhouse
start_s3
S3_SECRET=$AWS_SECRET_ACCESS_KEY  # the S3 server's own secret: must not show either
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_ENDPOINT_URL
aws_ref() { AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET /usr/bin/aws --endpoint-url "$S3_ENDPOINT" "$@"; }
aws_ref s3 mb s3://sec >/dev/null
start_kafka_mock 1 2 sensor_metrics
DEAD=127.0.0.1:$(free_port)  # nothing listens here
CH_HOSTPORT=${CH_URL#http://}
SECRETS=("$SECRET" "$KSECRET" "$TOKEN" "$FSECRET" "$S3_SECRET")

printf '%s\n' "$FSECRET" >pw.txt
sensor-gen -c 50 >msgs.jsonl
sensor-parse <msgs.jsonl >rows.jsonl 2>/dev/null

# A config file with every secret a tool may read, all valid.
write_config() {  # write_config FILE CH_URL S3_ENDPOINT BROKERS
  cat >"$1" <<EOF
[clickhouse]
url = $2
user = writer
password = $SECRET
[s3]
endpoint = $3
access_key_id = $S3_ACCESS_KEY
secret_access_key = $S3_SECRET
[kafka]
brokers = $4
[librdkafka]
sasl.password = $KSECRET
ssl.key.password = $KSECRET
EOF
}
write_config good.ini "$CH_URL" "$S3_ENDPOINT" "$BS"
write_config dead.ini "http://$DEAD" "http://$DEAD" "$DEAD"

n_runs=0
leaks=()
# check NAME CMD...: runs CMD (stdin from $STDIN, default /dev/null) with a time limit, fails the test if
# any secret's value is in what it wrote. The exit code is not checked: error paths are the point.
check() {
  local name=$1; shift
  n_runs=$((n_runs + 1))
  timeout -k 5 60 "$@" <"${STDIN:-/dev/null}" >"out.$n_runs" 2>"err.$n_runs" || true
  for s in "${SECRETS[@]}"; do
    if grep -qF -- "$s" "out.$n_runs" "err.$n_runs"; then
      leaks+=("$name (run $n_runs): '$s' in: $(grep -hF -- "$s" "out.$n_runs" "err.$n_runs" | head -2 | cut -c1-300)")
    fi
  done
}

tools=(sensor-gen sensor-parse ch-insert s3-put s3-cat kafka-cat-sensor)
# every tool with the config file's secrets, once where the servers answer and once where none does
for ini in good.ini dead.ini; do
  STDIN=msgs.jsonl check "sensor-gen $ini" sensor-gen -vv --config $ini -c 3
  STDIN=msgs.jsonl check "sensor-parse $ini" sensor-parse -vv --config $ini
  STDIN=rows.jsonl check "ch-insert $ini" ch-insert -vv --config $ini --retries 1 --create-table --no-acks
  STDIN=msgs.jsonl check "s3-put $ini" s3-put -vv --config $ini --retries 0 s3://sec/a.jsonl
  check "s3-cat $ini" s3-cat -vv --config $ini --retries 0 s3://sec/a.jsonl
  check "s3-cat --list $ini" s3-cat -vv --config $ini --retries 0 --list s3://sec/
  STDIN=msgs.jsonl check "kafka-cat-sensor -P $ini" kafka-cat-sensor -vv --config $ini --connect-timeout 2 -P
  check "kafka-cat-sensor -C $ini" kafka-cat-sensor -vv --config $ini --connect-timeout 2 -e
done
[ "$(s3-cat --config good.ini s3://sec/a.jsonl 2>/dev/null | wc -l)" = 50 ] || fail "the good config did not reach $S3_SERVER"
echo "config file secrets, servers up and down: ${#leaks[@]} leaks so far"

# secrets from the environment and files; URL user:password@ from flags, env and config (with and without scheme)
for url in "$CH_URL" "http://$DEAD"; do
  hp=${url#http://}
  STDIN=rows.jsonl check "CLICKHOUSE_PASSWORD $url" env CLICKHOUSE_USER=writer CLICKHOUSE_PASSWORD=$SECRET \
    ch-insert -vv --url "$url" --retries 1 --no-acks
  STDIN=rows.jsonl check "--password-file $url" ch-insert -vv -u writer --password-file pw.txt --url "$url" --retries 1 --no-acks
  STDIN=rows.jsonl check "CLICKHOUSE_PASSWORD_FILE $url" env CLICKHOUSE_PASSWORD_FILE=pw.txt \
    ch-insert -vv -u writer --url "$url" --retries 1 --no-acks
  for u in "http://writer:$SECRET@$hp" "writer:$SECRET@$hp" "http://writer:$SECRET@$hp/?x=1" "https://writer:$SECRET@$hp" "http://$hp/?user=writer&password=$SECRET"; do
    STDIN=rows.jsonl check "--url $u" ch-insert -vv --url "$u" --retries 1 --no-acks
    STDIN=rows.jsonl check "CLICKHOUSE_URL $u" env CLICKHOUSE_URL="$u" ch-insert -vv --retries 1 --no-acks
    printf '[clickhouse]\nurl = %s\n' "$u" >url.ini
    STDIN=rows.jsonl check "clickhouse.url $u" ch-insert -vv --config url.ini --retries 1 --no-acks
  done
  printf '[clickhouse]\nuser = writer\npassword_file = %s/pw.txt\n' "$TEST_TMP" >pwfile.ini
  STDIN=rows.jsonl check "clickhouse.password_file $url" ch-insert -vv --config pwfile.ini --url "$url" --retries 1 --no-acks
done
echo "ClickHouse password from env, files, URLs: ${#leaks[@]} leaks so far"

for ep in "$S3_ENDPOINT" "http://$DEAD"; do
  hp=${ep#http://}
  s3env=(env AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET)
  STDIN=msgs.jsonl check "s3-put env $ep" "${s3env[@]}" s3-put -vv --endpoint "$ep" --retries 0 s3://sec/b.jsonl
  check "s3-cat env $ep" "${s3env[@]}" s3-cat -vv --endpoint "$ep" --retries 0 s3://sec/b.jsonl
  check "s3-cat env token $ep" "${s3env[@]}" AWS_SESSION_TOKEN=$TOKEN s3-cat -vv --endpoint "$ep" --retries 0 s3://sec/b.jsonl
  STDIN=msgs.jsonl check "s3-put env token $ep" "${s3env[@]}" AWS_SESSION_TOKEN=$TOKEN s3-put -vv --endpoint "$ep" --retries 0 s3://sec/c.jsonl
  printf '[s3]\naccess_key_id = %s\nsecret_access_key_file = %s/pw.txt\nsession_token = %s\n' "$S3_ACCESS_KEY" "$TEST_TMP" "$TOKEN" >s3file.ini
  check "s3.secret_access_key_file $ep" s3-cat -vv --config s3file.ini --endpoint "$ep" --retries 0 s3://sec/b.jsonl
  mkdir -p "$HOME/.aws"
  printf '[p]\naws_access_key_id = %s\naws_secret_access_key = %s\naws_session_token = %s\n' "$S3_ACCESS_KEY" "$S3_SECRET" "$TOKEN" >"$HOME/.aws/credentials"
  check "~/.aws profile $ep" s3-cat -vv --profile p --endpoint "$ep" --retries 0 s3://sec/b.jsonl
  for e in "http://u:$SECRET@$hp" "u:$SECRET@$hp" "u:$SECRET@$hp/base"; do
    check "s3-cat --endpoint $e" "${s3env[@]}" s3-cat -vv --endpoint "$e" --retries 0 s3://sec/b.jsonl
    STDIN=msgs.jsonl check "s3-put --endpoint $e" "${s3env[@]}" s3-put -vv --endpoint "$e" --retries 0 s3://sec/b.jsonl
    check "AWS_ENDPOINT_URL $e" "${s3env[@]}" AWS_ENDPOINT_URL="$e" s3-cat -vv --retries 0 s3://sec/b.jsonl
    printf '[s3]\nendpoint = %s\n' "$e" >ep.ini
    check "s3.endpoint $e" "${s3env[@]}" s3-cat -vv --config ep.ini --retries 0 s3://sec/b.jsonl
  done
done
echo "S3 secret key and session token from env, files, profile; endpoint URLs with user:password@: ${#leaks[@]} leaks so far"

for b in "$BS" "$DEAD"; do
  for x in sasl.password ssl.key.password sasl.pasword ssl.keystore.passwd ssl_key_password sasl.oauthbearer.client.secret; do
    check "-X $x $b" kafka-cat-sensor -vv -b "$b" --connect-timeout 2 -e -X "$x=$KSECRET"
    printf '[librdkafka]\n%s = %s\n' "$x" "$KSECRET" >k.ini
    check "[librdkafka] $x $b" kafka-cat-sensor -vv --config k.ini -b "$b" --connect-timeout 2 -e
    STDIN=msgs.jsonl check "[librdkafka] $x -P $b" kafka-cat-sensor -vv --config k.ini -b "$b" --connect-timeout 2 -P
  done
  check "-X sasl.username=u:pw@ $b" kafka-cat-sensor -vv -b "u:$KSECRET@$b" --connect-timeout 2 -e
done
echo "librdkafka secrets (also misspelt keys, flags and config): ${#leaks[@]} leaks so far"

# config lines without '=': the whole line could be a secret; every tool reads the file
for line in "password: $SECRET" "secret_access_key $S3_SECRET" "sasl.password: $KSECRET" \
  "[clickhouse] password = $SECRET" "url http://writer:$SECRET@$CH_HOSTPORT"; do
  printf '[clickhouse]\nuser = writer\n%s\n' "$line" >bad.ini
  for t in "${tools[@]}"; do
    args=()
    case $t in s3-put | s3-cat) args=(s3://sec/x) ;; esac  # a usage error would come before the config
    check "$t, config line '$line'" "$t" -vv --config bad.ini "${args[@]}"
    check "$t, SENSOR_PIPELINE_CONFIG line '$line'" env SENSOR_PIPELINE_CONFIG=bad.ini "$t" -vv "${args[@]}"
    grep -q "bad.ini:3" "err.$n_runs" || fail "$t did not refuse the config line '$line': $(cat "err.$n_runs")"
  done
done
echo "malformed config lines: ${#leaks[@]} leaks so far"

# issue 28 item 11: a secret in the wrong place: a password pasted into a ..._file key or option (the file is
# then missing: the error named it), or given to a misspelt option (CLI11 listed every stray word)
printf '[clickhouse]\nuser = writer\npassword_file = %s\n' "$SECRET" >pasted.ini
printf '[s3]\naccess_key_id = %s\nsecret_access_key_file = %s\n' "$S3_ACCESS_KEY" "$S3_SECRET" >s3pasted.ini
for url in "$CH_URL" "http://$DEAD"; do
  STDIN=rows.jsonl check "clickhouse.password_file = the password $url" ch-insert -vv --config pasted.ini --url "$url" --retries 1 --no-acks
  grep -q "pasted.ini:3" "err.$n_runs" || fail "the missing password_file is not named by its line: $(cat "err.$n_runs")"
  STDIN=rows.jsonl check "--password-file the password $url" ch-insert -vv --password-file "$SECRET" --url "$url" --retries 1 --no-acks
  STDIN=rows.jsonl check "CLICKHOUSE_PASSWORD_FILE=the password $url" env CLICKHOUSE_PASSWORD_FILE="$SECRET" \
    ch-insert -vv --url "$url" --retries 1 --no-acks
done
check "s3.secret_access_key_file = the secret" s3-cat -vv --config s3pasted.ini --endpoint "$S3_ENDPOINT" --retries 0 s3://sec/b.jsonl
grep -q "s3pasted.ini:3" "err.$n_runs" || fail "the missing secret_access_key_file is not named by its line: $(cat "err.$n_runs")"
for t in "${tools[@]}"; do
  check "$t --pasword SECRET" "$t" -vv --pasword "$SECRET"
  grep -q "did you mean --password" "err.$n_runs" || [ "$t" != ch-insert ] || fail "no 'did you mean': $(cat "err.$n_runs")"
  check "$t --pasword=SECRET" "$t" -vv --pasword="$SECRET"
  check "$t --secret-access-key SECRET" "$t" -vv --secret-access-key "$S3_SECRET" s3://sec/x
done
echo "secrets in the wrong place (file keys, misspelt options): ${#leaks[@]} leaks so far"

if [ ${#leaks[@]} -gt 0 ]; then
  printf '%s\n' "${leaks[@]}" >&2
  fail "${#leaks[@]} of $n_runs runs printed a secret (listed above)"
fi
pass "$n_runs runs, no secret printed"
