// Consume mode: where each partition starts (-o, the partitions of -p), and a warning when retention
// deleted what the group had committed but not read. (The class: start_offsets.hpp.)
#include "start_offsets.hpp"

#include <algorithm>
#include <chrono>
#include <string>

#include "common/core/errors.hpp"
#include "common/core/log.hpp"
#include "common/core/signals.hpp"
#include "common/core/timeutil.hpp"

namespace sp::kcs {

StartOffsets::StartOffsets(const Options& o) : o_(o) {
  if (!o_.offset.empty()) {
    start_ = parse_offset(o_.offset);
    explicit_ = start_.kind == StartOffset::absolute || start_.kind == StartOffset::tail || start_.kind == StartOffset::time;
  } else {
    start_.kind = o_.group.empty() ? StartOffset::beginning : StartOffset::stored;
  }
  if (start_.kind == StartOffset::stored && o_.group.empty()) throw UsageError("-o stored needs a consumer group (-G)");
}

int64_t StartOffsets::take_scan_from(const Key& k) {
  auto it = scan_from_.find(k);
  if (it == scan_from_.end()) return -1;
  int64_t t = it->second;
  scan_from_.erase(it);
  return t;
}

kafka::PartitionList StartOffsets::manual_assignment(rd_kafka_t* rk) const {
  auto infos = kafka::fetch_topics(rk, o_.topics, o_.connect_timeout_ms, o_.brokers);
  auto list = kafka::make_list();
  for (const auto& t : infos) {
    if (t.err) throw NoInputError("topic '" + t.name + "': " + kafka::err_text(t.err) + " (brokers " + o_.brokers + ")");
    if (o_.partitions.empty()) {
      for (int p = 0; p < t.partitions; ++p) rd_kafka_topic_partition_list_add(list.get(), t.name.c_str(), p);
    } else {
      for (int32_t p : o_.partitions) {
        if (p >= t.partitions)
          throw NoInputError("topic '" + t.name + "' has no partition " + std::to_string(p) + " (it has " +
                             std::to_string(t.partitions) + ")");
        rd_kafka_topic_partition_list_add(list.get(), t.name.c_str(), p);
      }
    }
  }
  return list;
}

// Retention may have deleted what the group committed but never read. librdkafka then starts at
// auto.offset.reset without a word; say how many offsets were skipped. Best effort: a failed lookup
// only costs the warning. (Deletions while a running consumer lags behind are not seen here.)
// And a partition started at the first offset planned at setup, where the group had no committed
// offset then, may have one now: a member that held it committed while this one joined (the eager
// protocol's revoke commits). That offset rules: returned, the consumer skips what lies below it.
// Run from the main loop, not the rebalance callback (round trips), on the partitions it noted.
std::vector<std::pair<Key, int64_t>> StartOffsets::check_committed(rd_kafka_t* rk) {
  std::vector<std::pair<Key, int64_t>> committed_since;
  auto q = kafka::make_list(static_cast<int>(to_check_.size() + to_verify_.size()));
  for (const auto& k : to_check_) rd_kafka_topic_partition_list_add(q.get(), k.first.c_str(), k.second);
  for (const auto& k : to_verify_) rd_kafka_topic_partition_list_add(q.get(), k.first.c_str(), k.second);
  std::set<Key> verify(to_verify_.begin(), to_verify_.end());
  to_check_.clear();
  to_verify_.clear();
  if (q->cnt == 0) return committed_since;
  if (auto err = rd_kafka_committed(rk, q.get(), o_.connect_timeout_ms)) {
    if (!verify.empty())
      log::warn("could not look up the group's committed offsets (", kafka::err_text(err), "): ", verify.size(),
                " partitions without one at start are read from their beginning");
    return committed_since;
  }
  for (int i = 0; i < q->cnt; ++i) {
    const auto& e = q->elems[i];
    if (e.err || e.offset < 0) continue;
    if (verify.contains({e.topic, e.partition})) {
      log::debug(e.topic, " [", e.partition, "]: committed at ", e.offset, " since the start: reading from there");
      committed_since.push_back({{e.topic, e.partition}, e.offset});
    }
    int64_t lo = 0, hi = 0;
    if (rd_kafka_query_watermark_offsets(rk, e.topic, e.partition, &lo, &hi, o_.connect_timeout_ms) || e.offset >= lo)
      continue;
    bool to_end = start_.kind == StartOffset::end;  // auto.offset.reset=latest
    int64_t from = to_end ? hi : lo;
    log::warn(e.topic, " [", e.partition, "]: the group's committed offset ", e.offset,
              " is gone from the broker (retention kept offsets ", lo, " on): ", from - e.offset,
              " offsets skipped, reading from ", from, to_end ? " (the end)" : " (the earliest kept)");
  }
  return committed_since;
}

void StartOffsets::plan(rd_kafka_t* rk, const std::vector<kafka::TopicInfo>& topics) {
  auto all = kafka::make_list();
  for (const auto& t : topics)
    for (int p = 0; p < t.partitions; ++p) rd_kafka_topic_partition_list_add(all.get(), t.name.c_str(), p);
  if (!explicit_) return plan_uncommitted(rk, all.get());
  apply(rk, all.get(), false);
  for (int i = 0; i < all->cnt; ++i) planned_[{all->elems[i].topic, all->elems[i].partition}] = all->elems[i].offset;
  seen_.clear();  // planned, not yet applied
}

// Group mode, committed offsets ruling, from the beginning where there are none (-o beginning or
// stored: auto.offset.reset=earliest): the partitions the group has no committed offset for, with
// their first offset, asked before joining. Assigned at INVALID, such a partition waited 0.1 s after
// the assignment: librdkafka's OffsetFetch finds nothing, and its reset to BEGINNING queries the
// offset only after a fixed 100 ms backoff ("offset reset ... no previously committed offset
// available", "(re)starting offset query timer"; rd_kafka_offset_reset in librdkafka 2.0). Seen in
// profile.sh's timeline: the assignment at 0.05 s, the first bytes out at 0.17 s, every run of a new
// group. Best effort: a failed lookup leaves them at INVALID. (-o end: the end when assigned, as before.)
void StartOffsets::plan_uncommitted(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* all) {
  if (start_.kind != StartOffset::beginning && start_.kind != StartOffset::stored) return;
  if (auto err = rd_kafka_committed(rk, all, std::min(o_.connect_timeout_ms, 1000))) {
    log::debug("looking up the group's committed offsets: ", kafka::err_text(err), " (librdkafka looks them up)");
    return;
  }
  std::vector<int> todo;
  for (int i = 0; i < all->cnt; ++i)
    if (!all->elems[i].err && all->elems[i].offset < 0) {
      all->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
      todo.push_back(i);
    }
  if (todo.empty()) return;
  resolve_logical(rk, all, todo);
  for (int i : todo)
    if (all->elems[i].offset >= 0) uncommitted_[{all->elems[i].topic, all->elems[i].partition}] = all->elems[i].offset;
}

void StartOffsets::apply(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* parts, bool group_assign) {
  std::vector<int> todo;
  for (int i = 0; i < parts->cnt; ++i) {
    Key k{parts->elems[i].topic, parts->elems[i].partition};
    if (group_assign && !explicit_) {
      // committed offsets rule: librdkafka looks them up, unless the group had none at setup (first
      // assignment only; check_committed verifies that it still has none)
      auto it = uncommitted_.find(k);
      if (it == uncommitted_.end()) continue;
      parts->elems[i].offset = it->second;
      to_verify_.push_back(k);
      continue;
    }
    if (group_assign && seen_.contains(k)) continue;
    seen_.insert(k);
    todo.push_back(i);
  }
  // What the setup found holds for the first assignment only: a partition this member gets later
  // (hours later, maybe) starts where librdkafka finds the group's committed offset, not at a
  // first offset looked up at setup that it would then read and skip up to that offset.
  if (group_assign && !explicit_) uncommitted_.clear();
  if (group_assign) {
    // In the rebalance callback the group waits for this member: no broker round trips here (issue
    // 30: each could take --connect-timeout). The offsets were planned at setup; a partition added
    // since is scanned from the beginning for -o @TIME, which needs no lookup.
    for (int i : todo) {
      auto& e = parts->elems[i];
      auto it = planned_.find({e.topic, e.partition});
      if (it != planned_.end()) {
        e.offset = it->second;
      } else if (start_.kind == StartOffset::time) {
        e.offset = RD_KAFKA_OFFSET_BEGINNING;
        scan_from_[{e.topic, e.partition}] = start_.value;
      } else {
        e.offset = start_.kind == StartOffset::tail ? RD_KAFKA_OFFSET_TAIL(start_.value) : start_.value;
      }
    }
    for (int i = 0; i < parts->cnt; ++i)
      if (parts->elems[i].offset == RD_KAFKA_OFFSET_INVALID)  // the committed offset rules: checked later
        to_check_.push_back({parts->elems[i].topic, parts->elems[i].partition});
    return;
  }
  if (todo.empty()) return;
  auto set_all = [&](int64_t off) {
    for (int i : todo) parts->elems[i].offset = off;
  };
  switch (start_.kind) {
    case StartOffset::beginning: set_all(RD_KAFKA_OFFSET_BEGINNING); resolve_logical(rk, parts, todo); break;
    case StartOffset::end: set_all(RD_KAFKA_OFFSET_END); resolve_logical(rk, parts, todo); break;
    case StartOffset::stored: set_all(RD_KAFKA_OFFSET_STORED); break;
    case StartOffset::absolute:
      set_all(start_.value);
      warn_out_of_range(rk, parts, todo);
      break;
    case StartOffset::tail: set_all(RD_KAFKA_OFFSET_TAIL(start_.value)); break;
    case StartOffset::time: resolve_times(rk, parts, todo); break;
  }
}

// A manual assignment at the beginning or the end: the offsets asked of the broker first, in one
// ListOffsets request per leader (the timestamps -2 and -1 mean earliest and latest), and assigned as
// numbers. Assigned as logical offsets, librdkafka 2.0 looks each up itself once the partition has
// joined its broker; assign() comes before the join, so it found "no current leader" and retried on
// its offset query timer: 0.4 s of a 1.6 s run (1M messages) before the first message, every run
// (seen in profile.sh's timeline; -X debug=fetch: "(re)starting offset query timer"). Best effort:
// a failed lookup leaves the logical offsets (the old way, only slower to start), and it waits 1 s at
// most: a partition whose leader is down holds the others up no longer than that. A number deleted
// by retention before the fetch is reset by auto.offset.reset, as the logical one would be.
void StartOffsets::resolve_logical(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* parts,
                                   const std::vector<int>& todo) const {
  auto q = kafka::make_list(static_cast<int>(todo.size()));
  for (int i : todo) rd_kafka_topic_partition_list_add(q.get(), parts->elems[i].topic, parts->elems[i].partition)->offset = parts->elems[i].offset;
  if (auto err = rd_kafka_offsets_for_times(rk, q.get(), std::min(o_.connect_timeout_ms, 1000))) {
    log::debug("looking up the start offsets: ", kafka::err_text(err), " (librdkafka looks them up)");
    return;
  }
  for (int j = 0; j < q->cnt; ++j)
    if (!q->elems[j].err && q->elems[j].offset >= 0) parts->elems[todo[static_cast<size_t>(j)]].offset = q->elems[j].offset;
}

// -o @TIME: the broker's offset for the time, per partition; where it has none, the last message's
// timestamp tells whether the partition is read from its end or scanned from its beginning.
void StartOffsets::resolve_times(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* parts, const std::vector<int>& todo) {
  auto q = kafka::make_list(static_cast<int>(todo.size()));
  for (int i : todo) rd_kafka_topic_partition_list_add(q.get(), parts->elems[i].topic, parts->elems[i].partition)->offset = start_.value;
  auto err = rd_kafka_offsets_for_times(rk, q.get(), o_.connect_timeout_ms);
  if (err) throw UnavailableError("looking up offsets for time " + format_iso_ms(start_.value) + ": " + kafka::err_text(err));
  std::vector<std::pair<Key, int64_t>> unresolved;  // partition, its last offset
  for (int j = 0; j < q->cnt; ++j) {
    auto& r = q->elems[j];
    auto& dst = parts->elems[todo[static_cast<size_t>(j)]];
    if (r.err) throw UnavailableError(std::string("offset for time in ") + r.topic + " [" + std::to_string(r.partition) + "]: " + kafka::err_text(r.err));
    dst.offset = r.offset < 0 ? RD_KAFKA_OFFSET_END : r.offset;
    if (r.offset >= 0) {
      log::debug(r.topic, " [", r.partition, "] starts at offset ", r.offset, " for ", format_iso_ms(start_.value));
      continue;
    }
    // -1 means "no message at or after that time", or a broker that cannot look times up
    // (librdkafka's mock cluster): the last message's timestamp tells which
    int64_t lo = 0, hi = 0;
    if (rd_kafka_query_watermark_offsets(rk, r.topic, r.partition, &lo, &hi, o_.connect_timeout_ms) == 0) {
      dst.offset = hi;  // the end now, not when assigned (planned at setup, a group joins later)
      if (hi > lo) unresolved.push_back({{r.topic, r.partition}, hi - 1});
    }
  }
  if (unresolved.empty()) return;
  auto last = last_timestamps(unresolved);
  for (int j = 0; j < q->cnt; ++j) {
    auto& dst = parts->elems[todo[static_cast<size_t>(j)]];
    auto it = last.find({dst.topic, dst.partition});
    if (it == last.end() || it->second < start_.value) continue;
    log::debug(dst.topic, " [", dst.partition, "]: the broker did not resolve the time; scanning from the beginning");
    dst.offset = RD_KAFKA_OFFSET_BEGINNING;
    scan_from_[{dst.topic, dst.partition}] = start_.value;
  }
}

// -o N outside what a partition holds: librdkafka applies auto.offset.reset without a word, so a
// user asking for offset 5000 of a partition that ends at 4096 silently got everything from the
// beginning (issue 28, as kcat does). Say so, loudly, per partition. Best effort, as above.
void StartOffsets::warn_out_of_range(rd_kafka_t* rk, const rd_kafka_topic_partition_list_t* parts,
                                     const std::vector<int>& todo) const {
  for (int i : todo) {
    const auto& e = parts->elems[i];
    int64_t lo = 0, hi = 0;
    if (rd_kafka_query_watermark_offsets(rk, e.topic, e.partition, &lo, &hi, o_.connect_timeout_ms)) continue;
    if (e.offset >= lo && e.offset <= hi) continue;
    // -o N runs with auto.offset.reset=earliest
    log::warn(e.topic, " [", e.partition, "]: -o ", e.offset, " is ", e.offset > hi ? "past the end" : "before the start",
              " of the partition (it holds offsets ", lo, " to ", hi - 1, "): reading from offset ", lo,
              e.offset > hi ? ", its beginning (Kafka's auto.offset.reset), not from the end" : ", the earliest kept");
  }
}

std::map<Key, int64_t> StartOffsets::last_timestamps(const std::vector<std::pair<Key, int64_t>>& at) const {
  // a separate short-lived consumer, so the group's assignment is left alone
  std::vector<std::pair<std::string, std::string>> defaults = {
      {"bootstrap.servers", o_.brokers}, {"group.id", "kafka-cat-sensor-peek"}, {"enable.auto.commit", "false"},
      {"enable.partition.eof", "true"}};
  std::vector<std::string> props;
  for (const auto& x : o_.x_props) {
    auto kv = kafka::split_property(x);
    if (!kv.first.starts_with("group.") && !kv.first.starts_with("partition.assignment")) props.push_back(x);
  }
  auto rk = kafka::make_handle(RD_KAFKA_CONSUMER, kafka::make_conf(defaults, props));
  rd_kafka_poll_set_consumer(rk.get());
  auto list = kafka::make_list();
  for (const auto& [k, off] : at) rd_kafka_topic_partition_list_add(list.get(), k.first.c_str(), k.second)->offset = off;
  rd_kafka_assign(rk.get(), list.get());
  std::map<Key, int64_t> out;
  size_t answered = 0;
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + std::chrono::milliseconds(o_.connect_timeout_ms);
  while (answered < at.size() && Clock::now() < deadline && !stop_requested()) {
    kafka::Message m(rd_kafka_consumer_poll(rk.get(), 100));
    if (!m || !m->rkt) continue;
    Key k{rd_kafka_topic_name(m->rkt), m->partition};
    if (out.contains(k)) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      out[k] = -1;
      ++answered;
    } else if (!m->err) {
      rd_kafka_timestamp_type_t tt;
      out[k] = rd_kafka_message_timestamp(m.get(), &tt);
      ++answered;
    }
  }
  rd_kafka_consumer_close(rk.get());
  return out;
}

}  // namespace sp::kcs
