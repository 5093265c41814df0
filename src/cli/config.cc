// Loading lfbatch's config file, the LFBATCH_* environment and the API
// credentials, with errors that name the input and the fix.
#include "cli/config.h"

#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string_view>

#include <boost/url/parse.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/logging.h"
#include "store/pg_url.h"

namespace lf {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Reads one typed value of the config file. `key` is the dotted key, for messages.
class FileReader {
 public:
  FileReader(std::string file, fs::path base_dir) : file_(std::move(file)), base_(std::move(base_dir)) {}

  Status read_string(const json& v, const std::string& key, std::string& out) const {
    if (!v.is_string()) return type_error(key, v, "a string");
    out = v.get<std::string>();
    return {};
  }
  // A path: relative paths are taken relative to the config file's directory.
  Status read_path(const json& v, const std::string& key, std::string& out) const {
    if (Status s = read_string(v, key, out); !s) return s;
    if (!out.empty() && fs::path(out).is_relative()) out = (base_ / out).lexically_normal().string();
    return {};
  }
  Status read_bool(const json& v, const std::string& key, bool& out) const {
    if (!v.is_boolean()) return type_error(key, v, "true or false");
    out = v.get<bool>();
    return {};
  }
  template <typename Int>
  Status read_int(const json& v, const std::string& key, Int& out, Int min) const {
    if (!v.is_number_integer()) return type_error(key, v, "an integer");
    constexpr auto kMax = static_cast<std::int64_t>(std::numeric_limits<Int>::max());
    const bool too_big = v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(kMax);
    const std::int64_t n = too_big ? kMax : v.get<std::int64_t>();
    if (too_big || n < min || n > kMax) {
      return range_error(key, v, fmt::format("an integer from {} to {}", min, kMax));
    }
    out = static_cast<Int>(n);
    return {};
  }
  Status read_number(const json& v, const std::string& key, double& out, double min, double max) const {
    if (!v.is_number()) return type_error(key, v, "a number");
    const double d = v.get<double>();
    if (!(d >= min && d <= max)) {
      return range_error(key, v, std::isinf(max) ? fmt::format("a number of at least {}", min)
                                                 : fmt::format("a number from {} to {}", min, max));
    }
    out = d;
    return {};
  }

  Error unknown_key(const std::string& key, std::string_view known) const {
    return Error{fmt::format("{}: unknown key \"{}\"; known keys here: {} (check the spelling, see "
                             "config/lfbatch.example.json)",
                             file_, key, known)};
  }
  Error type_error(const std::string& key, const json& v, std::string_view expected) const {
    return Error{fmt::format("{}: key \"{}\" must be {}, not {} ({})", file_, key, expected,
                             v.type_name(), v.dump())};
  }
  Error range_error(const std::string& key, const json& v, std::string_view expected) const {
    return Error{fmt::format("{}: key \"{}\" must be {}, not {}", file_, key, expected, v.dump())};
  }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  fs::path base_;
};

constexpr double kInf = std::numeric_limits<double>::infinity();

Status read_retry(const FileReader& r, const json& obj, RetrySettings& out) {
  if (!obj.is_object()) return r.type_error("retry", obj, "an object");
  for (const auto& [key, v] : obj.items()) {
    Status s;
    if (key == "max_attempts") {
      s = r.read_int(v, "retry.max_attempts", out.max_attempts, 1);
    } else if (key == "base_delay_ms") {
      s = r.read_int<std::int64_t>(v, "retry.base_delay_ms", out.base_delay_ms, 0);
    } else if (key == "max_delay_ms") {
      s = r.read_int<std::int64_t>(v, "retry.max_delay_ms", out.max_delay_ms, 0);
    } else if (key == "download_attempts") {
      s = r.read_int(v, "retry.download_attempts", out.download_attempts, 1);
    } else if (key == "download_delay_ms") {
      s = r.read_int<std::int64_t>(v, "retry.download_delay_ms", out.download_delay_ms, 0);
    } else {
      return r.unknown_key("retry." + key,
                           "max_attempts, base_delay_ms, max_delay_ms, download_attempts, "
                           "download_delay_ms");
    }
    if (!s) return s;
  }
  return {};
}

Status read_timeouts(const FileReader& r, const json& obj, TimeoutSettings& out) {
  if (!obj.is_object()) return r.type_error("timeouts", obj, "an object");
  for (const auto& [key, v] : obj.items()) {
    Status s;
    if (key == "connect_ms") {
      s = r.read_int<std::int64_t>(v, "timeouts.connect_ms", out.connect_ms, 1);
    } else if (key == "request_ms") {
      s = r.read_int<std::int64_t>(v, "timeouts.request_ms", out.request_ms, 1);
    } else {
      return r.unknown_key("timeouts." + key, "connect_ms, request_ms");
    }
    if (!s) return s;
  }
  return {};
}

constexpr std::string_view kTopKeys =
    "endpoint, database, secrets_file, concurrency, rate, burst, share, outage_limit, "
    "invalid_argument_streak, retry, timeouts, auto_rotate, threshold, lease_seconds, insecure, "
    "ca_file, max_requests_per_day, budget_time_zone, image_id_max_age, send_file_names, "
    "metrics_file";

Status read_file(const std::string& path, Config& config) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{fmt::format("cannot read config file {}: {}; check the path given by --config or "
                             "LFBATCH_CONFIG",
                             path, std::strerror(errno))};
  }
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::exception& e) {
    // Not only parse_error: a number beyond a double (1e999) is out_of_range.
    return Error{fmt::format("config file {} is not valid JSON: {}", path, e.what())};
  }
  FileReader r(path, fs::absolute(fs::path(path)).parent_path());
  if (!doc.is_object()) return r.type_error("(top level)", doc, "an object of settings");
  for (const auto& [key, v] : doc.items()) {
    Status s;
    if (key == "endpoint") {
      s = r.read_string(v, key, config.endpoint);
    } else if (key == "database") {
      // A postgresql:// URL is not a path relative to the file.
      s = r.read_string(v, key, config.database);
      if (s && !is_postgresql_url(config.database)) s = r.read_path(v, key, config.database);
    } else if (key == "secrets_file") {
      s = r.read_path(v, key, config.secrets_file);
    } else if (key == "concurrency") {
      s = r.read_int(v, key, config.concurrency, 1);
    } else if (key == "rate") {
      s = r.read_number(v, key, config.rate, 0, kInf);
    } else if (key == "burst") {
      s = r.read_number(v, key, config.burst, 0, kInf);
    } else if (key == "share") {
      s = r.read_number(v, key, config.share, 0, 1);
      if (s && config.share <= 0) {
        s = Error{fmt::format("{}: share must be above 0 and at most 1 (the share of the limit "
                              "lfbatch may use), e.g. 0.8",
                              path)};
      }
    } else if (key == "outage_limit") {
      s = r.read_string(v, key, config.outage_limit);
    } else if (key == "invalid_argument_streak") {
      s = r.read_int(v, key, config.invalid_argument_streak, 0);
    } else if (key == "retry") {
      s = read_retry(r, v, config.retry);
    } else if (key == "timeouts") {
      s = read_timeouts(r, v, config.timeouts);
    } else if (key == "auto_rotate") {
      s = r.read_bool(v, key, config.auto_rotate);
    } else if (key == "threshold") {
      s = r.read_number(v, key, config.threshold, 0, 1);
    } else if (key == "lease_seconds") {
      s = r.read_int<std::int64_t>(v, key, config.lease_seconds, 1);
    } else if (key == "insecure") {
      s = r.read_bool(v, key, config.insecure);
    } else if (key == "ca_file") {
      s = r.read_path(v, key, config.ca_file);
    } else if (key == "max_requests_per_day") {
      s = r.read_int<std::int64_t>(v, key, config.max_requests_per_day, 0);
    } else if (key == "budget_time_zone") {
      s = r.read_string(v, key, config.budget_time_zone);
    } else if (key == "image_id_max_age") {
      s = r.read_string(v, key, config.image_id_max_age);
    } else if (key == "send_file_names") {
      s = r.read_bool(v, key, config.send_file_names);
    } else if (key == "metrics_file") {
      s = r.read_path(v, key, config.metrics_file);
    } else {
      return r.unknown_key(key, kTopKeys);
    }
    if (!s) return s;
  }
  if (config.retry.base_delay_ms > config.retry.max_delay_ms) {
    return Error{fmt::format("{}: retry.base_delay_ms ({}) is above retry.max_delay_ms ({}); lower "
                             "the first or raise the second",
                             path, config.retry.base_delay_ms, config.retry.max_delay_ms)};
  }
  return {};
}

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? v : nullptr;
}

Status overlay_environment(Config& config) {
  if (const char* v = env("LFBATCH_ENDPOINT")) config.endpoint = v;
  if (const char* v = env("LFBATCH_DB")) config.database = v;
  if (const char* v = env("LFBATCH_CONCURRENCY")) {
    const std::string_view s(v);
    int n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || end != s.data() + s.size() || n < 1) {
      return Error{fmt::format("LFBATCH_CONCURRENCY=\"{}\" is not a whole number of at least 1; "
                               "set it to e.g. 16 or unset it",
                               s)};
    }
    config.concurrency = n;
  }
  if (const char* v = env("LFBATCH_RATE")) {
    const std::string_view s(v);
    double d = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec != std::errc() || end != s.data() + s.size() || !(d >= 0) || std::isinf(d)) {
      return Error{fmt::format("LFBATCH_RATE=\"{}\" is not a number of requests per second of at "
                               "least 0; set it to e.g. 10 (0 = find it adaptively) or unset it",
                               s)};
    }
    config.rate = d;
  }
  return {};
}

Status check_endpoint(const Config& config) {
  auto url = boost::urls::parse_absolute_uri(config.endpoint);
  if (!url || (url->scheme_id() != boost::urls::scheme::http &&
               url->scheme_id() != boost::urls::scheme::https) ||
      url->encoded_host().empty()) {
    return Error{fmt::format("endpoint \"{}\" is not an http:// or https:// URL; set it to the API's "
                             "full URL, e.g. {}",
                             redact(config.endpoint), kDefaultEndpoint)};
  }
  return {};
}

}  // namespace

Result<Config> load_config(const std::string& config_path) {
  Config config;
  std::string path = config_path;
  if (path.empty()) {
    if (const char* v = env("LFBATCH_CONFIG")) path = v;
  }
  if (!path.empty()) {
    if (Status s = read_file(path, config); !s) return s.error();
  }
  if (Status s = overlay_environment(config); !s) return s.error();
  if (Status s = check_endpoint(config); !s) return s.error();
  return config;
}

Result<Credentials> load_credentials(const Config& config) {
  const char* id = env("LINKFACE_API_ID");
  const char* secret = env("LINKFACE_API_SECRET");
  if (id != nullptr && secret != nullptr) {
    register_secret(secret);
    return Credentials{id, secret};
  }
  if ((id != nullptr) != (secret != nullptr)) {
    return Error{fmt::format("{} is set but {} is not; set both, or unset both and name a "
                             "secrets_file in the config",
                             id != nullptr ? "LINKFACE_API_ID" : "LINKFACE_API_SECRET",
                             id != nullptr ? "LINKFACE_API_SECRET" : "LINKFACE_API_ID")};
  }
  if (config.secrets_file.empty()) {
    return Error{"no API credentials: set LINKFACE_API_ID and LINKFACE_API_SECRET, or name a "
                 "secrets_file (JSON {\"api_id\": ..., \"api_secret\": ...}, chmod 600) in the config"};
  }
  const std::string& path = config.secrets_file;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Error{fmt::format("cannot read secrets file {}: {}; check secrets_file in the config",
                             path, std::strerror(errno))};
  }
  if (!S_ISREG(st.st_mode)) {
    return Error{fmt::format("secrets file {} is not a regular file; check secrets_file in the config", path)};
  }
  if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
    return Error{fmt::format("secrets file {} can be read by group or others (mode {:04o}); "
                             "refusing to use it: run chmod 600 {}",
                             path, st.st_mode & 07777, path)};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{fmt::format("cannot read secrets file {}: {}", path, std::strerror(errno))};
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  json doc;
  try {
    doc = json::parse(buffer.str());
  } catch (const json::parse_error& e) {
    // e.what() quotes the text it read, which may be the secret: give the byte only.
    return Error{fmt::format("secrets file {} is not valid JSON (error at byte {}); it must be "
                             "{{\"api_id\": \"...\", \"api_secret\": \"...\"}}",
                             path, e.byte)};
  } catch (const json::exception&) {
    // out_of_range: a number beyond a double (1e999). Its what() quotes the number only,
    // but say no more than the parse error does.
    return Error{fmt::format("secrets file {} is not valid JSON (a number too large); it must be "
                             "{{\"api_id\": \"...\", \"api_secret\": \"...\"}}",
                             path)};
  }
  if (!doc.is_object()) {
    return Error{fmt::format("secrets file {} must hold a JSON object {{\"api_id\": \"...\", "
                             "\"api_secret\": \"...\"}}",
                             path)};
  }
  Credentials creds;
  for (const auto& [key, v] : doc.items()) {
    std::string* field = nullptr;
    if (key == "api_id") {
      field = &creds.api_id;
    } else if (key == "api_secret") {
      field = &creds.api_secret;
    } else {
      return Error{fmt::format("secrets file {}: unknown key \"{}\"; only api_id and api_secret "
                               "belong there",
                               path, key)};
    }
    if (!v.is_string()) {
      return Error{fmt::format("secrets file {}: key \"{}\" must be a string", path, key)};
    }
    *field = v.get<std::string>();
  }
  if (creds.api_id.empty() || creds.api_secret.empty()) {
    return Error{fmt::format("secrets file {} lacks {}; it must be {{\"api_id\": \"...\", "
                             "\"api_secret\": \"...\"}}",
                             path, creds.api_id.empty() ? "api_id" : "api_secret")};
  }
  register_secret(creds.api_secret);
  return creds;
}

}  // namespace lf
