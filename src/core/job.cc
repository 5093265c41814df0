// Names of job states and source kinds as stored in the database.
#include "core/job.h"

namespace lf {

std::string_view to_string(SourceKind kind) {
  switch (kind) {
    case SourceKind::kPath: return "path";
    case SourceKind::kUrl: return "url";
    case SourceKind::kFileId: return "file_id";
  }
  return "path";
}

std::string_view to_string(JobState state) {
  switch (state) {
    case JobState::kPending: return "pending";
    case JobState::kLeased: return "leased";
    case JobState::kDone: return "done";
    case JobState::kFailed: return "failed";
  }
  return "pending";
}

std::optional<SourceKind> parse_source_kind(std::string_view name) {
  for (SourceKind k : {SourceKind::kPath, SourceKind::kUrl, SourceKind::kFileId}) {
    if (to_string(k) == name) return k;
  }
  return std::nullopt;
}

std::optional<JobState> parse_job_state(std::string_view name) {
  for (JobState s : {JobState::kPending, JobState::kLeased, JobState::kDone, JobState::kFailed}) {
    if (to_string(s) == name) return s;
  }
  return std::nullopt;
}

}  // namespace lf
