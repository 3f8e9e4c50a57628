// CSV input: the header names the columns; fields are checked as text (from_text).
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

// Auto-detection looks at the first non-blank line: JSON lines start with '{'; anything else that
// names at least one schema column in comma-separated fields is a CSV header.
bool looks_like_csv_header(std::string_view line, const Schema& schema) {
  if (line.substr(0, kBom.size()) == kBom) line.remove_prefix(kBom.size());
  size_t i = line.find_first_not_of(" \t");
  if (i == std::string_view::npos || line[i] == '{' || line[i] == '[') return false;
  if (line.find(',') == std::string_view::npos) return false;
  size_t start = 0;
  for (;;) {
    size_t e = line.find(',', start);
    std::string_view f = line.substr(start, e == std::string_view::npos ? std::string_view::npos : e - start);
    while (!f.empty() && (f.back() == '\r' || f.back() == ' ' || f.back() == '"')) f.remove_suffix(1);
    while (!f.empty() && (f.front() == ' ' || f.front() == '"')) f.remove_prefix(1);
    for (const auto& c : schema.columns)
      if (f == c.name || f == c.path_text || f == last_part(c)) return true;
    if (e == std::string_view::npos) return false;
    start = e + 1;
  }
}

// Splits one CSV line (RFC 4180 quoting; a record must fit on one line). False + why on bad quoting.
bool RecordParser::Impl::split_csv(std::string_view line) {
  size_t nf = 0;
  size_t i = 0;
  auto field = [&]() -> std::string& {
    if (fields.size() <= nf) {
      fields.emplace_back();
      field_quoted.push_back(false);
    }
    fields[nf].clear();
    field_quoted[nf] = false;
    return fields[nf];
  };
  for (;;) {
    std::string& f = field();
    if (i < line.size() && line[i] == '"') {
      field_quoted[nf] = true;
      ++i;
      for (;;) {
        if (i >= line.size()) {
          why = "CSV: unterminated quoted field " + std::to_string(nf + 1) + " (records must be on one line)";
          return false;
        }
        char c = line[i++];
        if (c == '"') {
          if (i < line.size() && line[i] == '"') {
            f += '"';
            ++i;
          } else {
            break;
          }
        } else {
          f += c;
        }
      }
      if (i < line.size() && line[i] != ',') {
        why = "CSV: text after the closing quote of field " + std::to_string(nf + 1);
        return false;
      }
    } else {
      size_t e = line.find(',', i);
      if (e == std::string_view::npos) e = line.size();
      std::string_view v = line.substr(i, e - i);
      if (v.find('"') != std::string_view::npos) {
        why = "CSV: quote inside unquoted field " + std::to_string(nf + 1);
        return false;
      }
      f.assign(v.data(), v.size());
      i = e;
    }
    ++nf;
    if (i >= line.size()) break;
    ++i;                     // the comma
    if (i == line.size()) {  // trailing comma: one more empty field
      field();
      ++nf;
      break;
    }
  }
  csv_fields = nf;
  return true;
}

std::string_view RecordParser::Impl::chomp(std::string_view line) {
  if (line.substr(0, kBom.size()) == kBom) line.remove_prefix(kBom.size());
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

std::vector<std::string> RecordParser::Impl::csv_header(std::string_view line) {
  line = chomp(line);
  if (!split_csv(line)) throw DataError("CSV header: " + why);
  std::vector<std::string> names(fields.begin(), fields.begin() + static_cast<long>(csv_fields));
  for (auto& n : names) {
    while (!n.empty() && (n.back() == ' ' || n.back() == '\t')) n.pop_back();
    while (!n.empty() && (n.front() == ' ' || n.front() == '\t')) n.erase(0, 1);
  }
  csv_index.assign(schema.columns.size(), -1);
  std::vector<bool> used(names.size(), false);
  // Name first, then full path, then the path's last part ("timestamp" for ts, "humidity" for value.humidity).
  for (int pass = 0; pass < 3; ++pass) {
    for (size_t ci = 0; ci < schema.columns.size(); ++ci) {
      if (csv_index[ci] >= 0) continue;
      const Column& c = schema.columns[ci];
      const std::string& want = pass == 0 ? c.name : pass == 1 ? c.path_text : last_part(c);
      for (size_t k = 0; k < names.size(); ++k)
        if (!used[k] && names[k] == want) {
          csv_index[ci] = static_cast<int>(k);
          used[k] = true;
          break;
        }
    }
  }
  for (size_t ci = 0; ci < schema.columns.size(); ++ci) {
    const Column& c = schema.columns[ci];
    if (csv_index[ci] < 0 && c.required)
      throw DataError("CSV header has no field for required column '" + c.name + "' (name it " + c.name +
                      (c.path_text != c.name ? " or " + c.path_text : std::string()) + ")");
  }
  header_fields = names.size();
  std::vector<std::string> unknown;
  for (size_t k = 0; k < names.size(); ++k)
    if (!used[k]) unknown.push_back(names[k]);
  header_names = std::move(names);
  return unknown;
}

bool RecordParser::Impl::csv_line(std::string_view line, std::string& out, Reject& r) {
  line = chomp(line);
  if (is_blank(line)) {
    r.reason = "empty line";
    return false;
  }
  // JSON input gets this check from simdjson; CSV fields are copied into rows as they are
  if (!simdjson::validate_utf8(line.data(), line.size())) {
    r.reason = "invalid UTF-8";
    return false;
  }
  if (!split_csv(line)) {
    r.reason = std::move(why);
    return false;
  }
  if (csv_fields != header_fields) {
    r.reason = "CSV: " + std::to_string(csv_fields) + " fields, the header has " + std::to_string(header_fields);
    return false;
  }
  for (size_t i = 0; i < schema.columns.size(); ++i) {
    int k = csv_index[i];
    bool ok;
    // An empty unquoted field is an absent value; "" is an empty string.
    if (k < 0 || (fields[k].empty() && !field_quoted[k])) {
      ok = missing(i, cells[i]);
    } else {
      // The checks name the JSON path; for CSV the header's name is what the user wrote.
      cur_col = i;
      ok = from_text(schema.columns[i], fields[k], cells[i]);
      if (!ok && header_names[k] != schema.columns[i].path_text)
        why = header_names[k] + why.substr(schema.columns[i].path_text.size());
    }
    if (!ok) {
      r.reason = std::move(why);
      return false;
    }
  }
  emit(out, nullptr);
  return true;
}

}  // namespace sp::parse
