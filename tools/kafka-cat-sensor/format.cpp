#include "format.hpp"

#include <cstring>

#include "common/core/errors.hpp"
#include "common/core/log.hpp"

namespace sp::kcs {

RawResult append_raw(std::string& out, Bytes value, JsonTool& json) {
  if (value.null()) return RawResult::null_value;
  std::string_view v = value.view();
  if (std::memchr(v.data(), '\n', v.size()) == nullptr) {
    out.append(v);
    out += '\n';
    return RawResult::written;
  }
  if (!json.valid(v)) return RawResult::breaks_framing;
  json.append_compact(out, v);  // JSON strings cannot hold a raw newline, so none is left
  out += '\n';
  return RawResult::compacted;
}

}  // namespace sp::kcs

namespace sp::kcs {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One literal run of the format with kcat's backslash escapes resolved. kcat reads \xHH and \NNN
// with strtoul (greedy, so \x41BC is one byte 0xBC there); here at most two hex digits, three decimal
// ones, or a 0 and three octal ones (\0101 is A, as there).
std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    char c = s[++i];
    if (c == 'n') {
      out += '\n';
    } else if (c == 't') {
      out += '\t';
    } else if (c == 'r') {
      out += '\r';
    } else if (c == 'x' && i + 1 < s.size() && hex_digit(s[i + 1]) >= 0) {
      unsigned v = 0;
      for (int n = 0; n < 2 && i + 1 < s.size() && hex_digit(s[i + 1]) >= 0; ++n) v = v * 16 + hex_digit(s[++i]);
      out += static_cast<char>(v);
    } else if (c >= '0' && c <= '9') {
      unsigned base = c == '0' ? 8 : 10, v = static_cast<unsigned>(c - '0');
      for (int n = 1, most = base == 8 ? 4 : 3; n < most && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= (base == 8 ? '7' : '9'); ++n)
        v = v * base + static_cast<unsigned>(s[++i] - '0');
      out += static_cast<char>(v & 0xff);
    } else {
      out += c;  // \\ is a backslash, \% a percent sign, as in kcat
    }
  }
  return out;
}

void append_int(std::string& out, int64_t v) { out += std::to_string(v); }

}  // namespace

Format parse_format(std::string_view spec) {
  Format f;
  auto add = [&f](FormatPart::Kind k) { f.push_back({k, {}}); };
  size_t pos = 0;
  while (pos < spec.size()) {
    size_t pct = spec.find('%', pos);
    std::string_view lit = spec.substr(pos, pct == std::string_view::npos ? std::string_view::npos : pct - pos);
    if (!lit.empty()) f.push_back({FormatPart::literal, unescape(lit)});
    if (pct == std::string_view::npos) break;
    if (pct + 1 == spec.size()) throw UsageError("-f: a lone % at the end (write %% for a percent sign)");
    switch (char c = spec[pct + 1]) {
      case 's': add(FormatPart::value); break;
      case 'S': add(FormatPart::value_len); break;
      case 'R': add(FormatPart::value_len_be32); break;
      case 'k': add(FormatPart::key); break;
      case 'K': add(FormatPart::key_len); break;
      case 't': add(FormatPart::topic); break;
      case 'p': add(FormatPart::partition); break;
      case 'o': add(FormatPart::offset); break;
      case 'T': add(FormatPart::timestamp); break;
      case 'h': add(FormatPart::headers); break;
      case '%': f.push_back({FormatPart::literal, "%"}); break;
      default:
        throw UsageError("-f: unknown token %" + log::printable(std::string_view(&c, 1), 8) +
                         " (kcat's: %s %S %R %k %K %t %p %o %T %h %%)");
    }
    pos = pct + 2;
  }
  return f;
}

bool needs_headers(const Format& f) {
  for (const auto& p : f)
    if (p.kind == FormatPart::headers) return true;
  return false;
}

void append_formatted(std::string& out, const Format& f, const MessageView& m) {
  for (const auto& p : f) {
    switch (p.kind) {
      case FormatPart::literal: out += p.text; break;
      case FormatPart::value: out.append(m.value.view()); break;  // a null value: nothing (kcat without -Z)
      case FormatPart::value_len: append_int(out, m.value.null() ? -1 : static_cast<int64_t>(m.value.size)); break;
      case FormatPart::value_len_be32: {
        uint32_t n = m.value.null() ? 0xffffffffu : static_cast<uint32_t>(m.value.size);
        for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xff);
        break;
      }
      case FormatPart::key: out.append(m.key.view()); break;
      case FormatPart::key_len: append_int(out, m.key.null() ? -1 : static_cast<int64_t>(m.key.size)); break;
      case FormatPart::topic: out.append(m.topic); break;
      case FormatPart::partition: append_int(out, m.partition); break;
      case FormatPart::offset: append_int(out, m.offset); break;
      case FormatPart::timestamp: append_int(out, m.timestamp_ms.value_or(-1)); break;
      case FormatPart::headers:
        // kcat: name=value joined by commas; an empty value as nothing, a null one as NULL
        for (size_t i = 0; i < m.headers.size(); ++i) {
          if (i) out += ',';
          out.append(m.headers[i].first);
          out += '=';
          out.append(m.headers[i].second.null() ? std::string_view("NULL") : m.headers[i].second.view());
        }
        break;
    }
  }
}

}  // namespace sp::kcs
