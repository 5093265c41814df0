// The unsaved-results file: JSON lines, fsynced appends, idempotent import.
#include "store/unsaved_results.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "store/statement.h"

namespace lf {
namespace {

using nlohmann::json;

constexpr std::pair<SettleKind, const char*> kKindNames[] = {
    {SettleKind::kDone, "done"},
    {SettleKind::kFailed, "failed"},
    {SettleKind::kRetryLater, "retry_later"},
    {SettleKind::kThrottled, "throttled"},
    {SettleKind::kRelease, "release"},
    {SettleKind::kKeep, "keep"},
};

constexpr std::pair<Decider, const char*> kDeciderNames[] = {
    {Decider::kApi, "api"},
    {Decider::kPreflight, "preflight"},
    {Decider::kReused, "reused"},
};

const char* kind_name(SettleKind kind) {
  for (const auto& [k, name] : kKindNames) {
    if (k == kind) return name;
  }
  return "release";
}

json outcome_json(const Outcome& outcome) {
  json j = {{"started_at", outcome.started_at}, {"finished_at", outcome.finished_at}};
  if (outcome.answer) {
    const ApiAnswer& a = *outcome.answer;
    json answer = {{"http_status", a.http_status},
                   {"status", a.status == ApiStatus::kUnrecognized ? a.unrecognized_status
                                                                    : std::string(to_string(a.status))},
                   {"request_id", a.request_id},
                   {"image_id", a.image_id},
                   {"reason", a.reason},
                   {"image", a.image}};
    if (a.verify_score) answer["verify_score"] = *a.verify_score;
    if (a.retry_after_seconds) answer["retry_after_seconds"] = *a.retry_after_seconds;
    j["answer"] = std::move(answer);
  }
  if (outcome.failure) j["failure"] = to_string(*outcome.failure);
  if (!outcome.failure_detail.empty()) j["failure_detail"] = outcome.failure_detail;
  return j;
}

// Throws (json's own exceptions, or std::invalid_argument) on a malformed object;
// caught by parse_unsaved_result.
Outcome outcome_from(const json& j) {
  Outcome outcome;
  outcome.started_at = j.at("started_at").get<UnixMillis>();
  outcome.finished_at = j.at("finished_at").get<UnixMillis>();
  if (j.contains("answer")) {
    const json& a = j.at("answer");
    ApiAnswer answer;
    answer.http_status = a.at("http_status").get<int>();
    const std::string status_name = a.at("status").get<std::string>();
    if (status_name.empty()) throw std::invalid_argument("empty API status");
    std::optional<ApiStatus> status = parse_api_status(status_name);
    answer.status = status.value_or(ApiStatus::kUnrecognized);
    if (!status) answer.unrecognized_status = status_name;
    answer.request_id = a.value("request_id", "");
    answer.image_id = a.value("image_id", "");
    answer.reason = a.value("reason", "");
    answer.image = a.value("image", "");
    if (a.contains("verify_score")) answer.verify_score = a.at("verify_score").get<double>();
    if (a.contains("retry_after_seconds")) {
      answer.retry_after_seconds = a.at("retry_after_seconds").get<double>();
    }
    outcome.answer = std::move(answer);
  }
  if (j.contains("failure")) {
    outcome.failure = parse_transport_failure(j.at("failure").get<std::string>());
    if (!outcome.failure) throw std::invalid_argument("unknown transport failure");
  }
  if (!outcome.answer && !outcome.failure) throw std::invalid_argument("no answer nor failure");
  outcome.failure_detail = j.value("failure_detail", "");
  return outcome;
}

}  // namespace

namespace {

std::filesystem::path state_directory() {
  if (const char* dir = std::getenv("LFBATCH_STATE_DIR"); dir && *dir) return dir;
  if (const char* dir = std::getenv("XDG_STATE_HOME"); dir && *dir) {
    return std::filesystem::path(dir) / "lfbatch";
  }
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : "/tmp") / ".local/state/lfbatch";
}

// "unsaved-<hash>-run": the prefix of a PostgreSQL database's files. FNV-1a
// of the URL without its password: stable across builds and hosts.
std::string unsaved_prefix(const std::string& url) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : url_without_password(url)) {
    hash = (hash ^ c) * 0x100000001b3ULL;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return std::string("unsaved-") + hex + "-run";
}

}  // namespace

std::string unsaved_results_path(const std::string& db, RunId run_id) {
  if (is_postgresql_url(db)) {
    return (state_directory() / (unsaved_prefix(db) + std::to_string(run_id) + ".jsonl"))
        .string();
  }
  // The real path, so the same database reached through a symlink finds the
  // same file.
  std::error_code ec;
  std::filesystem::path real = std::filesystem::weakly_canonical(db, ec);
  return (ec ? db : real.string()) + ".unsaved-results.jsonl";
}

std::vector<UnsavedFile> unsaved_results_files(const std::string& db) {
  std::vector<UnsavedFile> files;
  if (!is_postgresql_url(db)) return files;
  const std::string prefix = unsaved_prefix(db);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(state_directory(), ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix) || !name.ends_with(".jsonl")) continue;
    const std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - 6);
    char* end = nullptr;
    const long long run = std::strtoll(digits.c_str(), &end, 10);
    if (digits.empty() || *end != '\0') continue;
    files.push_back(UnsavedFile{entry.path().string(), run});
  }
  return files;
}

std::string to_json_line(const UnsavedResult& result) {
  const Settlement& s = result.settlement;
  json j = {{"owner", result.owner},
            {"run", result.run_id},
            {"job", s.job_id},
            {"kind", kind_name(s.kind)},
            {"next_attempt_at", s.next_attempt_at},
            {"attempt", s.attempt_id},
            {"counts",
             {{"done", result.counts.done},
              {"failed", result.counts.failed},
              {"retried", result.counts.retried},
              {"throttled", result.counts.throttled},
              {"decided_locally", result.counts.decided_locally},
              {"reused", result.counts.reused},
              {"sent_by_image_id", result.counts.sent_by_image_id}}}};
  if (s.outcome) j["outcome"] = outcome_json(*s.outcome);
  // Written only when set, so lines of earlier builds read the same.
  if (s.decided_by != Decider::kApi) j["decided_by"] = to_string(s.decided_by);
  if (s.reused_from > 0) j["reused_from"] = s.reused_from;
  if (!s.content_hash.empty()) j["content_hash"] = s.content_hash;
  if (!s.attempt_disposition.empty()) j["attempt_disposition"] = s.attempt_disposition;
  // Invalid UTF-8 (a reason quoting a file name) is replaced, not refused:
  // the line must be written whatever the answer holds.
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<UnsavedResult> parse_unsaved_result(const std::string& line) {
  try {
    json j = json::parse(line);
    UnsavedResult r;
    r.owner = j.at("owner").get<std::string>();
    r.run_id = j.at("run").get<RunId>();
    Settlement& s = r.settlement;
    s.job_id = j.at("job").get<JobId>();
    const std::string kind = j.at("kind").get<std::string>();
    bool known = false;
    for (const auto& [k, name] : kKindNames) {
      if (kind == name) {
        s.kind = k;
        known = true;
      }
    }
    if (!known) return Error{"unknown settlement kind \"" + kind + "\""};
    s.next_attempt_at = j.at("next_attempt_at").get<UnixMillis>();
    s.attempt_id = j.at("attempt").get<AttemptId>();
    if (j.contains("outcome")) {
      s.outcome = outcome_from(j.at("outcome"));
      s.outcome->job_id = s.job_id;
    }
    const json& c = j.at("counts");
    r.counts.done = c.at("done").get<std::int64_t>();
    r.counts.failed = c.at("failed").get<std::int64_t>();
    r.counts.retried = c.at("retried").get<std::int64_t>();
    r.counts.throttled = c.at("throttled").get<std::int64_t>();
    r.counts.decided_locally = c.value("decided_locally", std::int64_t{0});
    r.counts.reused = c.value("reused", std::int64_t{0});
    r.counts.sent_by_image_id = c.value("sent_by_image_id", std::int64_t{0});
    if (j.contains("decided_by")) {
      const std::string decider = j.at("decided_by").get<std::string>();
      bool known_decider = false;
      for (const auto& [d, name] : kDeciderNames) {
        if (decider == name) {
          s.decided_by = d;
          known_decider = true;
        }
      }
      if (!known_decider) return Error{"unknown decider \"" + decider + "\""};
    }
    s.reused_from = j.value("reused_from", JobId{0});
    s.content_hash = j.value("content_hash", "");
    s.attempt_disposition = j.value("attempt_disposition", "");
    if (r.owner.empty() || s.job_id <= 0) return Error{"a result without owner or job"};
    return r;
  } catch (const std::exception& e) {
    return Error{std::string("not an unsaved result: ") + e.what()};
  }
}

Status append_unsaved_results(const std::string& path, std::span<const UnsavedResult> results) {
  if (results.empty()) return Status::Ok();
  std::string text;
  for (const UnsavedResult& r : results) text += to_json_line(r);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error{"cannot save results to " + path + ": " + std::strerror(errno)};
  }
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      ::close(fd);
      return Error{"cannot save results to " + path + ": " + std::strerror(error)};
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int error = errno;
    ::close(fd);
    return Error{"cannot save results to " + path + " (fsync): " + std::strerror(error)};
  }
  ::close(fd);
  return Status::Ok();
}

std::int64_t count_unsaved_results(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::int64_t lines = 0;
  for (std::string line; std::getline(in, line);) lines += line.empty() ? 0 : 1;
  return lines;
}

Result<UnsavedImport> import_unsaved_results(Store& store, const std::string& path,
                                             UnixMillis now) {
  UnsavedImport counts;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return counts;
    return Error{"cannot read the unsaved results in " + path + ": " + std::strerror(errno)};
  }
  std::vector<UnsavedResult> results;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    Result<UnsavedResult> r = parse_unsaved_result(line);
    if (!r) {
      ++counts.unreadable;
      continue;
    }
    results.push_back(std::move(r).value());
  }
  if (in.bad()) {
    return Error{"cannot read the unsaved results in " + path + ": " + std::strerror(errno)};
  }

  // One settle per result (savepoints inside one transaction), so the run
  // counts are added only for the results that were not stored already.
  JobQueue& queue = store.queue();
  RunLog& log = store.log();
  if (Status begun = store.begin_write(); !begun) {
    return Error{"importing " + path + ": " + begun.message()};
  }
  // Rolls back on every early return.
  struct Rollback {
    Store* store;
    ~Rollback() {
      if (store) store->rollback();
    }
  } rollback{&store};
  for (const UnsavedResult& r : results) {
    Result<std::int64_t> ignored =
        queue.settle(std::span(&r.settlement, 1), r.owner, r.run_id, now);
    if (!ignored) return Error{"importing " + path + ": " + ignored.error().message};
    if (*ignored > 0) {
      ++counts.already_stored;
      continue;
    }
    ++counts.imported;
    // A run the database does not know has no counts to add.
    if (r.run_id > 0) (void)log.add_counts(r.run_id, r.counts);
  }
  rollback.store = nullptr;
  if (Status status = store.commit(); !status) {
    store.rollback();
    return Error{"importing " + path + ": " + status.message()};
  }
  std::error_code ec;
  std::filesystem::remove(path, ec);
  if (ec) {
    return Error{"imported " + path + " but cannot remove it: " + ec.message() +
                 " (importing it again is harmless)"};
  }
  return counts;
}

}  // namespace lf
