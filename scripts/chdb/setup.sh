# Sourced by the chDB checks (scripts/ch-*-chdb.sh) once SRC_DIR is set, with a name for the work
# dir: the tools of BIN_DIR (default build/bin) first on PATH, chDB fetched (fetch.sh: CHDB_LIB), and
# a fresh work dir $w, removed on exit, as the current directory.
BIN_DIR=${BIN_DIR:-$SRC_DIR/build/bin}
export PATH="$BIN_DIR:$PATH" LC_ALL=C.UTF-8
source "$SRC_DIR/scripts/chdb/fetch.sh"
w=$(mktemp -d "/tmp/sp-$1.XXXXXX")
trap 'rm -rf "$w"' EXIT
cd "$w"
