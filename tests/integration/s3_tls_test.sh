#!/usr/bin/env bash
# s3-put and s3-cat over HTTPS to a real S3 server (MinIO; S3_SERVER=swift: Swift) behind a TLS
# terminator with a self-signed certificate:
# verified by default (refused), --ca-file hands the CA to libcurl (accepted), --insecure skips the
# check, and the former --no-verify-tls still works with a warning. The terminator only forwards
# bytes (Python's ssl module; no socat or stunnel on the machine): every answer is the server's.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/s3_lib.sh"
start_s3
aws_ref s3 mb s3://tls >/dev/null

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TEST_TMP/tls.key" -out "$TEST_TMP/tls.crt" -days 2 \
  -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1 || fail "openssl req"
port=$(free_port)
backend=${S3_ENDPOINT#http://}
python3 - "$port" "${backend%/}" "$TEST_TMP/tls.crt" "$TEST_TMP/tls.key" >"$TEST_TMP/proxy.log" 2>&1 <<'PY' &
import socket, ssl, sys, threading
port, backend, crt, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
host, bport = backend.rsplit(":", 1)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(crt, key)
def pump(a, b):
    try:
        while (d := a.recv(65536)):
            b.sendall(d)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try: s.shutdown(socket.SHUT_RDWR)
            except OSError: pass
def serve(raw):
    try:
        c = ctx.wrap_socket(raw, server_side=True)
    except (ssl.SSLError, OSError):
        raw.close(); return  # a client that refused our certificate
    u = socket.create_connection((host, int(bport)))
    threading.Thread(target=pump, args=(u, c), daemon=True).start()
    pump(c, u)
ls = socket.create_server(("127.0.0.1", port))
print("ready", flush=True)
while True:
    s, _ = ls.accept()
    threading.Thread(target=serve, args=(s,), daemon=True).start()
PY
proxy=$!
on_exit "kill $proxy"
wait_until 10 grep -q ready "$TEST_TMP/proxy.log" || fail "TLS terminator did not start: $(cat "$TEST_TMP/proxy.log")"
https=https://127.0.0.1:$port
cd "$TEST_TMP" || exit 1

rc=0; echo one | s3-put --endpoint "$https" --retries 0 s3://tls/a.txt 2>err.txt || rc=$?
[ "$rc" -ne 0 ] || fail "an untrusted certificate was accepted"
grep -qiE "certificate|SSL" err.txt || fail "no word of the certificate: $(cat err.txt)"
pass "verified by default: the self-signed certificate is refused (exit $rc)"

echo one | s3-put --endpoint "$https" --ca-file "$TEST_TMP/tls.crt" s3://tls/a.txt 2>err.txt || fail "--ca-file put: $(cat err.txt)"
assert_eq "$(s3-cat --endpoint "$https" --ca-file "$TEST_TMP/tls.crt" s3://tls/a.txt 2>err.txt)" "one" "--ca-file cat"
assert_eq "$(aws_ref s3 cp s3://tls/a.txt - 2>/dev/null)" "one" "the object is in Swift"
assert_eq "$(AWS_CA_BUNDLE=$TEST_TMP/tls.crt s3-cat --endpoint "$https" s3://tls/a.txt 2>err.txt)" "one" "AWS_CA_BUNDLE"
pass "--ca-file (and AWS_CA_BUNDLE) reach libcurl: put and cat over HTTPS"

echo two | s3-put --endpoint-url "$https" --insecure s3://tls/b.txt 2>err.txt || fail "--insecure put: $(cat err.txt)"
assert_eq "$(s3-cat --endpoint "$https" --no-verify-tls s3://tls/b.txt 2>err.txt)" "two" "--no-verify-tls cat"
assert_contains "$(cat err.txt)" "--no-verify-tls is deprecated; use --insecure"
pass "--insecure, and the former --no-verify-tls with a warning"
