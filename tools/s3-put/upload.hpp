// s3-put's object writer: one object's bytes, compressed, sent as a single PUT or as multipart parts
// uploaded in parallel by a pool of connections (memory bounded to (N + 1) parts).
#pragma once
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/core/metrics.hpp"
#include "common/core/signals.hpp"
#include "put.hpp"

namespace sp::s3put {

using Job = std::function<void(s3::Client&)>;

// N threads, each with its own S3 client (connection). submit() blocks while N jobs are queued or
// running: with the part being filled by the reader, that bounds memory to (N + 1) parts.
class PartPool {
 public:
  PartPool(const s3::Settings& s, int n) : limit_(n) {
    // stop signals blocked: SIGTERM must reach the main thread blocked in read() (common/core/signals.hpp)
    for (int i = 0; i < n; ++i) threads_.push_back(start_thread("s3-put part uploader", [this, s] { loop(s); }));
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


// How an object takes its key when two writers may render the same one ({seq} without {run}: two
// s3-put in one consumer group on one host). HEAD then PUT leaves a window in which both find the key
// free and the second overwrites the first; a conditional write closes it: If-None-Match: * makes
// the server refuse (412) to store over an existing key, and the object goes to the next {seq}.
enum class Claim {
  none,       // plain writes: the key is this run's alone ({run}), or the caller names one fixed key
  put,        // If-None-Match: * on PUT and on CompleteMultipartUpload (AWS S3, MinIO)
  unguarded,  // the server ignores If-None-Match on PUT, or refuses it (Swift 2.30's s3api: 501; its
              // conditional CompleteMultipartUpload is checked but not atomic: two writers completing
              // one key at once both succeed): nothing stops two writers overwriting each other
};

// Finds out, with a probe object next to the template's fixed start (created, written again
// conditionally, deleted), whether the server honours If-None-Match on PUT.
Claim probe_claim(const s3::Settings& settings, const s3::Location& base, const std::string& run_id);

// One object being written: compressed bytes accumulate in the current part; full parts go to the pool.
class ObjectUpload {
 public:
  // next_key: another free key for the object (the template's next {seq}), for an object whose key
  // another writer took before its first part went out (Claim::put).
  ObjectUpload(const Options& o, s3::Client& client, PartPool& pool, s3::Location loc, s3::Headers headers, Metrics& m,
               Claim claim = Claim::none, std::function<std::string()> next_key = {});

  void write(std::string_view data);

  // Completes the object; returns the bytes stored, or nothing when another writer stored the key
  // first (a conditional write answered 412) and the object, still held whole, can go to another
  // key (rekey, then finish again). On failure aborts the multipart upload and rethrows; an object
  // of several parts whose key was taken meanwhile is such a failure where the server's conditional
  // writes are not trusted (Claim::unguarded; TempFailError: its parts are gone from memory, so it
  // cannot move; its lines are acknowledged by nothing). Under Claim::put it took its key before its
  // first part went out (claim_key), so that cannot happen.
  std::optional<uint64_t> finish();
  // The object goes to another key (after finish() found its key taken).
  void rekey(const std::string& key) { loc_.key = key; }

  // Gives up on the object: lets in-flight parts end, then aborts the multipart upload so no parts are
  // left behind (billed and invisible). Never throws.
  void abort() noexcept;

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
  void send_part();
  // Claim::put: takes the key for a multipart object before its first part goes out (see upload.cpp);
  // release_claim deletes what took it when the object fails.
  void claim_key();
  void release_claim() noexcept;

  void complete();
  // The object in one request; false when its key is taken.
  bool store_whole();
  // After a 412: true when the object under the key is this one (a retried request whose first try
  // was stored), by its ETag.
  bool stored_already(const std::string& etag);

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
  bool compressed_ = false;  // the compressor's end is in buf_
  Claim claim_;
  std::function<std::string()> next_key_;
  bool claimed_ = false;  // an empty object holds the key for this multipart object (claim_key)
  std::mutex mu_;
  std::vector<s3::Part> parts_;
  std::exception_ptr error_;
};


}  // namespace sp::s3put
