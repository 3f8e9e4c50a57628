// Consume mode: setup (options, the librdkafka consumer, the ack readers), the main loop, and the
// end: the last acknowledgements, the final commit, close, the summary. (Offsets: start_offsets.cpp;
// callbacks and commits: group.cpp; writing: output.cpp.)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "common/core/errors.hpp"
#include "common/core/line_io.hpp"
#include "common/core/log.hpp"
#include "common/core/progress.hpp"
#include "common/core/signals.hpp"
#include "consumer.hpp"

namespace sp::kcs {

using Clock = std::chrono::steady_clock;

Consumer::Consumer(const Options& o, int fd) : o_(o), fd_(fd) { widen_pipe(fd); }

Consumer::~Consumer() {
  // run() threw: the consumer is still open. Closing it gives the group's partitions up (the
  // revoke commits what reached the output or was acknowledged, and writes nothing more).
  guarded("closing the Kafka consumer", [this] {
    closing_ = true;
    close();
  });
}

void Consumer::close() {
  if (!rk_ || closed_) return;
  closed_ = true;
  // also with -p: an unclosed consumer is closed by rd_kafka_destroy, later than anything here
  if (auto err = rd_kafka_consumer_close(rk_.get())) log::debug("closing the consumer: ", kafka::err_text(err));
}

void Consumer::setup() {
  if (!o_.format.empty()) {
    format_ = parse_format(o_.format);
    has_format_ = true;
    format_headers_ = needs_headers(format_);
  }
  if (!o_.offset.empty()) {
    start_ = parse_offset(o_.offset);
    explicit_offset_ = start_.kind == StartOffset::absolute || start_.kind == StartOffset::tail ||
                       start_.kind == StartOffset::time;
  } else {
    start_.kind = o_.group.empty() ? StartOffset::beginning : StartOffset::stored;
  }
  if (start_.kind == StartOffset::stored && o_.group.empty()) throw UsageError("-o stored needs a consumer group (-G)");
  if (!o_.until.empty()) {
    until_ms_ = parse_until(o_.until);
    has_until_ = true;
  }
  // One file read by two readers would split each sink's acks between them: compare the files, not
  // their spellings (`a1` and `./a1`, a hard link).
  for (size_t i = 0; i < o_.commit_acks.size(); ++i)
    for (size_t j = 0; j < i; ++j) {
      const auto& a = o_.commit_acks[j];
      const auto& b = o_.commit_acks[i];
      if (a == b) throw UsageError("--commit-acks " + b + " given twice: give each sink its own file");
      // stat, not std::filesystem::equivalent: libstdc++'s refuses FIFOs, the usual ack file
      struct stat sa {}, sb {};
      if (::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
          sa.st_ino == sb.st_ino)
        throw UsageError("--commit-acks " + b + " names the same file as " + a + ": give each sink its own file");
    }
  if (!o_.commit_acks.empty()) {
    if (o_.group.empty()) throw UsageError("--commit-acks needs a consumer group (-G) to commit to");
    if (!o_.envelope)
      throw UsageError("--commit-acks needs --envelope: ch-insert acknowledges the coordinates the envelope carries");
  }
  group_mode_ = !o_.group.empty() && o_.partitions.empty();
  committing_ = !o_.group.empty();
  // before the consumer: a file that cannot be read is refused before the group is joined
  open_ack_readers();

  std::vector<std::pair<std::string, std::string>> defaults = {
      {"bootstrap.servers", o_.brokers},
      {"client.id", "kafka-cat-sensor"},
      // a group id is needed by the consumer API even for manual assignment; it commits nothing then
      {"group.id", o_.group.empty() ? "kafka-cat-sensor" : o_.group},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "true"},
      {"auto.offset.reset", start_.kind == StartOffset::end ? "latest" : "earliest"},
      // bounded memory: the prefetch queue is what dominates RSS
      {"queued.max.messages.kbytes", "16384"},
      {"fetch.max.bytes", "8388608"},
      {"max.partition.fetch.bytes", "1048576"},
      {"fetch.wait.max.ms", "100"},
      {"socket.keepalive.enable", "true"},
  };
  auto conf = kafka::make_conf(defaults, o_.x_props);
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_error_cb(conf.get(), error_cb);
  rd_kafka_conf_set_offset_commit_cb(conf.get(), commit_cb);
  if (group_mode_) rd_kafka_conf_set_rebalance_cb(conf.get(), rebalance_cb);
  rk_ = kafka::make_handle(RD_KAFKA_CONSUMER, std::move(conf));
  rd_kafka_poll_set_consumer(rk_.get());
  cooperative_ = group_mode_ && std::strcmp(rd_kafka_rebalance_protocol(rk_.get()), "COOPERATIVE") == 0;

  auto& m = metrics();
  skipped_metric_ = &m.counter("kafka_skipped_messages_total", "Messages not written in raw mode", "reason=\"newline\"");
  null_metric_ = &m.counter("kafka_skipped_messages_total", "Messages not written in raw mode", "reason=\"null\"");

  if (group_mode_) {
    // an unknown topic is an error here, where kcat would wait forever
    auto infos = kafka::fetch_topics(rk_.get(), o_.topics, o_.connect_timeout_ms, o_.brokers);
    for (const auto& t : infos)
      if (t.err) throw NoInputError("topic '" + t.name + "': " + kafka::err_text(t.err) + " (brokers " + o_.brokers + ")");
    plan_start_offsets(infos);
    auto list = kafka::make_list();
    for (const auto& t : o_.topics) rd_kafka_topic_partition_list_add(list.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
    auto err = rd_kafka_subscribe(rk_.get(), list.get());
    if (err) throw UsageError("subscribe: " + kafka::err_text(err));
  } else {
    auto list = manual_assignment();
    apply_start_offsets(list.get(), false);
    auto err = rd_kafka_assign(rk_.get(), list.get());
    if (err) throw UsageError("assign: " + kafka::err_text(err));
    add_parts(list.get());
  }
}

void Consumer::open_ack_readers() {
  if (o_.commit_acks.empty()) return;
  // one source per file: an offset is committed once every sink acknowledged it
  acks_ = std::make_unique<AckTracker>(o_.topics, static_cast<int>(o_.commit_acks.size()));
  for (size_t i = 0; i < o_.commit_acks.size(); ++i)
    ack_readers_.push_back(std::make_unique<AckReader>(o_.commit_acks[i], *acks_, static_cast<int>(i)));
}

// Why the main loop must stop although nothing asked it to: a fatal client error, or an ack
// reader that died (nothing it would acknowledge could ever be committed). Empty: go on.
std::string Consumer::must_stop() const {
  if (!fatal_.empty()) return fatal_;
  for (const auto& r : ack_readers_)
    if (r->failed()) return r->error();
  return {};
}

int Consumer::run() {
  setup();
  bool bounded = o_.exit_at_end || o_.count >= 0 || has_until_;
  rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(rk_.get());
  std::unique_ptr<rd_kafka_queue_t, void (*)(rd_kafka_queue_t*)> queue_guard(queue, rd_kafka_queue_destroy);
  constexpr size_t kBatch = 1024;
  rd_kafka_message_t* batch[kBatch];
  Progress progress("messages");
  out_.reserve(1 << 20);
  auto last_flush = Clock::now(), last_commit = last_flush, last_lag = last_flush, last_stats = last_flush;
  auto t0 = last_flush;
  kafka::FetchWaker waker(rk_.get());  // no 1 s fetch pauses when stdout falls behind for a moment
  bool interrupted = false;
  bool finished = o_.count == 0;
  while (!finished) {
    if (stop_requested()) {
      interrupted = !failure_kept();  // a callback's failure stops the loop too: it is thrown at the end
      break;
    }
    if (!must_stop().empty()) break;
    ssize_t n = rd_kafka_consume_batch_queue(queue, 100, batch, kBatch);
    if (n < 0) throw UnavailableError("consume: " + kafka::err_text(rd_kafka_last_error()));
    if (!to_check_.empty()) warn_deleted_offsets();  // before anything of the new assignment is committed
    uint64_t payload = 0;
    for (ssize_t i = 0; i < n; ++i) {
      payload += batch[i]->len;
      if (!finished) {
        handle(batch[i]);
        if (o_.count >= 0 && messages_ >= static_cast<uint64_t>(o_.count)) finished = true;
      }
      rd_kafka_message_destroy(batch[i]);
    }
    if (n > 0) waker.consumed(static_cast<uint64_t>(n), payload);
    progress.update(messages_, bytes_);
    if ((o_.exit_at_end || has_until_) && all_finished()) finished = true;
    auto now = Clock::now();
    if (out_.size() >= (1 << 20) || static_cast<size_t>(n) < kBatch || now - last_flush > std::chrono::milliseconds(100)) {
      if (!flush_quietly()) break;
      last_flush = now;
    }
    if (acks_ && !acks_seen_) check_acks_arrive(now);
    if (now - last_commit > std::chrono::milliseconds(o_.commit_interval_ms)) {
      commit(false, nullptr);
      last_commit = now;
    }
    if (now - last_lag > std::chrono::seconds(1)) {
      update_lag();
      last_lag = now;
    }
    if (log::enabled(log::Level::debug) && now - last_stats > std::chrono::seconds(o_.stats_interval_s)) {
      report_stats(std::chrono::duration<double>(now - last_stats).count());
      last_stats = now;
    }
  }
  progress.done();
  waker.stop();
  log::debug("woke the brokers' fetchers ", waker.wakes(), " times (the queue had drained after reaching a limit)");
  flush_quietly();
  update_lag();
  if (acks_ && must_stop().empty()) wait_for_last_acks();
  std::string stopped = must_stop();
  commit(true, nullptr);
  closing_ = true;
  close();
  ack_readers_.clear();
  summary(std::chrono::duration<double>(Clock::now() - t0).count(), interrupted);
  if (!fatal_.empty()) {
    if (fatal_.find("Unknown topic") != std::string::npos || fatal_.find("nknown partition") != std::string::npos)
      throw NoInputError(fatal_);
    throw UnavailableError(fatal_);
  }
  if (!stopped.empty())
    throw IoError(stopped + "; stopped (what was acknowledged before is committed, the rest is read again next time)");
  if (broken_) return 0;
  if (interrupted) return bounded ? code(Exit::interrupted) : 0;
  return 0;
}

// --commit-acks where not one ack line arrives while messages are written: nothing is ever
// committed, silently (issue 28: rows without their Kafka coordinates, as sensor-parse --format
// values writes them, are never acknowledged). Said once, --ack-timeout after the first message
// reached the output; any ack line, even a refused or bad one, shows the path works.
// It cannot tell a stage that never acknowledges from one that acknowledges late: s3-put does so
// once per stored object, --rotate-seconds after the first line, which may exceed --ack-timeout.
// So the warning names that case, and the first ack after it says that the path works after all.
void Consumer::check_acks_arrive(Clock::time_point now) {
  bool flushed = std::any_of(parts_.begin(), parts_.end(), [](const auto& p) { return p.second.flushed >= 0; });
  if (!flushed) return;
  if (first_output_ == Clock::time_point{}) first_output_ = now;
  uint64_t lines = acks_->count();
  for (const auto& r : ack_readers_) lines += r->bad_lines() + r->refused();
  if (lines > 0) {
    acks_seen_ = true;
    if (warned_no_acks_)
      log::info("--commit-acks: the first acknowledgement came ", std::chrono::duration<double>(now - first_output_).count(),
                " s after the first message written: the warning above no longer applies, offsets are committed");
    return;
  }
  if (warned_no_acks_ || now - first_output_ < std::chrono::milliseconds(o_.ack_timeout_ms)) return;
  warned_no_acks_ = true;
  std::string files;
  for (const auto& f : o_.commit_acks) files += (files.empty() ? "" : ", ") + f;
  log::warn("--commit-acks: ", messages_, " messages written, and not one acknowledgement in ",
            o_.ack_timeout_ms / 1000.0, " s (--ack-timeout): nothing is committed. Check that the acknowledging stage "
            "writes to ", files, " and that the rows it stores carry their Kafka coordinates (sensor-parse writes "
            "them for --envelope input, except in --format values, which has no place for them). s3-put "
            "acknowledges an object once it is stored: with --rotate-seconds longer than --ack-timeout its first "
            "acknowledgement comes later, and is reported");
}

void Consumer::wait_for_last_acks() {
  // downstream must see the end of its input to insert and acknowledge its last batch
  int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (devnull >= 0) {
    ::dup2(devnull, fd_);
    ::close(devnull);
  }
  if (acks_caught_up(nullptr)) return;
  log::info("waiting up to ", o_.ack_timeout_ms / 1000.0, " s for the last acknowledgements");
  for (auto& r : ack_readers_) r->expect_end();
  // Stages stopped together (systemctl stop) leave what was in the pipes unread: once every
  // acknowledging stage has exited, no ack can come any more and waiting on is pointless.
  auto gone = [&] {
    return std::all_of(ack_readers_.begin(), ack_readers_.end(), [](const auto& r) { return r->writers_gone(); });
  };
  auto failed = [&] {
    return std::any_of(ack_readers_.begin(), ack_readers_.end(), [](const auto& r) { return r->failed(); });
  };
  // The group must keep this member while it waits (longer than max.poll.interval.ms, say, when
  // s3-put's last upload is retried): librdkafka puts a consumer that does not poll out of the
  // group, and its final commit then fails. So poll on, with fetching paused (librdkafka's way for
  // an application busy elsewhere); what still arrives was not written, is dropped and read again.
  pause_fetching();
  acks_->wait_for(o_.ack_timeout_ms, [&] {
    serve_group();
    return acks_caught_up(nullptr) || gone() || failed() || !fatal_.empty();
  });
  if (acks_caught_up(nullptr)) return;
  uint64_t missing = 0;
  for (auto& [k, s] : parts_)
    if (s.flushed >= 0 && acks_->acked(s.topic, s.partition) < s.flushed) ++missing;
  log::warn(missing, " partitions are not fully acknowledged", gone() ? " (every stage that acknowledges has exited)" : "",
            ": their unacknowledged messages will be read again");
}

void Consumer::pause_fetching() {
  rd_kafka_topic_partition_list_t* assigned = nullptr;
  if (rd_kafka_assignment(rk_.get(), &assigned) || !assigned) return;
  kafka::PartitionList list(assigned);
  if (auto err = rd_kafka_pause_partitions(rk_.get(), list.get())) log::debug("pausing the fetch: ", kafka::err_text(err));
}

// Non-blocking polls: the poll interval restarts, rebalance and commit callbacks run. Messages
// fetched before the pause (or of a partition assigned meanwhile) are not written: dropped, bounded.
void Consumer::serve_group() {
  for (int i = 0; i < 1024; ++i) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_.get(), 0);
    if (!m) break;
    rd_kafka_message_destroy(m);
  }
}

void Consumer::summary(double secs, bool interrupted) const {
  std::string extra;
  if (skipped_newline_) extra += ", " + std::to_string(skipped_newline_) + " skipped (not JSON, with a newline)";
  if (skipped_null_) extra += ", " + std::to_string(skipped_null_) + " null values skipped";
  if (compacted_) extra += ", " + std::to_string(compacted_) + " multi-line JSON compacted";
  log::info(summary_text(messages_, bytes_, secs, "messages"), extra);
  // A backfill window on data replayed with -P finds nothing: Kafka's time is the record
  // timestamp, the produce time unless the producer set it. Say so instead of a silent 0.
  if (messages_ == 0 && fatal_.empty() && !interrupted && (start_.kind == StartOffset::time || has_until_))
    log::warn("the time range selected no message: -o @TIME and --until use Kafka's record timestamps, which are "
              "the time of producing unless the producer set them (kafka-cat-sensor -P --timestamp-field)");
}

int run_consumer(const Options& o, int out_fd) {
  Consumer c(o, out_fd);
  return c.run();
}

}  // namespace sp::kcs
