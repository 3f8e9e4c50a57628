#include "exactly_once.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>
#include <unordered_map>

#include "common/core/log.hpp"
#include "common/core/retry.hpp"
#include "common/core/signals.hpp"
#include "common/rows/schema.hpp"
#include "sender.hpp"

namespace sp::chi::eo {

namespace {
std::string target(const std::string& db, const std::string& table) {
  return quote_identifier(db.empty() ? "default" : db) + "." + quote_identifier(table);
}

// TSV answer lines split at tabs (topics and run ids hold nothing TSV escapes).
std::vector<std::vector<std::string>> tsv_rows(const std::string& s) {
  std::vector<std::vector<std::string>> out;
  size_t b = 0;
  while (b < s.size()) {
    size_t e = s.find('\n', b);
    if (e == std::string::npos) e = s.size();
    std::vector<std::string> f;
    size_t p = b;
    for (;;) {
      size_t t = s.find('\t', p);
      if (t == std::string::npos || t > e) {
        f.push_back(s.substr(p, e - p));
        break;
      }
      f.push_back(s.substr(p, t - p));
      p = t + 1;
    }
    if (e > b) out.push_back(std::move(f));
    b = e + 1;
  }
  return out;
}
}  // namespace

std::string state_table(const std::string& table) { return table + "_kafka_offsets"; }

std::string create_state_sql(const std::string& db, const std::string& table, bool replicated) {
  std::string engine = "ReplacingMergeTree(intent)";
  if (replicated) {
    // one path for the whole cluster, not per shard: the state is one; the literal escaped as
    // ClickHouse reads it
    std::string path = "/clickhouse/tables/sp-eo/" + (db.empty() ? std::string("default") : db) + "/" +
                       state_table(table);
    engine = "ReplicatedReplacingMergeTree(" + sql_literal(path) + ", '{shard}-{replica}', intent)";
  }
  return "CREATE TABLE IF NOT EXISTS " + target(db, state_table(table)) +
         " (topic String, partition Int32, intent Int64, run String, updated_at DateTime DEFAULT now()) "
         "ENGINE = " + engine + " ORDER BY (topic, partition)";
}

bool on_cluster(const Options& o) { return !o.cluster.empty() || !o.shards.empty(); }

std::string rows_table(const Options& o) {
  if (!o.shards.empty()) return o.local_table;
  return o.cluster.empty() ? o.table : o.table + "_local";
}

std::vector<std::pair<std::string, std::string>> intent_settings(const Options& o, size_t servers) {
  if (!on_cluster(o) || servers < 2) return {};
  return {{"insert_quorum", "2"}};
}

std::string read_state_sql(const std::string& db, const std::string& table, const std::vector<Key>& parts) {
  std::string where;
  for (const auto& [topic, partition] : parts)
    where += (where.empty() ? "" : " OR ") + std::string("(topic = ") + sql_literal(topic) +
             " AND partition = " + std::to_string(partition) + ")";
  return "SELECT topic, partition, max(intent), argMax(run, intent) FROM " + target(db, state_table(table)) +
         " WHERE " + where + " GROUP BY topic, partition FORMAT TabSeparated";
}

std::string intent_insert_sql(const std::string& db, const std::string& table,
                              const std::vector<std::pair<Key, int64_t>>& intents, const std::string& run) {
  std::string s = "INSERT INTO " + target(db, state_table(table)) + " (topic, partition, intent, run) VALUES";
  for (size_t i = 0; i < intents.size(); ++i)
    s += (i ? ", (" : " (") + sql_literal(intents[i].first.first) + ", " + std::to_string(intents[i].first.second) +
         ", " + std::to_string(intents[i].second) + ", " + sql_literal(run) + ")";
  return s;
}

std::string stored_sql(const std::string& db, const std::string& table, const std::vector<Range>& ranges) {
  std::string where;
  for (const auto& r : ranges)
    where += (where.empty() ? "" : " OR ") + std::string("(_topic = ") + sql_literal(r.key.first) +
             " AND _partition = " + std::to_string(r.key.second) + " AND _offset BETWEEN " +
             std::to_string(r.first) + " AND " + std::to_string(r.last) + ")";
  return "SELECT _topic, _partition, _offset FROM " + target(db, table) + " WHERE " + where + " FORMAT TabSeparated";
}

std::string query_id_prefix(const std::string& run) { return "sp-eo-" + run + "-"; }

std::string running_sql(const std::string& prefix) {
  // substring, not LIKE: '_' and '%' would be patterns; startsWith is not in every old server
  const std::string n = std::to_string(prefix.size()), p = sql_literal(prefix);
  return "SELECT count() FROM system.processes WHERE substring(query_id, 1, " + n + ") = " + p +
         " OR substring(initial_query_id, 1, " + n + ") = " + p + " FORMAT TabSeparated";
}

std::string new_run_id() {
  std::random_device rd;
  uint64_t v = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  char buf[17];
  std::snprintf(buf, sizeof buf, "%012llx", static_cast<unsigned long long>(v & 0xffffffffffffull));
  return buf;
}

std::vector<std::string> ask_every_server(ClickHouseClient& c, const std::string& sql, size_t may_miss,
                                          const std::vector<std::pair<std::string, std::string>>& params) {
  const size_t n = c.connection().urls.size();
  std::vector<std::string> out;
  std::unique_ptr<ChRequestError> last;
  size_t missed = 0;
  for (size_t i = 0; i < n; ++i) {
    c.use(i);
    try {
      out.push_back(c.query(sql, params));
    } catch (const ChRequestError& e) {
      const ChErrorKind k = e.error().kind;
      // a server that got no state table yet (down when it was made) is one not answering
      if (k != ChErrorKind::transport && k != ChErrorKind::retriable && !(n > 1 && k == ChErrorKind::missing)) throw;
      ++missed;
      last = std::make_unique<ChRequestError>(e);
    }
  }
  if (missed > may_miss) throw *last;
  return out;
}

namespace {
// The highest count() any server answered (system.processes on every server): each answer is one line,
// and answers may come joined (ask_all).
int64_t max_count(const std::vector<std::string>& answers) {
  int64_t m = 0;
  for (const auto& a : answers)
    for (const auto& row : tsv_rows(a)) m = std::max<int64_t>(m, std::stoll("0" + row.at(0)));
  return m;
}
}  // namespace

BatchOffsets batch_offsets(const Batch& b) {
  // Per row a slot by (topic index, partition): the key's string is made once per partition, not per
  // row (this runs on the reading thread for every batch). Rows of one partition mostly come in runs.
  std::vector<std::pair<uint64_t, PartOffsets>> slots;
  std::unordered_map<uint64_t, size_t> index;
  size_t last = SIZE_MAX;
  auto at = [&](int32_t topic, int32_t partition) -> PartOffsets& {
    const uint64_t id = (static_cast<uint64_t>(static_cast<uint32_t>(topic)) << 32) | static_cast<uint32_t>(partition);
    if (last != SIZE_MAX && slots[last].first == id) return slots[last].second;
    auto [it, fresh] = index.try_emplace(id, slots.size());
    if (fresh) slots.emplace_back(id, PartOffsets{});
    last = it->second;
    return slots[last].second;
  };
  for (const auto& r : b.rows)
    if (r.topic >= 0) {
      auto& p = at(r.topic, r.partition);
      p.rows.push_back(r.offset);
      p.all.push_back(r.offset);
    }
  for (const auto& m : b.marks) at(m.topic, m.partition).all.push_back(m.offset);
  for (const auto& l : b.lost)
    if (l.topic >= 0 && !l.in_rows) at(l.topic, l.partition).all.push_back(l.offset);
  BatchOffsets out;
  for (auto& [id, p] : slots) {
    // in order already unless markers or a rewind mixed in
    if (!std::is_sorted(p.all.begin(), p.all.end())) std::sort(p.all.begin(), p.all.end());
    out.emplace(Key{b.topics[static_cast<size_t>(id >> 32)], static_cast<int32_t>(id & 0xffffffffu)}, std::move(p));
  }
  return out;
}

std::vector<Key> Tracker::to_load(const BatchOffsets& b) const {
  std::vector<Key> out;
  for (const auto& [k, p] : b) {
    auto it = parts_.find(k);
    bool load = it == parts_.end() || !it->second.known || !it->second.seen;
    int64_t next = load ? 0 : it->second.last + 1;
    for (size_t i = 0; !load && i < p.all.size(); ++i) load = p.all[i] != next + static_cast<int64_t>(i);
    if (load) out.push_back(k);
  }
  return out;
}

void Tracker::loaded(const Key& k, int64_t intent, const std::string& run) {
  Part& p = parts_[k];
  p.intent = intent;
  p.read = intent;
  p.checked = -1;
  p.run = run;
  p.known = true;
}

std::vector<Range> Tracker::to_check(const BatchOffsets& b) const {
  std::vector<Range> out;
  for (const auto& [k, p] : b) {
    if (p.rows.empty()) continue;
    auto it = parts_.find(k);
    const int64_t read = it == parts_.end() ? -1 : it->second.read;
    const int64_t checked = it == parts_.end() ? -1 : it->second.checked;
    Range r{k, INT64_MAX, -1};
    for (int64_t off : p.rows)
      if (off <= read && off > checked) r.first = std::min(r.first, off);
    if (r.first == INT64_MAX) continue;
    const int64_t top = *std::max_element(p.rows.begin(), p.rows.end());
    r.last = std::min(read, top + kLookupAhead * (p.all.back() - p.all.front() + 1));
    out.push_back(r);
  }
  return out;
}

void Tracker::looked_up(const std::vector<Range>& ranges) {
  for (const auto& r : ranges) {
    Part& p = parts_[r.key];
    p.checked = std::max(p.checked, r.last);
  }
}

std::vector<std::pair<Key, int64_t>> Tracker::raises(const BatchOffsets& b) const {
  auto intent = [&](const Key& k) {
    auto it = parts_.find(k);
    return it == parts_.end() ? int64_t{-1} : it->second.intent;
  };
  bool beyond = false;
  for (const auto& [k, p] : b)
    beyond = beyond || (!p.rows.empty() && *std::max_element(p.rows.begin(), p.rows.end()) > intent(k));
  std::vector<std::pair<Key, int64_t>> out;
  if (!beyond) return out;
  for (const auto& [k, p] : b) {
    if (p.rows.empty()) continue;
    const int64_t top = *std::max_element(p.rows.begin(), p.rows.end());
    const int64_t want = top + kIntentAhead * (p.all.back() - p.all.front() + 1);
    if (want > intent(k)) out.emplace_back(k, want);
  }
  return out;
}

void Tracker::sent(const BatchOffsets& b, const std::vector<std::pair<Key, int64_t>>& raised, const std::string& run) {
  for (const auto& [k, p] : b) {
    Part& part = parts_[k];
    if (!p.all.empty()) {
      part.last = p.all.back();
      part.seen = true;
    }
  }
  for (const auto& [k, intent] : raised) {
    Part& part = parts_[k];
    part.intent = std::max(part.intent, intent);
    part.run = run;
  }
}

const Tracker::Part* Tracker::part(const Key& k) const {
  auto it = parts_.find(k);
  return it == parts_.end() ? nullptr : &it->second;
}

void drop_rows(Batch& b, const std::vector<char>& drop) {
  std::string data;
  data.reserve(b.data.size());
  std::vector<RowMeta> rows;
  rows.reserve(b.rows.size());
  for (size_t i = 0; i < b.rows.size(); ++i) {
    const RowMeta& m = b.rows[i];
    if (drop[i]) {
      b.marks.push_back({m.topic, m.partition, m.offset});
      continue;
    }
    RowMeta k = m;
    k.start = data.size();
    data += b.row(i);
    rows.push_back(k);
  }
  b.data.swap(data);
  b.rows.swap(rows);
}

size_t stored_rows(ClickHouseClient& c, const Options& o, const Batch& b, size_t a, size_t e,
                   const std::string& query_id) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(c.connection().timeout_ms);
  const std::string running = "SELECT count() FROM system.processes WHERE query_id = " + sql_literal(query_id) +
                              " OR initial_query_id = " + sql_literal(query_id) + " FORMAT TabSeparated";
  while (max_count(ask_every_server(c, running, 0)) > 0) {
    if (std::chrono::steady_clock::now() >= deadline)
      throw TempFailError("--exactly-once: the failed insert " + query_id + " still runs on the server after --timeout");
    if (stop_requested()) throw Error(Exit::interrupted, "interrupted while waiting for a failed insert to end");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::map<Key, Range> by;
  for (size_t i = a; i < e; ++i) {
    const RowMeta& m = b.rows[i];
    if (m.topic < 0) continue;
    Key k{b.topics[static_cast<size_t>(m.topic)], m.partition};
    auto [it, fresh] = by.try_emplace(k, Range{k, m.offset, m.offset});
    it->second.first = std::min(it->second.first, m.offset);
    it->second.last = std::max(it->second.last, m.offset);
  }
  if (by.empty()) return 0;
  std::vector<Range> ranges;
  for (const auto& [k, r] : by) ranges.push_back(r);
  std::set<std::pair<Key, int64_t>> found;
  for (const auto& answer : ask_every_server(c, stored_sql(o.database, rows_table(o), ranges), 0))
    for (const auto& f : tsv_rows(answer))
      if (f.size() >= 3) found.insert({{f[0], static_cast<int32_t>(std::stol(f[1]))}, std::stoll(f[2])});
  size_t n = 0;
  for (size_t i = a; i < e; ++i) {
    const RowMeta& m = b.rows[i];
    if (m.topic >= 0 && found.count({{b.topics[static_cast<size_t>(m.topic)], m.partition}, m.offset})) ++n;
  }
  return n;
}

Resolver::Resolver(const Options& o, const ChConnection& c, std::string run)
    : o_(o), client_(c), run_(std::move(run)) {}

// A small query, retried like inserts while the server is away.
std::string Resolver::query(const std::string& sql, const char* what,
                            const std::vector<std::pair<std::string, std::string>>& params) {
  Retry retry(retry_budget(o_));
  for (;;) {
    try {
      return client_.query(sql, params);
    } catch (const ChRequestError& e) {
      const ChError& err = e.error();
      if (err.kind != ChErrorKind::transport && err.kind != ChErrorKind::retriable)
        throw Error(e.code(), std::string("--exactly-once: ") + what + ": " + err.message);
      if (retry.spent())
        throw TempFailError(std::string("--exactly-once: ") + what + ": ClickHouse still failing after " +
                            std::to_string(retry.retries()) + " retries: " + err.message);
      auto d = retry.next();
      log::warn("--exactly-once: ", what, ": ", err.message, "; retry ", retry.retries(), " in ", d.count(), " ms");
      if (err.kind == ChErrorKind::transport) client_.failover();
      retry.wait(d, "interrupted while waiting for ClickHouse");
    }
  }
}

// On a cluster a server that does not answer is asked again (with the others) until enough do.
std::string Resolver::ask_all(const std::string& sql, const char* what, size_t may_miss) {
  if (client_.connection().urls.size() < 2) return query(sql, what);
  Retry retry(retry_budget(o_));
  for (;;) {
    try {
      std::string all;
      for (const auto& a : ask_every_server(client_, sql, may_miss)) all += a.empty() || a.back() == '\n' ? a : a + "\n";
      return all;
    } catch (const ChRequestError& e) {
      const ChError& err = e.error();
      if (err.kind != ChErrorKind::transport && err.kind != ChErrorKind::retriable && err.kind != ChErrorKind::missing)
        throw Error(e.code(), std::string("--exactly-once: ") + what + ": " + err.message);
      if (retry.spent())
        throw TempFailError(std::string("--exactly-once: ") + what + ": a server of the cluster still failing after " +
                            std::to_string(retry.retries()) + " retries: " + err.message);
      auto d = retry.next();
      log::warn("--exactly-once: ", what, ": ", err.message, " (", may_miss ? "all servers but one" : "every server",
                " must answer); retry ", retry.retries(), " in ", d.count(), " ms");
      retry.wait(d, "interrupted while waiting for ClickHouse");
    }
  }
}

// An insert of a run killed with SIGKILL may still be running on the server: its rows may land after
// the lookup says they are missing. Waited out (by its query_id prefix) for at most --timeout.
void Resolver::wait_run_gone(const std::string& run) {
  if (run.empty() || run == run_ || waited_.count(run)) return;
  const std::string sql = running_sql(query_id_prefix(run));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(client_.connection().timeout_ms);
  bool said = false;
  while (max_count({ask_all(sql, "checking the inserts of an earlier run", 0)}) > 0) {
    if (std::chrono::steady_clock::now() >= deadline)
      throw TempFailError("--exactly-once: an insert of run " + run + " (query_id " + query_id_prefix(run) +
                          "...) is still running on the server after --timeout; not sending rows it may store");
    if (!said) log::info("--exactly-once: waiting for the inserts of run ", run, " still running on the server");
    said = true;
    if (stop_requested()) throw Error(Exit::interrupted, "interrupted while waiting for an earlier run's inserts");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  waited_.insert(run);
}

// A message read twice into one batch (upstream went back within it, a rebalance): its first row is
// the one sent; the others would be new to the lookup (the batch's intent is not written yet).
uint64_t drop_repeats(Batch& b, const BatchOffsets* given) {
  BatchOffsets made;
  if (!given) made = batch_offsets(b);
  const BatchOffsets& offs = given ? *given : made;
  bool repeats = false;
  for (const auto& [k, p] : offs)
    repeats = repeats || std::adjacent_find(p.all.begin(), p.all.end()) != p.all.end();
  if (!repeats) return 0;
  std::set<std::pair<Key, int64_t>> seen;
  for (const auto& m : b.marks) seen.insert({{b.topics[static_cast<size_t>(m.topic)], m.partition}, m.offset});
  std::vector<char> drop(b.rows.size(), 0);
  uint64_t n = 0;
  for (size_t i = 0; i < b.rows.size(); ++i) {
    const RowMeta& m = b.rows[i];
    if (m.topic >= 0 && !seen.insert({{b.topics[static_cast<size_t>(m.topic)], m.partition}, m.offset}).second) {
      drop[i] = 1;
      ++n;
    }
  }
  if (n) {
    log::info("--exactly-once: batch ", b.seq, ": ", n, " rows of messages read twice into it: sent once");
    drop_rows(b, drop);
  }
  return n;
}

// Drops the rows of `b` whose offsets a lookup found stored (found_), and forgets the offsets found
// up to the batch's last of each partition (the batches after it come above, or after a reload).
uint64_t Resolver::drop_found(Batch& b, const BatchOffsets& offs) {
  std::vector<char> drop(b.rows.size(), 0);
  uint64_t n = 0;
  for (size_t i = 0; i < b.rows.size(); ++i) {
    const RowMeta& m = b.rows[i];
    if (m.topic < 0) continue;
    auto it = found_.find({b.topics[static_cast<size_t>(m.topic)], m.partition});
    if (it != found_.end() && std::binary_search(it->second.begin(), it->second.end(), m.offset)) {
      drop[i] = 1;
      ++n;
    }
  }
  if (n) drop_rows(b, drop);
  for (const auto& [k, p] : offs) {
    auto it = found_.find(k);
    if (it == found_.end() || p.all.empty()) continue;
    auto& v = it->second;
    v.erase(v.begin(), std::upper_bound(v.begin(), v.end(), p.all.back()));
    if (v.empty()) found_.erase(it);
  }
  return n;
}

uint64_t Resolver::prepare(Batch& b, const std::function<void()>& drain) {
  BatchOffsets offs = batch_offsets(b);
  uint64_t dropped = drop_repeats(b, &offs);  // counted with the rows found stored: acknowledged, not sent (again)
  if (dropped) offs = batch_offsets(b);
  std::vector<Key> load = t_.to_load(offs);
  if (!load.empty()) {
    for (const auto& k : load) {
      t_.loaded(k, -1, "");  // no row in the state table: nothing was sent
      found_.erase(k);       // what a lookup found is judged again (looked up anew)
    }
    // on a cluster every server's answer (all but one): the highest intent wins
    std::map<Key, std::pair<int64_t, std::string>> top;
    for (const auto& f : tsv_rows(ask_all(read_state_sql(o_.database, o_.table, load), "reading the intents",
                                          on_cluster(o_) ? 1 : 0)))
      if (f.size() >= 4) {
        auto [it, fresh] = top.try_emplace({f[0], static_cast<int32_t>(std::stol(f[1]))}, std::stoll(f[2]), f[3]);
        if (!fresh && std::stoll(f[2]) > it->second.first) it->second = {std::stoll(f[2]), f[3]};
      }
    for (const auto& [k, v] : top) t_.loaded(k, v.first, v.second);
  }
  std::vector<Range> check = t_.to_check(offs);
  if (!check.empty()) {
    drain();  // this run's batches in flight are stored (or failed) before the lookup
    for (const auto& r : check) wait_run_gone(t_.part(r.key)->run);
    // each range starts above its partition's `checked`: the offsets found are new to found_ (those it
    // holds, at or below `checked`, still drop this batch's rows below the range)
    for (const auto& f : tsv_rows(ask_all(stored_sql(o_.database, rows_table(o_), check), "looking up stored rows", 0)))
      if (f.size() >= 3) found_[{f[0], static_cast<int32_t>(std::stol(f[1]))}].push_back(std::stoll(f[2]));
    for (auto& [k, v] : found_) std::sort(v.begin(), v.end());
    t_.looked_up(check);
  }
  if (!found_.empty()) {
    const uint64_t stored = drop_found(b, offs);
    dropped += stored;
    if (stored) {
      log::info("--exactly-once: batch ", b.seq, ": ", stored, " of its rows are stored already (an earlier run sent "
                "them): acknowledged, not sent");
      offs = batch_offsets(b);
    }
  }
  auto raised = t_.raises(offs);
  if (!raised.empty()) {
    const auto t0 = std::chrono::steady_clock::now();
    query(intent_insert_sql(o_.database, o_.table, raised, run_), "writing the intents",
          intent_settings(o_, client_.connection().urls.size()));
    log::debug("--exactly-once: batch ", b.seq, ": intents of ", raised.size(), " partitions raised in ",
               std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count(),
               " us");
  }
  t_.sent(offs, raised, run_);
  return dropped;
}

}  // namespace sp::chi::eo
