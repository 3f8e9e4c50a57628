// One configuration file for all tools. INI syntax:
//   # comment
//   [clickhouse]
//   url = http://127.0.0.1:8123
//   password_file = /etc/sensor-pipeline/ch.pass
// Keys are addressed as "section.key". Precedence everywhere: flag > environment > file.
// The file is found by --config, then $SENSOR_PIPELINE_CONFIG, then
// ${XDG_CONFIG_HOME:-~/.config}/sensor-pipeline/config.ini, then /etc/sensor-pipeline/config.ini.
// A location starting with s3:// is fetched by the fetcher the caller passes in (the S3 client,
// sp::fetch_remote_config in common/s3/s3.hpp: core does not depend on S3).
// A loaded file is checked against known_config_keys(): an unknown section or key, or a boolean key
// that is not a boolean, is a ConfigError naming FILE:LINE (and the nearest known name), never the value.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sp {

// Reads the text of a remote configuration (s3://bucket/key).
using RemoteConfigFetch = std::function<std::string(const std::string& url)>;

class Config {
 public:
  // Parses INI text; `origin` names the file in error messages (ConfigError with line number).
  static Config parse(const std::string& text, const std::string& origin);
  // Finds, loads and check()s the file as described above. Explicit paths must exist (ConfigError if not);
  // the implicit ones are optional. Returns an empty Config when none is found. An s3:// location is
  // read with fetch_remote (ConfigError when none is given).
  static Config load(const std::string& explicit_path, const RemoteConfigFetch& fetch_remote = {});
  // Throws ConfigError for the first line (by number) whose section or key is unknown, or whose boolean
  // key does not hold a boolean. Not part of parse(): ~/.aws files are parsed with it too.
  void check() const;
  // The search list used when no path is given (for --help texts and tests).
  static std::vector<std::string> default_locations();

  std::optional<std::string> get(const std::string& key) const;
  std::string get_or(const std::string& key, const std::string& fallback) const;
  // A boolean key read with parse_bool (the error names FILE:LINE: key); nullopt when absent.
  std::optional<bool> get_bool(const std::string& key) const;
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  void set(const std::string& key, const std::string& value) { values_[key] = value; }
  const std::string& origin() const { return origin_; }
  const std::map<std::string, std::string>& values() const { return values_; }

  // flag (when non-empty) > env var (when set and non-empty) > file key > nullopt.
  std::optional<std::string> resolve(const std::string& flag, const char* env, const std::string& key) const;
  std::string where(const std::string& key) const;  // "FILE:LINE: " of a key (or "FILE: ")

 private:
  std::map<std::string, std::string> values_;
  std::map<std::string, int> lines_;                 // key -> line it was (last) set on
  std::vector<std::pair<std::string, int>> sections_;  // section headers in file order
  std::string origin_;
};

// The one table of what the config file may hold: every key a tool reads, by section (documented,
// all of them, in examples/config.ini; a test keeps the two in step). A new key is added here and there.
// [librdkafka] is open (key "*"): any librdkafka property, which librdkafka itself checks.
struct ConfigKey {
  const char* section;
  const char* key;  // "*": any key
  bool boolean;     // checked at load with parse_bool
  const char* choices = nullptr;  // "a|b": the value must be one of these (checked at load)
};
const std::vector<ConfigKey>& known_config_keys();
// Sections whose keys are not checked here (a "*" key in the table).
bool is_open_config_section(const std::string& section);

// The one boolean parser for config keys and environment variables: true/false, 1/0, yes/no (any case).
// Anything else is a ConfigError "WHAT must be true or false (or 1/0, yes/no)"; the value is not shown.
bool parse_bool(const std::string& value, const std::string& what);

// The candidate `name` is most likely a typo of (a small edit distance, case ignored), else "": the
// "did you mean" of config keys and schema keys.
std::string nearest_name(const std::string& name, const std::vector<std::string>& candidates);

// The configuration loaded by the guarded main for this process.
const Config& config();
void set_config(Config c);

// Whether a "section.key" of the config file holds a secret (registered with the logger when parsed):
// names with password, secret or token in them, and under [librdkafka] also pass and key (and sasl.oauthbearer.config)
// (a misspelt librdkafka property is echoed in librdkafka's error). "..._file" keys are paths.
bool is_secret_key(const std::string& full_key);

// Reads a secret from a file (first line, trailing newline/CR stripped) and registers it with the logger.
// A file that cannot be read is a ConfigError naming where its name was given (the environment variable,
// the config key with FILE:LINE, or the command line), never the name: it may be the secret itself.
std::string read_secret_file(const std::string& path);

}  // namespace sp
