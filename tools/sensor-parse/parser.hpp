// sensor-parse's record parser, inside (the public face is parse.hpp). RecordParser::Impl is one
// object per stream: the schema compiled for lookups, simdjson's parsers and the cells of the current
// line. Its parts live in files named for what they do:
//   values.cpp     value checks: a JSON or text value against its column type, into a Cell
//   json_path.cpp  the simdjson path: any JSON line, envelopes (common/rows/envelope.hpp) included
//   fast_path.cpp  the fast path: plain lines read in one pass, without a document
//   csv_input.cpp  CSV input: header, fields, auto-detection
//   rejects.cpp    reject reporting: reasons, the rejects file's lines, salvaged coordinates
//   run.cpp        construction, the row out (emit), and run() over a stream
// The files are compiled as one unit (UNITY_BUILD, tools/sensor-parse/CMakeLists.txt) and the member
// functions on the per-line path are declared inline, defined in their files: the fast path calls the
// value checks for every cell, and they must inline as they did when this was one class body (without
// the inline hint 3M plain lines took 0.90 s of CPU instead of 0.84 s, envelopes 1.49 s instead of 1.43 s).
// So a function declared inline here is defined in one of the files above and built only with them.
#pragma once
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/errors.hpp"
#include "common/core/timeutil.hpp"
#include "common/rows/envelope.hpp"
#include "common/rows/plain_json.hpp"
#include "parse.hpp"

namespace sp::parse {

using simdjson::dom::element;
using simdjson::dom::element_type;

inline constexpr std::string_view kBom = "\xEF\xBB\xBF";
// ClickHouse DateTime is a UInt32 of epoch seconds: 1970-01-01 00:00:00 .. 2106-02-07 06:28:15.
inline constexpr int64_t kMaxDateTime = 4294967295LL;
// Epoch numbers at or above this are milliseconds: 1e11 seconds would be past year 5000, far outside
// DateTime anyway, so the two readings never overlap.
inline constexpr double kEpochMsThreshold = 1e11;

inline const std::string& last_part(const Column& c) { return c.path.empty() ? c.path_text : c.path.back(); }
inline bool is_blank(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\r') return false;
  return true;
}

// A number as read, before it is checked against a column type.
struct Num {
  enum Kind : uint8_t { i64, u64, dbl } kind = i64;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  double as_double() const { return kind == i64 ? static_cast<double>(i) : kind == u64 ? static_cast<double>(u) : d; }
};

// JSON number grammar (RFC 8259), so that CSV fields pass the same rules as JSON input: the
// whole field is one number, nothing around it.
inline bool json_number_syntax(std::string_view s, bool& integral) {
  PlainJson j(s);
  std::string_view text;
  return j.number(text, integral) && text.size() == s.size();
}

struct IntRange {
  int64_t lo;
  uint64_t hi;
};
inline IntRange int_range(ColType t) {
  switch (t) {
    case ColType::Int8:
      return {INT8_MIN, INT8_MAX};
    case ColType::Int16:
      return {INT16_MIN, INT16_MAX};
    case ColType::Int32:
      return {INT32_MIN, INT32_MAX};
    case ColType::Int64:
      return {INT64_MIN, INT64_MAX};
    case ColType::UInt8:
      return {0, UINT8_MAX};
    case ColType::UInt16:
      return {0, UINT16_MAX};
    case ColType::UInt32:
      return {0, UINT32_MAX};
    case ColType::UInt64:
      return {0, UINT64_MAX};
    default:
      return {0, 1};
  }
}

// rejects.cpp: the words of reject reasons
// A value from the input quoted for a message: JSON-escaped, cut to a readable length.
std::string quoted(std::string_view v);
// A double as a message shows it.
std::string num_text(double v);
// "an object", "a string", ... for messages.
const char* type_word(element_type t);
// Why simdjson refused a line, in words (with the offending number or byte where it can be found).
std::string json_error_reason(simdjson::error_code err, std::string_view s);

// rejects.cpp: counts and reports one rejected line (warning, rejects file and, for a line with
// coordinates, an ack marker appended to `row`, the rows of ncols columns being written); false when it
// crossed --max-rejects (st.threshold says so) and the run stops.
bool report_reject(const Options& opt, const Line& line, Reject& r, LineWriter* rejects, Stats& st, std::string& row,
                   size_t ncols);

// csv_input.cpp: whether the first non-blank line is a CSV header naming schema columns.
bool looks_like_csv_header(std::string_view line, const Schema& schema);

struct RecordParser::Impl {
  // One converted value, ready for RowBuilder. String views point into the simdjson parser's
  // memory, the CSV scratch fields or the owned defaults; they live until the next line.
  struct Cell {
    // k_text: a value made here (Date, DateTime64, UUID), its text in buf, written as a string.
    // k_list: an Array or Map in the output format's text, in s (container_text): written as is,
    // CSV-quoted in CSV.
    enum Kind : uint8_t { k_str, k_num, k_dt, k_null, k_text, k_list } kind = k_null;
    std::string_view s;
    int64_t dt = 0;
    uint8_t n = 0;
    char buf[48];  // a Decimal(38, 38): "-0." and 38 digits
    std::string_view num() const { return {buf, n}; }
  };

  const Schema schema;  // a copy: callers may pass a temporary
  RowFormat format;
  RowBuilder builder;
  simdjson::dom::parser outer, inner;  // inner: an envelope's value given as a JSON string
  std::string pad_outer, pad_inner;    // input copies with simdjson's required padding
  std::vector<Cell> cells;
  std::vector<Cell> defaults;             // per column; kind null when the column has no default
  std::vector<std::string> default_text;  // owns the defaults' strings
  std::string why;

  // Columns sharing a parent object ("value.*") look it up once per message.
  std::vector<size_t> col_parent;  // column -> parent group
  std::vector<size_t> parent_rep;  // parent group -> a column under it (its path names the parent)
  std::vector<element> parent_elem;
  std::vector<int8_t> parent_state;
  std::vector<std::vector<size_t>> parent_cols;  // parent group -> its columns
  std::vector<std::vector<std::string_view>> parent_keys;  // parent group -> its columns' last path parts
  // False when two columns of the group share a key: then they must be tried in column order.
  std::vector<uint8_t> parent_rotate;
  std::vector<element> col_elem;                 // per column, valid when col_found
  std::vector<uint8_t> col_found;

  // Decimal numbers are read from their text, which simdjson's DOM does not keep: the value's JSON
  // pointer is looked up again in the document's text by simdjson On Demand (raw_json_token). Only
  // columns of Decimal and after (Decimal, Array, Map) touch any of this.
  simdjson::ondemand::parser od;
  const char* doc_buf = nullptr;  // the current document's text, readable for doc_cap bytes (padding)
  size_t doc_len = 0, doc_cap = 0;
  std::string doc_prefix;            // the message's pointer in it: "/value" in an envelope, else ""
  std::vector<std::string> col_ptr;  // per column: its path as a JSON pointer ("/value/x")
  std::string ptr;                   // the pointer of the value being checked
  size_t cur_col = 0;                // the column being checked (container_text's index)
  std::vector<std::string> container_text;  // per Array or Map column: its text for the output format
  std::vector<std::string_view> map_keys;   // scratch: a Map's keys, to find one given twice
  void set_doc(const char* buf, size_t len, size_t cap, const char* prefix) {
    doc_buf = buf;
    doc_len = len;
    doc_cap = cap;
    doc_prefix = prefix;
  }
  // Before column i's value is checked, for the columns that need it.
  void at_column(size_t i) {
    cur_col = i;
    ptr = doc_prefix;
    ptr += col_ptr[i];
  }

  // CSV input
  std::vector<int> csv_index;  // column -> field index in the header, -1 if absent
  size_t csv_fields = 0;
  std::vector<std::string> fields;  // scratch, reused
  std::vector<bool> field_quoted;

  bool fail(const Column& c, const std::string& msg) {
    why = c.path_text + ": " + msg;
    return false;
  }

  void put_num(Cell& cell, int64_t v) {
    auto r = std::to_chars(cell.buf, cell.buf + sizeof cell.buf, v);
    cell.kind = Cell::k_num;
    cell.n = static_cast<uint8_t>(r.ptr - cell.buf);
  }
  void put_num(Cell& cell, uint64_t v) {
    auto r = std::to_chars(cell.buf, cell.buf + sizeof cell.buf, v);
    cell.kind = Cell::k_num;
    cell.n = static_cast<uint8_t>(r.ptr - cell.buf);
  }
  void put_num(Cell& cell, double v) {
    cell.kind = Cell::k_num;
    // A zero is written 0 whatever its sign: simdjson reads the integer -0 as 0, so -0.0 keeping
    // its sign would make -0 and -0.0 differ; and a sign on zero carries no reading.
    if (v == 0) {
      cell.buf[0] = '0';
      cell.n = 1;
      return;
    }
    // Sensor readings have a few decimals: when v * 10^k is an integer n for a small k and n / 10^k
    // rounds back to v (IEEE division is correctly rounded, as is reading the decimal text), the
    // text "n with k decimals" reads back exactly. It is much cheaper than the general algorithm.
    static const double kPow10[] = {1, 10, 100, 1000, 10000, 100000};
    double a = std::fabs(v);
    if (a >= 1e-5 && a < 1e12) {
      for (int k = 0; k < 6; ++k) {
        double scaled = a * kPow10[k];
        double n = std::nearbyint(scaled);
        // If n / 10^k == a, scaled is within n * 2^-52 of n (two roundings of 2^-53 each); a
        // wider gap settles the test without the division, whose latency dominates this loop.
        if (std::fabs(scaled - n) > n * 0x1p-50 || n / kPow10[k] != a) continue;
        char digits[24];
        auto r = std::to_chars(digits, digits + sizeof digits, static_cast<int64_t>(n));
        size_t nd = static_cast<size_t>(r.ptr - digits);
        char* o = cell.buf;
        if (v < 0) *o++ = '-';
        if (nd <= static_cast<size_t>(k)) {  // 0.00ddd
          *o++ = '0';
          *o++ = '.';
          for (size_t z = nd; z < static_cast<size_t>(k); ++z) *o++ = '0';
          std::memcpy(o, digits, nd);
          o += nd;
        } else {
          size_t ip = nd - static_cast<size_t>(k);
          std::memcpy(o, digits, ip);
          o += ip;
          if (k > 0) {
            *o++ = '.';
            std::memcpy(o, digits + ip, static_cast<size_t>(k));
            o += k;
          }
        }
        cell.n = static_cast<uint8_t>(o - cell.buf);
        return;
      }
    }
    auto r = std::to_chars(cell.buf, cell.buf + sizeof cell.buf, v);  // shortest text that reads back exactly
    cell.n = static_cast<uint8_t>(r.ptr - cell.buf);
  }

  static std::string shown(const Num& n) {
    return n.kind == Num::i64 ? std::to_string(n.i) : n.kind == Num::u64 ? std::to_string(n.u) : num_text(n.d);
  }

  bool check_range(const Column& c, const Num& n) {
    double v = n.as_double();
    if (c.min && v < *c.min) return fail(c, shown(n) + " is below the minimum " + num_text(*c.min));
    if (c.max && v > *c.max) return fail(c, shown(n) + " is above the maximum " + num_text(*c.max));
    return true;
  }

  // `shown` renders the input value, only when there is something wrong with it.
  template <class Shown>
  bool datetime(const Column& c, int64_t secs, Cell& cell, Shown shown) {
    if (secs < 0) return fail(c, shown() + " is before 1970-01-01, the start of ClickHouse DateTime");
    if (secs > kMaxDateTime) return fail(c, shown() + " is after 2106-02-07 06:28:15, the end of ClickHouse DateTime");
    cell.kind = Cell::k_dt;
    cell.dt = secs;
    return true;
  }

  // DateTime64: epoch seconds and nanoseconds into "secs.fraction" (format_epoch_fraction). The
  // seconds are always 10 digits: the range is 1970-01-01 to 2286-11-20 17:46:39.
  template <class Shown>
  bool datetime64(const Column& c, int64_t secs, int64_t ns, Cell& cell, Shown shown) {
    if (secs < 0) return fail(c, shown() + " is before 1970-01-01, the start of DateTime64 in sensor-parse");
    if (secs > c.datetime64_max())
      return fail(c, shown() + " is after the end of ClickHouse " + c.base_type() + " (" +
                         format_datetime(c.datetime64_max()) + ")");
    cell.n = static_cast<uint8_t>(format_epoch_fraction(secs, ns, c.precision, cell.buf));
    cell.kind = Cell::k_text;
    return true;
  }

  // Messages of a stream mostly share the hour: "YYYY-MM-DDTHH:MM:SS[.fff]Z" with the same first
  // 13 characters as the previous one needs only its minutes and seconds read. Anything else
  // takes the full parser, which also refills this cache.
  struct HourCache {
    char prefix[13];
    bool valid = false;
    int64_t hour_secs = 0;
  } hour_cache;

  // ---- The fast path's state (fast_path.cpp)

  // The schema's paths as a tree: node 0 is the message; a node is either a parent object (kids)
  // or a leaf read into one or more columns (cols).
  struct FastKid {
    std::string key;
    int node;
    bool plain;  // no byte that a JSON string would have to escape: it can be matched as raw bytes
  };
  struct FastNode {
    std::vector<FastKid> kids;
    std::vector<size_t> cols;
    size_t next = 0;  // the kid expected next (the one after the last matched)
  };
  std::vector<FastNode> fast_nodes;  // empty: no fast path for this schema
  std::vector<uint8_t> fast_seen;    // per node: its key was met in the current object (twice: simdjson path rejects)
  std::vector<uint8_t> col_set;      // per column: read from the current line
  uint64_t fast_rows = 0;
  std::string fast_topic_ok;  // the last envelope topic found to be a valid name
  bool fast_topic_known = false;

  // CSV input: the header line
  size_t header_fields = 0;
  std::vector<std::string> header_names;

  // Declared inline: see the top of this file.
  // ---- run.cpp: construction and the row out
  Impl(const Schema& s, RowFormat f, bool fast);
  inline void emit(std::string& out, const Reject* coords);

  // ---- values.cpp: value checks (a value against its column type, into a Cell)
  inline bool check_string(const Column& c, std::string_view v, Cell& cell);
  inline bool check_number(const Column& c, const Num& n, Cell& cell);
  static inline int64_t utc_min_sec(std::string_view v);
  inline bool iso_time(const Column& c, std::string_view v, Cell& cell);
  inline bool from_json(const Column& c, element e, Cell& cell);
  inline bool from_text(const Column& c, std::string_view v, Cell& cell);
  // The newer types (Date and after in ColType): from a JSON string or CSV text, from an integer.
  bool typed_text(const Column& c, std::string_view v, Cell& cell);
  bool typed_integer(const Column& c, const Num& n, Cell& cell);
  bool typed_json(const Column& c, element e, Cell& cell);
  // Decimal from a number's text (as_string: it came as a JSON string or CSV field, and messages quote it).
  inline bool decimal(const Column& c, std::string_view v, bool as_string, Cell& cell);
  // The text of the number at `ptr` in the current document ("" when it cannot be found).
  std::string_view raw_number();
  // Array and Map: each element checked as T, the whole written as the output format's text.
  bool container(const Column& c, element e, Cell& cell);
  inline bool missing(size_t i, Cell& cell);
  std::string cell_text(size_t col);

  // ---- json_path.cpp: the simdjson path, with envelopes
  inline bool resolve_parent(size_t p, element root, Reject& r);
  inline bool message(element root, std::string& out, Reject& r);
  static inline void parse_into(simdjson::dom::parser& p, std::string& pad, std::string_view text, element& out,
                                simdjson::error_code& err, size_t readable_past = 0);
  inline bool read_envelope(const envelope::Keys& env, std::string& out, Reject& r);
  inline bool json_line(std::string_view line, std::string& out, Reject& r, size_t readable_past);

  // ---- fast_path.cpp: the fast path for plain lines
  void build_fast_paths();
  static inline bool fast_num(std::string_view text, bool integral, Num& n);
  inline bool fast_leaf(PlainJson& j, const FastNode& node);
  inline bool fast_key(PlainJson& j, int node, std::string_view& key, int& kid);
  inline bool fast_members(PlainJson& j, int node, int depth, bool top = false);
  static inline bool fast_int(PlainJson& j, int64_t& v);
  inline bool fast_line(std::string_view line, std::string& out, Reject& r, size_t readable_past);

  // ---- csv_input.cpp: CSV input
  bool split_csv(std::string_view line);
  static inline std::string_view chomp(std::string_view line);
  std::vector<std::string> csv_header(std::string_view line);
  inline bool csv_line(std::string_view line, std::string& out, Reject& r);
};

}  // namespace sp::parse
