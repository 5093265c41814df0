// What both queues share: the content key of a hash, the names of deciders.
#include "store/job_queue.h"

#include <fmt/format.h>

namespace lf {

std::string lease_owner_of(RunId run_id) { return fmt::format("run-{}", run_id); }

std::optional<std::int64_t> content_key_of(std::string_view content_hash) {
  if (content_hash.size() < 16) return std::nullopt;
  std::uint64_t key = 0;
  for (char c : content_hash.substr(0, 16)) {
    int digit;
    if (c >= '0' && c <= '9') digit = c - '0';
    else if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    else return std::nullopt;
    key = key << 4 | static_cast<std::uint64_t>(digit);
  }
  return static_cast<std::int64_t>(key);
}

std::string_view to_string(Decider decider) {
  switch (decider) {
    case Decider::kApi: return "api";
    case Decider::kPreflight: return "preflight";
    case Decider::kReused: return "reused";
  }
  return "api";
}

}  // namespace lf
