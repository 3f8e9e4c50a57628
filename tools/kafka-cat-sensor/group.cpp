// Consume mode: librdkafka's callbacks (rebalance, commit, error), the partitions got and given up,
// and commits of written or acknowledged offsets. The rebalance is the Consumer's: it touches every
// concern (start offsets, the output, the acks, the partitions held, commits).
#include <string>

#include "common/core/errors.hpp"
#include "common/core/log.hpp"
#include "common/core/signals.hpp"
#include "consumer.hpp"

namespace sp::kcs {

// Each callback is a barrier: librdkafka's frames are C, an exception must not cross them. What it
// throws stops the consumer (the main loop sees fatal_ or the kept failure) with a non-zero exit.
void Consumer::error_cb(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* self = static_cast<Consumer*>(opaque);
  guarded("Kafka error callback", [&] {
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      char buf[512];
      rd_kafka_fatal_error(rk, buf, sizeof buf);
      self->fatal_ = buf;
      return;
    }
    // Broker connection trouble is retried by librdkafka; say so once per event, not as an error.
    kafka::note_client_error(err, reason);
    log::warn("Kafka: ", reason);
  });
}

void Consumer::commit_cb(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                         void* opaque) {
  guarded("Kafka commit callback", [&] { static_cast<Consumer*>(opaque)->on_commit(err, offsets); });
}

void Consumer::on_commit(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets) {
  if (err == RD_KAFKA_RESP_ERR__NO_OFFSET) return;
  if (!err && offsets && log::enabled(log::Level::debug)) {
    std::string what;
    for (int i = 0; i < offsets->cnt; ++i)
      what += std::string(i ? " " : "") + offsets->elems[i].topic + "[" + std::to_string(offsets->elems[i].partition) + "]=" + std::to_string(offsets->elems[i].offset);
    log::debug("committed ", what);
  }
  for (int i = 0; offsets && i < offsets->cnt; ++i) {
    const auto& p = offsets->elems[i];
    auto e = p.err ? p.err : err;
    if (!e) continue;
    log::warn("commit of ", p.topic, " [", p.partition, "] offset ", p.offset, " failed: ", kafka::err_text(e),
              " (will retry)");
    PartState* s = parts_.find({p.topic, p.partition});
    if (s && s->committed == p.offset) s->committed = -1;
  }
}

void Consumer::rebalance_cb(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                            void* opaque) {
  auto* self = static_cast<Consumer*>(opaque);
  try {
    self->on_rebalance(err, parts);
  } catch (const std::exception& e) {
    self->fatal_ = std::string("rebalance: ") + e.what();
    // The assignment must still follow the group's decision: a partition neither assigned nor
    // given up leaves the group waiting for this member (what is not assigned is not read; the
    // main loop ends on fatal_ anyway).
    guarded("rebalance", [&] {
      bool assign = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
      self->follow_group(assign, parts);
      if (!assign) self->remove_parts(parts);
    });
  } catch (...) {
    keep_failure("rebalance", std::current_exception());
  }
}

void Consumer::on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
  rd_kafka_t* rk = rk_.get();
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    starts_.apply(rk, parts, true);
    std::string names;
    for (int i = 0; i < parts->cnt; ++i)
      names += (i ? " " : "") + std::string(parts->elems[i].topic) + "[" + std::to_string(parts->elems[i].partition) + "]";
    log::debug("assigned ", parts->cnt, " partitions: ", names);
    follow_group(true, parts);
    add_parts(parts);
    return;
  }
  if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    log::debug("giving up ", parts->cnt, " partitions");
    std::set<Key> revoked;
    for (int i = 0; i < parts->cnt; ++i) revoked.insert({parts->elems[i].topic, parts->elems[i].partition});
    if (!rd_kafka_assignment_lost(rk)) {
      flush_quietly();
      if (acks_ && !closing_) {
        // what was written but not yet acknowledged will be read again by the next owner;
        // a short wait for ch-insert's acks avoids most of those duplicates
        if (!acks_->caught_up(parts_, &revoked))
          acks_->tracker().wait_for(o_.revoke_wait_ms, [&] { return stop_requested() || acks_->caught_up(parts_, &revoked); });
      }
      commit(true, &revoked);
    }
    follow_group(false, parts);
    remove_parts(parts);
    return;
  }
  log::warn("rebalance error: ", kafka::err_text(err));
  rd_kafka_assign(rk, nullptr);
  if (acks_)
    for (const auto& [k, s] : parts_) acks_->tracker().revoke(k.first, k.second);
  parts_.clear();
}

// The assignment follows the group's decision: incrementally with the cooperative protocol, the
// whole of it with the eager one (an unassign then drops everything).
void Consumer::follow_group(bool assign, rd_kafka_topic_partition_list_t* parts) {
  rd_kafka_t* rk = rk_.get();
  if (!cooperative_) {
    rd_kafka_assign(rk, assign ? parts : nullptr);
    return;
  }
  rd_kafka_error_t* e = assign ? rd_kafka_incremental_assign(rk, parts) : rd_kafka_incremental_unassign(rk, parts);
  if (!e) return;
  if (assign) log::warn("incremental assign: ", rd_kafka_error_string(e));
  rd_kafka_error_destroy(e);
}

void Consumer::add_parts(const rd_kafka_topic_partition_list_t* parts) {
  for (int i = 0; i < parts->cnt; ++i) {
    const auto& p = parts->elems[i];
    PartState& s = parts_.add(p.topic, p.partition);
    s.skip_before = starts_.take_scan_from({s.topic, s.partition});
    if (acks_) acks_->tracker().assign(s.topic, s.partition);
  }
}

void Consumer::remove_parts(const rd_kafka_topic_partition_list_t* parts) {
  for (int i = 0; i < parts->cnt; ++i) {
    if (acks_) acks_->tracker().revoke(parts->elems[i].topic, parts->elems[i].partition);
    parts_.remove(parts->elems[i].topic, parts->elems[i].partition);
  }
}

int64_t Consumer::safe_offset(const PartState& s) const {
  if (acks_) return acks_->tracker().acked(s.topic, s.partition);
  return s.flushed;
}

void Consumer::commit(bool sync, const std::set<Key>* only) {
  if (!committing_) return;
  auto list = kafka::make_list();
  std::vector<PartState*> sent;
  for (auto& [k, s] : parts_) {
    if (only && !only->contains(k)) continue;
    int64_t off = safe_offset(s);
    if (off < 0 || off == s.committed) continue;
    rd_kafka_topic_partition_list_add(list.get(), s.topic.c_str(), s.partition)->offset = off;
    s.committed = off;
    sent.push_back(&s);
  }
  if (list->cnt == 0) return;
  auto err = rd_kafka_commit(rk_.get(), list.get(), sync ? 0 : 1);
  if (sync) {
    on_commit(err, list.get());
  } else if (err) {
    log::warn("commit: ", kafka::err_text(err));
    for (auto* s : sent) s->committed = -1;
  }
}

}  // namespace sp::kcs
