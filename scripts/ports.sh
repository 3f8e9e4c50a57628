# Sourced by the server scripts (clickhouse.sh, kafka.sh, swift.sh): free TCP ports on 127.0.0.1.
# free_ports N prints N DISTINCT ports: every socket stays bound until all are chosen. Choosing one
# at a time lets the kernel hand the same port out twice (seen in CI: a Swift whose account and
# container servers both got 41969; eventlet binds with SO_REUSEPORT, so both started and split the
# requests between them, and CreateBucket failed with a 404).
free_ports() {
  python3 -c 'import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}
free_port() { free_ports 1; }
