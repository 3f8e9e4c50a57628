# Sourced by scripts/chdb/setup.sh (the chDB checks) and scripts/bench/ch_storage.sh: ClickHouse 26.7
# as a library (npm package @chdb/lib-linux-x64-gnu, ~180 MB), fetched once into the cache like
# Kafka's jars. A stamp marks a complete copy; a lock makes parallel tests wait for one fetch.
# Sets CHDB_LIB (the libchdb.so to dlopen).
CHDB_VERSION=${CHDB_VERSION:-26.7.3-stable.1}
CHDB_DIR=${CHDB_DIR:-${SENSOR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sensor-pipeline}/chdb-$CHDB_VERSION}
if [ ! -f "$CHDB_DIR/complete" ]; then
  command -v npm >/dev/null || { echo "chdb: npm is not installed (scripts/install-deps.sh installs it)" >&2; exit 1; }
  mkdir -p "$CHDB_DIR"
  exec 9>"$CHDB_DIR.lock"
  flock 9
  if [ ! -f "$CHDB_DIR/complete" ]; then
    rm -rf "$CHDB_DIR/package"
    (cd "$CHDB_DIR" && npm pack --silent "@chdb/lib-linux-x64-gnu@$CHDB_VERSION" >/dev/null &&
      tar xzf chdb-lib-linux-x64-gnu-*.tgz && rm -f chdb-lib-linux-x64-gnu-*.tgz) ||
      { echo "chdb: npm pack @chdb/lib-linux-x64-gnu@$CHDB_VERSION failed" >&2; exit 1; }
    touch "$CHDB_DIR/complete"
  fi
  exec 9>&-
fi
export CHDB_LIB=$CHDB_DIR/package/libchdb.so
