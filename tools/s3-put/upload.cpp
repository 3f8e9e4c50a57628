#include "upload.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "common/core/errors.hpp"
#include "common/core/log.hpp"
#include "common/core/signals.hpp"
#include "common/s3/sigv4.hpp"

namespace sp::s3put {

ObjectUpload::ObjectUpload(const Options& o, s3::Client& client, PartPool& pool, s3::Location loc, s3::Headers headers, Metrics& m,
                           Claim claim, std::function<std::string()> next_key)
    : o_(o), client_(client), pool_(pool), loc_(std::move(loc)), headers_(std::move(headers)), m_(m),
      comp_(make_compressor(o.codec, o.level)), claim_(claim), next_key_(std::move(next_key)) {
  buf_.reserve(o_.part_size + (1 << 20));
}

void ObjectUpload::write(std::string_view data) {
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

std::optional<uint64_t> ObjectUpload::finish() {
  if (!compressed_) comp_->finish(buf_);
  compressed_ = true;
  try {
    if (upload_id_.empty()) {
      if (!store_whole()) return std::nullopt;
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

namespace {
const s3::Headers kIfNoneMatch{{"if-none-match", "*"}};
// 412: the key exists; 409 ConditionalRequestConflict (AWS): another conditional write to the key
// is in progress. Either way the key is not this object's to take.
bool taken(const s3::S3Error& e) { return e.status == 412 || (e.status == 409 && e.s3_code == "ConditionalRequestConflict"); }
}  // namespace

// A multipart object cannot move once its parts are out (an upload belongs to its key, and the parts
// are gone from memory): finding its key taken at CompleteMultipartUpload meant giving the object up.
// So under Claim::put it takes the key before the first part goes out, with an empty object written
// If-None-Match: *; a key taken by another writer (412) costs nothing then, the object still in memory
// moves to the next free key. The completion replaces the empty object (unconditionally: no other
// writer of the template writes over it); a failed object deletes it again (abort).
void ObjectUpload::claim_key() {
  while (true) {
    try {
      client_.put_object(loc_, "", kIfNoneMatch);
      claimed_ = true;
      return;
    } catch (const s3::S3Error& e) {
      if (!taken(e) || !next_key_) throw;
    }
    std::string was = loc_.str();
    loc_.key = next_key_();
    log::warn(was, " was taken by another writer meanwhile: not overwriting it, this object goes to ", loc_.str());
  }
}

bool ObjectUpload::stored_already(const std::string& etag) {
  auto info = client_.head_object(loc_);
  return info && info->etag == etag;
}

bool ObjectUpload::store_whole() {
  s3::Headers headers = headers_;
  if (claim_ == Claim::put) headers.insert(headers.end(), kIfNoneMatch.begin(), kIfNoneMatch.end());
  log::debug("PUT ", loc_.str(), " (", buf_.size(), " bytes)");
  try {
    client_.put_object(loc_, buf_, headers);
  } catch (const s3::S3Error& e) {
    if (!taken(e)) throw;
    return stored_already(sigv4::hex(sigv4::md5(buf_)));
  }
  return true;
}

// Gives up on the object: lets in-flight parts end, then aborts the multipart upload so no parts are
// left behind (billed and invisible). Never throws.
void ObjectUpload::abort() noexcept {
  if (upload_id_.empty()) release_claim();  // the key was taken, the upload never started
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
  release_claim();
}

// The empty object that held the key for a multipart object that failed goes too, if it is still
// ours (empty). Never throws: at worst an empty object stays, which the next run's {seq} skips.
void ObjectUpload::release_claim() noexcept {
  if (!claimed_) return;
  claimed_ = false;
  try {
    s3::Settings as = client_.settings();
    as.abandonable = false;
    if (abandon_requested()) as.timeout_ms = std::min(as.timeout_ms, 10000L);
    s3::Client c(as);
    auto info = c.head_object(loc_);
    if (info && info->size == 0) c.delete_object(loc_);
  } catch (const std::exception& e) {
    log::warn("could not delete the empty object that held ", loc_.str(), " for this upload: ", e.what());
  }
}

void ObjectUpload::send_part() {
  if (next_part_ > kMaxParts)
    throw DataError(loc_.str() + ": more than " + std::to_string(kMaxParts) + " parts; use a larger --part-size or rotation");
  rethrow_part_error();
  if (upload_id_.empty()) {
    if (claim_ == Claim::put) claim_key();
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

void ObjectUpload::complete() {
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
  std::string want = s3::multipart_etag(md5s);
  std::string etag;
  try {
    bool conditional = claim_ == Claim::unguarded || (claim_ == Claim::put && !claimed_);
    etag = client_.complete_multipart(loc_, upload_id_, parts, conditional ? kIfNoneMatch : s3::Headers{});
  } catch (const s3::S3Error& e) {
    // MinIO forgets a completed upload at once: a completion retried after its answer was lost (the
    // first try stored the object) is answered 404 NoSuchUpload (AWS and Swift answer 200 again). The
    // object under the key, by its ETag, says whether it is this one.
    if (e.s3_code == "NoSuchUpload" && stored_already(want)) {
      log::debug("completed ", loc_.str(), " (a retried completion: the first try had stored it)");
      return;
    }
    if (!taken(e)) throw;
    if (stored_already(want)) return;
    throw TempFailError(loc_.str() + ": another writer stored this key while this object of " + std::to_string(parts.size()) +
                        " parts was written (it was free when the object was opened); not overwriting it, the object "
                        "is abandoned and its lines acknowledged by nothing (put {run} in the key template)");
  }
  // servers that follow AWS give md5(part md5s)-N; only such an answer is comparable
  if (etag.find('-') != std::string::npos && etag != want)
    throw Error(Exit::software, loc_.str() + ": completed object has ETag " + etag + ", expected " + want);
  log::debug("completed ", loc_.str(), ": ", parts.size(), " parts, ETag ", etag);
}

Claim probe_claim(const s3::Settings& settings, const s3::Location& base, const std::string& run_id) {
  s3::Client c(settings);
  s3::Location probe{base.bucket, base.key.substr(0, base.key.find_first_of("%{")) + ".s3-put-probe-" + run_id};
  auto remove = [&] {
    try {
      c.delete_object(probe);
    } catch (const std::exception& e) {
      log::warn("could not delete the probe object ", probe.str(), " (", e.what(), "): delete it by hand");
    }
  };
  // a PUT, then the same PUT conditional on the key being free: a server that honours it says 412
  auto refused = [](const std::function<void()>& write) {
    try {
      write();
      return false;
    } catch (const s3::S3Error& e) {
      if (e.status != 412) throw;
      return true;
    }
  };
  try {
    c.put_object(probe, "probe\n", kIfNoneMatch);
  } catch (const s3::S3Error& e) {
    if (e.status != 501) throw;
    log::debug("conditional PUT: ", e.what());
    return Claim::unguarded;
  }
  bool honoured = refused([&] { c.put_object(probe, "probe\n", kIfNoneMatch); });
  remove();
  return honoured ? Claim::put : Claim::unguarded;
}

}  // namespace sp::s3put
