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
  std::string unrecognized_status;     // the server's own code when status is kUnrecognized
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
  // A gateway's Retry-After on a failure without the API's answer (a 503
  // saying when to come back); an answer's own is in ApiAnswer.
  std::optional<double> gateway_retry_after_seconds;

  Disposition disposition() const {
    if (!answer) return disposition_of(*failure);
    if (answer->status == ApiStatus::kUnrecognized) {
      return disposition_of_unrecognized(answer->http_status);
    }
    return disposition_of(answer->status);
  }
  // The code reported for this attempt: the API status (the server's own
  // word for one this version does not know) or the transport failure.
  std::string_view code() const {
    if (!answer) return to_string(*failure);
    if (answer->status == ApiStatus::kUnrecognized) return answer->unrecognized_status;
    return to_string(answer->status);
  }
};

}  // namespace lf
