#include "common/config.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/errors.hpp"
#include "common/log.hpp"

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
}  // namespace

bool is_secret_key(const std::string& full) {
  if (full.size() > 5 && full.compare(full.size() - 5, 5, "_file") == 0) return false;  // a path to a secret
  // librdkafka has many secret properties (sasl.password, ssl.key.password, ssl.keystore.password,
  // ssl.key.pem, sasl.oauthbearer.client.secret, sasl.oauthbearer.config, ...): every name under
  // [librdkafka] that looks like one is treated as one
  bool rdkafka = full.rfind("librdkafka.", 0) == 0;
  for (const char* word : {"password", "passwd", "secret", "token"})
    if (full.find(word) != std::string::npos) return true;
  return rdkafka && (full.find("pass") != std::string::npos || full.find("key") != std::string::npos ||
                     full == "librdkafka.sasl.oauthbearer.config");
}

Config Config::parse(const std::string& text, const std::string& origin) {
  Config c;
  c.origin_ = origin;
  std::istringstream in(text);
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
  }
  return c;
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

Config Config::load(const std::string& explicit_path) {
  std::string text;
  if (!explicit_path.empty()) {
    if (explicit_path.rfind("s3://", 0) == 0) return parse(fetch_remote_config(explicit_path), explicit_path);
    if (!read_file(explicit_path, text)) throw ConfigError("cannot read config file " + explicit_path + ": " + errno_text(errno));
    return parse(text, explicit_path);
  }
  const char* env = std::getenv("SENSOR_PIPELINE_CONFIG");
  for (const auto& path : default_locations()) {
    bool from_env = env && path == env;
    if (from_env && path.rfind("s3://", 0) == 0) return parse(fetch_remote_config(path), path);
    if (read_file(path, text)) return parse(text, path);
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

std::optional<std::string> Config::resolve(const std::string& flag, const char* env, const std::string& key) const {
  if (!flag.empty()) return flag;
  if (env) {
    if (const char* v = std::getenv(env); v && *v) return std::string(v);
  }
  return get(key);
}

const Config& config() { return g_config; }
void set_config(Config c) { g_config = std::move(c); }

std::string read_secret_file(const std::string& path) {
  std::string text;
  if (!read_file(path, text)) throw ConfigError("cannot read secret file " + path + ": " + errno_text(errno));
  size_t nl = text.find('\n');
  if (nl != std::string::npos) text.resize(nl);
  if (!text.empty() && text.back() == '\r') text.pop_back();
  log::add_secret(text);
  return text;
}

}  // namespace sp
