# Shared by the pipeline tests (sourced after lib.sh): a real ClickHouse and a real Apache Kafka
# broker (scripts/kafka.sh) in the test's temp dir, stopped when the test ends.
source "$(dirname "${BASH_SOURCE[0]}")/kafka_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/ch_lib.sh"

# start_servers PARTITIONS: sets CH_* (and exports CLICKHOUSE_URL/USER/PASSWORD) and B (bootstrap
# servers of one broker holding the topic sensor_metrics with PARTITIONS partitions).
start_servers() {
  cd "$TEST_TMP"
  start_clickhouse
  export CLICKHOUSE_URL=$CH_URL CLICKHOUSE_USER=$CH_USER CLICKHOUSE_PASSWORD=$CH_PASSWORD
  start_kafka 1 "$1" sensor_metrics
  B=$BS
}

