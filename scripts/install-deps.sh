#!/usr/bin/env bash
# Installs every Debian 12 package the project needs (build, tests, demo, benchmarks). Idempotent:
# when everything is present it only checks and returns.
set -euo pipefail
PACKAGES=(
  # build
  cmake g++ make pkg-config scdoc
  libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libcli11-dev libgtest-dev librdkafka-dev
  libsimdjson-dev zlib1g-dev libdeflate-dev libzstd-dev libpugixml-dev
  # shells whose completions the build generates and the tests drive
  bash-completion zsh fish
  # the Debian package: dpkg-shlibdeps computes its Depends, lintian checks it
  dpkg-dev lintian
  # systemd-analyze verify (the unit's test) and systemd-sysusers (the package's postinst, its test);
  # nothing is started: the tests run the unit's commands themselves
  systemd
  # fuzzing (libFuzzer comes with clang's runtime); make lint (.clang-tidy)
  clang libclang-rt-14-dev clang-tidy
  # real servers for tests and the demo
  clickhouse-server clickhouse-client
  swift swift-proxy swift-account swift-container swift-object python3-swift
  # a ClickHouse cluster's coordinator; Java 17 and Maven run it and fetch Apache Kafka's broker
  # from Maven Central (scripts/kafka.sh)
  zookeeper openjdk-17-jre-headless maven
  # reference and peer tools (tests, benchmarks)
  kcat jq awscli rclone curl python3 python3-venv procps psmisc time
  # examples/logrotate run as written (tests/integration/logrotate_rejects_test.sh)
  logrotate
  # throwaway CAs (scripts/kafka.sh, clickhouse.sh) and the zstd CLI the S3 tests compare with
  openssl zstd
  # Prometheus server and promtool: metric lint, rule unit tests, the scrape test (tests/integration)
  prometheus
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm fetches chDB (ClickHouse 26 as a library, scripts/ch-compat-chdb.sh); the machine's own Node.js
# is kept when there is one (Debian's npm package would conflict with it)
command -v npm >/dev/null || missing+=(nodejs npm)
# Servers built from source, once per machine into a cache outside the tree (offline afterwards):
# MinIO from its Go module (about 7 minutes on 2 cores the first time); Apache Airflow's venv from PyPI.
build_cached() {
  bash "$(dirname "$0")/minio.sh" build
  bash "$(dirname "$0")/airflow.sh" install
}
if [ ${#missing[@]} -eq 0 ]; then
  build_cached
  exit 0
fi
echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to apt-get install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# services must not start at install time (no init system here; our scripts start them)
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
build_cached
