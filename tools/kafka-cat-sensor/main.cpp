// kafka-cat-sensor: consume (default) or produce (-P) Kafka topics, or run a mock cluster.
#include "common/core/cli.hpp"
#include "common/s3/s3.hpp"
#include "kcs.hpp"

int main(int argc, char** argv) {
  sp::kcs::Options o;
  sp::kcs::Flags f;
  return sp::tool_main(
      "kafka-cat-sensor", "Consume Kafka sensor topics to stdout (raw or envelope JSON lines), or produce stdin lines (-P)",
      {sp::Exit::data, sp::Exit::noinput, sp::Exit::unavailable, sp::Exit::tempfail, sp::Exit::noperm, sp::Exit::interrupted},
      argc, argv,
      [&](CLI::App& app) {
        app.add_option("-b,--brokers", f.brokers, "Bootstrap brokers host:port,... (default $KAFKA_BROKERS, config kafka.brokers, -X bootstrap.servers; required)");
        app.add_option("-t,--topic", f.topics, "Topic; repeat to consume several (default sensor_metrics)");
        app.add_option("topics", f.positional, "More topics (as with kcat -G GROUP TOPIC...)");
        app.add_option("-G,--group", o.group, "Consumer group: the group assigns partitions and offsets are committed");
        app.add_option("-p,--partition", f.partitions, "Only these partitions (3, 0,1,5 or 0-7; repeatable)");
        app.add_option("-o,--offset", o.offset,
                       "Start: beginning, end, stored, N, -N (N before the end), @TIME (ISO-8601) (default beginning; stored with -G)");
        app.add_option("--until", o.until, "Stop each partition at its first message after TIME (ISO-8601)");
        app.add_flag("-e,--exit", o.exit_at_end, "Exit when all assigned partitions are at their end (also with -G)");
        // not CLI::NonNegativeNumber, whose message prints DBL_MAX in full
        app.add_option("-c,--count", o.count, "Exit after N messages")->check(sp::cli::NonNegative("a count of messages (a whole number, 0 or more)"));
        app.add_option("-X,--property", o.x_props, "librdkafka property NAME=VALUE (TLS, SASL, tuning); repeatable");
        app.add_flag("-J,--envelope", o.envelope, "JSON lines with topic, partition, offset, timestamp, key, headers and value");
        app.add_option("-f,--format", o.format,
                       "Output each message as kcat -f does: %s value, %k key, %t topic, %p partition, %o offset, %T timestamp (ms), "
                       "%h headers, %S/%K value/key length, %R value length as 4 bytes, %%; \\n \\t \\r \\xHH (no newline is added)");
        app.add_option("--commit-acks", o.commit_acks, "Commit only offsets acknowledged in FILE (a FIFO fed by ch-insert or s3-put --acks); repeatable: commit what every FILE acknowledged");
        // durations: seconds, or with a unit (500ms, 2m); --commit-interval's bare number stays milliseconds
        // (what it always was), with a warning
        sp::cli::add_duration(app, "--commit-interval", f.commit_interval, "Time between commits (500ms, 2s; a bare number is milliseconds, deprecated)", 0.01, 3600.0,
                              0.001, "--commit-interval: a bare number is read as milliseconds (deprecated); write it with a unit, like 500ms or 2s");
        sp::cli::add_duration(app, "--ack-timeout", f.ack_timeout, "How long to wait for the last acknowledgements at exit (seconds, or 500ms, 2m)", 0.0, 86400.0);
        sp::cli::add_duration(app, "--revoke-wait", f.revoke_wait, "How long to wait for acknowledgements before giving up partitions in a rebalance (seconds, or 500ms, 2m)", 0.0, 600.0);
        sp::cli::add_duration(app, "--connect-timeout", f.connect_timeout, "How long to wait for the brokers at start (seconds, or 500ms, 2m)", 0.1, 3600.0);
        sp::cli::add_duration(app, "--stats-interval", f.stats_interval, "Time between stats lines with -v (seconds, or 2m)", 1.0, 86400.0);
        app.add_flag("-C,--consume", f.consume, "Consume mode (the default)");
        app.add_flag("-P,--produce", o.produce, "Produce stdin lines to the topic (-t)");
        app.add_option("-k,--key", o.key, "Produce: the same key for every message");
        app.add_option("-K,--key-delimiter", o.key_delim, "Produce: lines are KEY<DELIM>VALUE");
        app.add_option("--key-field", o.key_field, "Produce: key from this JSON field (dotted path, e.g. value.sensor_id)");
        app.add_option("--timestamp-field", o.timestamp_field,
                       "Produce: the record's timestamp from this JSON field (ISO-8601 or epoch ms, e.g. timestamp)");
        app.add_flag("--allow-expired", o.allow_expired,
                     "Produce: with --timestamp-field, send times older than the topic's retention.ms (deleted within minutes)");
        app.add_flag("-L,--list", o.list, "List brokers, topics and partitions with leader, replicas and ISR (kcat -L; -t: those topics; -J: JSON)");
        app.add_flag("--lag", o.lag,
                     "Show group -G's committed offset, log end offset and lag per partition without joining it (-t, -p: those only; -J: JSON lines)");
        app.add_flag("-Q,--query", o.query, "Offsets for times: the first offset at or after TIME for each -t TOPIC:PARTITION:TIME (TIME epoch ms or ISO-8601; -J: JSON lines)");
        app.add_option("--mock-cluster", o.mock_brokers, "Start a mock Kafka cluster with N brokers, print its bootstrap servers, run until SIGTERM");
        app.add_option("--partitions", o.mock_partitions, "Mock cluster: partitions per topic")->capture_default_str();
        app.add_option("--mock-control", o.mock_control, "Mock cluster: read fault-injection commands from FILE (down ID, up ID, rtt ID MS, topic NAME N)");
      },
      [&](const sp::CommonOptions&) { return sp::kcs::run_command(f, o); },
      sp::fetch_remote_config);
}
