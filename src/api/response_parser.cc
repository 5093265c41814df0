// Parsing the API's JSON answers and the Retry-After header.
#include "api/response_parser.h"

#include <charconv>
#include <cmath>
#include <ctime>

#include <nlohmann/json.hpp>

namespace lf {
namespace {

// At most 80 bytes of `body`, printable ASCII only, for error messages.
std::string snippet(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, 80)) {
    out += (c >= 0x20 && c < 0x7f) ? c : '.';
  }
  if (body.size() > 80) out += "...";
  return out;
}

std::string describe(int http_status, std::string_view body) {
  return "HTTP " + std::to_string(http_status) + " with body '" + snippet(body) + "'";
}

// The value of string member `key`, or an error when it is there but not a
// string.
Result<std::string> optional_string(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::string();
  if (!it->is_string()) return Error{std::string("\"") + key + "\" is not a string"};
  return it->get<std::string>();
}

}  // namespace

Result<ApiAnswer> parse_api_response(int http_status, std::string_view body,
                                     std::optional<std::string_view> retry_after,
                                     UnixMillis now) {
  ApiAnswer answer;
  answer.http_status = http_status;
  if (retry_after) answer.retry_after_seconds = parse_retry_after(*retry_after, now);

  nlohmann::json json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    if (http_status == 404 || http_status == 429) {
      answer.status = http_status == 404 ? ApiStatus::kNotFound : ApiStatus::kRateLimitExceeded;
      answer.reason = "HTTP " + std::to_string(http_status) + " without a JSON body";
      return answer;
    }
    return Error{describe(http_status, body) + ": not a JSON object"};
  }
  const auto status_it = json.find("status");
  if (status_it == json.end()) {
    return Error{describe(http_status, body) + ": no \"status\" field"};
  }
  if (!status_it->is_string()) {
    return Error{describe(http_status, body) + ": \"status\" is not a string"};
  }
  const std::string status_name = status_it->get<std::string>();
  const auto status = parse_api_status(status_name);
  if (!status) {
    return Error{describe(http_status, body) + ": unknown status \"" + status_name + "\""};
  }
  answer.status = *status;

  struct Field {
    const char* key;
    std::string* out;
  };
  for (const Field& field : {Field{"request_id", &answer.request_id},
                             Field{"image_id", &answer.image_id},
                             Field{"reason", &answer.reason}, Field{"image", &answer.image}}) {
    auto value = optional_string(json, field.key);
    if (!value) return Error{describe(http_status, body) + ": " + value.error().message};
    *field.out = std::move(value.value());
  }

  const auto score = json.find("verify_score");
  if (score != json.end() && !score->is_null()) {
    if (!score->is_number()) {
      return Error{describe(http_status, body) + ": \"verify_score\" is not a number"};
    }
    answer.verify_score = score->get<double>();
  }
  if (answer.status == ApiStatus::kOk && !answer.verify_score) {
    return Error{describe(http_status, body) + ": status OK without \"verify_score\""};
  }
  return answer;
}

std::optional<double> parse_retry_after(std::string_view value, UnixMillis now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;

  std::int64_t seconds = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec == std::errc() && ptr == value.data() + value.size()) {
    return seconds < 0 ? std::nullopt : std::optional<double>(static_cast<double>(seconds));
  }

  const std::string text(value);
  for (const char* format :
       {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"}) {
    std::tm tm{};
    const char* end = ::strptime(text.c_str(), format, &tm);
    if (end == nullptr || *end != '\0') continue;
    const std::time_t at = ::timegm(&tm);
    if (at == static_cast<std::time_t>(-1)) continue;
    const double delta = static_cast<double>(at) - static_cast<double>(now) / 1000.0;
    return delta > 0 ? std::ceil(delta) : 0.0;
  }
  return std::nullopt;
}

}  // namespace lf
