// A job: one photo to verify, named by a local path, a URL (file_url) or an
// image_id of an earlier upload (file_id), and the states it moves through.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lf {

using JobId = std::int64_t;
using RunId = std::int64_t;
using AttemptId = std::int64_t;
// Wall-clock time in milliseconds since the Unix epoch (UTC); the unit of
// every timestamp in the database.
using UnixMillis = std::int64_t;

enum class SourceKind { kPath, kUrl, kFileId };

// pending -> leased -> done | failed; leased -> pending (retry, throttle,
// release, expired lease). done and failed are final until a user re-queues.
enum class JobState { kPending, kLeased, kDone, kFailed };

std::string_view to_string(SourceKind kind);   // "path", "url", "file_id"
std::string_view to_string(JobState state);    // "pending", "leased", ...
std::optional<SourceKind> parse_source_kind(std::string_view name);
std::optional<JobState> parse_job_state(std::string_view name);

// The request a job makes: what the runner needs to send it.
struct Job {
  JobId id = 0;
  SourceKind kind = SourceKind::kPath;
  std::string source;  // absolute path, http(s) URL, or image_id
  bool auto_rotate = false;
  int attempts = 0;    // requests already sent for this job, not counting throttled ones
  bool no_reuse = false;  // verify for real: never take an earlier answer for its content
};

}  // namespace lf
