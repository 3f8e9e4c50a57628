#include "common/rows.hpp"

#include <algorithm>
#include <cctype>

#include "common/errors.hpp"
#include "common/timeutil.hpp"

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
const char kHex[] = "0123456789abcdef";
inline void hex_escape(std::string& out, unsigned char c) {
  out += "\\u00";
  out += kHex[c >> 4];
  out += kHex[c & 15];
}
}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  size_t run = 0;  // copy runs of plain bytes in one append
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f) continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default: hex_escape(out, c);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void append_tsv_field(std::string& out, std::string_view s) {
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    const char* rep = nullptr;
    switch (c) {
      case '\t': rep = "\\t"; break;
      case '\n': rep = "\\n"; break;
      case '\r': rep = "\\r"; break;
      case '\\': rep = "\\\\"; break;
      case '\0': rep = "\\0"; break;
      case '\b': rep = "\\b"; break;
      case '\f': rep = "\\f"; break;
      default: continue;
    }
    out.append(s.data() + run, i - run);
    out += rep;
    run = i + 1;
  }
  out.append(s.data() + run, s.size() - run);
}

void append_csv_field(std::string& out, std::string_view s) {
  // Always quoted: a quoted CSV field may hold anything but must not hold a raw newline here,
  // since one row must stay one line; ClickHouse's CSV reader does not unescape \n, so a value
  // with a newline cannot be written as one CSV line at all. sensor-parse rejects those rows in
  // CSV mode; this function replaces nothing and assumes the caller checked (see csv_safe()).
  out += '"';
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '"') continue;
    out.append(s.data() + run, i + 1 - run);
    out += '"';
    run = i + 1;
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void append_sql_string(std::string& out, std::string_view s) {
  out += '\'';
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    const char* rep = nullptr;
    switch (c) {
      case '\'': rep = "\\'"; break;
      case '\\': rep = "\\\\"; break;
      case '\n': rep = "\\n"; break;
      case '\r': rep = "\\r"; break;
      case '\t': rep = "\\t"; break;
      case '\0': rep = "\\0"; break;
      case '\b': rep = "\\b"; break;
      case '\f': rep = "\\f"; break;
      default: continue;
    }
    out.append(s.data() + run, i - run);
    out += rep;
    run = i + 1;
  }
  out.append(s.data() + run, s.size() - run);
  out += '\'';
}

RowBuilder::RowBuilder(RowFormat f, const std::vector<std::string>& columns) : f_(f) {
  for (const auto& c : columns) {
    std::string k;
    append_json_string(k, c);
    k += ':';
    json_keys_.push_back(std::move(k));
  }
}

void RowBuilder::begin(std::string& out) {
  out_ = &out;
  col_ = 0;
  if (f_ == RowFormat::json) out += '{';
  if (f_ == RowFormat::values) out += '(';
}

void RowBuilder::next_cell() {
  if (col_ > 0) {
    switch (f_) {
      case RowFormat::json: *out_ += ','; break;
      case RowFormat::tsv: *out_ += '\t'; break;
      case RowFormat::csv: *out_ += ','; break;
      case RowFormat::values: *out_ += ", "; break;
    }
  }
  if (f_ == RowFormat::json && col_ < json_keys_.size()) *out_ += json_keys_[col_];
  ++col_;
}

void RowBuilder::string(std::string_view v) {
  next_cell();
  switch (f_) {
    case RowFormat::json: append_json_string(*out_, v); break;
    case RowFormat::tsv: append_tsv_field(*out_, v); break;
    case RowFormat::csv: append_csv_field(*out_, v); break;
    case RowFormat::values: append_sql_string(*out_, v); break;
  }
}

void RowBuilder::number(std::string_view text) {
  next_cell();
  out_->append(text.data(), text.size());
}

void RowBuilder::datetime(int64_t epoch_seconds) {
  next_cell();
  char buf[19];
  format_datetime(epoch_seconds, buf);
  bool quoted = f_ != RowFormat::tsv;
  char q = f_ == RowFormat::values ? '\'' : '"';
  if (quoted) *out_ += q;
  out_->append(buf, 19);
  if (quoted) *out_ += q;
}

void RowBuilder::null() {
  next_cell();
  switch (f_) {
    case RowFormat::json: *out_ += "null"; break;
    case RowFormat::tsv: *out_ += "\\N"; break;
    case RowFormat::csv: *out_ += "\\N"; break;
    case RowFormat::values: *out_ += "NULL"; break;
  }
}

void RowBuilder::coords(std::string_view topic, int32_t partition, int64_t offset) {
  if (f_ == RowFormat::values) return;
  auto key = [&](const char* k) {
    if (f_ == RowFormat::json) {
      *out_ += ",\"";
      *out_ += k;
      *out_ += "\":";
    } else {
      *out_ += f_ == RowFormat::tsv ? '\t' : ',';
    }
  };
  key("_topic");
  if (f_ == RowFormat::json)
    append_json_string(*out_, topic);
  else if (f_ == RowFormat::tsv)
    append_tsv_field(*out_, topic);
  else
    append_csv_field(*out_, topic);
  key("_partition");
  *out_ += std::to_string(partition);
  key("_offset");
  *out_ += std::to_string(offset);
}

void RowBuilder::end() {
  if (f_ == RowFormat::json) *out_ += '}';
  if (f_ == RowFormat::values) *out_ += ')';
  *out_ += '\n';
  out_ = nullptr;
}

}  // namespace sp
