// Outcomes for the store's and the runner's tests: an API answer as the
// runner would hand it to JobQueue::settle.
#pragma once

#include <string>

#include "core/outcome.h"

namespace lf {

// An OK answer for `job` with `score`, request_id "req-<job>" and image_id
// "img-<job>", sent at `start` and answered at `end`.
inline Outcome ok_outcome(JobId job, double score, UnixMillis start = 1000,
                          UnixMillis end = 1250) {
  Outcome outcome;
  outcome.job_id = job;
  outcome.started_at = start;
  outcome.finished_at = end;
  ApiAnswer answer;
  answer.http_status = 200;
  answer.status = ApiStatus::kOk;
  answer.request_id = "req-" + std::to_string(job);
  answer.verify_score = score;
  answer.image_id = "img-" + std::to_string(job);
  outcome.answer = answer;
  return outcome;
}

}  // namespace lf
