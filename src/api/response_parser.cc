// Parsing the API's JSON answers and the Retry-After header.
#include "api/response_parser.h"

#include <charconv>
#include <cmath>
#include <cctype>
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

// The words a gateway put in its error page: an HTML <title>, else the
// body's first non-blank line; printable ASCII, at most 100 characters.
std::string gateway_words(std::string_view body) {
  std::string_view words;
  std::string lower(body.substr(0, 4096));
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto open = lower.find("<title>");
  if (open != std::string::npos) {
    const auto close = lower.find("</title>", open);
    if (close != std::string::npos) words = body.substr(open + 7, close - open - 7);
  }
  if (words.empty()) {
    std::string_view rest = body.substr(0, 4096);
    while (!rest.empty()) {
      const auto end = rest.find('\n');
      std::string_view line = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      if (line.find_first_not_of(" \t\r") != std::string_view::npos && line.front() != '<') {
        words = line;
        break;
      }
    }
  }
  std::string out;
  bool space = false;
  for (char c : words) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += (c >= 0x20 && c < 0x7f) ? c : '.';
    if (out.size() >= 100) break;
  }
  return out;
}

// "HTTP 502 from nginx/1.22.1: '502 Bad Gateway'" (what is known of it).
std::string describe_gateway(const ResponseHead& head, std::string_view body) {
  std::string out = "HTTP " + std::to_string(head.http_status);
  if (head.server && !head.server->empty()) out += " from " + snippet(*head.server);
  const std::string words = gateway_words(body);
  out += words.empty() ? std::string(body.empty() ? " with an empty body" : "")
                       : ": '" + words + "'";
  return out;
}

}  // namespace

ResponseReading read_response(const ResponseHead& head, std::string_view body, UnixMillis now) {
  ResponseReading reading;
  const int status = head.http_status;
  if (status >= 300 && status < 400) {
    reading.failure = TransportFailure::kRedirected;
    // The query is left out: an http -> https redirect echoes it, and it
    // holds api_secret.
    std::string_view to = head.location.value_or("");
    const bool cut = to.find_first_of("?#") != std::string_view::npos;
    to = to.substr(0, to.find_first_of("?#"));
    reading.detail = "HTTP " + std::to_string(status) + " redirect" +
                     (head.location ? " to " + snippet(to) + (cut ? " (query left out)" : "")
                                    : std::string(" (no Location)")) +
                     "; lfbatch never follows redirects (the request carries the API secret): if "
                     "that is the API's address, set --endpoint or the config's \"endpoint\" to it";
    return reading;
  }
  Result<ApiAnswer> answer = parse_api_response(status, body, head.retry_after, now);
  if (answer) {
    reading.answer = std::move(answer.value());
    return reading;
  }
  // Not one of the spec's answers. A JSON object with a string "status" is
  // still the API's answer, with a code this version does not know.
  nlohmann::json json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_object()) {
    const auto it = json.find("status");
    if (it != json.end() && it->is_string() && !it->get<std::string>().empty() &&
        !parse_api_status(it->get<std::string>())) {
      ApiAnswer unknown;
      unknown.http_status = status;
      unknown.status = ApiStatus::kUnrecognized;
      unknown.unrecognized_status = snippet(it->get<std::string>());
      if (auto r = json.find("request_id"); r != json.end() && r->is_string()) {
        unknown.request_id = r->get<std::string>();
      }
      if (auto r = json.find("reason"); r != json.end() && r->is_string()) {
        unknown.reason = r->get<std::string>();
      }
      if (head.retry_after) unknown.retry_after_seconds = parse_retry_after(*head.retry_after, now);
      if (status == 429) {
        unknown.status = ApiStatus::kRateLimitExceeded;
        unknown.reason = "HTTP 429 with status \"" + unknown.unrecognized_status + "\"";
        unknown.unrecognized_status.clear();
      }
      reading.answer = std::move(unknown);
      return reading;
    }
  }
  if (status == 429) {
    // A JSON 429 without a usable status: still the server saying "slower".
    ApiAnswer throttled;
    throttled.http_status = status;
    throttled.status = ApiStatus::kRateLimitExceeded;
    throttled.reason = "HTTP 429 without the API's status";
    if (head.retry_after) throttled.retry_after_seconds = parse_retry_after(*head.retry_after, now);
    reading.answer = std::move(throttled);
    return reading;
  }
  if (status == 413 || status == 414 || status == 431) {
    reading.failure = TransportFailure::kGatewayRejected;
    reading.detail = describe_gateway(head, body) +
                     ": a gateway in front of the API refused the request's size before the API "
                     "saw it; raise its limit (nginx: client_max_body_size, "
                     "large_client_header_buffers) or send smaller files";
    return reading;
  }
  if (status >= 500) {
    reading.failure = TransportFailure::kGatewayError;
    if (head.retry_after) reading.retry_after_seconds = parse_retry_after(*head.retry_after, now);
    reading.detail = describe_gateway(head, body) + " instead of the API's answer";
    return reading;
  }
  reading.failure = TransportFailure::kMalformedResponse;
  reading.detail = answer.error().message;
  return reading;
}

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
