// The fast path: plain lines (see plain_json.hpp) read in one pass, without a document.
// It produces a row only where the simdjson path would produce the very same row; for anything else
// (a reject, an escape, non-ASCII text, an unusual number) it returns false and json_line() takes the
// simdjson path. tests/fuzz checks the two against each other.
#include "parser.hpp"

#include <algorithm>
#include <cctype>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

namespace sp::parse {

void RecordParser::Impl::build_fast_paths() {
  fast_nodes.assign(1, FastNode{});
  for (size_t i = 0; i < schema.columns.size(); ++i) {
    int n = 0;
    for (const std::string& part : schema.columns[i].path) {
      int next = -1;
      for (const FastKid& k : fast_nodes[n].kids)
        if (k.key == part) next = k.node;
      if (next < 0) {
        next = static_cast<int>(fast_nodes.size());
        bool plain = std::all_of(part.begin(), part.end(), [](char c) {
          return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
        });
        fast_nodes[n].kids.push_back({part, next, plain});
        fast_nodes.emplace_back();
      }
      n = next;
    }
    fast_nodes[n].cols.push_back(i);
  }
  // A path that is both a column and the parent of others ("value" and "value.x") has two
  // meanings the simdjson path sorts out; keep such schemas there.
  for (const FastNode& n : fast_nodes)
    if (!n.kids.empty() && !n.cols.empty()) {
      fast_nodes.clear();
      return;
    }
  // The newer types (Date, DateTime64, UUID, Enum, LowCardinality, Array, Map) take the simdjson
  // path: the default schema's columns keep this path's speed without a check for them per cell.
  // Decimal is the exception: this path has the number's text at hand, which the simdjson path
  // must look up again.
  for (const Column& c : schema.columns)
    if (c.type >= ColType::Date && c.type != ColType::Decimal) {
      fast_nodes.clear();
      return;
    }
  fast_seen.resize(fast_nodes.size());
  col_set.resize(schema.columns.size());
}

// A number as simdjson types it: INT64 for integers (up to 18 digits always fit; longer ones
// are left to it), DOUBLE for the rest. The integer -0 is 0 here as in simdjson.
bool RecordParser::Impl::fast_num(std::string_view text, bool integral, Num& n) {
  n.kind = integral ? Num::i64 : Num::dbl;
  return PlainJson::number_value(text, integral, n.i, n.d);
}

// A leaf's value into each of its columns, as from_json() converts it.
bool RecordParser::Impl::fast_leaf(PlainJson& j, const FastNode& node) {
  switch (j.peek()) {
    case '"': {
      std::string_view s;
      if (!j.string(s)) return false;
      for (size_t ci : node.cols) {
        const Column& c = schema.columns[ci];
        bool ok = c.type == ColType::String     ? check_string(c, s, cells[ci])
                  : c.type == ColType::DateTime ? iso_time(c, s, cells[ci])
                  : c.type == ColType::Decimal  ? decimal(c, s, true, cells[ci])
                                                : false;
        if (!ok) return false;
        col_set[ci] = 1;
      }
      return true;
    }
    case 'n':
      return j.literal("null");  // null is absent: the columns stay unset
    case 't':
    case 'f': {
      bool v = j.peek() == 't';
      if (!j.literal(v ? "true" : "false")) return false;
      for (size_t ci : node.cols) {
        if (schema.columns[ci].type != ColType::Bool) return false;
        put_num(cells[ci], static_cast<int64_t>(v));
        col_set[ci] = 1;
      }
      return true;
    }
    case '{':
    case '[':
      return false;
    default: {
      std::string_view text;
      bool integral;
      Num n;
      if (!j.number(text, integral) || !fast_num(text, integral, n)) return false;
      for (size_t ci : node.cols) {
        const Column& c = schema.columns[ci];
        if (c.type == ColType::String) return false;
        if (c.type == ColType::Decimal ? !decimal(c, text, false, cells[ci]) : !check_number(c, n, cells[ci])) return false;
        col_set[ci] = 1;
      }
      return true;
    }
  }
}

// The next member's key and its ':'; kid is the schema node it names, or -1. Members mostly
// come in the schema's order, so the key after the last one matched is tried first, as the
// bytes "key" (no scan).
bool RecordParser::Impl::fast_key(PlainJson& j, int node, std::string_view& key, int& kid) {
  FastNode& n = fast_nodes[node];
  size_t i = n.next;
  if (i < n.kids.size() && n.kids[i].plain && j.quoted(n.kids[i].key)) {
    key = n.kids[i].key;
  } else {
    if (!j.string(key)) return false;
    for (i = 0; i < n.kids.size() && !same_key(n.kids[i].key, key); ++i) {
    }
    if (i == n.kids.size()) {
      kid = -1;
      return j.eat(':');
    }
  }
  kid = n.kids[i].node;
  n.next = i + 1 == n.kids.size() ? 0 : i + 1;
  return j.eat(':');
}

// The members of an object whose '{' was consumed, read against schema node `node`. top: the
// line's own object, where a "topic" or "offset" key may make the line an envelope.
bool RecordParser::Impl::fast_members(PlainJson& j, int node, int depth, bool top) {
  if (++depth > PlainJson::kMaxDepth) return false;
  if (j.eat('}')) return true;
  for (;;) {
    std::string_view key;
    int kid;
    if (!fast_key(j, node, key, kid)) return false;
    if (top && (same_key(key, "topic") || same_key(key, "offset"))) return false;  // simdjson's path decides
    if (kid >= 0) {
      if (fast_seen[kid]) return false;  // a duplicate key: the simdjson path rejects it
      fast_seen[kid] = 1;
      const FastNode& k = fast_nodes[kid];
      if (k.kids.empty()) {
        if (!fast_leaf(j, k)) return false;
      } else if (j.eat('{')) {
        if (!fast_members(j, kid, depth)) return false;
      } else if (!j.literal("null")) {  // a null parent: its columns are absent
        return false;
      }
    } else if (!j.skip_value(depth)) {
      return false;
    }
    if (j.eat(',')) continue;
    return j.eat('}');
  }
}

// An int64 field of an envelope (partition, offset), as envelope() requires it.
bool RecordParser::Impl::fast_int(PlainJson& j, int64_t& v) {
  std::string_view text;
  bool integral;
  Num n;
  if (!j.number(text, integral) || !integral || !fast_num(text, integral, n)) return false;
  v = n.i;
  return true;
}

// The fast path for a whole line: raw messages, and envelopes that start with "topic" as
// kafka-cat-sensor writes them. Any other object with a "topic" or "offset" key is left to the
// simdjson path, which decides whether it is an envelope.
bool RecordParser::Impl::fast_line(std::string_view line, std::string& out, Reject& r, size_t readable_past) {
  PlainJson j(line, readable_past);
  if (!j.eat('{')) return false;
  std::fill(fast_seen.begin(), fast_seen.end(), 0);
  std::fill(col_set.begin(), col_set.end(), 0);
  std::string_view topic;
  int64_t partition = -1, offset = -1;
  bool is_envelope = j.quoted("topic");
  if (!is_envelope) {
    if (!fast_members(j, 0, 0, true)) return false;
  } else {
    // Each key once (a duplicate is left to the simdjson path, which rejects it); kafka-cat-sensor's
    // order is tried first.
    static constexpr std::string_view kOrder[] = {"topic",        "partition", "offset",  "timestamp",
                                                  "timestamp_ms", "key",       "headers", "value"};
    enum : size_t { kTopic, kPartition, kOffset, kValue = 7, kKeys, kOther = kKeys };
    bool has_topic = false, has_partition = false, has_offset = false, has_value = false;
    size_t id = kTopic;
    for (size_t next = 1;;) {
      if (!j.eat(':')) return false;
      if (id == kTopic) {
        if (has_topic || !j.string(topic)) return false;
        // a stream mostly carries one topic: check its name once
        if (!fast_topic_known || topic != fast_topic_ok) {
          if (!envelope::valid_topic(topic)) return false;
          fast_topic_ok.assign(topic);
          fast_topic_known = true;
        }
        has_topic = true;
      } else if (id == kPartition) {
        if (has_partition || !fast_int(j, partition) || partition < 0 || partition > INT32_MAX) return false;
        has_partition = true;
      } else if (id == kOffset) {
        if (has_offset || !fast_int(j, offset) || offset < 0) return false;
        has_offset = true;
      } else if (id == kValue) {
        if (has_value || !j.eat('{') || !fast_members(j, 0, 1)) return false;  // a string or null value: simdjson path
        has_value = true;
      } else if (!j.skip_value(1)) {
        return false;
      }
      if (!j.eat(',')) {
        if (!j.eat('}')) return false;
        break;
      }
      if (next < kKeys && j.quoted(kOrder[next])) {
        id = next++;
        continue;
      }
      std::string_view key;
      if (!j.string(key)) return false;
      id = kOther;
      for (size_t k : {size_t{kTopic}, size_t{kPartition}, size_t{kOffset}, size_t{kValue}})
        if (same_key(key, kOrder[k])) id = k;
    }
    if (!has_offset || !has_value || !has_partition) return false;
  }
  if (!j.at_end()) return false;
  for (size_t i = 0; i < cells.size(); ++i)
    if (!col_set[i] && !missing(i, cells[i])) return false;
  if (is_envelope) {
    r.has_coords = true;
    r.topic.assign(topic);
    r.partition = static_cast<int32_t>(partition);
    r.offset = offset;
    emit(out, &r);
  } else {
    emit(out, nullptr);
  }
  return true;
}

}  // namespace sp::parse
