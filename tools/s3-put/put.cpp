#include "put.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <csignal>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#include "common/rows/acks.hpp"
#include "common/core/errors.hpp"
#include "common/core/line_io.hpp"
#include "common/core/log.hpp"
#include "common/core/metrics.hpp"
#include "common/core/progress.hpp"
#include "common/core/signals.hpp"
#include "common/core/timeutil.hpp"

namespace sp::s3put {

// ---------- pure helpers ----------

bool has_seq(const std::string& tmpl) { return tmpl.find("{seq") != std::string::npos; }
bool has_run(const std::string& tmpl) { return tmpl.find("{run}") != std::string::npos; }

std::string new_run_id() {
  unsigned char b[6];
  if (getrandom(b, sizeof b, 0) != static_cast<ssize_t>(sizeof b)) {
    // no entropy source: time and pid still differ between two runs on one host
    uint64_t v = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) ^
                 (static_cast<uint64_t>(getpid()) << 32);
    for (auto& c : b) c = static_cast<unsigned char>(v), v >>= 8;
  }
  static const char hex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char c : b) id += {hex[c >> 4], hex[c & 15]};
  return id;
}

std::string render_key(const std::string& tmpl, std::time_t t, const std::string& host, uint64_t seq, Codec codec,
                       const std::string& run) {
  std::string pre;
  for (size_t i = 0; i < tmpl.size();) {
    if (tmpl[i] == '{') {
      size_t close = tmpl.find('}', i);
      if (close != std::string::npos) {
        std::string field = tmpl.substr(i + 1, close - i - 1);
        if (field == "host") {
          for (char c : host) pre += c == '%' ? std::string("%%") : std::string(1, c);
          i = close + 1;
          continue;
        }
        if (field == "run") {
          pre += run;
          i = close + 1;
          continue;
        }
        if (field == "seq" || field.rfind("seq:", 0) == 0) {
          int width = 6;
          if (field.size() > 4) {
            char* end = nullptr;
            long w = std::strtol(field.c_str() + 4, &end, 10);
            if (*end || w < 1 || w > 20) throw UsageError("key template: bad field {" + field + "} (want {seq:N}, N in 1..20)");
            width = static_cast<int>(w);
          }
          std::string digits = std::to_string(seq);
          if (digits.size() < static_cast<size_t>(width)) digits.insert(0, width - digits.size(), '0');
          pre += digits;
          i = close + 1;
          continue;
        }
        throw UsageError("key template: unknown field {" + field + "} (known: {host}, {run}, {seq}, {seq:N})");
      }
    }
    pre += tmpl[i++];
  }
  std::string key = pre.find('%') == std::string::npos ? pre : strftime_utc(pre, static_cast<int64_t>(t));
  if (key.empty()) throw UsageError("key template '" + tmpl + "' renders to an empty key (or one over 1 KiB)");
  std::string ext = codec_extension(codec);
  if (!ext.empty() && (key.size() < ext.size() || key.compare(key.size() - ext.size(), ext.size(), ext) != 0)) key += ext;
  s3::check_key_length(key);
  return key;
}

size_t part_size_for(size_t base, int number) {
  int doublings = std::min((number - 1) / 900, 10);
  return std::min<size_t>(base << doublings, size_t(5) << 30);
}

uint64_t parse_size(const std::string& text, const std::string& flag) {
  if (text.empty()) throw UsageError(flag + ": empty size");
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(text.c_str(), &end);
  std::string unit(end);
  if (errno || end == text.c_str() || v < 0) throw UsageError(flag + ": '" + text + "' is not a size (like 8M, 512k, 1G)");
  for (const char* suf : {"iB", "B"}) {
    if (unit.size() > std::strlen(suf) && unit.compare(unit.size() - std::strlen(suf), std::string::npos, suf) == 0) {
      unit.resize(unit.size() - std::strlen(suf));
      break;
    }
  }
  double mult = 1;
  if (unit.empty() || unit == "B") mult = 1;
  else if (unit == "k" || unit == "K") mult = 1024.0;
  else if (unit == "M" || unit == "m") mult = 1024.0 * 1024;
  else if (unit == "G" || unit == "g") mult = 1024.0 * 1024 * 1024;
  else if (unit == "T" || unit == "t") mult = 1024.0 * 1024 * 1024 * 1024;
  else throw UsageError(flag + ": unknown unit in '" + text + "' (use k, M, G, T)");
  return static_cast<uint64_t>(v * mult);
}

// ---------- parallel part uploads ----------

namespace {

using Job = std::function<void(s3::Client&)>;

// N threads, each with its own S3 client (connection). submit() blocks while N jobs are queued or
// running: with the part being filled by the reader, that bounds memory to (N + 1) parts.
class PartPool {
 public:
  PartPool(const s3::Settings& s, int n) : limit_(n) {
    for (int i = 0; i < n; ++i) threads_.emplace_back([this, s] { loop(s); });
  }
  ~PartPool() {
    {
      std::lock_guard<std::mutex> g(mu_);
      stop_ = true;
    }
    cv_job_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void submit(Job j) {
    std::unique_lock<std::mutex> g(mu_);
    cv_done_.wait(g, [&] { return static_cast<int>(q_.size()) + busy_ < limit_; });
    q_.push_back(std::move(j));
    cv_job_.notify_one();
  }
  void wait_idle() {
    std::unique_lock<std::mutex> g(mu_);
    cv_done_.wait(g, [&] { return q_.empty() && busy_ == 0; });
  }
  uint64_t retries() const { return retries_.load(); }

 private:
  void loop(s3::Settings s) {
    s3::Client client(std::move(s));
    uint64_t seen = 0;
    while (true) {
      Job j;
      {
        std::unique_lock<std::mutex> g(mu_);
        cv_job_.wait(g, [&] { return stop_ || !q_.empty(); });
        if (q_.empty()) return;
        j = std::move(q_.front());
        q_.pop_front();
        ++busy_;
      }
      j(client);  // jobs catch their own errors
      retries_ += client.retries() - seen;
      seen = client.retries();
      {
        std::lock_guard<std::mutex> g(mu_);
        --busy_;
      }
      cv_done_.notify_all();
    }
  }
  int limit_;
  std::mutex mu_;
  std::condition_variable cv_job_, cv_done_;
  std::deque<Job> q_;
  int busy_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
  std::atomic<uint64_t> retries_{0};
};

struct Metrics {
  Counter& bytes_in = metrics().counter("s3_put_input_bytes_total", "Bytes read from stdin");
  Counter& bytes_out = metrics().counter("s3_put_uploaded_bytes_total", "Bytes stored in S3 (after compression)");
  Counter& objects = metrics().counter("s3_put_objects_total", "Objects completed");
  Counter& parts = metrics().counter("s3_put_parts_total", "Multipart parts uploaded");
  Counter& aborts = metrics().counter("s3_put_aborted_uploads_total", "Multipart uploads aborted after a failure");
};

// One object being written: compressed bytes accumulate in the current part; full parts go to the pool.
class ObjectUpload {
 public:
  ObjectUpload(const Options& o, s3::Client& client, PartPool& pool, s3::Location loc, s3::Headers headers, Metrics& m)
      : o_(o), client_(client), pool_(pool), loc_(std::move(loc)), headers_(std::move(headers)), m_(m),
        comp_(make_compressor(o.codec, o.level)) {
    buf_.reserve(o_.part_size + (1 << 20));
  }

  void write(std::string_view data) {
    if (data.empty()) return;
    // a full part goes out only once more data follows: an input of exactly one part stays a single PUT
    if (buf_.size() >= part_size_for(o_.part_size, next_part_)) send_part();
    bytes_in_ += data.size();
    ends_with_newline_ = data.back() == '\n';
    // A new gzip member / zstd frame at the first line end after kMemberBytes (for input without line
    // ends: at twice that): each carries its own checksum, so s3-cat checks every piece before it
    // writes it, and a corrupt object costs a reader one member's lines, not everything after it.
    while (!data.empty()) {
      size_t take = data.size();
      bool end_member = false;
      if (o_.codec != Codec::none && member_in_ + data.size() >= kMemberBytes) {
        size_t from = member_in_ >= kMemberBytes ? 0 : kMemberBytes - member_in_;
        const void* nl = std::memchr(data.data() + from, '\n', data.size() - from);
        if (nl) {
          take = static_cast<size_t>(static_cast<const char*>(nl) - data.data()) + 1;
          end_member = true;
        } else if (member_in_ + data.size() >= 2 * kMemberBytes) {
          take = 2 * kMemberBytes - member_in_;
          end_member = true;
        }
      }
      comp_->write(data.substr(0, take), buf_);
      member_in_ += take;
      data.remove_prefix(take);
      if (end_member) {
        comp_->finish(buf_);
        member_in_ = 0;
      }
    }
  }

  // Completes the object; returns the bytes stored. On failure aborts the multipart upload and rethrows.
  uint64_t finish() {
    comp_->finish(buf_);
    try {
      if (upload_id_.empty()) {
        log::debug("PUT ", loc_.str(), " (", buf_.size(), " bytes)");
        client_.put_object(loc_, buf_, headers_);
        bytes_out_ += buf_.size();
      } else {
        if (!buf_.empty()) send_part();
        pool_.wait_idle();
        rethrow_part_error();
        complete();
      }
    } catch (...) {
      abort();
      throw;
    }
    m_.objects.inc();
    m_.bytes_out.inc(static_cast<double>(bytes_out_));
    return bytes_out_;
  }

  // Gives up on the object: lets in-flight parts end, then aborts the multipart upload so no parts are
  // left behind (billed and invisible). Never throws.
  void abort() noexcept {
    if (upload_id_.empty() || aborted_) return;
    aborted_ = true;
    try {
      pool_.wait_idle();
    } catch (...) {
    }
    try {
      // the upload failed because S3 kept failing: give the abort its own, longer window, so an
      // outage that outlasts the part retries still ends without orphaned parts once S3 is back
      s3::Settings as = client_.settings();
      as.retry_time = std::chrono::milliseconds(static_cast<int64_t>(o_.abort_seconds * 1000));
      as.max_attempts = 1000000;
      as.backoff_max = std::chrono::seconds(5);
      as.abandonable = false;  // the abort is what a second signal asks for
      // after a stop signal there are no retries (sleep_unless_stopped); a hung server must not
      // hold up a user who signalled twice for the whole request timeout
      if (abandon_requested()) as.timeout_ms = std::min(as.timeout_ms, 10000L);
      s3::Client aborter(as);
      log::warn("aborting the multipart upload of ", loc_.str(), " (upload id ", upload_id_, ")");
      aborter.abort_multipart(loc_, upload_id_);
      m_.aborts.inc();
      log::warn("aborted multipart upload of ", loc_.str(), " (upload id ", upload_id_, "): no parts left behind");
    } catch (const std::exception& e) {
      log::error("could not abort the multipart upload of ", loc_.str(), ": ", e.what(),
                 "; its parts stay stored until aborted: aws s3api abort-multipart-upload --bucket ", loc_.bucket,
                 " --key '", loc_.key, "' --upload-id ", upload_id_);
    }
  }

  bool at_line_boundary() const { return bytes_in_ == 0 || ends_with_newline_; }
  uint64_t bytes_in() const { return bytes_in_; }
  int parts() const { return next_part_ - 1; }
  const s3::Location& location() const { return loc_; }
  bool failed() {
    std::lock_guard<std::mutex> g(mu_);
    return static_cast<bool>(error_);
  }
  void rethrow_part_error() {
    std::lock_guard<std::mutex> g(mu_);
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void send_part() {
    if (next_part_ > kMaxParts)
      throw DataError(loc_.str() + ": more than " + std::to_string(kMaxParts) + " parts; use a larger --part-size or rotation");
    rethrow_part_error();
    if (upload_id_.empty()) {
      upload_id_ = client_.create_multipart(loc_, headers_);
      log::debug("multipart upload of ", loc_.str(), " started (upload id ", upload_id_, ")");
    }
    int number = next_part_++;
    auto data = std::make_shared<std::string>(std::move(buf_));
    buf_ = std::string();
    buf_.reserve(part_size_for(o_.part_size, next_part_) + (1 << 20));
    bytes_out_ += data->size();
    pool_.submit([this, number, data](s3::Client& c) {
      try {
        {
          std::lock_guard<std::mutex> g(mu_);
          if (error_) return;  // the object failed already: no point sending more
        }
        std::string etag = c.upload_part(loc_, upload_id_, number, *data);
        m_.parts.inc();
        std::lock_guard<std::mutex> g(mu_);
        parts_.push_back({number, etag, data->size()});
      } catch (...) {
        std::lock_guard<std::mutex> g(mu_);
        if (!error_) error_ = std::current_exception();
      }
    });
  }

  void complete() {
    std::vector<s3::Part> parts;
    {
      std::lock_guard<std::mutex> g(mu_);
      parts = parts_;
    }
    std::sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) { return a.number < b.number; });
    if (static_cast<int>(parts.size()) != next_part_ - 1)
      throw Error(Exit::software, loc_.str() + ": " + std::to_string(parts.size()) + " of " +
                                      std::to_string(next_part_ - 1) + " parts recorded");
    // what the server holds must be exactly what we sent before we make it an object
    auto listed = client_.list_parts(loc_, upload_id_);
    std::sort(listed.begin(), listed.end(), [](const auto& a, const auto& b) { return a.number < b.number; });
    if (listed.size() != parts.size())
      throw TempFailError(loc_.str() + ": the server lists " + std::to_string(listed.size()) + " parts, we sent " +
                          std::to_string(parts.size()));
    std::vector<std::string> md5s;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (listed[i].number != parts[i].number || listed[i].etag != parts[i].etag)
        throw TempFailError(loc_.str() + ": part " + std::to_string(parts[i].number) + " on the server has ETag " +
                            listed[i].etag + ", we sent " + parts[i].etag);
      md5s.push_back(parts[i].etag);
    }
    std::string etag = client_.complete_multipart(loc_, upload_id_, parts);
    std::string want = s3::multipart_etag(md5s);
    // servers that follow AWS give md5(part md5s)-N; only such an answer is comparable
    if (etag.find('-') != std::string::npos && etag != want)
      throw Error(Exit::software, loc_.str() + ": completed object has ETag " + etag + ", expected " + want);
    log::debug("completed ", loc_.str(), ": ", parts.size(), " parts, ETag ", etag);
  }

  const Options& o_;
  s3::Client& client_;
  PartPool& pool_;
  s3::Location loc_;
  s3::Headers headers_;
  Metrics& m_;
  std::unique_ptr<Compressor> comp_;
  std::string buf_;
  std::string upload_id_;
  int next_part_ = 1;
  uint64_t bytes_in_ = 0, bytes_out_ = 0;
  size_t member_in_ = 0;  // input bytes in the current gzip member / zstd frame
  bool ends_with_newline_ = false;
  bool aborted_ = false;
  std::mutex mu_;
  std::vector<s3::Part> parts_;
  std::exception_ptr error_;
};

// Ends the --tee output without closing the descriptor (fd stays valid for whatever still uses it).
void end_tee(int fd) {
  int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (devnull < 0) return;
  ::dup2(devnull, fd);
  ::close(devnull);
}

// --tee: passes a chunk on; false when the reader closed the pipe (s3-put then stores what it read).
bool tee_out(int fd, const char* p, size_t n) {
  try {
    write_all(fd, p, n, "write to stdout");
    return true;
  } catch (const BrokenPipe&) {
    return false;
  }
}

// --acks FILE: the ack lines of each completed object. A FIFO is opened read-write and written
// without blocking: open() never waits for kafka-cat-sensor, and if nobody reads (it is gone),
// acks are dropped with a warning rather than holding up the archive; an ack not seen is only a
// message read again.
class AckOut {
 public:
  explicit AckOut(const std::string& path) : path_(path) {
    struct stat st {};
    fifo_ = ::stat(path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
    fd_ = ::open(path.c_str(), fifo_ ? O_RDWR | O_NONBLOCK | O_CLOEXEC : O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) throw IoError("--acks " + path + ": " + errno_text(errno));
  }
  ~AckOut() { ::close(fd_); }
  void write(const std::string& lines) {
    const char* p = lines.data();
    size_t n = lines.size();
    while (n > 0) {
      ssize_t w = ::write(fd_, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno == EAGAIN) {
        pollfd pfd{fd_, POLLOUT, 0};
        if (::poll(&pfd, 1, 5000) > 0) continue;
        log::warn("--acks ", path_, ": nobody reads the acks (is kafka-cat-sensor running?); ", n,
                  " bytes of acks dropped (those messages are read again, not lost)");
        return;
      }
      if (w < 0) throw IoError("--acks " + path_ + ": write: " + errno_text(errno));
      p += w;
      n -= static_cast<size_t>(w);
    }
  }

 private:
  std::string path_;
  bool fifo_ = false;
  int fd_ = -1;
};

std::string local_host() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}
}  // namespace

void check_destination(const s3::Settings& settings, const s3::Location& base) {
  // Before a byte is read (or passed on by --tee): a pipeline must not run for minutes while
  // nothing can be archived. The listing is limited to the key template's fixed start.
  std::string prefix = base.key.substr(0, base.key.find_first_of("%{"));
  s3::Client probe(settings);  // a first stop signal ends its retries: nothing was read yet
  try {
    if (!probe.check_bucket(base.bucket, prefix))
      log::warn("s3://", base.bucket, "/: listing it is not allowed (AccessDenied), so the bucket and the "
                "credentials are checked only when the first object is stored");
  } catch (const s3::S3Error& e) {
    if (e.s3_code != "NoSuchBucket") throw;
    throw s3::S3Error(e.code(), std::string(e.what()) + " (s3-put does not create buckets: create it first, "
                      "e.g. aws s3 mb s3://" + base.bucket + ")", e.status, e.s3_code, e.request_id);
  }
  log::debug("s3://", base.bucket, "/ exists and the credentials are accepted");
}

s3::Location validate(const Options& o) {
  s3::Location base = s3::Location::parse(o.url_template);
  if (base.key.empty() || base.key.back() == '/')
    throw UsageError("'" + o.url_template + "' names no object: give a key (template), like s3://bucket/dir/file.jsonl");
  bool rotating = o.rotate_bytes || o.rotate_lines || o.rotate_seconds > 0;
  if (rotating && !has_seq(base.key))
    throw UsageError("rotation writes several objects: put {seq} in the key template so they do not overwrite each other");
  render_key(base.key, 0, "host", 0, o.codec);  // template errors before any upload
  return base;
}

namespace {

s3::Headers object_headers(const Options& o) {
  s3::Headers headers;
  std::string ctype = o.content_type;
  if (ctype.empty())
    ctype = o.codec == Codec::gzip ? "application/gzip" : o.codec == Codec::zstd ? "application/zstd" : "application/octet-stream";
  headers.emplace_back("content-type", ctype);
  if (!o.storage_class.empty()) headers.emplace_back("x-amz-storage-class", o.storage_class);
  return headers;
}

// The state of one run(): the object being written, the --acks coordinates of its lines, the
// counts. Members are declared in the order run() used to create them (and so are destroyed in
// reverse): the object in progress goes before the part pool it sends to.
class PutRun {
 public:
  PutRun(const Options& o, const s3::Settings& settings, s3::Location base, std::string run_id, int in, int out)
      : o_(o), base_(std::move(base)), host_(o.host.empty() ? local_host() : o.host), headers_(object_headers(o)),
        run_id_(std::move(run_id)), acks_out_(o.acks.empty() ? nullptr : std::make_unique<AckOut>(o.acks)), us_(abandonable(settings)), client_(us_), pool_(us_, std::max(1, o.concurrency)),
        seq_(o.seq_start), rotate_after_(static_cast<int64_t>(o.rotate_seconds * 1000)), in_(in), out_(out),
        tee_(o.tee) {}

  // Waits for input, meanwhile rotating by time; the bytes read into buf_, 0 at the end of the input
  // or on a stop signal.
  size_t read_chunk() {
    while (true) {
      int timeout = 500;  // wake up to notice stop signals
      if (cur_ && o_.rotate_seconds > 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(opened_ + rotate_after_ - std::chrono::steady_clock::now());
        if (left.count() <= 0 && cur_->at_line_boundary()) {
          close();
          continue;
        }
        timeout = static_cast<int>(std::clamp<int64_t>(left.count(), 1, 500));
      }
      if (stop_requested()) return 0;
      if (cur_ && cur_->failed()) cur_->rethrow_part_error();
      pollfd pfd{in_, POLLIN, 0};
      int pr = ::poll(&pfd, 1, timeout);
      if (pr < 0) {
        if (errno == EINTR) continue;
        throw IoError("poll stdin: " + errno_text(errno));
      }
      if (pr == 0) continue;
      ssize_t n = ::read(in_, buf_.data(), buf_.size());
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        throw IoError("read stdin: " + errno_text(errno));
      }
      return static_cast<size_t>(n);
    }
  }

  // The n bytes read_chunk() read: counted, passed on (--tee), written to the object(s).
  void store_chunk(size_t n) {
    st_.bytes_in += static_cast<uint64_t>(n);
    m_.bytes_in.inc(static_cast<double>(n));
    // pass-through first: the downstream pipe never waits for S3
    if (tee_ && !tee_out(out_, buf_.data(), n)) {
      log::debug("stdout closed: no more --tee output; storing what was read");
      tee_ = false;
      request_stop(SIGPIPE);
    }
    std::string_view chunk(buf_.data(), n);
    if (!rotating() && !acks_out_) {
      if (!cur_) open();
      cur_->write(chunk);
      return;
    }
    store_lines(chunk);
  }

  // The input ended (or a stop signal came): the last object is stored.
  void end_of_input() {
    // The stages after --tee see the end of their input now, not after the last part is stored:
    // they insert and acknowledge their last batch while the upload finishes (it was the serial
    // tail of every pipe that ends, e.g. kafka-cat-sensor -e or a backfill).
    if (tee_) end_tee(out_);
    // Line data (rotation, --acks) whose input ended mid-line: the stage before stopped while writing
    // it (a SIGKILLed kafka-cat-sensor). The piece is stored, ended by a newline so that s3-cat
    // --prefix does not glue it to the next object's first line; it acknowledges nothing and Kafka
    // delivers the message again whole.
    if (cur_ && (rotating() || acks_out_) && !cur_->at_line_boundary()) {
      log::warn(stop_requested() ? "stopped by a signal mid-line" : "the input ended mid-line (the stage before stopped while writing it)",
                ": the piece is stored with a newline added", acks_out_ ? ", not acknowledged" : "");
      cur_->write("\n");
    }
    // without rotation, an empty input still makes its (empty) object, like `aws s3 cp -`
    if (!cur_ && !rotating() && st_.objects == 0) open();
    close();
    if (uncoordinated_) log::warn("--acks: ", uncoordinated_, " lines without envelope coordinates were acknowledged by nothing");
  }

  // On any failure: aborts the object in progress; after a second signal throws the interrupted
  // error that says what was stored (otherwise the caller rethrows the failure).
  void abandon() {
    if (cur_) cur_->abort();
    if (abandon_requested()) {
      std::string what = cur_ ? cur_->location().str() + " was abandoned, not stored" : "nothing was pending";
      if (st_.objects) what += "; the " + std::to_string(st_.objects) + " object(s) before it are stored";
      throw Error(Exit::interrupted, "stopped by a second signal: " + what);
    }
  }

  Stats stats() {
    st_.retries = client_.retries() + pool_.retries();
    return st_;
  }

 private:
  // a second signal cancels uploads in flight; ObjectUpload::abort cleans up
  static s3::Settings abandonable(s3::Settings s) {
    s.abandonable = true;
    return s;
  }

  bool rotating() const { return o_.rotate_bytes || o_.rotate_lines || o_.rotate_seconds > 0; }

  // line by line: rotation cuts only right after a newline; --acks notes each line's coordinates.
  // Lines go to the object in runs (one write per run, not per line): the compressor's per-call
  // cost made rotation with --acks 5x slower than a plain upload.
  void store_lines(std::string_view chunk) {
    size_t pos = 0, run = 0;  // chunk[run, pos): whole lines not yet written to the object
    auto write_run = [&](size_t upto) {
      if (upto > run) cur_->write(chunk.substr(run, upto - run));
      run = upto;
    };
    while (pos < chunk.size()) {
      if (!cur_) open();
      const char* nl = static_cast<const char*>(std::memchr(chunk.data() + pos, '\n', chunk.size() - pos));
      if (!nl) {
        if (acks_out_ && head_.size() < kHead) head_.append(chunk.substr(pos, kHead - head_.size()));
        break;
      }
      size_t end = static_cast<size_t>(nl - chunk.data()) + 1;
      if (acks_out_) note_line(chunk.substr(pos, end - 1 - pos));
      ++cur_lines_;
      ++st_.lines;
      pos = end;
      if (rotation_due(end - run)) {
        write_run(end);
        close();
      }
    }
    if (run < chunk.size()) write_run(chunk.size());
  }

  // --acks: a line read whole (without its newline); its start may be in head_ from earlier reads.
  void note_line(std::string_view line) {
    // only a whole line counts: one torn at the end of the input (its writer was killed) is
    // archived but acknowledges nothing
    if (head_.empty()) {
      note(line);
    } else {
      if (head_.size() < kHead) head_.append(line.substr(0, std::min(line.size(), kHead - head_.size())));
      note(head_);
      head_.clear();
    }
  }

  void note(std::string_view line) {
    if (envelope_coordinates(line, coords_)) {
      high_.add(coords_.topic, coords_.partition, coords_.offset);
    } else if (!line.empty() && ++uncoordinated_ == 1) {
      log::warn("--acks: a line without envelope coordinates (kafka-cat-sensor --envelope); such lines are "
                "archived but acknowledge nothing");
    }
  }

  // After a line end, with `unwritten` bytes of whole lines not yet written to the object.
  bool rotation_due(size_t unwritten) const {
    return rotating() && ((o_.rotate_lines && cur_lines_ >= o_.rotate_lines) ||
                          (o_.rotate_bytes && cur_->bytes_in() + unwritten >= o_.rotate_bytes) ||
                          (o_.rotate_seconds > 0 && std::chrono::steady_clock::now() - opened_ >= rotate_after_));
  }

  void open() {
    std::string key = free_key();
    cur_ = std::make_unique<ObjectUpload>(o_, client_, pool_, s3::Location{base_.bucket, key}, headers_, m_);
    cur_lines_ = 0;
    opened_ = std::chrono::steady_clock::now();
  }

  // The next key from the template; {seq} moves past keys an earlier run stored.
  std::string free_key() {
    // {seq} starts again on every run: without {run}, a key an earlier run wrote may come round again
    bool check_taken = has_seq(base_.key) && !has_run(base_.key);
    std::string key;
    for (;;) {
      key = render_key(base_.key, std::time(nullptr), host_, seq_++, o_.codec, run_id_);
      if (!check_taken || !client_.head_object(s3::Location{base_.bucket, key})) break;
      if (++skipped_keys_ == 1)
        log::warn("s3://", base_.bucket, "/", key, " exists (from an earlier run?): not overwriting it, {seq} moves on "
                  "(put {run} in the key template to avoid the check)");
      else
        log::debug("s3://", base_.bucket, "/", key, " exists: {seq} moves on");
    }
    return key;
  }

  void close() {
    if (!cur_) return;
    uint64_t stored = cur_->finish();
    st_.objects++;
    st_.bytes_out += stored;
    st_.parts += static_cast<uint64_t>(cur_->parts());
    log::info("stored ", cur_->location().str(), " (", cur_->bytes_in(), " bytes in, ", stored, " stored)");
    cur_.reset();
    acknowledge();
  }

  void acknowledge() {
    // the object is complete (S3 answered 200): only now are its lines acknowledged
    if (acks_out_ && !high_.empty()) {
      acks_out_->write(high_.lines());
      high_.clear();
    }
  }

  static constexpr size_t kHead = 1024;

  const Options& o_;
  const s3::Location base_;
  const std::string host_;
  const s3::Headers headers_;
  const std::string run_id_;
  uint64_t skipped_keys_ = 0;
  std::unique_ptr<AckOut> acks_out_;
  AckHighWater high_;  // coordinates of the envelope lines in the current object
  std::string head_;   // the start of a line split between reads (its coordinates are at the front)
  uint64_t uncoordinated_ = 0;
  Ack coords_;

  Metrics m_;
  const s3::Settings us_;
  s3::Client client_;
  PartPool pool_;
  Stats st_;
  uint64_t seq_;
  std::unique_ptr<ObjectUpload> cur_;
  uint64_t cur_lines_ = 0;
  std::chrono::steady_clock::time_point opened_ = std::chrono::steady_clock::now();
  const std::chrono::milliseconds rotate_after_;

  std::vector<char> buf_ = std::vector<char>(1 << 20);
  const int in_, out_;
  bool tee_;
};

}  // namespace

Stats run(const Options& o, const s3::Settings& settings, int in, int out) {
  s3::Location base = validate(o);
  std::string run_id = o.run_id.empty() ? new_run_id() : o.run_id;
  if (has_run(base.key)) log::debug("run id (for {run}): ", run_id);
  check_destination(settings, base);
  PutRun r(o, settings, std::move(base), std::move(run_id), in, out);
  try {
    while (size_t n = r.read_chunk()) r.store_chunk(n);
    r.end_of_input();
  } catch (...) {
    r.abandon();
    throw;
  }
  return r.stats();
}

void resolve(const SizeFlags& f, Options& o) {
  o.part_size = parse_size(f.part_size, "--part-size");
  if (o.part_size < kMinPartSize) throw UsageError("--part-size must be at least 5M (S3's minimum part size)");
  if (o.part_size > (5ull << 30)) throw UsageError("--part-size must be at most 5G (S3's maximum part size)");
  if (!f.rotate_bytes.empty()) o.rotate_bytes = parse_size(f.rotate_bytes, "--rotate-bytes");
  if (f.gzip + f.zstd + !f.compress.empty() > 1) throw UsageError("choose one of --compress, --gzip, --zstd");
  o.codec = f.gzip ? Codec::gzip : f.zstd ? Codec::zstd : codec::parse_codec(f.compress);
}

int run_command(const Options& o, const s3::Settings& settings) {
  if (o.tee && isatty(1)) log::debug("--tee to a terminal");
  Progress progress("bytes");
  Stats st = run(o, settings, 0, 1);
  progress.done();
  double secs = progress.elapsed_seconds();
  log::info(st.objects, " object(s), ", human_bytes(static_cast<double>(st.bytes_in)), " in ", human_seconds(secs), " (",
            human_bytes(secs > 0 ? static_cast<double>(st.bytes_in) / secs : 0.0), "/s), ",
            human_bytes(static_cast<double>(st.bytes_out)), " stored", st.parts ? ", " + std::to_string(st.parts) + " parts" : "",
            st.retries ? ", " + std::to_string(st.retries) + " retries" : "");
  return stop_signal() == SIGINT ? code(Exit::interrupted) : 0;
}

}  // namespace sp::s3put
