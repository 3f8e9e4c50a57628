#include "common/rows/acks.hpp"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>

#include "common/core/errors.hpp"
#include "common/core/line_io.hpp"
#include "common/core/log.hpp"
#include "common/rows/envelope.hpp"
#include "common/rows/row_detail.hpp"
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

namespace {
// ,"_topic":"t","_partition":N,"_offset":N} at the end of a JSON row (RowBuilder::coords, then end()).
bool json_tail_coordinates(std::string_view line, Ack& out) {
  static constexpr std::string_view kTopic = "\"_topic\":";
  size_t at = line.rfind(kTopic);
  // the member's own quote, not an escaped one inside a string: a ',' or '{' comes before it
  if (at == std::string_view::npos || at == 0 || (line[at - 1] != ',' && line[at - 1] != '{')) return false;
  size_t p = at + kTopic.size();
  int64_t part = 0, off = 0;
  std::string topic;
  using namespace row_detail;
  if (!json_string_at(line, p, topic) || !expect(line, p, ",\"_partition\":") || !json_int_at(line, p, part) ||
      !expect(line, p, ",\"_offset\":") || !json_int_at(line, p, off) || !expect(line, p, "}"))
    return false;
  skip_ws(line, p);
  if (p != line.size() || part < 0 || part > INT32_MAX || off < 0) return false;
  out.topic = std::move(topic);
  out.partition = static_cast<int32_t>(part);
  out.offset = off;
  return true;
}

// TAB or ',' _topic, _partition, _offset as the last three fields. Kafka topic names are ASCII
// letters, digits, '.', '_' and '-': no separator, quote or escape inside one.
bool delimited_tail_coordinates(std::string_view line, char sep, Ack& out) {
  size_t s3 = line.rfind(sep);
  if (s3 == std::string_view::npos || s3 == 0) return false;
  size_t s2 = line.rfind(sep, s3 - 1);
  if (s2 == std::string_view::npos || s2 == 0) return false;
  size_t s1 = line.rfind(sep, s2 - 1);
  if (s1 == std::string_view::npos) return false;
  std::string_view topic = line.substr(s1 + 1, s2 - s1 - 1);
  if (sep == ',' && topic.size() >= 2 && topic.front() == '"' && topic.back() == '"')
    topic = topic.substr(1, topic.size() - 2);
  int64_t part = 0, off = 0;
  if (topic.empty() || topic.find_first_of("\"\\") != std::string_view::npos ||
      !row_detail::parse_int(line.substr(s2 + 1, s3 - s2 - 1), part) ||
      !row_detail::parse_int(line.substr(s3 + 1), off) || part < 0 || part > INT32_MAX || off < 0)
    return false;
  out.topic.assign(topic);
  out.partition = static_cast<int32_t>(part);
  out.offset = off;
  return true;
}
}  // namespace

bool row_line_coordinates(RowFormat f, std::string_view line, Ack& out) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  switch (f) {
    case RowFormat::json: return json_tail_coordinates(line, out);
    case RowFormat::tsv: return delimited_tail_coordinates(line, '\t', out);
    case RowFormat::csv: return delimited_tail_coordinates(line, ',', out);
    case RowFormat::values: return false;
  }
  return false;
}

AckWriter::AckWriter(const std::string& path, Unblocked policy) : path_(path), policy_(policy) {
  struct stat st {};
  bool fifo = ::stat(path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
  fd_ = ::open(path.c_str(), fifo ? O_RDWR | O_NONBLOCK | O_CLOEXEC : O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw IoError("--acks " + path + ": " + errno_text(errno));
}

AckWriter::~AckWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void AckWriter::queue(std::string_view topic, int32_t partition, int64_t offset) {
  std::lock_guard<std::mutex> lk(q_mu_);
  if (!failed_) pending_.add(topic, partition, offset);
}

void AckWriter::queue(const AckHighWater& hw) {
  std::lock_guard<std::mutex> lk(q_mu_);
  if (!failed_) hw.each([&](std::string_view t, int32_t p, int64_t o) { pending_.add(t, p, o); });
}

void AckWriter::write_queued() {
  for (;;) {
    {
      std::unique_lock<std::mutex> w(write_mu_, std::try_to_lock);
      if (!w) return;  // the thread writing takes this thread's lines too (it looks again below)
      for (;;) {
        std::string chunk;
        {
          std::lock_guard<std::mutex> lk(q_mu_);
          if (failed_ || pending_.empty()) break;
          chunk = pending_.lines();
          pending_.clear();
        }
        try {
          emit(chunk);
        } catch (...) {
          std::lock_guard<std::mutex> lk(q_mu_);
          failed_ = true;
          error_ = std::current_exception();
          pending_.clear();
          return;
        }
      }
    }
    // Lines queued while this thread held the writer by a thread that then found it busy: this
    // thread writes them (nobody else will).
    std::lock_guard<std::mutex> lk(q_mu_);
    if (failed_ || pending_.empty()) return;
  }
}

void AckWriter::emit(const std::string& chunk) {
  if (out_) {
    out_->write(chunk);
    out_->flush();
  } else {
    emit_unblocked(chunk);
  }
}

// In chunks of whole lines of at most PIPE_BUF bytes: a pipe takes such a write whole or not at all
// (EAGAIN), so a reader that stops reading makes the writer drop whole lines, never half of one.
void AckWriter::emit_unblocked(const std::string& lines) {
  size_t pos = 0;
  while (pos < lines.size()) {
    size_t end = pos;
    while (end < lines.size()) {
      size_t nl = lines.find('\n', end);
      size_t next = nl == std::string::npos ? lines.size() : nl + 1;
      if (end > pos && next - pos > PIPE_BUF) break;
      end = next;
    }
    if (!write_whole(lines.data() + pos, end - pos)) {
      size_t n = lines.size() - pos;
      {
        std::lock_guard<std::mutex> lk(q_mu_);
        dropped_ += n;
      }
      log::warn("--acks ", path_, ": nobody reads the acks (is kafka-cat-sensor running?); ", n,
                " bytes of whole ack lines dropped (those messages are read again, not lost)");
      return;
    }
    pos = end;
  }
}

bool AckWriter::write_whole(const char* p, size_t n) {
  size_t written = 0;
  auto started = std::chrono::steady_clock::now();
  while (written < n) {
    ssize_t w = ::write(fd_, p + written, n - written);
    if (w >= 0) {
      written += static_cast<size_t>(w);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) throw IoError("--acks " + path_ + ": write: " + errno_text(errno));
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    int limit = written == 0 ? policy_.drop_after_ms : policy_.finish_line_ms;
    if (waited.count() >= limit) {
      if (written == 0) return false;
      // a torn line glues the next ack to it: the reader loses both (and says the FIFO is corrupt)
      throw IoError("--acks " + path_ + ": nobody reads the acks and an ack line of " + std::to_string(n) +
                    " bytes is half written (" + std::to_string(written) +
                    " bytes); stopping rather than leaving a torn line in the FIFO");
    }
    pollfd pfd{fd_, POLLOUT, 0};
    ::poll(&pfd, 1, static_cast<int>(limit - waited.count()));
  }
  return true;
}

uint64_t AckWriter::dropped_bytes() const {
  std::lock_guard<std::mutex> lk(q_mu_);
  return dropped_;
}

bool AckWriter::failed() const {
  std::lock_guard<std::mutex> lk(q_mu_);
  return failed_;
}

std::exception_ptr AckWriter::error() const {
  std::lock_guard<std::mutex> lk(q_mu_);
  return error_;
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
