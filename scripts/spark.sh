#!/usr/bin/env bash
# The seed's Spark job (scripts/bench/seed_spark/), the baseline `make bench` compares the pipeline with.
# PySpark from PyPI into a virtualenv and Spark's Kafka source with what it needs at run time from Maven
# Central (scripts/spark/pom.xml), both once per machine into a cache outside the work tree; after that
# nothing is downloaded. Too heavy for `make test` and CI (a 450 MB download): only `make bench` uses it,
# and a bench section without it is skipped.
#
#   scripts/spark.sh install      # fill the cache (pip + mvn: a 450 MB download, 520 MB on disk, 1-3 min)
#   scripts/spark.sh check        # exit 0 when the cache is complete, else 3 with the reason on stderr
#   scripts/spark.sh env          # SPARK_PYTHON= SPARK_KAFKA_JARS= SPARK_VERSION= lines, for eval
#   scripts/spark.sh run ARGS...  # the seed's job (scripts/bench/seed_spark/streaming_example.py ARGS...)
#
# SPARK_VERSION (default: the pom's, 4.2.0: pyspark and the connector are pinned together) can be set.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
pom=$here/spark/pom.xml
version=${SPARK_VERSION:-$(sed -n 's:.*<spark.version>\(.*\)</spark.version>.*:\1:p' "$pom")}
cache=${SENSOR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sensor-pipeline}/spark-$version
venv=$cache/venv

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 2; }
die() { echo "spark.sh: $*" >&2; exit 69; }
[ $# -ge 1 ] || usage
cmd=$1; shift

# pyspark's own jars: the connector's run-time dependencies that Spark already ships (Scala, Hadoop's
# client, slf4j, snappy, lz4) are left out, so that one copy of each, Spark's, is on the class path.
pyspark_jars() {
  "$venv/bin/python" -c 'import os, pyspark; print(os.path.join(os.path.dirname(pyspark.__file__), "jars"))'
}

install() {
  [ -f "$cache/complete" ] && return 0
  mkdir -p "$(dirname "$cache")"
  exec 9>"$cache.lock"
  flock 9
  [ -f "$cache/complete" ] && { exec 9>&-; return 0; }
  command -v java >/dev/null || die "java is not installed (scripts/install-deps.sh installs it)"
  command -v mvn >/dev/null || die "mvn is not installed (scripts/install-deps.sh installs it)"
  command -v python3 >/dev/null || die "python3 is not installed"
  rm -rf "$cache"
  mkdir -p "$cache"
  local t0=$SECONDS
  echo "spark.sh: installing pyspark $version and its Kafka source into $cache (once)" >&2
  python3 -m venv "$venv" >"$cache/install.log" 2>&1 ||
    { tail -5 "$cache/install.log" >&2; die "python3 -m venv failed"; }
  if ! "$venv/bin/pip" install -q "pyspark==$version" >>"$cache/install.log" 2>&1; then
    tail -20 "$cache/install.log" >&2
    die "could not install pyspark==$version from PyPI (log: $cache/install.log)"
  fi
  if ! mvn -q -B -f "$pom" -Dspark.version="$version" dependency:copy-dependencies -DincludeScope=runtime \
        -DoutputDirectory="$cache/maven" >>"$cache/install.log" 2>&1; then
    tail -20 "$cache/install.log" >&2
    die "could not fetch spark-sql-kafka-0-10_2.13:$version from Maven Central (log: $cache/install.log)"
  fi
  local spark_jars jar name
  spark_jars=$(pyspark_jars)
  mkdir -p "$cache/jars"
  for jar in "$cache"/maven/*.jar; do
    name=$(basename "$jar" | sed -E 's/-[0-9][^-]*(-[A-Za-z0-9.]+)?\.jar$//')
    compgen -G "$spark_jars/$name-[0-9]*.jar" >/dev/null || cp "$jar" "$cache/jars/"
  done
  [ -n "$(compgen -G "$cache/jars/spark-sql-kafka-0-10_2.13-$version.jar")" ] ||
    die "the connector jar is missing from $cache/maven"
  rm -rf "$cache/maven"
  touch "$cache/complete"
  exec 9>&-
  echo "spark.sh: installed pyspark $version and the connector in $((SECONDS - t0)) s" \
    "($(du -sh "$cache" | cut -f1))" >&2
}

check() {
  [ -f "$cache/complete" ] && return 0
  echo "spark.sh: pyspark $version is not installed in $cache (scripts/spark.sh install: once, a 450 MB download)" >&2
  exit 3
}

print_env() {
  local jars
  jars=$(printf '%s,' "$cache"/jars/*.jar); jars=${jars%,}
  echo "SPARK_PYTHON=$venv/bin/python"
  echo "SPARK_KAFKA_JARS=$jars"
  echo "SPARK_VERSION=$version"
}

case "$cmd" in
  install) install ;;
  check) check ;;
  env) check; print_env ;;
  run)
    check
    eval "$(print_env)"
    export SPARK_KAFKA_JARS
    # the job's driver and executors run in this python (no other one on PATH is asked)
    PYSPARK_PYTHON=$SPARK_PYTHON PYSPARK_DRIVER_PYTHON=$SPARK_PYTHON \
      exec "$SPARK_PYTHON" "$here/bench/seed_spark/streaming_example.py" "$@" ;;
  *) usage ;;
esac
