// Row lines: the pipe contract between sensor-parse (writes) and ch-insert (reads).
// One row per line, in JSONEachRow (default), TSV, CSV or the seed's SQL VALUES tuples.
// Kafka coordinates ride along as the extra columns _topic, _partition, _offset: JSON keys in
// JSONEachRow, three trailing fields in TSV/CSV (after the schema's columns), absent in VALUES.
// Ack markers (below) stand for a message that made no row but must still be acknowledged.
#pragma once
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/timeutil.hpp"
#include "common/rows/acks.hpp"

namespace sp {

enum class RowFormat { json, tsv, csv, values };

// Accepts json|jsoneachrow|tsv|tabseparated|csv|values (case-insensitive); throws UsageError.
RowFormat parse_row_format(std::string_view name);
// The ClickHouse FORMAT name: JSONEachRow, TabSeparated, CSV, Values.
const char* clickhouse_format_name(RowFormat f);

// Escapers append to out. Input must be valid UTF-8 (callers validate); control characters are
// escaped so that no value can break the one-line-per-row framing in any format.
void append_json_string(std::string& out, std::string_view s);  // "..." with JSON escapes
void append_tsv_field(std::string& out, std::string_view s);    // ClickHouse TabSeparated escapes
void append_csv_field(std::string& out, std::string_view s);    // always "quoted", "" doubled; caller rejects values with newlines
void append_sql_string(std::string& out, std::string_view s);   // '...' with \\ and \' (ClickHouse string literal)

// The inverse of append_tsv_field: one TabSeparated field's text appended to out, unescaped. lenient
// reads as ClickHouse does (another escaped character is that character, a lone '\' at the end stays):
// for text the server or another writer made. strict takes only the escapes append_tsv_field writes and
// returns false with *why on anything else (out then holds part of the value: the caller rolls back),
// for a re-encoder that must not guess what the server would read (row_binary.hpp).
enum class TsvUnescape { lenient, strict };
bool append_tsv_unescaped(std::string& out, std::string_view f, TsvUnescape mode, std::string* why = nullptr);
std::string tsv_unescape(std::string_view f);  // lenient, as a new string

// Ack marker: a line with a message's Kafka coordinates and no row, which ch-insert acknowledges
// with the rows around it and sends nothing for. sensor-parse writes one for a rejected envelope
// once the reject is in its --rejects file, so a partition whose last messages were rejected is
// still acknowledged (and its rejects not written again after a restart). Shaped so that no row
// can look like it, whatever the schema (ncols = the schema's column count, at least 1):
//   JSONEachRow  {"_topic":"t","_partition":3,"_offset":42}  only the coordinates, while a row has
//                every schema column (whose names never start with '_')
//   TSV, CSV     ncols + 1 empty fields, then the 3 coordinate fields: ncols + 4 fields, while a
//                row has ncols, or ncols + 3 with coordinates
//   VALUES       none: VALUES rows carry no coordinates, so nothing is acknowledged there
// Appends the marker with its '\n'; false (nothing appended) for VALUES.
bool append_ack_marker(std::string& out, RowFormat f, size_t ncols, std::string_view topic, int32_t partition,
                       int64_t offset);
// True when line (without its '\n') is a marker in format f; fills out.
bool parse_ack_marker(RowFormat f, std::string_view line, size_t ncols, Ack& out);

// Builds one row line for a fixed column list. Usage per row:
//   b.begin(); b.string(v); b.number("23.5"); b.datetime(epoch); ...; b.end();  (out gets the line + '\n')
// Cells are added in column order. Coordinates are appended with coords() before end().
class RowBuilder {
 public:
  RowBuilder(RowFormat f, const std::vector<std::string>& columns);
  void begin(std::string& out);
  void string(std::string_view v);
  void number(std::string_view text);  // already a valid number literal (JSON/ClickHouse syntax)
  void datetime(int64_t epoch_seconds);  // "YYYY-MM-DD hh:mm:ss" (quoted but in TSV)
  void null();
  void coords(std::string_view topic, int32_t partition, int64_t offset);
  void end();

 private:
  // Cells are written into buf_ with plain stores after one room check each, and the finished row
  // goes to the caller's string in one append: per-piece std::string appends cost more than the
  // escaping itself.
  char* room(size_t n) {
    if (cap_ - pos_ < n) grow(n);
    return buf_.get() + pos_;
  }
  void grow(size_t n);
  // Separator and JSON key, with room for n more bytes. Inline: it runs once per cell.
  char* next_cell(size_t n) {
    char* p = room(2 + max_key_ + n);
    if (col_ > 0) {
      p[0] = sep_[0];
      p[1] = sep_[1];
      p += sep_len_;
    }
    if (f_ == RowFormat::json && col_ < json_keys_.size()) {
      const std::string& k = json_keys_[col_];
      std::memcpy(p, k.data(), k.size());
      p += k.size();
    }
    ++col_;
    return p;
  }
  // The date part of the last day written: civil_from_days is the costly part of a DateTime, and a
  // stream's rows mostly fall on one day.
  DateTimeWriter dt_;  // the date formatted once a day
  RowFormat f_;
  std::vector<std::string> json_keys_;  // precomputed "\"name\":" per column
  size_t max_key_ = 0;
  char sep_[2] = {0, 0};
  uint8_t sep_len_ = 0;
  std::string* out_ = nullptr;
  size_t col_ = 0;
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0, pos_ = 0;
};

}  // namespace sp
