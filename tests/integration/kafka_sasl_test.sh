#!/usr/bin/env bash
# SASL_SSL with SCRAM-SHA-512 against real Apache Kafka brokers (scripts/kafka.sh: a throwaway CA, a
# SCRAM user made at format time). The right credentials produce and consume with the certificate
# verified against the CA; a wrong password ends with exit 77 and a one-line reason within
# --connect-timeout; a CA that did not sign the broker's certificate is a clear TLS error; the password
# appears in no output, even at -vv.
# Kafka 3.9.1 for the login: Debian 12's librdkafka 2.0.2 cannot log in with SCRAM to Kafka 4.x
# (librdkafka #4895, fixed in 2.6.1); against 4.x the tool must say so (checked at the end).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka_lib.sh"
cd "$TEST_TMP"
KAFKA_VERSION=3.9.1 start_kafka 1 2 sec

sasl_config() { # PASSWORD CA_FILE
  cat <<EOF
[librdkafka]
security.protocol = SASL_SSL
sasl.mechanisms = SCRAM-SHA-512
sasl.username = $KAFKA_SASL_USER
sasl.password = $1
ssl.ca.location = $2
EOF
}
sasl_config "$KAFKA_SASL_PASSWORD" "$KAFKA_CA_FILE" >good.ini
WRONG=wrong-$KAFKA_SASL_PASSWORD
sasl_config "$WRONG" "$KAFKA_CA_FILE" >bad.ini

# --- the right credentials: produce and consume over SASL_SSL, -vv
sensor-gen -c 500 --seed 9 >in.jsonl
kafka-cat-sensor --config good.ini -b "$KAFKA_SASL_BOOTSTRAP" -P -t sec -vv <in.jsonl 2>produce.err ||
  fail "produce over SASL_SSL exited $?: $(tail -3 produce.err)"
kafka-cat-sensor --config good.ini -b "$KAFKA_SASL_BOOTSTRAP" -t sec -e -vv >out.jsonl 2>consume.err ||
  fail "consume over SASL_SSL exited $?: $(tail -3 consume.err)"
assert_eq "$(sort out.jsonl | md5sum)" "$(sort in.jsonl | md5sum)" "what was produced over SASL_SSL is read back"
# -X on the command line works the same (the value is registered as a secret there too)
kafka-cat-sensor -b "$KAFKA_SASL_BOOTSTRAP" -t sec -e -c 5 -vv -X security.protocol=SASL_SSL \
  -X sasl.mechanisms=SCRAM-SHA-512 -X sasl.username="$KAFKA_SASL_USER" -X sasl.password="$KAFKA_SASL_PASSWORD" \
  -X ssl.ca.location="$KAFKA_CA_FILE" >x.out 2>x.err || fail "-X SASL properties exited $?: $(tail -3 x.err)"
assert_eq "$(count_lines x.out)" 5 "-X SASL properties"
pass "SCRAM-SHA-512 over TLS verified against the test CA"

# --- a wrong password: exit 77, one line, within --connect-timeout
for mode in consume produce; do
  args=(-t sec -e); [ $mode = produce ] && args=(-P -t sec)
  t0=$SECONDS
  set +e
  head -3 in.jsonl | kafka-cat-sensor --config bad.ini -b "$KAFKA_SASL_BOOTSTRAP" "${args[@]}" --connect-timeout 5 -q \
    >/dev/null 2>"wrong-$mode.err"
  rc=$?
  set -e
  assert_eq "$rc" 77 "$mode with a wrong password: exit status"
  [ $((SECONDS - t0)) -le 8 ] || fail "$mode with a wrong password took $((SECONDS - t0)) s (--connect-timeout 5)"
  assert_eq "$(count_lines "wrong-$mode.err")" 1 "$mode: one line at -q: $(cat "wrong-$mode.err")"
  assert_contains "$(cat "wrong-$mode.err")" "authentication" "$mode: the reason"
  # at -vv too, the wrong password itself is never shown
  head -3 in.jsonl | kafka-cat-sensor --config bad.ini -b "$KAFKA_SASL_BOOTSTRAP" "${args[@]}" --connect-timeout 3 -vv \
    >/dev/null 2>>"wrong-$mode.err" || true
done
pass "a wrong password: exit 77 with the reason, in time"

# --- a CA that did not sign the broker's certificate
openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.crt -days 1 -subj "/CN=other" >/dev/null 2>&1
sasl_config "$KAFKA_SASL_PASSWORD" "$TEST_TMP/other.crt" >otherca.ini
set +e
kafka-cat-sensor --config otherca.ini -b "$KAFKA_SASL_BOOTSTRAP" -t sec -e --connect-timeout 4 -q 2>tls.err
rc=$?
set -e
assert_eq "$rc" 69 "untrusted broker certificate: exit status"
assert_contains "$(cat tls.err)" "TLS failed" "untrusted broker certificate: the reason"
pass "an untrusted certificate is a TLS error"

# --- no password in any output
for f in produce.err consume.err x.err wrong-consume.err wrong-produce.err tls.err; do
  if grep -qF -e "$KAFKA_SASL_PASSWORD" "$f"; then fail "the password appears in $f"; fi
done
pass "no password in any output (-q to -vv)"

# --- Apache Kafka 4.x: SCRAM from librdkafka < 2.6.1 is refused by the broker; the tool says why
"$SRC_DIR/scripts/kafka.sh" stop "$TEST_TMP/kafka"
rm -rf "$TEST_TMP/kafka"
start_kafka 1 1 sec4
sasl_config "$KAFKA_SASL_PASSWORD" "$KAFKA_CA_FILE" >good4.ini
set +e
kafka-cat-sensor --config good4.ini -b "$KAFKA_SASL_BOOTSTRAP" -t sec4 -e --connect-timeout 5 -q 2>k4.err
rc=$?
set -e
if [ "$rc" = 0 ]; then
  pass "Kafka $KAFKA_VERSION: SCRAM login works (librdkafka >= 2.6.1)"
else
  assert_eq "$rc" 77 "Kafka $KAFKA_VERSION with librdkafka < 2.6.1: exit status"
  assert_contains "$(cat k4.err)" "cannot log in with SCRAM to Apache Kafka 4.x" "Kafka $KAFKA_VERSION: the known cause named"
  pass "Kafka $KAFKA_VERSION: the SCRAM refusal of librdkafka < 2.6.1 is reported with its cause"
fi
