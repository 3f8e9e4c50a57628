#include "partitions.hpp"

namespace sp::kcs {

PartState& Partitions::add(const std::string& topic, int32_t partition) {
  std::string labels = label("topic", topic) + "," + label("partition", std::to_string(partition));
  auto& m = metrics();
  auto& s = parts_[{topic, partition}];
  s = PartState{
      .topic = topic,
      .partition = partition,
      .msgs = &m.counter("kafka_consumed_messages_total", "Messages consumed and written to stdout", labels),
      .bytes = &m.counter("kafka_consumed_bytes_total", "Value bytes consumed", labels),
      .lag = &m.gauge("kafka_consumer_lag", "Messages between the last one written and the partition's high watermark",
                      labels),
  };
  index_.clear();
  return s;
}

bool Partitions::remove(const std::string& topic, int32_t partition) {
  index_.clear();
  auto it = parts_.find({topic, partition});
  if (it == parts_.end()) return false;
  it->second.publish();
  parts_.erase(it);
  return true;
}

void Partitions::clear() {
  publish();
  parts_.clear();
  index_.clear();
}

PartState* Partitions::of(const rd_kafka_message_t* m) {
  auto& v = index_[m->rkt];
  if (m->partition >= 0 && static_cast<size_t>(m->partition) < v.size() && v[static_cast<size_t>(m->partition)])
    return v[static_cast<size_t>(m->partition)];
  auto it = parts_.find({rd_kafka_topic_name(m->rkt), m->partition});
  if (it == parts_.end() || m->partition < 0) return nullptr;  // a straggler from a revoked partition
  if (v.size() <= static_cast<size_t>(m->partition)) v.resize(static_cast<size_t>(m->partition) + 1, nullptr);
  v[static_cast<size_t>(m->partition)] = &it->second;
  return &it->second;
}

PartState* Partitions::find(const Key& k) {
  auto it = parts_.find(k);
  return it == parts_.end() ? nullptr : &it->second;
}

void Partitions::publish() {
  for (auto& [k, s] : parts_) s.publish();
}

bool Partitions::all_finished(bool exit_at_end) const {
  if (parts_.empty()) return false;
  for (const auto& [k, s] : parts_)
    if (!(s.done || (exit_at_end && s.eof))) return false;
  return true;
}

void Partitions::update_lag(rd_kafka_t* rk) {
  for (auto& [k, s] : parts_) {
    int64_t lo = 0, hi = 0;
    if (s.written < 0) continue;
    if (rd_kafka_get_watermark_offsets(rk, s.topic.c_str(), s.partition, &lo, &hi) == RD_KAFKA_RESP_ERR_NO_ERROR && hi >= 0)
      s.lag->set(static_cast<double>(hi > s.written ? hi - s.written : 0));
  }
}

double Partitions::total_lag() const {
  double lag = 0;
  for (const auto& [k, s] : parts_) lag += s.lag->value();
  return lag;
}

}  // namespace sp::kcs
