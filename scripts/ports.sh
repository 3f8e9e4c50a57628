# Sourced by the server scripts (clickhouse.sh, kafka.sh, minio.sh, swift.sh) and the tests: free TCP
# ports on 127.0.0.1 for servers to listen on.
# - free_ports N prints N DISTINCT ports: every socket stays bound until all are chosen. Choosing one
#   at a time lets the kernel hand the same port out twice (seen in CI: a Swift whose account and
#   container servers both got 41969; eventlet binds with SO_REUSEPORT, so both started and split the
#   requests between them, and CreateBucket failed with a 404).
# - The ports come from BELOW the kernel's ephemeral range (ip_local_port_range), never from it: a
#   server binds seconds after its port is chosen (Kafka formats its storage with a JVM first), and in
#   between the kernel may give an ephemeral port to any client's outgoing connection, which then holds
#   it (seen in CI: a broker failed with "Address already in use" on the port it was given, under the
#   parallel ASan pass). Ports are drawn at random, so two tests choosing at once rarely meet, and each
#   is checked by binding it.
free_ports() {
  python3 - "$1" <<'PY'
import random, socket, sys
n = int(sys.argv[1])
try:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    low = 32768
socks = []
if low > 12000:
    for port in random.sample(range(10000, low), min(low - 10000, 4000)):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            s.close()
            continue
        socks.append(s)
        if len(socks) == n:
            break
while len(socks) < n:  # no room below the ephemeral range: the kernel's choice
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}
free_port() { free_ports 1; }
