// One configuration file for all tools. INI syntax:
//   # comment
//   [clickhouse]
//   url = http://127.0.0.1:8123
//   password_file = /etc/sensor-pipeline/ch.pass
// Keys are addressed as "section.key". Precedence everywhere: flag > environment > file.
// The file is found by --config, then $SENSOR_PIPELINE_CONFIG, then
// ${XDG_CONFIG_HOME:-~/.config}/sensor-pipeline/config.ini, then /etc/sensor-pipeline/config.ini.
// A location starting with s3:// is fetched through the S3 client (common/s3.hpp).
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sp {

class Config {
 public:
  // Parses INI text; `origin` names the file in error messages (ConfigError with line number).
  static Config parse(const std::string& text, const std::string& origin);
  // Finds and loads the file as described above. Explicit paths must exist (ConfigError if not);
  // the implicit ones are optional. Returns an empty Config when none is found.
  static Config load(const std::string& explicit_path);
  // The search list used when no path is given (for --help texts and tests).
  static std::vector<std::string> default_locations();

  std::optional<std::string> get(const std::string& key) const;
  std::string get_or(const std::string& key, const std::string& fallback) const;
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  void set(const std::string& key, const std::string& value) { values_[key] = value; }
  const std::string& origin() const { return origin_; }
  const std::map<std::string, std::string>& values() const { return values_; }

  // flag (when non-empty) > env var (when set and non-empty) > file key > nullopt.
  std::optional<std::string> resolve(const std::string& flag, const char* env, const std::string& key) const;

 private:
  std::map<std::string, std::string> values_;
  std::string origin_;
};

// The configuration loaded by the guarded main for this process.
const Config& config();
void set_config(Config c);

// Whether a "section.key" of the config file holds a secret (registered with the logger when parsed):
// names with password, secret or token in them, and under [librdkafka] also pass and key (and sasl.oauthbearer.config)
// (a misspelt librdkafka property is echoed in librdkafka's error). "..._file" keys are paths.
bool is_secret_key(const std::string& full_key);

// Reads a secret from a file (first line, trailing newline/CR stripped) and registers it with the logger.
std::string read_secret_file(const std::string& path);

// Fetches a remote configuration text (s3://bucket/key). Implemented by the S3 client.
std::string fetch_remote_config(const std::string& url);

}  // namespace sp
