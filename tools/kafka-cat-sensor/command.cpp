// kafka-cat-sensor's command: the flags as typed -> Options -> the mode asked for.
#include <unistd.h>

#include "common/core/errors.hpp"
#include "common/kafka/kafka.hpp"
#include "kcs.hpp"
#include "format.hpp"
#include "offsets.hpp"

namespace sp::kcs {

int run_command(const Flags& f, Options& o) {
  if (f.consume && o.produce) throw UsageError("-C and -P exclude each other");
  o.topics = f.topics;
  o.topics.insert(o.topics.end(), f.positional.begin(), f.positional.end());
  for (const auto& p : f.partitions) parse_partitions(p, o.partitions);
  if (int(o.list) + int(o.lag) + int(o.query) > 1) throw UsageError("-L, --lag and -Q exclude each other");
  bool meta = o.list || o.lag || o.query;
  if (meta && (o.produce || o.mock_brokers > 0)) throw UsageError("-L, --lag and -Q exclude -P and --mock-cluster");
  if (o.topics.empty() && !meta) o.topics.push_back("sensor_metrics");  // -L, --lag: all topics
  for (const auto& x : o.x_props) kafka::split_property(x);
  if (!o.format.empty()) {
    if (o.produce || meta || o.mock_brokers > 0) throw UsageError("-f formats consumed messages: it excludes -P, -L, --lag, -Q and --mock-cluster");
    if (o.envelope) throw UsageError("-f and -J exclude each other (kcat's %t %p %o %T %k %h give the envelope's fields)");
    if (!o.commit_acks.empty()) throw UsageError("--commit-acks needs --envelope, not -f: ch-insert acknowledges the coordinates the envelope carries");
    parse_format(o.format);  // refused before connecting
  }
  o.connect_timeout_ms = static_cast<int>(f.connect_timeout * 1000);
  o.ack_timeout_ms = static_cast<int>(f.ack_timeout * 1000);
  o.revoke_wait_ms = static_cast<int>(f.revoke_wait * 1000);
  o.commit_interval_ms = static_cast<int>(f.commit_interval * 1000);
  o.stats_interval_s = static_cast<int>(f.stats_interval);
  if (o.mock_brokers > 0) return run_mock(o, STDOUT_FILENO);
  o.brokers = kafka::resolve_brokers(f.brokers, o.x_props);
  if (o.list) return run_list(o, STDOUT_FILENO);
  if (o.lag) return run_lag(o, STDOUT_FILENO);
  if (o.query) return run_query(o, STDOUT_FILENO);
  if (o.produce) return run_producer(o, STDIN_FILENO);
  return run_consumer(o, STDOUT_FILENO);
}

}  // namespace sp::kcs
