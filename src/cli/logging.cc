// spdlog set-up for lfbatch: one stderr sink that formats a line (readable or
// JSON), redacts secrets, and writes it.
#include "cli/logging.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

namespace lf {
namespace {

std::mutex& secrets_mutex() {
  static std::mutex m;
  return m;
}

std::vector<std::string>& secrets() {
  static std::vector<std::string> s;
  return s;
}

constexpr std::string_view kMask = "***";

// Masks the value after every occurrence of `key` (e.g. "api_secret=") up to
// the first character in `stops`.
void mask_after(std::string& text, std::string_view key, std::string_view stops) {
  std::size_t pos = 0;
  while ((pos = text.find(key, pos)) != std::string::npos) {
    const std::size_t begin = pos + key.size();
    std::size_t end = text.find_first_of(stops, begin);
    if (end == std::string::npos) end = text.size();
    text.replace(begin, end - begin, kMask);
    pos = begin + kMask.size();
  }
}

// Masks the string value of every JSON member "api_secret".
void mask_json_member(std::string& text) {
  constexpr std::string_view kKey = "\"api_secret\"";
  std::size_t pos = 0;
  while ((pos = text.find(kKey, pos)) != std::string::npos) {
    std::size_t i = pos + kKey.size();
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    if (i >= text.size() || text[i] != ':') { pos = i; continue; }
    ++i;
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    if (i >= text.size() || text[i] != '"') { pos = i; continue; }
    const std::size_t begin = i + 1;
    std::size_t end = begin;
    while (end < text.size() && text[end] != '"') end += (text[end] == '\\') ? 2 : 1;
    end = std::min(end, text.size());
    text.replace(begin, end - begin, kMask);
    pos = begin + kMask.size();
  }
}

enum class SinkMode { kColor, kPlain, kJson };

std::string utc_iso(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

std::string local_clock(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  return fmt::format("{:02}:{:02}:{:02}.{:03}", tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

std::string_view level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "info";
  }
}

std::string_view level_color(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug: return "\033[2m";      // dim
    case spdlog::level::info: return "\033[32m";      // green
    case spdlog::level::warn: return "\033[33;1m";    // bold yellow
    case spdlog::level::err:
    case spdlog::level::critical: return "\033[31;1m";  // bold red
    default: return "";
  }
}

// Writes each message as one line on stderr. Thread-safe (base_sink's mutex).
class StderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit StderrSink(SinkMode mode) : mode_(mode) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const std::string text = redact(std::string_view(msg.payload.data(), msg.payload.size()));
    std::string line;
    switch (mode_) {
      case SinkMode::kJson: {
        nlohmann::ordered_json j = {{"ts", utc_iso(msg.time)},
                            {"level", level_name(msg.level)},
                            {"msg", text}};
        line = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
        break;
      }
      case SinkMode::kColor:
        line = fmt::format("{} {}{:<5}\033[0m {}", local_clock(msg.time), level_color(msg.level),
                           level_name(msg.level), text);
        break;
      case SinkMode::kPlain:
        line = fmt::format("{} {:<5} {}", utc_iso(msg.time), level_name(msg.level), text);
        break;
    }
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }

 private:
  SinkMode mode_;
};

}  // namespace

void setup_logging(const LogOptions& options) {
  SinkMode mode = SinkMode::kPlain;
  if (options.json) {
    mode = SinkMode::kJson;
  } else if (isatty(STDERR_FILENO) != 0) {
    mode = SinkMode::kColor;
  }
  auto logger = std::make_shared<spdlog::logger>("lfbatch", std::make_shared<StderrSink>(mode));
  spdlog::level::level_enum level = spdlog::level::info;
  if (options.quiet) {
    level = spdlog::level::warn;
  } else if (options.verbose) {
    level = spdlog::level::debug;
  }
  logger->set_level(level);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
}

void register_secret(const std::string& secret) {
  if (secret.size() < 4) return;
  std::lock_guard lock(secrets_mutex());
  for (const auto& s : secrets()) {
    if (s == secret) return;
  }
  secrets().push_back(secret);
}

void clear_registered_secrets() {
  std::lock_guard lock(secrets_mutex());
  secrets().clear();
}

std::string redact(std::string_view text) {
  std::string out(text);
  {
    std::lock_guard lock(secrets_mutex());
    for (const auto& secret : secrets()) {
      std::size_t pos = 0;
      while ((pos = out.find(secret, pos)) != std::string::npos) {
        out.replace(pos, secret.size(), kMask);
        pos += kMask.size();
      }
    }
  }
  mask_after(out, "api_secret=", "&# \t\r\n\"'");
  mask_json_member(out);
  return out;
}

}  // namespace lf
