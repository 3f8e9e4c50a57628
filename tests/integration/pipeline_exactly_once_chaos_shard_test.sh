#!/usr/bin/env bash
# ctest-label: slow
# The exactly-once chaos test of the README's streaming pipeline (issue 26) on the replicated 2x2
# cluster, shard-direct (ch-insert --cluster --balance --shard r1,r2 --shard r1,r2):
# every stage SIGKILLed in turn, a replica and then the first server SIGKILLed and restarted, a
# rebalance; then count() without FINAL and the rollups exact, and backfill reruns add nothing. The
# scenario, its checks and the figures seen without the mode: pipeline_exactly_once_chaos_test.sh
# (EOC_MODE=shard; EOC_FLAG, EOC_MESSAGES, EOC_SEED apply).
EOC_MODE=shard
source "$(dirname "$0")/pipeline_exactly_once_chaos_test.sh"
