#include "put.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <memory>
#include <optional>

#include "common/core/errors.hpp"
#include "common/core/line_io.hpp"
#include "common/core/log.hpp"
#include "common/core/progress.hpp"
#include "common/core/signals.hpp"
#include "common/rows/acks.hpp"
#include "upload.hpp"

namespace sp::s3put {

namespace {

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

std::string local_host() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

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
  PutRun(const Options& o, const s3::Settings& settings, s3::Location base, std::string run_id, Claim claim, int in, int out)
      : o_(o), base_(std::move(base)), claim_(claim), host_(o.host.empty() ? local_host() : o.host), headers_(object_headers(o)),
        run_id_(std::move(run_id)), acks_out_(o.acks.empty() ? nullptr : std::make_unique<AckWriter>(o.acks, AckWriter::Unblocked{})), us_(abandonable(settings)), client_(us_), pool_(us_, std::max(1, o.concurrency)),
        seq_(o.seq_start), rotate_after_(static_cast<int64_t>(o.rotate_seconds * 1000)), in_(in), out_(out),
        tee_(o.tee) {
    // the values are known now: a --host-name or --run-id that would put a control character in
    // every key is refused before anything is read
    render_key(base_.key, std::time(nullptr), host_, seq_, o_.codec, run_id_);
  }

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
    cur_ = std::make_unique<ObjectUpload>(o_, client_, pool_, s3::Location{base_.bucket, key}, headers_, m_, claim_,
                                          [this] { return free_key(); });
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
    std::optional<uint64_t> stored;
    while (!(stored = cur_->finish())) {
      // another writer stored the key since free_key() found it free: never over it, the next {seq}
      std::string was = cur_->location().str();
      cur_->rekey(free_key());
      log::warn(was, " was stored by another writer meanwhile: not overwriting it, this object goes to ",
                cur_->location().str());
    }
    st_.objects++;
    st_.bytes_out += *stored;
    st_.parts += static_cast<uint64_t>(cur_->parts());
    log::info("stored ", cur_->location().str(), " (", cur_->bytes_in(), " bytes in, ", *stored, " stored)");
    cur_.reset();
    acknowledge();
  }

  void acknowledge() {
    // the object is complete (S3 answered 200): only now are its lines acknowledged
    if (acks_out_ && !high_.empty()) {
      acks_out_->queue(high_);
      high_.clear();
      acks_out_->write_queued();
      if (acks_out_->failed()) std::rethrow_exception(acks_out_->error());
    }
  }

  static constexpr size_t kHead = 1024;

  const Options& o_;
  const s3::Location base_;
  const Claim claim_;
  const std::string host_;
  const s3::Headers headers_;
  const std::string run_id_;
  uint64_t skipped_keys_ = 0;
  std::unique_ptr<AckWriter> acks_out_;  // the one ack writer, never waiting long (--acks: a side channel)
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
  Claim claim = Claim::none;
  if (has_seq(base.key) && !has_run(base.key)) {
    // {seq} starts again on every run: another s3-put (now or earlier) may render the same keys
    claim = probe_claim(settings, base, run_id);
    if (claim == Claim::unguarded) {
      std::string why = "key template '" + base.key + "' has {seq} without {run}, and the server (" +
                        (settings.endpoint.empty() ? std::string("AWS S3") : settings.endpoint) +
                        ") does not honour conditional writes (If-None-Match: * on PUT): two s3-put writing it at "
                        "once can overwrite each other's objects";
      // with --acks the archive is part of the delivery guarantee: an overwritten object would be
      // acknowledged, its messages committed and gone
      if (!o.acks.empty()) throw UsageError(why + ", and --acks would acknowledge the lost lines; put {run} in the key template");
      log::warn(why, " (a key an earlier run stored is still never overwritten); put {run} in the key template");
    } else {
      log::debug("keys are taken with conditional writes (If-None-Match: *)");
    }
  }
  PutRun r(o, settings, std::move(base), std::move(run_id), claim, in, out);
  try {
    while (size_t n = r.read_chunk()) r.store_chunk(n);
    r.end_of_input();
  } catch (...) {
    r.abandon();
    throw;
  }
  return r.stats();
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
