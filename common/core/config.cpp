#include "common/core/config.hpp"

#include <unistd.h>  // environ

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string_view>

#include "common/core/errors.hpp"
#include "common/core/log.hpp"

namespace sp {

namespace {
std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

Config g_config;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// A name is shown in an error only when it is a plain name: "password: hunter2" or "secret key hunter2"
// (a missing '=') would otherwise put a secret on the screen and into cron mail.
bool plain_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '-' || c == '.'; });
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// The nearest candidate when it is close enough to be a typo of `name` (else empty).
std::string nearest(const std::string& name, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const auto& c : candidates) {
    size_t d = edit_distance(lower(name), c);
    if (d < best_d) best_d = d, best = c;
  }
  return best_d <= std::max<size_t>(2, name.size() / 3) ? best : "";
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::vector<std::string> section_names() {
  std::vector<std::string> out;
  for (const auto& k : known_config_keys())
    if (std::find(out.begin(), out.end(), k.section) == out.end()) out.emplace_back(k.section);
  return out;
}

std::vector<std::string> keys_of(const std::string& section) {
  std::vector<std::string> out;
  for (const auto& k : known_config_keys())
    if (section == k.section) out.emplace_back(k.key);
  return out;
}

const ConfigKey* find_key(const std::string& section, const std::string& key) {
  for (const auto& k : known_config_keys())
    if (section == k.section && key == k.key) return &k;
  return nullptr;
}

// What is wrong with one key of a file (empty when nothing is).
std::string key_problem(const std::string& section, const std::string& key, const std::string& value) {
  if (section.empty()) {
    if (!plain_name(key)) return "a key outside any section (the name is not shown: it is not a plain name and may hold a secret)";
    for (const auto& s : section_names())
      if (find_key(s, key)) return "key '" + key + "' outside any section; it belongs in [" + s + "]";
    return "key '" + key + "' outside any section (sections: " + join(section_names()) + ")";
  }
  if (is_open_config_section(section)) return "";
  if (const ConfigKey* k = find_key(section, key)) {
    if (k->boolean) {
      try {
        parse_bool(value, section + "." + key);
      } catch (const ConfigError& e) {
        return e.what();
      }
    }
    if (k->choices && ("|" + std::string(k->choices) + "|").find("|" + value + "|") == std::string::npos) {
      std::string list = k->choices;  // "a|b|c" -> "a, b or c"
      size_t last = list.rfind('|');
      list.replace(last, 1, " or ");
      for (size_t p = list.find('|'); p != std::string::npos; p = list.find('|')) list.replace(p, 1, ", ");
      return section + "." + key + " must be " + list;
    }
    return "";
  }
  std::string head = "unknown key ";
  if (!plain_name(key))
    return head + "in [" + section + "] (the name is not shown: it is not a plain name and may hold a secret; want 'key = value')";
  head += "'" + key + "' in [" + section + "]";
  std::vector<std::string> known = keys_of(section);
  if (std::string near = nearest(key, known); !near.empty()) return head + "; did you mean '" + near + "'?";
  for (const auto& s : section_names())
    if (find_key(s, key)) return head + "; '" + key + "' belongs in [" + s + "]";
  if (key.find('.') != std::string::npos) return head + "; librdkafka properties go in [librdkafka]";
  return head + " (known: " + join(known) + ")";
}
}  // namespace

const std::vector<ConfigKey>& known_config_keys() {
  static const std::vector<ConfigKey> keys = {
      {"kafka", "brokers", false},
      {"librdkafka", "*", false},  // any librdkafka property: librdkafka checks names and values
      {"clickhouse", "url", false},
      {"clickhouse", "user", false},
      {"clickhouse", "password", false},
      {"clickhouse", "password_file", false},
      {"clickhouse", "database", false},
      {"clickhouse", "ca_file", false},
      {"clickhouse", "insecure", true},
      {"clickhouse_settings", "*", false},  // any ClickHouse setting sent with every INSERT (ch-insert --setting)
      {"s3", "endpoint", false},
      {"s3", "region", false},
      {"s3", "addressing", false, "path|virtual"},
      {"s3", "access_key_id", false},
      {"s3", "secret_access_key", false},
      {"s3", "secret_access_key_file", false},
      {"s3", "session_token", false},
      {"s3", "profile", false},
      {"s3", "insecure", true},
      {"s3", "verify_tls", true},  // the earlier name of insecure (inverted); still read
      {"s3", "ca_file", false},
      {"schema", "file", false},
  };
  return keys;
}

bool is_open_config_section(const std::string& section) { return find_key(section, "*") != nullptr; }

std::string nearest_name(const std::string& name, const std::vector<std::string>& candidates) {
  return nearest(name, candidates);
}

bool parse_bool(const std::string& value, const std::string& what) {
  std::string v = lower(value);
  if (v == "true" || v == "1" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "no") return false;
  throw ConfigError(what + " must be true or false (or 1/0, yes/no)");
}

bool is_secret_key(const std::string& full) {
  if (full.size() > 5 && full.ends_with("_file")) return false;  // a path to a secret
  // librdkafka has many secret properties (sasl.password, ssl.key.password, ssl.keystore.password,
  // ssl.key.pem, sasl.oauthbearer.client.secret, sasl.oauthbearer.config, ...): every name under
  // [librdkafka] that looks like one is treated as one
  bool rdkafka = full.starts_with("librdkafka.");
  for (const char* word : {"password", "passwd", "secret", "token"})
    if (full.find(word) != std::string::npos) return true;
  return rdkafka && (full.find("pass") != std::string::npos || full.find("key") != std::string::npos ||
                     full == "librdkafka.sasl.oauthbearer.config");
}

Config Config::parse(const std::string& text, const std::string& origin) {
  Config c;
  c.origin_ = origin;
  // Windows editors (Notepad) start a UTF-8 file with a byte order mark: not part of the first line
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  std::istringstream in(text.starts_with(kBom) ? text.substr(kBom.size()) : text);
  std::string raw, section;
  int lineno = 0;
  while (std::getline(in, raw)) {
    ++lineno;
    std::string line = trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    // A malformed line is never shown: it may be a secret whose '=' was forgotten ("password: x").
    if (line.front() == '[') {
      if (line.back() != ']' || line.size() < 3)
        throw ConfigError(origin + ":" + std::to_string(lineno) +
                          ": bad section header (want [name] alone on its line; the line is not shown, it may "
                          "hold a secret)");
      section = trim(line.substr(1, line.size() - 2));
      c.sections_.emplace_back(section, lineno);
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string::npos)
      throw ConfigError(origin + ":" + std::to_string(lineno) +
                        ": expected 'key = value' (no '=' in the line; the line is not shown, it may hold a secret)");
    std::string key = trim(line.substr(0, eq));
    std::string value = trim(line.substr(eq + 1));
    if (key.empty()) throw ConfigError(origin + ":" + std::to_string(lineno) + ": empty key");
    if (value.size() >= 2 && ((value.front() == '"' && value.back() == '"') || (value.front() == '\'' && value.back() == '\'')))
      value = value.substr(1, value.size() - 2);
    std::string full = section.empty() ? key : section + "." + key;
    // secrets in the file must never reach a log line, whatever tool reads them
    if (is_secret_key(full)) log::add_secret(value);
    c.values_[full] = value;
    c.lines_[full] = lineno;
  }
  return c;
}

void Config::check() const {
  // problems by line: the first is reported, with how many more there are
  std::map<int, std::string> problems;
  std::vector<std::string> sections = section_names();
  for (const auto& [name, line] : sections_) {
    if (std::find(sections.begin(), sections.end(), name) != sections.end()) continue;
    std::string msg = "unknown section ";
    if (!plain_name(name)) {
      msg += "(the name is not shown: it is not a plain name)";
    } else {
      msg += "[" + name + "]";
      if (std::string near = nearest(name, sections); !near.empty())
        msg += "; did you mean [" + near + "]?";
      else
        msg += " (known: " + join(sections) + ")";
    }
    problems.emplace(line, msg);
  }
  for (const auto& [full, value] : values_) {
    auto line = lines_.find(full);
    if (line == lines_.end()) continue;  // set() by a tool or a test, not read from the file
    // the section is what the file's last header said: find it by the header before this line
    std::string section;
    for (const auto& [name, l] : sections_)
      if (l < line->second) section = name;
    if (!section.empty() && std::find(sections.begin(), sections.end(), section) == sections.end()) continue;
    std::string key = section.empty() ? full : full.substr(section.size() + 1);
    if (std::string p = key_problem(section, key, value); !p.empty()) problems.emplace(line->second, p);
  }
  if (problems.empty()) return;
  auto first = problems.begin();
  std::string msg = origin_ + ":" + std::to_string(first->first) + ": " + first->second;
  if (problems.size() > 1)
    msg += " (and " + std::to_string(problems.size() - 1) + " more problem" + (problems.size() > 2 ? "s" : "") +
           " in the file)";
  throw ConfigError(msg);
}

std::vector<std::string> Config::default_locations() {
  std::vector<std::string> out;
  if (const char* env = std::getenv("SENSOR_PIPELINE_CONFIG"); env && *env) out.emplace_back(env);
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg)
    out.push_back(std::string(xdg) + "/sensor-pipeline/config.ini");
  else if (const char* home = std::getenv("HOME"); home && *home)
    out.push_back(std::string(home) + "/.config/sensor-pipeline/config.ini");
  out.emplace_back("/etc/sensor-pipeline/config.ini");
  return out;
}

namespace {
Config checked(Config c) {
  c.check();
  return c;
}
}  // namespace

Config Config::load(const std::string& explicit_path, const RemoteConfigFetch& fetch_remote) {
  auto fetch = [&](const std::string& url) {
    if (!fetch_remote) throw ConfigError("config location " + url + ": this program cannot read s3:// locations");
    return fetch_remote(url);
  };
  std::string text;
  if (!explicit_path.empty()) {
    if (explicit_path.starts_with("s3://")) return checked(parse(fetch(explicit_path), explicit_path));
    if (!read_file(explicit_path, text)) throw ConfigError("cannot read config file " + explicit_path + ": " + errno_text(errno));
    return checked(parse(text, explicit_path));
  }
  const char* env = std::getenv("SENSOR_PIPELINE_CONFIG");
  for (const auto& path : default_locations()) {
    bool from_env = env && path == env;
    if (from_env && path.starts_with("s3://")) return checked(parse(fetch(path), path));
    if (read_file(path, text)) return checked(parse(text, path));
    if (from_env) throw ConfigError("cannot read config file " + path + " (from SENSOR_PIPELINE_CONFIG): " + errno_text(errno));
  }
  return Config{};
}

std::optional<std::string> Config::get(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Config::get_or(const std::string& key, const std::string& fallback) const {
  auto v = get(key);
  return v ? *v : fallback;
}

std::string Config::where(const std::string& key) const {
  auto line = lines_.find(key);
  return origin_ + (line == lines_.end() ? "" : ":" + std::to_string(line->second)) + ": ";
}

std::optional<bool> Config::get_bool(const std::string& key) const {
  auto v = get(key);
  if (!v) return std::nullopt;
  try {
    return parse_bool(*v, key);
  } catch (const ConfigError& e) {
    throw ConfigError(where(key) + e.what());
  }
}

std::optional<std::string> Config::resolve(const std::string& flag, const char* env, const std::string& key) const {
  if (!flag.empty()) return flag;
  if (env) {
    if (const char* v = std::getenv(env); v && *v) return std::string(v);
  }
  return get(key);
}

const Config& config() { return g_config; }
void set_config(Config c) { g_config = std::move(c); }

namespace {
// Where the name of a secret file came from, for an error that must not show the name itself: an
// environment variable ..._FILE or a "..._file" key of the loaded configuration holding exactly this
// path, else the command line (--password-file is the only such flag).
std::string secret_file_source(const std::string& path) {
  for (char** e = ::environ; e && *e; ++e) {
    std::string entry = *e;
    size_t eq = entry.find('=');
    if (eq == std::string::npos || entry.compare(eq + 1, std::string::npos, path) != 0) continue;
    std::string name = entry.substr(0, eq);
    if (name.size() > 5 && name.ends_with("_FILE")) return "the environment variable " + name;
  }
  const Config& c = config();
  for (const auto& [key, value] : c.values())
    if (value == path && key.size() > 5 && key.ends_with("_file")) {
      std::string at = c.where(key);  // "FILE:LINE: "
      return key + " (" + at.substr(0, at.size() - 2) + ")";
    }
  return "the command line";
}
}  // namespace

std::string read_secret_file(const std::string& path) {
  std::string text;
  // Never the path: a password pasted into password_file instead of password would be on the screen
  // (and in cron mail). Where it was given is enough to find it.
  if (!read_file(path, text)) {
    int err = errno;
    throw ConfigError("cannot read the secret file named by " + secret_file_source(path) + ": " + errno_text(err) +
                      " (its name is not shown: it may be a secret given in the wrong place)");
  }
  size_t nl = text.find('\n');
  if (nl != std::string::npos) text.resize(nl);
  if (!text.empty() && text.back() == '\r') text.pop_back();
  log::add_secret(text);
  return text;
}

}  // namespace sp
