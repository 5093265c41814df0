// The job-row and attempt-row fields an outcome sets, shared by both
// stores' queues so that SQLite and PostgreSQL record an answer alike.
// Private to src/store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/outcome.h"

namespace lf {

struct OutcomeFields {
  std::optional<std::int64_t> http_status;  // absent: no HTTP answer
  std::string api_status;                   // the API's status or a transport failure code
  std::string reason;
  std::string request_id;
  std::optional<double> verify_score;
  std::string image_id;
};

inline OutcomeFields fields_of(const Outcome& outcome) {
  OutcomeFields fields;
  fields.api_status = std::string(outcome.code());
  if (outcome.answer) {
    const ApiAnswer& answer = *outcome.answer;
    if (answer.http_status != 0) fields.http_status = answer.http_status;
    fields.reason = answer.reason;
    fields.request_id = answer.request_id;
    fields.verify_score = answer.verify_score;
    fields.image_id = answer.image_id;
  } else {
    fields.reason = outcome.failure_detail;
  }
  return fields;
}

}  // namespace lf
