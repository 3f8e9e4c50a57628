#!/usr/bin/env bash
# Apache Airflow (the seed's orchestrator), for running examples/airflow/'s DAGs with the real Airflow:
# a venv built once per machine into the cache, an AIRFLOW_HOME in a temp dir on SQLite.
#
#   scripts/airflow.sh install                  # build the venv once (install-deps, CI); adopts a working
#                                               # venv already there (made by hand) instead of rebuilding
#   scripts/airflow.sh path                     # prints the venv's directory (exit 69 when not installed)
#   eval "$(scripts/airflow.sh home DIR [DAGS])"  # a fresh AIRFLOW_HOME in DIR on SQLite (`airflow db migrate`),
#                                               # DAGS (default examples/airflow) checked for import errors;
#                                               # prints `export AIRFLOW_HOME=DIR`
#   scripts/airflow.sh test DAG_ID LOGICAL_DATE # `airflow dags test`: one run of every task, in-process;
#                                               # exits non-zero when the run failed. In $AIRFLOW_HOME (from
#                                               # `home`), or in a temp home made and removed for this run
#   scripts/airflow.sh airflow ARGS...          # any airflow command in $AIRFLOW_HOME (e.g. tasks test)
#
# The DAG files are parsed first (`airflow dags list-import-errors --local`): a DAG that does not import
# stops here with its traceback (exit 78) instead of `dags test` answering "Dag not found".
# Variables and connections come from the environment as Airflow reads them (AIRFLOW_VAR_NAME,
# AIRFLOW_CONN_ID), or from `airflow.sh airflow variables set` / `connections import` in a home. A task's
# retries wait AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY seconds: 5 here unless set (Airflow's default, 300,
# would keep `dags test` of a failing task waiting 5 minutes per retry). The venv: Python 3 with venv (Debian: python3-venv), apache-airflow and the amazon
# provider from PyPI with pip, pinned by scripts/airflow/constraints.txt (about 400 MB; a few minutes the
# first time, then offline). AIRFLOW_VERSION and SENSOR_CACHE_DIR can be set.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
version=${AIRFLOW_VERSION:-3.3.2}
venv=${SENSOR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sensor-pipeline}/airflow-$version
constraints=$here/airflow/constraints.txt
dags_default=$(cd "$here/.." && pwd)/examples/airflow

die() { echo "airflow.sh: $1" >&2; exit "${2:-69}"; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 2; }

works() { # the venv runs this Airflow and imports the providers the DAGs use
  "$venv/bin/python" - "$version" >/dev/null 2>&1 <<'PY'
import sys
from importlib.metadata import version
assert version("apache-airflow") == sys.argv[1]
import airflow.providers.standard.operators.bash, airflow.providers.standard.sensors.bash  # noqa: F401
import airflow.providers.amazon  # noqa: F401
PY
}

# One venv per machine; tests that start in parallel wait for it. A stamp marks a complete venv.
install() {
  [ -f "$venv/complete" ] && return 0
  mkdir -p "$(dirname "$venv")"
  exec 9>"$venv.lock"
  flock 9
  [ -f "$venv/complete" ] && { exec 9>&-; return 0; }
  if [ -x "$venv/bin/python" ] && works; then
    echo "airflow.sh: adopting the working Airflow $version venv in $venv" >&2
    touch "$venv/complete"
    exec 9>&-
    return 0
  fi
  local python=${AIRFLOW_PYTHON:-python3}
  command -v "$python" >/dev/null || die "$python is not installed (Airflow $version needs Python 3.10 to 3.13)"
  echo "airflow.sh: installing Apache Airflow $version into $venv (once per machine; a few minutes)" >&2
  local t0=$SECONDS log=$venv.install.log
  rm -rf "$venv"
  if ! "$python" -m venv "$venv" >"$log" 2>&1; then
    tail -5 "$log" >&2
    die "'$python -m venv' failed (Debian: apt-get install python3-venv; log: $log)"
  fi
  if ! "$venv/bin/pip" install --no-input -c "$constraints" "apache-airflow==$version" \
      apache-airflow-providers-amazon >>"$log" 2>&1; then
    tail -20 "$log" >&2
    die "pip could not install apache-airflow==$version (log: $log)"
  fi
  works || die "the new venv $venv does not import Airflow $version and its providers (log: $log)"
  touch "$venv/complete"
  exec 9>&-
  echo "airflow.sh: installed Airflow $version in $((SECONDS - t0)) s" >&2
}

need_venv() {
  [ -f "$venv/complete" ] && return 0
  die "no Airflow venv in $venv: run scripts/airflow.sh install (scripts/install-deps.sh does)"
}

# The settings of a home made by `home`, read by every later command in it.
settings() {
  # shellcheck disable=SC1091
  [ -f "$AIRFLOW_HOME/airflow.env" ] && . "$AIRFLOW_HOME/airflow.env"
  export AIRFLOW_HOME AIRFLOW__CORE__LOAD_EXAMPLES=False
  export AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY=${AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY:-5}
  # the CLI warns on every call that it cannot draw graphs
  export PYTHONWARNINGS=${PYTHONWARNINGS:-ignore:Could not import graphviz}
  export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ beside the DAG files (examples/ is installed as is)
}

af() { "$venv/bin/airflow" "$@"; }

make_home() { # DIR DAGS
  local dir=$1 dags=$2
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  dags=$(cd "$dags" && pwd)
  printf 'export AIRFLOW__CORE__DAGS_FOLDER=%q AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=%q\n' \
    "$dags" "sqlite:///$dir/airflow.db" >"$dir/airflow.env"
  AIRFLOW_HOME=$dir
  settings
  af db migrate >"$dir/migrate.log" 2>&1 || { tail -20 "$dir/migrate.log" >&2; die "airflow db migrate failed (log: $dir/migrate.log)" 70; }
  check_imports
}

check_imports() {
  local out rc=0
  out=$(af dags list-import-errors --local -o plain 2>&1) || rc=$?
  [ $rc -eq 0 ] && grep -qx 'No data found' <<<"$out" && return 0
  echo "$out" >&2
  # it exits 1 when it lists errors
  grep -q '^filepath' <<<"$out" && die "DAG files in $AIRFLOW__CORE__DAGS_FOLDER do not import (above)" 78
  die "airflow dags list-import-errors failed (exit $rc)" 70
}

[ $# -ge 1 ] || usage
cmd=$1; shift
case "$cmd" in
  install) install ;;
  path) need_venv; echo "$venv" ;;
  home)
    [ $# -ge 1 ] || usage
    need_venv
    make_home "$1" "${2:-$dags_default}" >&2
    echo "export AIRFLOW_HOME=$AIRFLOW_HOME"
    ;;
  test)
    [ $# -eq 2 ] || usage
    need_venv
    if [ -z "${AIRFLOW_HOME:-}" ]; then
      tmp_home=$(mktemp -d /tmp/sp-airflow.XXXXXX)
      trap 'rm -rf "$tmp_home"' EXIT
      make_home "$tmp_home" "$dags_default"
    else
      settings
      check_imports
    fi
    af dags test "$1" "$2"
    ;;
  airflow)
    need_venv
    [ -n "${AIRFLOW_HOME:-}" ] || die "AIRFLOW_HOME is not set (eval \"\$(scripts/airflow.sh home DIR)\")" 2
    settings
    af "$@"
    ;;
  *) usage ;;
esac
