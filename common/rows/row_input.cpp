#include "common/rows/row_input.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <cstring>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/log.hpp"
#include "common/rows/row_detail.hpp"
#include "common/rows/rows.hpp"

namespace sp {

using row_detail::json_row;
using row_detail::json_string_at;
using row_detail::parse_int;
using row_detail::skip_value;
using row_detail::skip_ws;
using row_detail::trim;

namespace {

// Field start positions of a CSV line (quotes respected); false when a quote is left open.
bool csv_fields(std::string_view line, std::vector<size_t>& starts) {
  starts.clear();
  size_t p = 0;
  starts.push_back(0);
  while (p < line.size()) {
    if (line[p] == '"' && (p == starts.back())) {
      ++p;
      for (;;) {
        if (p >= line.size()) return false;
        if (line[p] == '"') {
          if (p + 1 < line.size() && line[p + 1] == '"') {
            p += 2;
            continue;
          }
          ++p;
          break;
        }
        ++p;
      }
      continue;
    }
    if (line[p] == ',') starts.push_back(p + 1);
    ++p;
  }
  return true;
}

std::string csv_unquote(std::string_view f) {
  if (f.size() < 2 || f.front() != '"' || f.back() != '"') return std::string(f);
  std::string out;
  for (size_t i = 1; i + 1 < f.size(); ++i) {
    out += f[i];
    if (f[i] == '"' && i + 2 < f.size() && f[i + 1] == '"') ++i;
  }
  return out;
}

// TSV/CSV: the schema's columns, then optionally the 3 coordinates (required with keep).
RowStatus delimited_row(RowFormat f, std::string_view line, size_t ncols, bool keep, std::string& out, RowCoords& c,
                        std::string& why) {
  thread_local std::vector<size_t> starts;
  starts.clear();
  if (f == RowFormat::tsv) {
    // An escaped tab is "\t" (two bytes): every tab byte separates fields.
    starts.push_back(0);
    const char* d = line.data();
    const char* e = d + line.size();
    for (const char* t = d; (t = static_cast<const char*>(std::memchr(t, '\t', static_cast<size_t>(e - t))));)
      starts.push_back(static_cast<size_t>(++t - d));
  } else if (!csv_fields(line, starts)) {
    why = "a quoted field is not closed (an open '\"'): rows are one per line";
    return RowStatus::invalid;
  }
  size_t fields = starts.size();
  if (fields != ncols + 3 && (fields != ncols || keep)) {
    why = std::to_string(fields) + (fields == 1 ? " field" : " fields") + ", want " +
          (keep ? std::to_string(ncols + 3) + " (the schema's " + std::to_string(ncols) +
                      " and _topic, _partition, _offset for --keep-coordinates)"
                : std::to_string(ncols) + " (the schema's columns), or " + std::to_string(ncols + 3) +
                      " with _topic, _partition, _offset");
    return RowStatus::invalid;
  }
  if (fields == ncols + 3) {
    auto field = [&](size_t i) {
      size_t b = starts[i];
      size_t e = i + 1 < starts.size() ? starts[i + 1] - 1 : line.size();
      return line.substr(b, e - b);
    };
    int64_t part = 0, off = 0;
    std::string_view tf = field(ncols), pf = trim(field(ncols + 1)), of = trim(field(ncols + 2));
    if (!parse_int(pf, part) || part < 0 || part > INT32_MAX || !parse_int(of, off)) {
      why = "bad Kafka coordinates in the last 3 fields (_topic, _partition, _offset): '" + log::printable(pf, 40) +
            "', '" + log::printable(of, 40) + "' are not integers";
      return RowStatus::invalid;
    }
    c.topic = f == RowFormat::tsv ? tsv_unescape(tf) : csv_unquote(trim(tf));
    c.partition = static_cast<int32_t>(part);
    c.offset = off;
    c.present = true;
    if (!keep) line = line.substr(0, starts[ncols] - 1);
  }
  out.append(line.data(), line.size());
  out += '\n';
  return RowStatus::row;
}

// One VALUES tuple, "(v1, v2, ...)", possibly followed by ',' or ';'. Commas count values at the
// tuple's own level: not inside strings ('...' with \' or '' escapes), calls, arrays or maps ({'k':v}).
RowStatus values_row(std::string_view t, size_t ncols, std::string& out, std::string& why) {
  // Bytes that matter to the walk; every other one is skipped by one table lookup. The check costs
  // about 0.06 s per 1M seed tuples (0.08 -> 0.14 s, dry run), lost in the insert's own time.
  static const auto special = [] {
    std::array<bool, 256> m{};
    for (unsigned char ch : std::string_view("'()[]{},")) m[ch] = true;
    return m;
  }();
  if (t.empty() || t.front() != '(') {
    why = "not a VALUES tuple '(...)'";
    return RowStatus::invalid;
  }
  const char* d = t.data();
  size_t n = t.size(), values = 1, end = 0;
  int depth = 0;
  for (size_t p = 0; p < n; ++p) {
    char ch = d[p];
    if (!special[static_cast<unsigned char>(ch)]) continue;
    if (ch == '\'') {
      for (++p;; ++p) {
        if (p >= n) {
          why = "a string is not closed (an open ')";
          return RowStatus::invalid;
        }
        if (d[p] == '\\') {
          ++p;
        } else if (d[p] == '\'') {
          if (p + 1 < n && d[p + 1] == '\'') {
            ++p;
          } else {
            break;
          }
        }
      }
    } else if (ch == '(' || ch == '[' || ch == '{') {
      ++depth;
    } else if (ch == ')' || ch == ']' || ch == '}') {
      if (--depth == 0) {
        end = p + 1;
        break;
      }
    } else if (depth == 1) {  // ','
      ++values;
    }
  }
  if (end == 0) {
    why = "the tuple is not closed (an open '(')";
    return RowStatus::invalid;
  }
  std::string_view rest = trim(t.substr(end));
  while (!rest.empty() && (rest.front() == ',' || rest.front() == ';')) rest = trim(rest.substr(1));
  if (!rest.empty()) {
    why = rest.front() == '(' ? "more than one tuple on the line (one row per line)" : "text after the tuple";
    return RowStatus::invalid;
  }
  if (values == 1 && trim(t.substr(1, end - 2)).empty()) values = 0;  // "()"
  if (values != ncols) {
    why = std::to_string(values) + (values == 1 ? " value" : " values") + ", want " + std::to_string(ncols) +
          " (the schema's columns)";
    return RowStatus::invalid;
  }
  out.append(t.data(), end);
  return RowStatus::row;
}

bool starts_with_insert(std::string_view s) {
  static const char kw[] = "insert into";
  if (s.size() < sizeof kw - 1) return false;
  for (size_t i = 0; i + 1 < sizeof kw; ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != kw[i]) return false;
  return true;
}

}  // namespace

RowShape::RowShape(std::vector<std::string> names, std::vector<char> nullable_columns)
    : columns(std::move(names)), nullable(std::move(nullable_columns)) {
  nullable.resize(columns.size(), 0);
  for (const auto& name : columns) {
    std::string k;
    append_json_string(k, name);
    json_keys.push_back(k + ":");
  }
}

RowShape RowShape::of(const Schema& s) {
  std::vector<char> nullable;
  for (const auto& col : s.columns) nullable.push_back(col.nullable() ? 1 : 0);
  return RowShape(s.column_names(), nullable);
}


RowStatus split_row(RowFormat f, std::string_view line, const RowShape& shape, bool keep_coords, std::string& out,
                    RowCoords& c, std::string& why) {
  size_t ncols = shape.columns.size();
  c.present = false;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (trim(line).empty()) return RowStatus::skip;
  RowStatus rs = RowStatus::invalid;
  switch (f) {
    case RowFormat::json: rs = json_row(line, shape, keep_coords, out, c, why); break;
    case RowFormat::tsv:
    case RowFormat::csv: rs = delimited_row(f, line, ncols, keep_coords, out, c, why); break;
    case RowFormat::values: {
      std::string_view t = trim(line);
      if (starts_with_insert(t)) return RowStatus::skip;  // the seed's statement header line
      return values_row(t, ncols, out, why);
    }
  }
  // No row has a marker's shape, so markers (rare) are looked for only in lines that are no row.
  Ack a;
  if (rs == RowStatus::invalid && parse_ack_marker(f, line, ncols, a)) {
    c.present = true;
    c.topic = std::move(a.topic);
    c.partition = a.partition;
    c.offset = a.offset;
    why.clear();
    return RowStatus::marker;
  }
  return rs;
}

namespace {
// sensor-parse's exact shape (the keys in schema order, no escape up to the value): the value found
// with a compare per key and a search per value; anything else goes the general way.
bool json_field_fast(std::string_view row, const RowShape& shape, size_t col, std::string& value) {
  if (row.empty() || row[0] != '{') return false;
  size_t p = 1;
  for (size_t i = 0;; ++i) {
    const std::string& k = shape.json_keys[i];
    if (row.compare(p, k.size(), k) != 0) return false;
    p += k.size();
    if (p < row.size() && row[p] == '"') {
      size_t e = row.find('"', p + 1);
      if (e == std::string_view::npos || std::memchr(row.data() + p + 1, '\\', e - p - 1)) return false;
      if (i == col) {
        value.assign(row.data() + p + 1, e - p - 1);
        return true;
      }
      p = e + 1;
    } else {
      if (i == col) return false;  // no string: the general path says so
      while (p < row.size() && row[p] != ',' && row[p] != '}') {
        if (row[p] == '"' || row[p] == '{' || row[p] == '[') return false;
        ++p;
      }
    }
    if (p >= row.size() || row[p] != ',') return false;
    ++p;
  }
}
}  // namespace

bool row_string_field(RowFormat f, std::string_view row, const RowShape& shape, size_t col, std::string& value) {
  if (col >= shape.columns.size()) return false;
  while (!row.empty() && (row.back() == '\n' || row.back() == '\r')) row.remove_suffix(1);
  if (f == RowFormat::json && json_field_fast(row, shape, col, value)) return true;
  if (f == RowFormat::json) {
    size_t p = 0;
    skip_ws(row, p);
    if (p >= row.size() || row[p] != '{') return false;
    ++p;
    std::string key;
    for (;;) {
      skip_ws(row, p);
      if (!json_string_at(row, p, key)) return false;
      skip_ws(row, p);
      if (p >= row.size() || row[p] != ':') return false;
      ++p;
      skip_ws(row, p);
      if (key == shape.columns[col]) return json_string_at(row, p, value);  // a number or null: no string
      if (!skip_value(row, p)) return false;
      skip_ws(row, p);
      if (p >= row.size() || row[p] != ',') return false;
      ++p;
    }
  }
  if (f == RowFormat::tsv || f == RowFormat::csv) {
    thread_local std::vector<size_t> starts;  // once per row read: no allocation each time
    starts.clear();
    if (f == RowFormat::tsv) {
      starts.push_back(0);
      for (size_t i = 0; i < row.size(); ++i)
        if (row[i] == '\t') starts.push_back(i + 1);
    } else if (!csv_fields(row, starts)) {
      return false;
    }
    if (col >= starts.size()) return false;
    size_t b = starts[col], e = col + 1 < starts.size() ? starts[col + 1] - 1 : row.size();
    std::string_view field = row.substr(b, e - b);
    value = f == RowFormat::tsv ? tsv_unescape(field) : csv_unquote(field);
    return true;
  }
  return false;  // VALUES: not supported
}

bool is_column_mismatch(const std::string& why) {
  // the phrases split_row writes for these cases
  for (const char* p : {"unknown column '", "missing column", " fields, want ", " field, want ", " values, want ",
                        " value, want "})
    if (why.find(p) != std::string::npos) return true;
  return false;
}

// The ack marker's reader beside the rows' (its writer, append_ack_marker, is beside RowBuilder).
bool parse_ack_marker(RowFormat f, std::string_view line, size_t ncols, Ack& out) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (f == RowFormat::json) {
    if (line.empty() || line.front() != '{') return false;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.size() != 3) return false;
    auto t = j.find("_topic"), p = j.find("_partition"), o = j.find("_offset");
    if (t == j.end() || p == j.end() || o == j.end() || !t->is_string() || !p->is_number_integer() ||
        !o->is_number_integer())
      return false;
    int64_t part = p->get<int64_t>();
    if (part < 0 || part > INT32_MAX) return false;
    out.topic = t->get<std::string>();
    out.partition = static_cast<int32_t>(part);
    out.offset = o->get<int64_t>();
    return true;
  }
  if (f != RowFormat::tsv && f != RowFormat::csv) return false;
  char sep = f == RowFormat::tsv ? '\t' : ',';
  if (line.size() <= ncols + 1 || line.substr(0, ncols + 1).find_first_not_of(sep) != std::string_view::npos) return false;
  std::string_view rest = line.substr(ncols + 1);
  // the last two fields are the partition and the offset; the topic is what comes before them
  size_t b = rest.rfind(sep);
  if (b == std::string_view::npos || b == 0) return false;
  size_t a = rest.rfind(sep, b - 1);
  if (a == std::string_view::npos) return false;
  int64_t part = 0, off = 0;
  if (!parse_int(rest.substr(a + 1, b - a - 1), part) || part < 0 || part > INT32_MAX ||
      !parse_int(rest.substr(b + 1), off))
    return false;
  std::string_view topic = rest.substr(0, a);
  if (f == RowFormat::tsv) {
    if (topic.find('\t') != std::string_view::npos) return false;
    out.topic = tsv_unescape(topic);
  } else {
    // one CSV field: "..." with "" for a quote, as append_csv_field writes it
    if (topic.size() < 2 || topic.front() != '"' || topic.back() != '"') return false;
    std::string t;
    for (size_t i = 1; i + 1 < topic.size(); ++i) {
      if (topic[i] == '"') {
        if (i + 2 >= topic.size() || topic[i + 1] != '"') return false;
        ++i;
      }
      t += topic[i];
    }
    out.topic = std::move(t);
  }
  out.partition = static_cast<int32_t>(part);
  out.offset = off;
  return true;
}

}  // namespace sp
