// Consume mode with --commit-acks: the readers, the checks that acks arrive, the wait for the last.
#include "commit_acks.hpp"

#include <sys/stat.h>

#include <algorithm>

#include "common/core/errors.hpp"
#include "common/core/log.hpp"

namespace sp::kcs {

using Clock = std::chrono::steady_clock;

namespace {
// One file read by two readers would split each sink's acks between them: compare the files, not
// their spellings (`a1` and `./a1`, a hard link).
void check_files(const std::vector<std::string>& files) {
  for (size_t i = 0; i < files.size(); ++i)
    for (size_t j = 0; j < i; ++j) {
      const auto& a = files[j];
      const auto& b = files[i];
      if (a == b) throw UsageError("--commit-acks " + b + " given twice: give each sink its own file");
      // stat, not std::filesystem::equivalent: libstdc++'s refuses FIFOs, the usual ack file
      struct stat sa {}, sb {};
      if (::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
          sa.st_ino == sb.st_ino)
        throw UsageError("--commit-acks " + b + " names the same file as " + a + ": give each sink its own file");
    }
}

void pause_fetching(rd_kafka_t* rk) {
  rd_kafka_topic_partition_list_t* assigned = nullptr;
  if (rd_kafka_assignment(rk, &assigned) || !assigned) return;
  kafka::PartitionList list(assigned);
  if (auto err = rd_kafka_pause_partitions(rk, list.get())) log::debug("pausing the fetch: ", kafka::err_text(err));
}

// Non-blocking polls: the poll interval restarts, rebalance and commit callbacks run. Messages
// fetched before the pause (or of a partition assigned meanwhile) are not written: dropped, bounded.
void serve_group(rd_kafka_t* rk) {
  for (int i = 0; i < 1024; ++i) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 0);
    if (!m) break;
    rd_kafka_message_destroy(m);
  }
}
}  // namespace

CommitAcks::CommitAcks(const Options& o)
    : o_(o), tracker_(o.topics, static_cast<int>(o.commit_acks.size())) {
  check_files(o_.commit_acks);
  if (o_.group.empty()) throw UsageError("--commit-acks needs a consumer group (-G) to commit to");
  if (!o_.envelope)
    throw UsageError("--commit-acks needs --envelope: ch-insert acknowledges the coordinates the envelope carries");
  // one source per file: an offset is committed once every sink acknowledged it
  for (size_t i = 0; i < o_.commit_acks.size(); ++i)
    readers_.push_back(std::make_unique<AckReader>(o_.commit_acks[i], tracker_, static_cast<int>(i)));
}

std::string CommitAcks::failure() const {
  for (const auto& r : readers_)
    if (r->failed()) return r->error();
  return {};
}

bool CommitAcks::caught_up(const Partitions& parts, const std::set<Key>* only) const {
  for (const auto& [k, s] : parts) {
    if (only && !only->contains(k)) continue;
    if (s.flushed >= 0 && tracker_.acked(s.topic, s.partition) < s.flushed) return false;
  }
  return true;
}

void CommitAcks::stop_readers() { readers_.clear(); }

// --commit-acks where not one ack line arrives while messages are written: nothing is ever
// committed, silently (issue 28: rows without their Kafka coordinates, as sensor-parse --format
// values writes them, are never acknowledged). Said once, --ack-timeout after the first message
// reached the output; any ack line, even a refused or bad one, shows the path works.
// It cannot tell a stage that never acknowledges from one that acknowledges late: s3-put does so
// once per stored object, --rotate-seconds after the first line, which may exceed --ack-timeout.
// So the warning names that case, and the first ack after it says that the path works after all.
void CommitAcks::check_arrive(Clock::time_point now, const Partitions& parts, uint64_t messages) {
  if (seen_) return;
  bool flushed = std::any_of(parts.begin(), parts.end(), [](const auto& p) { return p.second.flushed >= 0; });
  if (!flushed) return;
  if (first_output_ == Clock::time_point{}) first_output_ = now;
  uint64_t lines = tracker_.count();
  for (const auto& r : readers_) lines += r->bad_lines() + r->refused();
  if (lines > 0) {
    seen_ = true;
    if (warned_)
      log::info("--commit-acks: the first acknowledgement came ", std::chrono::duration<double>(now - first_output_).count(),
                " s after the first message written: the warning above no longer applies, offsets are committed");
    return;
  }
  if (warned_ || now - first_output_ < std::chrono::milliseconds(o_.ack_timeout_ms)) return;
  warned_ = true;
  std::string files;
  for (const auto& f : o_.commit_acks) files += (files.empty() ? "" : ", ") + f;
  log::warn("--commit-acks: ", messages, " messages written, and not one acknowledgement in ",
            o_.ack_timeout_ms / 1000.0, " s (--ack-timeout): nothing is committed. Check that the acknowledging stage "
            "writes to ", files, " and that the rows it stores carry their Kafka coordinates (sensor-parse writes "
            "them for --envelope input, except in --format values, which has no place for them). s3-put "
            "acknowledges an object once it is stored: with --rotate-seconds longer than --ack-timeout its first "
            "acknowledgement comes later, and is reported");
}

void CommitAcks::wait_for_last(rd_kafka_t* rk, const Partitions& parts, const std::function<bool()>& give_up) {
  if (caught_up(parts, nullptr)) return;
  log::info("waiting up to ", o_.ack_timeout_ms / 1000.0, " s for the last acknowledgements");
  for (auto& r : readers_) r->expect_end();
  // Stages stopped together (systemctl stop) leave what was in the pipes unread: once every
  // acknowledging stage has exited, no ack can come any more and waiting on is pointless.
  auto gone = [&] { return std::all_of(readers_.begin(), readers_.end(), [](const auto& r) { return r->writers_gone(); }); };
  auto failed = [&] { return std::any_of(readers_.begin(), readers_.end(), [](const auto& r) { return r->failed(); }); };
  // The group must keep this member while it waits (longer than max.poll.interval.ms, say, when
  // s3-put's last upload is retried): librdkafka puts a consumer that does not poll out of the
  // group, and its final commit then fails. So poll on, with fetching paused (librdkafka's way for
  // an application busy elsewhere); what still arrives was not written, is dropped and read again.
  pause_fetching(rk);
  tracker_.wait_for(o_.ack_timeout_ms, [&] {
    serve_group(rk);
    return caught_up(parts, nullptr) || gone() || failed() || give_up();
  });
  if (caught_up(parts, nullptr)) return;
  uint64_t missing = 0;
  for (const auto& [k, s] : parts)
    if (s.flushed >= 0 && tracker_.acked(s.topic, s.partition) < s.flushed) ++missing;
  log::warn(missing, " partitions are not fully acknowledged", gone() ? " (every stage that acknowledges has exited)" : "",
            ": their unacknowledged messages will be read again");
}

}  // namespace sp::kcs
