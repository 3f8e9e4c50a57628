#include "common/rows/acks.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <climits>

#include "common/rows/envelope.hpp"
#include "common/rows/rows.hpp"

namespace sp {

std::string ack_line(std::string_view topic, int32_t partition, int64_t offset) {
  std::string s = "{\"topic\":";
  append_json_string(s, topic);
  s += ",\"partition\":" + std::to_string(partition) + ",\"offset\":" + std::to_string(offset) + "}";
  return s;
}

namespace {
bool fields(const nlohmann::json& j, Ack& out, std::string* why) {
  auto t = j.find("topic");
  auto p = j.find("partition");
  auto o = j.find("offset");
  if (t == j.end() || !t->is_string()) {
    if (why) *why = "no string \"topic\"";
    return false;
  }
  if (p == j.end() || !p->is_number_integer() || p->get<int64_t>() < 0 || p->get<int64_t>() > INT32_MAX) {
    if (why) *why = "no valid \"partition\"";
    return false;
  }
  if (o == j.end() || !o->is_number_integer() || o->get<int64_t>() < 0) {
    if (why) *why = "no valid \"offset\"";
    return false;
  }
  out.topic = t->get<std::string>();
  out.partition = static_cast<int32_t>(p->get<int64_t>());
  out.offset = o->get<int64_t>();
  return true;
}

}  // namespace

bool parse_ack(std::string_view line, Ack& out, std::string* why) {
  auto j = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    if (why) *why = "not a JSON object";
    return false;
  }
  return fields(j, out, why);
}

bool envelope_coordinates(std::string_view line, Ack& out) {
  if (auto c = envelope::read_coords_prefix(line)) {
    out.topic.assign(c->topic);
    out.partition = c->partition;
    out.offset = c->offset;
    return true;
  }
  // another shape (or an escaped topic): the whole line decides
  auto j = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
  return !j.is_discarded() && j.is_object() && fields(j, out, nullptr);
}

void AckHighWater::add(std::string_view topic, int32_t partition, int64_t offset) {
  if (partition < 0 || partition >= (1 << 20)) return;  // no Kafka topic has that many partitions
  Topic* t = nullptr;
  for (auto& x : topics_)
    if (x.name == topic) {
      t = &x;
      break;
    }
  if (!t) {
    topics_.push_back({std::string(topic), {}});
    std::sort(topics_.begin(), topics_.end(), [](const Topic& a, const Topic& b) { return a.name < b.name; });
    return add(topic, partition, offset);
  }
  auto p = static_cast<size_t>(partition);
  if (p >= t->high.size()) t->high.resize(p + 1, -1);
  if (offset > t->high[p]) t->high[p] = offset;
  ++count_;
}

std::string AckHighWater::lines() const {
  std::string s;
  for (const auto& t : topics_)
    for (size_t p = 0; p < t.high.size(); ++p)
      if (t.high[p] >= 0) {
        s += ack_line(t.name, static_cast<int32_t>(p), t.high[p]);
        s += '\n';
      }
  return s;
}

void AckHighWater::clear() {
  for (auto& t : topics_) std::fill(t.high.begin(), t.high.end(), -1);
  count_ = 0;
}

}  // namespace sp
