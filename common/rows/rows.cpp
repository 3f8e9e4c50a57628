#include "common/rows/rows.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

#include "common/core/errors.hpp"
#include "common/core/timeutil.hpp"

namespace sp {

RowFormat parse_row_format(std::string_view name) {
  std::string n(name);
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  if (n == "json" || n == "jsoneachrow" || n == "jsonl" || n == "ndjson") return RowFormat::json;
  if (n == "tsv" || n == "tabseparated") return RowFormat::tsv;
  if (n == "csv") return RowFormat::csv;
  if (n == "values" || n == "sql") return RowFormat::values;
  throw UsageError("unknown row format '" + std::string(name) + "' (use json, tsv, csv or values)");
}

const char* clickhouse_format_name(RowFormat f) {
  switch (f) {
    case RowFormat::json: return "JSONEachRow";
    case RowFormat::tsv: return "TabSeparated";
    case RowFormat::csv: return "CSV";
    case RowFormat::values: return "Values";
  }
  return "JSONEachRow";
}

namespace {

// What one byte becomes in a format: n == 0 means it is copied as is.
struct Esc {
  char s[7];
  uint8_t n;
};
struct EscTable {
  Esc e[256];
  void set(unsigned char c, const char* rep) {
    size_t n = std::strlen(rep);
    std::memcpy(e[c].s, rep, n);
    e[c].n = static_cast<uint8_t>(n);
  }
};

EscTable make_json_table() {
  EscTable t{};
  const char hex[] = "0123456789abcdef";
  for (unsigned c = 0; c < 0x20; ++c) {
    char rep[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
    t.set(static_cast<unsigned char>(c), rep);
  }
  char del[7] = {'\\', 'u', '0', '0', '7', 'f', 0};
  t.set(0x7f, del);
  t.set('"', "\\\"");
  t.set('\\', "\\\\");
  t.set('\n', "\\n");
  t.set('\r', "\\r");
  t.set('\t', "\\t");
  t.set('\b', "\\b");
  t.set('\f', "\\f");
  return t;
}
EscTable make_tsv_table() {
  EscTable t{};
  t.set('\t', "\\t");
  t.set('\n', "\\n");
  t.set('\r', "\\r");
  t.set('\\', "\\\\");
  t.set('\0', "\\0");
  t.set('\b', "\\b");
  t.set('\f', "\\f");
  return t;
}
EscTable make_csv_table() {
  EscTable t{};
  t.set('"', "\"\"");
  return t;
}
EscTable make_sql_table() {
  EscTable t{};
  t.set('\'', "\\'");
  t.set('\\', "\\\\");
  t.set('\n', "\\n");
  t.set('\r', "\\r");
  t.set('\t', "\\t");
  t.set('\0', "\\0");
  t.set('\b', "\\b");
  t.set('\f', "\\f");
  return t;
}
const EscTable kJson = make_json_table(), kTsv = make_tsv_table(), kCsv = make_csv_table(), kSql = make_sql_table();

// Word-at-a-time tests (exact as booleans for n <= 128): most values need no escape at all, and
// eight bytes per step find that out far faster than a per-byte switch.
constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
inline uint64_t has_zero(uint64_t w) { return (w - kOnes) & ~w & kHigh; }
inline uint64_t has_byte(uint64_t w, unsigned char c) { return has_zero(w ^ (kOnes * c)); }
inline uint64_t has_less(uint64_t w, unsigned char n) { return (w - kOnes * n) & ~w & kHigh; }

// A word test may report bytes the table copies as is; the table has the last word.
struct JsonWord {
  bool operator()(uint64_t w) const { return has_less(w, 0x20) | has_byte(w, '"') | has_byte(w, '\\') | has_byte(w, 0x7f); }
};
struct TsvWord {
  bool operator()(uint64_t w) const { return has_less(w, 0x0e) | has_byte(w, '\\'); }
};
struct CsvWord {
  bool operator()(uint64_t w) const { return has_byte(w, '"'); }
};
struct SqlWord {
  bool operator()(uint64_t w) const { return has_less(w, 0x0e) | has_byte(w, '\\') | has_byte(w, '\''); }
};

template <class Word>
inline size_t plain_prefix(const char* p, size_t n, const EscTable& t, Word word) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    if (word(w)) break;
  }
  for (; i < n; ++i)
    if (t.e[static_cast<unsigned char>(p[i])].n) return i;
  return n;
}

// Row pieces are mostly a few bytes: overlapping word copies beat a memcpy call for them.
inline void copy_bytes(char* d, const char* s, size_t n) {
  if (n >= 8 && n <= 16) {
    uint64_t a, b;
    std::memcpy(&a, s, 8);
    std::memcpy(&b, s + n - 8, 8);
    std::memcpy(d, &a, 8);
    std::memcpy(d + n - 8, &b, 8);
  } else if (n >= 4 && n < 8) {
    uint32_t a, b;
    std::memcpy(&a, s, 4);
    std::memcpy(&b, s + n - 4, 4);
    std::memcpy(d, &a, 4);
    std::memcpy(d + n - 4, &b, 4);
  } else if (n > 0 && n < 4) {
    d[0] = s[0];
    d[n / 2] = s[n / 2];
    d[n - 1] = s[n - 1];
  } else if (n > 16) {
    std::memcpy(d, s, n);
  }
}

// Escaped bytes per input byte at most (\u00XX).
constexpr size_t kMaxEsc = 6;

struct StringSink {
  std::string& s;
  void write(const char* p, size_t n) { s.append(p, n); }
};
// Writes into room the caller made (kMaxEsc bytes per input byte).
struct RawSink {
  char* p;
  void write(const char* q, size_t n) {
    copy_bytes(p, q, n);
    p += n;
  }
};

template <class Sink, class Word>
inline void escape(Sink& o, std::string_view s, const EscTable& t, Word word) {
  const char* p = s.data();
  size_t n = s.size();
  for (;;) {
    size_t k = plain_prefix(p, n, t, word);
    o.write(p, k);
    if (k == n) return;
    const Esc& e = t.e[static_cast<unsigned char>(p[k])];
    o.write(e.s, e.n);
    p += k + 1;
    n -= k + 1;
  }
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  StringSink o{out};
  escape(o, s, kJson, JsonWord{});
  out += '"';
}

void append_tsv_field(std::string& out, std::string_view s) {
  StringSink o{out};
  escape(o, s, kTsv, TsvWord{});
}

bool append_tsv_unescaped(std::string& out, std::string_view f, TsvUnescape mode, std::string* why) {
  const bool strict = mode == TsvUnescape::strict;
  for (size_t i = 0; i < f.size();) {
    size_t bs = f.find('\\', i);
    if (bs == std::string_view::npos) {
      out.append(f.data() + i, f.size() - i);
      break;
    }
    out.append(f.data() + i, bs - i);
    if (bs + 1 == f.size()) {
      if (strict) {
        if (why) *why = "a lone '\\' at the end";
        return false;
      }
      out += '\\';
      break;
    }
    char c = f[bs + 1];
    switch (c) {
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case '0': out += '\0'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case '\\': out += '\\'; break;
      default:
        if (strict) {
          if (why) *why = std::string("the escape '\\") + c + "'";
          return false;
        }
        out += c;
    }
    i = bs + 2;
  }
  return true;
}

std::string tsv_unescape(std::string_view f) {
  std::string out;
  append_tsv_unescaped(out, f, TsvUnescape::lenient);
  return out;
}

// Always quoted: a quoted CSV field may hold anything but must not hold a raw newline here,
// since one row must stay one line; ClickHouse's CSV reader does not unescape \n, so a value
// with a newline cannot be written as one CSV line at all. sensor-parse rejects those rows in
// CSV mode; this function replaces nothing and assumes the caller checked (see csv_safe()).
void append_csv_field(std::string& out, std::string_view s) {
  out += '"';
  StringSink o{out};
  escape(o, s, kCsv, CsvWord{});
  out += '"';
}

void append_sql_string(std::string& out, std::string_view s) {
  out += '\'';
  StringSink o{out};
  escape(o, s, kSql, SqlWord{});
  out += '\'';
}

RowBuilder::RowBuilder(RowFormat f, const std::vector<std::string>& columns) : f_(f) {
  for (const auto& c : columns) {
    std::string k;
    append_json_string(k, c);
    k += ':';
    max_key_ = std::max(max_key_, k.size());
    json_keys_.push_back(std::move(k));
  }
  switch (f_) {
    case RowFormat::json: sep_[0] = ','; sep_len_ = 1; break;
    case RowFormat::tsv: sep_[0] = '\t'; sep_len_ = 1; break;
    case RowFormat::csv: sep_[0] = ','; sep_len_ = 1; break;
    case RowFormat::values: sep_[0] = ','; sep_[1] = ' '; sep_len_ = 2; break;
  }
  cap_ = 256;
  buf_.reset(new char[cap_]);
}

void RowBuilder::grow(size_t n) {
  size_t cap = std::max(cap_ * 2, pos_ + n);
  std::unique_ptr<char[]> b(new char[cap]);
  std::memcpy(b.get(), buf_.get(), pos_);
  buf_ = std::move(b);
  cap_ = cap;
}

void RowBuilder::begin(std::string& out) {
  out_ = &out;
  col_ = 0;
  pos_ = 0;
  if (f_ == RowFormat::json) buf_[pos_++] = '{';
  if (f_ == RowFormat::values) buf_[pos_++] = '(';
}

void RowBuilder::string(std::string_view v) {
  char* p = next_cell(v.size() * kMaxEsc + 2);
  RawSink o{p};
  switch (f_) {
    case RowFormat::json:
      *o.p++ = '"';
      escape(o, v, kJson, JsonWord{});
      *o.p++ = '"';
      break;
    case RowFormat::tsv: escape(o, v, kTsv, TsvWord{}); break;
    case RowFormat::csv:
      *o.p++ = '"';
      escape(o, v, kCsv, CsvWord{});
      *o.p++ = '"';
      break;
    case RowFormat::values:
      *o.p++ = '\'';
      escape(o, v, kSql, SqlWord{});
      *o.p++ = '\'';
      break;
  }
  pos_ = static_cast<size_t>(o.p - buf_.get());
}

void RowBuilder::number(std::string_view text) {
  char* p = next_cell(text.size());
  copy_bytes(p, text.data(), text.size());
  pos_ = static_cast<size_t>(p + text.size() - buf_.get());
}

void RowBuilder::datetime(int64_t epoch_seconds) {
  char* p = next_cell(21);
  bool quoted = f_ != RowFormat::tsv;
  char q = f_ == RowFormat::values ? '\'' : '"';
  if (quoted) *p++ = q;
  dt_.write(epoch_seconds, p);
  p += 19;
  if (quoted) *p++ = q;
  pos_ = static_cast<size_t>(p - buf_.get());
}

void RowBuilder::null() {
  char* p = next_cell(4);
  const char* t = f_ == RowFormat::json ? "null" : f_ == RowFormat::values ? "NULL" : "\\N";
  size_t n = std::strlen(t);
  std::memcpy(p, t, n);
  pos_ = static_cast<size_t>(p + n - buf_.get());
}

void RowBuilder::coords(std::string_view topic, int32_t partition, int64_t offset) {
  if (f_ == RowFormat::values) return;
  char* p = room(topic.size() * kMaxEsc + 96);
  auto key = [&](const char* k) {
    if (f_ == RowFormat::json) {
      *p++ = ',';
      *p++ = '"';
      size_t n = std::strlen(k);
      std::memcpy(p, k, n);
      p += n;
      *p++ = '"';
      *p++ = ':';
    } else {
      *p++ = f_ == RowFormat::tsv ? '\t' : ',';
    }
  };
  key("_topic");
  RawSink o{p};
  if (f_ == RowFormat::json) {
    *o.p++ = '"';
    escape(o, topic, kJson, JsonWord{});
    *o.p++ = '"';
  } else if (f_ == RowFormat::tsv) {
    escape(o, topic, kTsv, TsvWord{});
  } else {
    *o.p++ = '"';
    escape(o, topic, kCsv, CsvWord{});
    *o.p++ = '"';
  }
  p = o.p;
  key("_partition");
  p = std::to_chars(p, p + 12, partition).ptr;
  key("_offset");
  p = std::to_chars(p, p + 21, offset).ptr;
  pos_ = static_cast<size_t>(p - buf_.get());
}

void RowBuilder::end() {
  char* p = room(2);
  if (f_ == RowFormat::json) *p++ = '}';
  if (f_ == RowFormat::values) *p++ = ')';
  *p++ = '\n';
  out_->append(buf_.get(), static_cast<size_t>(p - buf_.get()));
  pos_ = 0;
  out_ = nullptr;
}

// ---------- ack markers ----------

bool append_ack_marker(std::string& out, RowFormat f, size_t ncols, std::string_view topic, int32_t partition,
                       int64_t offset) {
  std::string p = std::to_string(partition), o = std::to_string(offset);
  switch (f) {
    case RowFormat::json:
      out += "{\"_topic\":";
      append_json_string(out, topic);
      out += ",\"_partition\":" + p + ",\"_offset\":" + o + "}\n";
      return true;
    case RowFormat::tsv:
    case RowFormat::csv: {
      char sep = f == RowFormat::tsv ? '\t' : ',';
      out.append(ncols + 1, sep);
      if (f == RowFormat::tsv)
        append_tsv_field(out, topic);
      else
        append_csv_field(out, topic);
      out += sep;
      out += p;
      out += sep;
      out += o;
      out += '\n';
      return true;
    }
    case RowFormat::values: return false;
  }
  return false;
}

}  // namespace sp
