// Ack lines: the pipe contract between the stages that store messages (ch-insert, s3-put --acks)
// and kafka-cat-sensor --commit-acks, which commits only what they acknowledged.
// One JSON object per line: {"topic":"t","partition":3,"offset":42} meaning "offset 42 of t[3] and
// every offset before it that this writer received are stored".
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sp {

struct Ack {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
};

// The line, without its '\n'.
std::string ack_line(std::string_view topic, int32_t partition, int64_t offset);
// False with *why set when the line is not such an object (other fields are ignored).
bool parse_ack(std::string_view line, Ack& out, std::string* why);

// The Kafka coordinates of one envelope line (kafka-cat-sensor --envelope), which starts with them:
// {"topic":"..","partition":N,"offset":N,... . Reads just that prefix (envelope::read_coords_prefix,
// common/rows/envelope.hpp); a line in another shape
// (fields reordered, an escaped topic) is parsed whole. False when the line carries none.
bool envelope_coordinates(std::string_view line, Ack& out);

// The highest offset seen per topic/partition, for acknowledging a set of lines at once. Cheap
// per line: topics are few (a vector), partitions index a vector.
class AckHighWater {
 public:
  void add(std::string_view topic, int32_t partition, int64_t offset);
  bool empty() const { return count_ == 0; }
  // One ack line (with '\n') per topic/partition seen, in topic then partition order.
  std::string lines() const;
  void clear();

 private:
  struct Topic {
    std::string name;
    std::vector<int64_t> high;  // by partition; -1 = none
  };
  std::vector<Topic> topics_;
  uint64_t count_ = 0;
};

}  // namespace sp
