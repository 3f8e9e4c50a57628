// Private to common/rows: the cursor over a type text that the type grammar (schema_types.cpp) and the
// DDL keys' grammars (codec and ttl, schema_keys.cpp) share, so that all of them word errors alike.
#pragma once
#include <cctype>
#include <string>
#include <string_view>

#include "common/core/errors.hpp"

namespace sp::schema_detail {

// A cursor over a type text ("DateTime64(3, 'UTC')"); errors name the whole text.
class TypeText {
 public:
  // `what` names the text in errors: "type" here, "ttl" or "codec" for the DDL keys.
  TypeText(std::string_view t, const std::string& where, const char* what = "type") : t_(t), where_(where), what_(what) {}
  [[noreturn]] void fail(const std::string& why) const {
    throw ConfigError(where_ + ": " + what_ + " '" + std::string(t_) + "': " + why);
  }
  void ws() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\t')) ++i_;
  }
  bool eat(char c) {
    ws();
    if (i_ < t_.size() && t_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!eat(c)) fail(std::string("expected '") + c + "'" + (i_ < t_.size() ? " at byte " + std::to_string(i_ + 1) : " at the end"));
  }
  void skip(size_t n) { i_ += n; }
  bool done() {
    ws();
    return i_ == t_.size();
  }
  std::string word() {
    ws();
    size_t b = i_;
    while (i_ < t_.size() && (std::isalnum(static_cast<unsigned char>(t_[i_])) || t_[i_] == '_')) ++i_;
    return std::string(t_.substr(b, i_ - b));
  }
  long integer() {
    ws();
    size_t b = i_;
    if (i_ < t_.size() && (t_[i_] == '-' || t_[i_] == '+')) ++i_;
    size_t d = i_;
    while (i_ < t_.size() && std::isdigit(static_cast<unsigned char>(t_[i_])) && i_ - d < 9) ++i_;
    if (i_ == d) fail("expected a number at byte " + std::to_string(b + 1));
    return std::stol(std::string(t_.substr(b, i_ - b)));
  }
  // The text from here to the type's last ')', which must end it (the T of Array(T), Map(String, T)).
  std::string to_last_paren() {
    size_t close = t_.rfind(')');
    if (close == std::string_view::npos || close < i_) fail("expected ')' at the end");
    std::string inner(t_.substr(i_, close - i_));
    i_ = close + 1;
    if (!done()) fail("unexpected text after the type");
    return inner;
  }
  // 'text' with \' and \\ escapes (ClickHouse string literal, as in its own DDL).
  std::string quoted() {
    ws();
    if (i_ >= t_.size() || t_[i_] != '\'') fail("expected a 'quoted' name at byte " + std::to_string(i_ + 1));
    std::string out;
    for (++i_; i_ < t_.size(); ++i_) {
      char c = t_[i_];
      if (c == '\'') {
        ++i_;
        return out;
      }
      if (c == '\\' && i_ + 1 < t_.size()) c = t_[++i_];
      out += c;
    }
    fail("unterminated quote");
  }

 private:
  std::string_view t_;
  const std::string& where_;
  const char* what_;
  size_t i_ = 0;
};

}  // namespace sp::schema_detail
