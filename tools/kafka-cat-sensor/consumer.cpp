// Consume mode: setup (the librdkafka consumer, its subscription or assignment), the main loop, each
// message to the output, and the end: the last acknowledgements, the final commit, close, the
// summary. (Callbacks and commits: group.cpp; the concerns' classes: see consumer.hpp.)
#include "consumer.hpp"

#include <chrono>
#include <cstring>

#include "common/core/errors.hpp"
#include "common/core/log.hpp"
#include "common/core/progress.hpp"
#include "common/core/signals.hpp"

namespace sp::kcs {

using Clock = std::chrono::steady_clock;

Consumer::Consumer(const Options& o, int fd)
    : o_(o),
      output_(o, fd),
      starts_(o),
      until_ms_(o.until.empty() ? std::nullopt : std::optional<int64_t>(parse_until(o.until))),
      // before the consumer: a file that cannot be read is refused before the group is joined
      acks_(o.commit_acks.empty() ? nullptr : std::make_unique<CommitAcks>(o)),
      group_mode_(!o.group.empty() && o.partitions.empty()),
      committing_(!o.group.empty()) {}

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
  std::vector<std::pair<std::string, std::string>> defaults = {
      {"bootstrap.servers", o_.brokers},
      {"client.id", "kafka-cat-sensor"},
      // a group id is needed by the consumer API even for manual assignment; it commits nothing then
      {"group.id", o_.group.empty() ? "kafka-cat-sensor" : o_.group},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "true"},
      {"auto.offset.reset", starts_.kind() == StartOffset::end ? "latest" : "earliest"},
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

  if (group_mode_) {
    // an unknown topic is an error here, where kcat would wait forever
    auto infos = kafka::fetch_topics(rk_.get(), o_.topics, o_.connect_timeout_ms, o_.brokers);
    for (const auto& t : infos)
      if (t.err) throw NoInputError("topic '" + t.name + "': " + kafka::err_text(t.err) + " (brokers " + o_.brokers + ")");
    starts_.plan(rk_.get(), infos);
    auto list = kafka::make_list();
    for (const auto& t : o_.topics) rd_kafka_topic_partition_list_add(list.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
    auto err = rd_kafka_subscribe(rk_.get(), list.get());
    if (err) throw UsageError("subscribe: " + kafka::err_text(err));
  } else {
    auto list = starts_.manual_assignment(rk_.get());
    starts_.apply(rk_.get(), list.get(), false);
    auto err = rd_kafka_assign(rk_.get(), list.get());
    if (err) throw UsageError("assign: " + kafka::err_text(err));
    add_parts(list.get());
  }
}

// Why the main loop must stop although nothing asked it to: a fatal client error, or an ack
// reader that died (nothing it would acknowledge could ever be committed). Empty: go on.
std::string Consumer::must_stop() const {
  if (!fatal_.empty()) return fatal_;
  return acks_ ? acks_->failure() : std::string();
}

int Consumer::run() {
  setup();
  bool bounded = o_.exit_at_end || o_.count >= 0 || until_ms_;
  rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(rk_.get());
  std::unique_ptr<rd_kafka_queue_t, void (*)(rd_kafka_queue_t*)> queue_guard(queue, rd_kafka_queue_destroy);
  constexpr size_t kBatch = 1024;
  rd_kafka_message_t* batch[kBatch];
  Progress progress("messages");
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
    if (starts_.must_check())  // before any message of the new assignment is handled or committed
      for (const auto& [k, committed] : starts_.check_committed(rk_.get()))
        if (PartState* s = parts_.find(k)) s->skip_below = committed;
    uint64_t payload = 0;
    for (ssize_t i = 0; i < n; ++i) {
      payload += batch[i]->len;
      if (!finished) {
        handle(batch[i]);
        if (o_.count >= 0 && output_.messages() >= static_cast<uint64_t>(o_.count)) finished = true;
      }
      rd_kafka_message_destroy(batch[i]);
    }
    if (n > 0) waker.consumed(static_cast<uint64_t>(n), payload);
    progress.update(output_.messages(), output_.bytes());
    if ((o_.exit_at_end || until_ms_) && parts_.all_finished(o_.exit_at_end)) finished = true;
    auto now = Clock::now();
    if (output_.full() || static_cast<size_t>(n) < kBatch || now - last_flush > std::chrono::milliseconds(100)) {
      if (!flush_quietly()) break;
      last_flush = now;
    }
    if (acks_) acks_->check_arrive(now, parts_, output_.messages());
    if (now - last_commit > std::chrono::milliseconds(o_.commit_interval_ms)) {
      commit(false, nullptr);
      last_commit = now;
    }
    if (now - last_lag > std::chrono::seconds(1)) {
      parts_.update_lag(rk_.get());
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
  parts_.update_lag(rk_.get());
  if (acks_ && must_stop().empty()) wait_for_last_acks();
  std::string stopped = must_stop();
  commit(true, nullptr);
  closing_ = true;
  close();
  if (acks_) acks_->stop_readers();
  summary(std::chrono::duration<double>(Clock::now() - t0).count(), interrupted);
  if (!fatal_.empty()) {
    if (fatal_.find("Unknown topic") != std::string::npos || fatal_.find("nknown partition") != std::string::npos)
      throw NoInputError(fatal_);
    throw UnavailableError(fatal_);
  }
  if (!stopped.empty())
    throw IoError(stopped + "; stopped (what was acknowledged before is committed, the rest is read again next time)");
  if (output_.broken()) return 0;
  if (interrupted) return bounded ? code(Exit::interrupted) : 0;
  return 0;
}

// A message from the queue: an error or end of partition noted, the -o @TIME scan and --until
// applied, the rest to the output.
void Consumer::handle(rd_kafka_message_t* m) {
  if (m->err) {
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (m->rkt)
        if (PartState* s = parts_.of(m)) s->eof = true;
      return;
    }
    std::string where = m->rkt ? std::string(rd_kafka_topic_name(m->rkt)) + " [" + std::to_string(m->partition) + "]: " : "";
    if (m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
        m->err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION) {
      fatal_ = where + rd_kafka_message_errstr(m);
      return;
    }
    log::warn("Kafka: ", where, rd_kafka_message_errstr(m));
    return;
  }
  PartState* s = parts_.of(m);
  if (!s || s->done || m->offset < s->skip_below) return;
  if (s->skip_before >= 0) {
    rd_kafka_timestamp_type_t tt;
    if (rd_kafka_message_timestamp(m, &tt) < s->skip_before) return;
    s->skip_before = -1;
  }
  if (until_ms_) {
    rd_kafka_timestamp_type_t tt;
    int64_t ts = rd_kafka_message_timestamp(m, &tt);
    if (ts > *until_ms_) {
      s->done = true;
      auto l = kafka::make_list(1);
      rd_kafka_topic_partition_list_add(l.get(), s->topic.c_str(), s->partition);
      rd_kafka_pause_partitions(rk_.get(), l.get());
      log::debug(s->topic, " [", s->partition, "] reached --until at offset ", m->offset);
      return;
    }
  }
  output_.append(m, *s);
  if (s->first < 0) s->first = m->offset;
  s->written = m->offset + 1;
  s->eof = false;
  ++s->unpublished_msgs;
  s->unpublished_bytes += m->len;
}

void Consumer::flush() {
  // Acks are taken only for what this process wrote. Told before the write: the next stage may read
  // and acknowledge a message before write() returns. (The window so includes, for that moment, what
  // is still being written, which only a stray writer could acknowledge.)
  if (acks_)
    for (auto& [k, s] : parts_)
      if (s.written != s.told) {
        acks_->tracker().wrote(s.topic, s.partition, s.first, s.written);
        s.told = s.written;
      }
  parts_.publish();
  output_.write();
  for (auto& [k, s] : parts_) s.flushed = s.written;
}

bool Consumer::flush_quietly() {
  if (output_.broken()) return false;
  try {
    flush();
    return true;
  } catch (const BrokenPipe&) {
    output_.drop();
    return false;
  } catch (...) {
    // ENOSPC, EIO: the error ends the run; what was written of the buffer is unknown, so nothing is
    // written after it (a rebalance's revoke at close only commits what reached the output)
    output_.drop();
    throw;
  }
}

void Consumer::wait_for_last_acks() {
  // downstream must see the end of its input to insert and acknowledge its last batch
  output_.end_input();
  acks_->wait_for_last(rk_.get(), parts_, [this] { return !fatal_.empty(); });
}

void Consumer::report_stats(double seconds) {
  uint64_t messages = output_.messages();
  log::debug("stats: ", messages, " messages, ", human_bytes(static_cast<double>(output_.bytes())), ", ",
             human_count(static_cast<double>(messages - last_stats_messages_) / seconds), " msg/s, ", parts_.size(),
             " partitions, lag ", static_cast<uint64_t>(parts_.total_lag()),
             acks_ ? ", acks " + std::to_string(acks_->tracker().count()) : "");
  last_stats_messages_ = messages;
}

void Consumer::summary(double secs, bool interrupted) const {
  log::info(summary_text(output_.messages(), output_.bytes(), secs, "messages"), output_.summary_extra());
  // A backfill window on data replayed with -P finds nothing: Kafka's time is the record
  // timestamp, the produce time unless the producer set it. Say so instead of a silent 0.
  if (output_.messages() == 0 && fatal_.empty() && !interrupted && (starts_.kind() == StartOffset::time || until_ms_))
    log::warn("the time range selected no message: -o @TIME and --until use Kafka's record timestamps, which are "
              "the time of producing unless the producer set them (kafka-cat-sensor -P --timestamp-field)");
}

int run_consumer(const Options& o, int out_fd) {
  Consumer c(o, out_fd);
  return c.run();
}

}  // namespace sp::kcs
