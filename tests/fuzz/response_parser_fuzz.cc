// Fuzz target: the API's answers (parse_api_response) and Retry-After
// (parse_retry_after), as any server or gateway might send them.
#include <charconv>
#include <cmath>
#include <optional>

#include "api/response_parser.h"
#include "fuzz_targets.h"

namespace lf::fuzz {
namespace {

constexpr UnixMillis kDefaultNow = 1'704'067'200'000;  // 2024-01-01T00:00:00Z

void check_delay(const std::optional<double>& seconds) {
  if (!seconds) return;
  fuzz_check(std::isfinite(*seconds) && *seconds >= 0, "a Retry-After delay not finite or negative");
}

}  // namespace

int response_parser(const std::uint8_t* data, std::size_t size) {
  FuzzInput in(data, size);
  // "STATUS [NOW_MS]"
  const std::string_view status_line = in.line();
  int http_status = 200;
  UnixMillis now = kDefaultNow;
  const char* end = status_line.data() + status_line.size();
  auto [p, ec] = std::from_chars(status_line.data(), end, http_status);
  if (ec != std::errc()) http_status = 200;
  if (p < end && *p == ' ') {
    UnixMillis n = 0;
    if (std::from_chars(p + 1, end, n).ec == std::errc()) now = n;
  }
  constexpr std::string_view kHeader = "Retry-After:";
  const std::string_view header_line = in.line();
  std::optional<ExactBytes> retry_after;
  if (header_line.starts_with(kHeader)) retry_after.emplace(header_line.substr(kHeader.size()));
  const ExactBytes body(in.rest());

  std::optional<std::string_view> retry_view;
  if (retry_after) retry_view = retry_after->view();
  auto answer = parse_api_response(http_status, body.view(), retry_view, now);
  if (answer.ok()) {
    fuzz_check(answer->http_status == http_status, "the answer's HTTP status is not the response's");
    fuzz_check(answer->status != ApiStatus::kOk || answer->verify_score.has_value(),
               "an OK answer without verify_score");
    check_delay(answer->retry_after_seconds);
  } else {
    fuzz_check(!answer.error().message.empty(), "a malformed response without a reason");
  }
  if (retry_after) check_delay(parse_retry_after(retry_after->view(), now));
  check_delay(parse_retry_after(body.view(), now));
  return 0;
}

}  // namespace lf::fuzz
