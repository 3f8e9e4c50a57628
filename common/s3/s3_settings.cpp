// The S3 client's connection settings: flags, the environment, ~/.aws and the config file (resolve()).
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/core/config.hpp"
#include "common/core/log.hpp"
#include "common/s3/s3.hpp"

namespace sp::s3 {

namespace {
std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::optional<Config> load_ini(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return Config::parse(ss.str(), path);
}

struct AwsFiles {
  std::optional<Config> credentials, config;
  std::string credentials_path, config_path;
};

AwsFiles load_aws_files() {
  AwsFiles f;
  std::string home = env("HOME");
  f.credentials_path = env("AWS_SHARED_CREDENTIALS_FILE");
  if (f.credentials_path.empty() && !home.empty()) f.credentials_path = home + "/.aws/credentials";
  f.config_path = env("AWS_CONFIG_FILE");
  if (f.config_path.empty() && !home.empty()) f.config_path = home + "/.aws/config";
  if (!f.credentials_path.empty()) f.credentials = load_ini(f.credentials_path);
  if (!f.config_path.empty()) f.config = load_ini(f.config_path);
  return f;
}

// A profile's key from ~/.aws/credentials ([name]) or ~/.aws/config ([profile name], [default]).
std::optional<std::string> profile_get(const AwsFiles& f, const std::string& profile, const std::string& key) {
  if (f.credentials)
    if (auto v = f.credentials->get(profile + "." + key)) return v;
  if (f.config) {
    if (auto v = f.config->get("profile " + profile + "." + key)) return v;
    if (profile == "default")
      if (auto v = f.config->get("default." + key)) return v;
  }
  return std::nullopt;
}

bool profile_exists(const AwsFiles& f, const std::string& profile) {
  auto has_section = [](const std::optional<Config>& c, const std::string& prefix) {
    if (!c) return false;
    for (const auto& kv : c->values())
      if (kv.first.rfind(prefix + ".", 0) == 0) return true;
    return false;
  };
  return has_section(f.credentials, profile) || has_section(f.config, "profile " + profile) ||
         (profile == "default" && has_section(f.config, "default"));
}
}  // namespace

Settings resolve(const Flags& flags, bool require_credentials) {
  Settings s;
  const Config& cfg = config();
  AwsFiles aws = load_aws_files();
  std::string profile = flags.profile;
  if (profile.empty()) profile = env("AWS_PROFILE");
  if (profile.empty()) profile = cfg.get_or("s3.profile", "");
  bool explicit_profile = !profile.empty();
  if (!explicit_profile) profile = "default";
  if (explicit_profile && !profile_exists(aws, profile))
    throw ConfigError("AWS profile '" + profile + "' not found in " + aws.credentials_path + " or " + aws.config_path);

  auto first = [](std::initializer_list<std::optional<std::string>> vals) -> std::string {
    for (const auto& v : vals)
      if (v && !v->empty()) return *v;
    return "";
  };
  auto envo = [](const char* n) -> std::optional<std::string> {
    std::string v = env(n);
    return v.empty() ? std::nullopt : std::optional<std::string>(v);
  };
  auto flago = [](const std::string& v) { return v.empty() ? std::nullopt : std::optional<std::string>(v); };

  s.endpoint = first({flago(flags.endpoint), envo("AWS_ENDPOINT_URL_S3"), envo("AWS_ENDPOINT_URL"), cfg.get("s3.endpoint"),
                      profile_get(aws, profile, "endpoint_url")});
  while (!s.endpoint.empty() && s.endpoint.back() == '/') s.endpoint.pop_back();
  std::string region = first({flago(flags.region), envo("AWS_REGION"), envo("AWS_DEFAULT_REGION"), cfg.get("s3.region"),
                              profile_get(aws, profile, "region")});
  if (!region.empty()) s.region = region;

  std::string id = env("AWS_ACCESS_KEY_ID"), secret = env("AWS_SECRET_ACCESS_KEY");
  if (!id.empty() && !secret.empty()) {
    s.credentials = {id, secret, env("AWS_SESSION_TOKEN")};
    s.credentials_source = "environment (AWS_ACCESS_KEY_ID)";
  } else {
    auto from_profile = [&]() -> bool {
      auto pid = profile_get(aws, profile, "aws_access_key_id");
      auto psecret = profile_get(aws, profile, "aws_secret_access_key");
      if (!pid || !psecret) return false;
      s.credentials = {*pid, *psecret, profile_get(aws, profile, "aws_session_token").value_or("")};
      s.credentials_source = "profile " + profile;
      return true;
    };
    bool found = false;
    if (explicit_profile) found = from_profile();
    if (!found && cfg.get("s3.access_key_id")) {
      std::string sec = cfg.get_or("s3.secret_access_key", "");
      if (sec.empty() && cfg.get("s3.secret_access_key_file")) sec = read_secret_file(*cfg.get("s3.secret_access_key_file"));
      if (sec.empty())
        throw ConfigError(cfg.origin() + ": s3.access_key_id is set but neither s3.secret_access_key nor "
                          "s3.secret_access_key_file is");
      s.credentials = {*cfg.get("s3.access_key_id"), sec, cfg.get_or("s3.session_token", "")};
      s.credentials_source = "config file " + cfg.origin();
      found = true;
    }
    if (!found && !explicit_profile) found = from_profile();
    if (!found && require_credentials)
      throw ConfigError("no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE (with "
                        "~/.aws/credentials), or s3.access_key_id and s3.secret_access_key in the config file");
  }
  log::add_secret(s.credentials.secret_key);
  log::add_secret(s.credentials.session_token);

  if (flags.path_style) {
    s.path_style = *flags.path_style;
  } else if (auto a = cfg.get("s3.addressing")) {
    if (*a == "path") s.path_style = true;
    else if (*a == "virtual") s.path_style = false;
    else throw ConfigError(cfg.origin() + ": s3.addressing must be 'path' or 'virtual', not '" + *a + "'");
  } else {
    s.path_style = !s.endpoint.empty();
  }
  s.ca_file = first({flago(flags.ca_file),
                     envo("AWS_CA_BUNDLE"), cfg.get("s3.ca_file")});
  // insecure as in [clickhouse] and the flag; verify_tls is its earlier, inverted name
  auto insecure = cfg.get_bool("s3.insecure");
  auto verify = cfg.get_bool("s3.verify_tls");
  if (insecure && verify && *insecure == *verify)
    throw ConfigError(cfg.origin() + ": s3.insecure = " + (*insecure ? "true" : "false") + " and s3.verify_tls = " +
                      (*verify ? "true" : "false") + " contradict each other: keep one (insecure)");
  s.verify_tls = !flags.insecure && !insecure.value_or(false) && verify.value_or(true);
  return s;
}

}  // namespace sp::s3
