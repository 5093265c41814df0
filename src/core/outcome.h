// What one request for a job came to: an API answer (any status) or a
// transport failure, with what the runner decided to do about it.
#pragma once

#include <optional>
#include <string>

#include "core/api_status.h"
#include "core/job.h"

namespace lf {

// The parsed answer of the API to one request.
struct ApiAnswer {
  int http_status = 0;
  ApiStatus status = ApiStatus::kOk;
  std::string request_id;
  std::optional<double> verify_score;  // present when status is OK
  std::string image_id;                // present when a file or URL was uploaded
  std::string reason;                  // the spec's `reason`, when given
  std::string image;                   // the spec's `image`, when given
  std::optional<double> retry_after_seconds;  // Retry-After header, if the server sent one
};

// One attempt: the answer or the transport failure, never both.
struct Outcome {
  JobId job_id = 0;
  UnixMillis started_at = 0;
  UnixMillis finished_at = 0;
  std::optional<ApiAnswer> answer;
  std::optional<TransportFailure> failure;
  std::string failure_detail;  // e.g. "connection reset by peer"

  Disposition disposition() const {
    return answer ? disposition_of(answer->status) : disposition_of(*failure);
  }
  // The code reported for this attempt: the API status or the transport failure.
  std::string_view code() const {
    return answer ? to_string(answer->status) : to_string(*failure);
  }
};

}  // namespace lf
