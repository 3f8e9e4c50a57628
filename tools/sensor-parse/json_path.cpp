// The simdjson path: any JSON line (a message, or an envelope around one) read as a document.
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

namespace {
// The field named key: 0 when there is none, 1 when there is one (in out), 2 when there are more.
// A key that is read may appear once: parsers disagree about duplicates (simdjson's at_key and
// this code once took the first, jq and Python take the last), so such a message is rejected.
inline int find_key(simdjson::dom::object obj, std::string_view key, element& out) {
  int n = 0;
  for (auto field : obj)
    if (same_key(field.key, key)) {
      if (n++) return 2;
      out = field.value;
    }
  return n;
}
}  // namespace

// Looks up the parent object of parent group p (state 1 = found, 2 = absent or null).
bool RecordParser::Impl::resolve_parent(size_t p, element root, Reject& r) {
  const Column& c = schema.columns[parent_rep[p]];
  element e = root;
  auto parent = [&](size_t k) {
    std::string text;
    for (size_t j = 0; j <= k; ++j) text += (j ? "." : "") + c.path[j];
    return text;
  };
  for (size_t k = 0; k + 1 < c.path.size(); ++k) {
    element next;
    int found = find_key(e.get_object().value_unsafe(), c.path[k], next);
    if (found == 2) {
      r.reason = parent(k) + ": duplicate key";
      return false;
    }
    if (!found || next.type() == element_type::NULL_VALUE) {
      parent_state[p] = 2;
      return true;
    }
    e = next;
    if (e.type() != element_type::OBJECT) {
      r.reason = parent(k) + ": expected an object, got " + type_word(e.type());
      return false;
    }
  }
  parent_elem[p] = e;
  parent_state[p] = 1;
  // One pass over the parent's fields finds all its columns (at_key per column would rescan).
  // It goes to the end: a key read twice rejects the message (see find_key).
  const auto& cols = parent_cols[p];
  const auto& keys = parent_keys[p];
  const size_t nc = cols.size();
  const bool rotate = parent_rotate[p];
  for (size_t ci : cols) col_found[ci] = 0;
  // Fields mostly come in the schema's order: trying the column after the last match first
  // makes that one comparison per field.
  size_t guess = 0;
  simdjson::dom::object obj = e.get_object().value_unsafe();
  for (auto field : obj) {
    for (size_t t = 0; t < nc; ++t) {
      size_t j = guess + t;
      if (j >= nc) j -= nc;
      if (!same_key(field.key, keys[j])) continue;
      size_t ci = cols[j];
      if (col_found[ci]) {
        r.reason = schema.columns[ci].path_text + ": duplicate key";
        return false;
      }
      col_elem[ci] = field.value;
      col_found[ci] = 1;
      // Without rotation two columns may read the same key: every one of them takes it.
      if (!rotate) continue;
      guess = j + 1 == nc ? 0 : j + 1;
      break;
    }
  }
  return true;
}

bool RecordParser::Impl::message(element root, std::string& out, Reject& r) {
  if (root.type() != element_type::OBJECT) {
    r.reason = std::string("message is ") + type_word(root.type()) + ", not a JSON object";
    return false;
  }
  std::fill(parent_state.begin(), parent_state.end(), 0);
  for (size_t i = 0; i < schema.columns.size(); ++i) {
    const Column& c = schema.columns[i];
    size_t p = col_parent[i];
    if (parent_state[p] == 0 && !resolve_parent(p, root, r)) return false;
    bool found = parent_state[p] == 1 && col_found[i];
    element e = found ? col_elem[i] : element();
    bool ok;
    if (!found || e.type() == element_type::NULL_VALUE) {
      ok = missing(i, cells[i]);
      if (!ok && found) why = c.path_text + ": is null but required";
    } else {
      if (c.type >= ColType::Decimal) at_column(i);
      ok = from_json(c, e, cells[i]);
    }
    if (!ok) {
      r.reason = std::move(why);
      return false;
    }
  }
  emit(out, r.has_coords ? &r : nullptr);
  return true;
}

void RecordParser::Impl::parse_into(simdjson::dom::parser& p, std::string& pad, std::string_view text, element& out,
                       simdjson::error_code& err, size_t readable_past) {
  if (readable_past >= simdjson::SIMDJSON_PADDING) {
    err = p.parse(text.data(), text.size(), false).get(out);
    return;
  }
  // simdjson reads up to SIMDJSON_PADDING bytes past the end; their content does not matter.
  if (pad.size() < text.size() + simdjson::SIMDJSON_PADDING) pad.resize(text.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(pad.data(), text.data(), text.size());
  err = p.parse(pad.data(), text.size(), false).get(out);
}

bool RecordParser::Impl::read_envelope(const envelope::Keys& env, std::string& out, Reject& r) {
  element value = env.value;
  envelope::Coords c;
  r.reason = envelope::read_coords(env, c, quoted);
  if (!r.reason.empty()) return false;
  r.has_coords = true;
  r.topic = std::string(c.topic);
  r.partition = c.partition;
  r.offset = c.offset;
  if (!env.has_value) return false;  // checked by the caller
  if (env.dup_value) {
    r.reason = "envelope: duplicate key value";
    return false;
  }
  switch (value.type()) {
    case element_type::OBJECT:
      doc_prefix = "/value";
      return message(value, out, r);
    case element_type::STRING: {
      // bytes that are not UTF-8 are no JSON text: say so, not what the base64 text starts with
      if (env.value_is_base64()) {
        r.reason = "envelope: value is not UTF-8, so not JSON (the envelope carries its bytes base64-encoded)";
        return false;
      }
      // kafka-cat-sensor embeds a value that was not JSON as a string: it may still be the
      // message (e.g. JSON with a trailing byte the producer added); parse it on its own.
      std::string_view text = value.get_string().value_unsafe();
      if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
      if (is_blank(text)) {
        r.reason = "envelope: value is an empty string";
        return false;
      }
      element inner_root;
      simdjson::error_code err;
      parse_into(inner, pad_inner, text, inner_root, err);
      if (err) {
        r.reason = "envelope value: " + json_error_reason(err, text);
        return false;
      }
      set_doc(pad_inner.data(), text.size(), pad_inner.size(), "");
      return message(inner_root, out, r);
    }
    case element_type::NULL_VALUE:
      r.reason = "envelope: value is null (a tombstone), not a message";
      return false;
    default:
      r.reason = std::string("envelope: value is ") + type_word(value.type()) + ", not a message";
      return false;
  }
}

bool RecordParser::Impl::json_line(std::string_view line, std::string& out, Reject& r, size_t readable_past) {
  if (!fast_nodes.empty() && fast_line(line, out, r, readable_past)) {
    ++fast_rows;
    return true;
  }
  if (line.substr(0, kBom.size()) == kBom) line.remove_prefix(kBom.size());
  if (is_blank(line)) {
    r.reason = "empty line";
    return false;
  }
  element root;
  simdjson::error_code err;
  parse_into(outer, pad_outer, line, root, err, readable_past);
  if (readable_past >= simdjson::SIMDJSON_PADDING)
    set_doc(line.data(), line.size(), line.size() + readable_past, "");
  else
    set_doc(pad_outer.data(), line.size(), pad_outer.size(), "");
  if (err) {
    r.reason = json_error_reason(err, line);
    salvage_envelope_coords(line, r);
    return false;
  }
  if (root.type() == element_type::OBJECT) {
    auto obj = root.get_object().value_unsafe();
    // An envelope has all three; the seed's own message has "value" but never "topic"/"offset".
    envelope::Keys env(obj);
    if (env.is_envelope()) return read_envelope(env, out, r);
  }
  return message(root, out, r);
}

}  // namespace sp::parse
