#include "row_input.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <charconv>
#include <vector>

namespace sp::chi {

namespace {

template <class T>
bool parse_int(std::string_view s, T& v) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Parses a JSON string starting at s[p] == '"'; sets p past the closing quote. Only the escapes a
// topic name can need; \u escapes are decoded to UTF-8.
bool json_string_at(std::string_view s, size_t& p, std::string& out) {
  if (p >= s.size() || s[p] != '"') return false;
  ++p;
  out.clear();
  while (p < s.size()) {
    char c = s[p++];
    if (c == '"') return true;
    if (c != '\\') {
      out += c;
      continue;
    }
    if (p >= s.size()) return false;
    char e = s[p++];
    switch (e) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'u': {
        if (p + 4 > s.size()) return false;
        unsigned cp = 0;
        auto r = std::from_chars(s.data() + p, s.data() + p + 4, cp, 16);
        if (r.ptr != s.data() + p + 4) return false;
        p += 4;
        if (cp < 0x80) {
          out += static_cast<char>(cp);
        } else if (cp < 0x800) {
          out += static_cast<char>(0xC0 | (cp >> 6));
          out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
          out += static_cast<char>(0xE0 | (cp >> 12));
          out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
          out += static_cast<char>(0x80 | (cp & 0x3F));
        }
        break;
      }
      default: return false;
    }
  }
  return false;
}

bool expect(std::string_view s, size_t& p, std::string_view lit) {
  if (s.substr(p, lit.size()) != lit) return false;
  p += lit.size();
  return true;
}

bool json_int_at(std::string_view s, size_t& p, int64_t& v) {
  size_t b = p;
  if (p < s.size() && s[p] == '-') ++p;
  while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p]))) ++p;
  return parse_int(s.substr(b, p - b), v);
}

// The shape RowBuilder writes: {...,"_topic":"t","_partition":3,"_offset":42}. A `,"_topic":`
// whose quote is unescaped can only be a key in valid JSON, so rfind is safe.
bool json_fast(std::string_view line, size_t& cut, Coords& c) {
  size_t pos = line.rfind(",\"_topic\":");
  if (pos == std::string_view::npos) return false;
  size_t p = pos + 10;
  int64_t part = 0, off = 0;
  if (!json_string_at(line, p, c.topic)) return false;
  if (!expect(line, p, ",\"_partition\":") || !json_int_at(line, p, part)) return false;
  if (!expect(line, p, ",\"_offset\":") || !json_int_at(line, p, off)) return false;
  if (!expect(line, p, "}") || !trim(line.substr(p)).empty()) return false;
  if (part < 0 || part > INT32_MAX) return false;
  c.partition = static_cast<int32_t>(part);
  c.offset = off;
  c.present = true;
  cut = pos;
  return true;
}

RowStatus json_row(std::string_view line, bool keep, std::string& out, Coords& c, std::string& why) {
  size_t cut = 0;
  if (json_fast(line, cut, c)) {
    if (keep) {
      out.append(line.data(), line.size());
    } else {
      out.append(line.data(), cut);
      out += '}';
    }
    out += '\n';
    return RowStatus::row;
  }
  if (line.find("\"_topic\"") == std::string_view::npos && line.find("\"_partition\"") == std::string_view::npos &&
      line.find("\"_offset\"") == std::string_view::npos) {
    // No coordinates: ClickHouse is the judge of the row (its message goes to the rejects).
    out.append(line.data(), line.size());
    out += '\n';
    return RowStatus::row;
  }
  // Keys in another order or spacing: the slow, general path.
  nlohmann::json j = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    why = "not a JSON object (it mentions _topic/_partition/_offset but does not parse)";
    return RowStatus::invalid;
  }
  auto t = j.find("_topic"), pa = j.find("_partition"), of = j.find("_offset");
  if (t == j.end() || pa == j.end() || of == j.end()) {
    why = "incomplete Kafka coordinates: _topic, _partition and _offset must come together";
    return RowStatus::invalid;
  }
  if (!t->is_string() || !pa->is_number_integer() || !of->is_number_integer() || pa->get<int64_t>() < 0 ||
      pa->get<int64_t>() > INT32_MAX) {
    why = "bad Kafka coordinates: _topic must be a string, _partition and _offset integers";
    return RowStatus::invalid;
  }
  c.topic = t->get<std::string>();
  c.partition = static_cast<int32_t>(pa->get<int64_t>());
  c.offset = of->get<int64_t>();
  c.present = true;
  if (keep) {
    out.append(line.data(), line.size());
  } else {
    j.erase("_topic");
    j.erase("_partition");
    j.erase("_offset");
    try {
      out += j.dump();
    } catch (const nlohmann::json::exception& e) {
      why = std::string("cannot re-encode the row: ") + e.what();
      return RowStatus::invalid;
    }
  }
  out += '\n';
  return RowStatus::row;
}

std::string tsv_unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    char e = s[++i];
    switch (e) {
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case '0': out += '\0'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      default: out += e;
    }
  }
  return out;
}

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

// TSV/CSV: fields[n..n+2] are the coordinates when the line has ncols+3 fields.
RowStatus delimited_row(RowFormat f, std::string_view line, size_t ncols, bool keep, std::string& out, Coords& c,
                        std::string& why) {
  std::vector<size_t> starts;
  if (f == RowFormat::tsv) {
    starts.push_back(0);
    for (size_t i = 0; i < line.size(); ++i)
      if (line[i] == '\t') starts.push_back(i + 1);
  } else if (!csv_fields(line, starts)) {
    // An open quote: let ClickHouse say what is wrong with it.
    starts.clear();
  }
  if (starts.size() == ncols + 3) {
    auto field = [&](size_t i) {
      size_t b = starts[i];
      size_t e = i + 1 < starts.size() ? starts[i + 1] - 1 : line.size();
      return line.substr(b, e - b);
    };
    int64_t part = 0, off = 0;
    std::string_view tf = field(ncols), pf = trim(field(ncols + 1)), of = trim(field(ncols + 2));
    if (!parse_int(pf, part) || part < 0 || part > INT32_MAX || !parse_int(of, off)) {
      why = "bad Kafka coordinates in the last 3 fields (_topic, _partition, _offset): '" + std::string(pf) +
            "', '" + std::string(of) + "' are not integers";
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

bool starts_with_insert(std::string_view s) {
  static const char kw[] = "insert into";
  if (s.size() < sizeof kw - 1) return false;
  for (size_t i = 0; i + 1 < sizeof kw; ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != kw[i]) return false;
  return true;
}

}  // namespace

RowStatus split_row(RowFormat f, std::string_view line, size_t ncols, bool keep_coords, std::string& out, Coords& c,
                    std::string& why) {
  c.present = false;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (trim(line).empty()) return RowStatus::skip;
  switch (f) {
    case RowFormat::json: return json_row(line, keep_coords, out, c, why);
    case RowFormat::tsv:
    case RowFormat::csv: return delimited_row(f, line, ncols, keep_coords, out, c, why);
    case RowFormat::values: {
      std::string_view t = trim(line);
      if (starts_with_insert(t)) return RowStatus::skip;  // the seed's statement header line
      while (!t.empty() && (t.back() == ',' || t.back() == ';')) t = trim(t.substr(0, t.size() - 1));
      if (t.empty() || t.front() != '(' || t.back() != ')') {
        why = "not a VALUES tuple '(...)'";
        return RowStatus::invalid;
      }
      out.append(t.data(), t.size());
      return RowStatus::row;
    }
  }
  return RowStatus::invalid;
}

}  // namespace sp::chi
