# Sourced by the chDB checks (scripts/ch-*-chdb.sh) once SRC_DIR is set, with a name for the work
# dir: the tools of BIN_DIR (default build/bin) first on PATH, chDB fetched (fetch.sh: CHDB_LIB), and
# a fresh work dir $w, removed on exit, as the current directory.
BIN_DIR=${BIN_DIR:-$SRC_DIR/build/bin}
export PATH="$BIN_DIR:$PATH" LC_ALL=C.UTF-8
source "$SRC_DIR/scripts/chdb/fetch.sh"
w=$(mktemp -d "/tmp/sp-$1.XXXXXX")
trap 'rm -rf "$w"' EXIT
cd "$w"

# cluster_config FILE: a config under which ch-insert's --cluster DDL runs without ON CLUSTER (chDB has
# no distributed DDL): the macros {shard}/{replica}, an in-memory keeper and a one-server cluster
# "sensors" (the scripts' --cluster name).
cluster_config() {
  cat >"$1" <<'XML'
<clickhouse>
  <macros><shard>01</shard><replica>r1</replica></macros>
  <zookeeper><implementation>testkeeper</implementation></zookeeper>
  <remote_servers><sensors><shard><replica><host>127.0.0.1</host><port>9000</port></replica></shard></sensors></remote_servers>
</clickhouse>
XML
}
