// The emulated API; see verification_service.h (the admin endpoints are in
// verification_service_admin.cc).
#include "emulator/verification_service.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <boost/url/parse.hpp>
#include <nlohmann/json.hpp>

#include "emulator/face_model.h"
#include "emulator/multipart_parser.h"
#include "emulator/verification_service_state.h"

namespace lf {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;
using Seconds = std::chrono::duration<double>;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string_view header_of(const ServiceRequest& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (iequals(k, name)) return v;
  }
  return {};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding ('+' is a space).
std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = hex_value(s[i + 1]);
      int lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

using FieldList = std::vector<std::pair<std::string, std::string>>;

Result<FieldList> parse_urlencoded(std::string_view text, std::string_view what) {
  FieldList fields;
  while (!text.empty()) {
    auto amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq));
    auto value = percent_decode(eq == std::string_view::npos ? std::string_view{}
                                                             : pair.substr(eq + 1));
    if (!key || !value) {
      return Error{"malformed percent-encoding in the " + std::string(what)};
    }
    fields.emplace_back(std::move(*key), std::move(*value));
  }
  return fields;
}

// The value of parameter `key` in a Content-Disposition line, unquoted.
std::optional<std::string> disposition_param(std::string_view line, std::string_view key) {
  std::size_t pos = 0;
  while (pos < line.size()) {
    auto semi = line.find(';', pos);
    std::string_view item = trim(line.substr(pos, semi == std::string_view::npos
                                                      ? std::string_view::npos
                                                      : semi - pos));
    pos = semi == std::string_view::npos ? line.size() : semi + 1;
    auto eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    if (!iequals(trim(item.substr(0, eq)), key)) continue;
    std::string_view value = trim(item.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return std::string(value);
  }
  return std::nullopt;
}

// The filename of the "file" part in the first bytes of a multipart body
// that was too big to keep: what IMAGE_FILE_SIZE_TOO_BIG names.
std::optional<std::string> file_part_name(std::string_view head) {
  head = head.substr(0, 64 * 1024);
  std::size_t pos = 0;
  while (pos < head.size()) {
    auto nl = head.find('\n', pos);
    std::string_view line = head.substr(pos, nl == std::string_view::npos ? std::string_view::npos
                                                                           : nl - pos);
    pos = nl == std::string_view::npos ? head.size() : nl + 1;
    if (!istarts_with(line, "content-disposition:")) continue;
    auto name = disposition_param(line, "name");
    if (!name || *name != "file") continue;
    auto filename = disposition_param(line, "filename");
    return filename && !filename->empty() ? *filename : std::string("file");
  }
  return std::nullopt;
}

bool is_loopback_host(const boost::urls::url_view& url) {
  switch (url.host_type()) {
    case boost::urls::host_type::ipv4:
      return url.host_ipv4_address().to_bytes()[0] == 127;
    case boost::urls::host_type::ipv6:
      return url.host_ipv6_address().is_loopback();
    case boost::urls::host_type::name: {
      std::string host = url.host();
      std::transform(host.begin(), host.end(), host.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      return host == "localhost" || (host.size() > 10 && host.ends_with(".localhost"));
    }
    default:
      return false;
  }
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

const char* const kBadJsonBody =
    "<html><head><title>502 Bad Gateway</title></head>"
    "<body><center><h1>502 Bad Gateway</h1></center></body></html>\n";

}  // namespace

// Parameters of one API request, from the query string and the form.
struct VerificationService::Params {
  FieldList fields;                  // text parameters, query string first
  bool has_file = false;
  std::string sent_file_name;        // the file part's filename as sent ("" when none)
  std::string file_content_type;     // the file part's Content-Type as sent
  std::string file_name;             // the file part's filename, else "file"
  std::string_view file_bytes;

  const std::string* get(std::string_view name) const {
    for (const auto& [k, v] : fields) {
      if (k == name) return &v;
    }
    return nullptr;
  }
};

VerificationService::VerificationService(EmulatorSettings settings, Instant start)
    : options_(settings.service),
      defaults_(merge_knobs(default_knobs(), settings.defaults)),
      schedule_{settings.schedule, start.steady},
      rng_(settings.service.seed),
      images_(settings.service.image_store_bytes),
      stats_(std::make_unique<Stats>()),
      log_calls_(settings.service.call_log_entries > 0),
      calls_(static_cast<std::size_t>(settings.service.call_log_entries)) {
  stats_->start = start.steady;
  for (auto& spec : settings.accounts) {
    auto knobs = resolve_knobs(merge_knobs(defaults_, spec.knobs));  // the bucket follows knobs_for
    std::string id = spec.api_id;
    accounts_[id] = std::make_unique<Account>(std::move(spec), knobs, start);
  }
}

VerificationService::~VerificationService() = default;

void VerificationService::set_body_limit(std::uint64_t bytes) {
  std::lock_guard lock(mu_);
  body_limit_ = bytes;
}

std::string VerificationService::random_hex(int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(static_cast<std::size_t>(digits));
  std::uint64_t bits = 0;
  for (int i = 0; i < digits; ++i) {
    if (i % 16 == 0) bits = rng_();
    out.push_back(kHex[bits & 0xf]);
    bits >>= 4;
  }
  return out;
}

double VerificationService::uniform() {
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
}

EffectiveKnobs VerificationService::knobs_for(const Account* account, Instant now) const {
  Knobs base = defaults_;
  if (const Knobs* phase = phase_at(schedule_, now.steady)) base = merge_knobs(base, *phase);
  return resolve_knobs(account ? merge_knobs(base, account->spec.knobs) : base);
}

ServiceResponse VerificationService::gateway_page(int http_status, std::int64_t retry_after_s) {
  static constexpr std::pair<int, const char*> kTitles[] = {
      {429, "429 Too Many Requests"}, {502, "502 Bad Gateway"},
      {503, "503 Service Temporarily Unavailable"}, {504, "504 Gateway Time-out"}};
  const char* title = "500 Internal Server Error";
  for (const auto& [code, text] : kTitles) {
    if (code == http_status) title = text;
  }
  ServiceResponse r;
  r.http_status = http_status;
  r.content_type = "text/html";
  r.body = std::string("<html>\r\n<head><title>") + title + "</title></head>\r\n<body>\r\n" +
           "<center><h1>" + title + "</h1></center>\r\n<hr><center>lfemu gateway</center>\r\n" +
           "</body>\r\n</html>\r\n";
  if (retry_after_s > 0) r.delivery.headers.emplace_back("Retry-After", std::to_string(retry_after_s));
  return r;
}

void VerificationService::sync_bucket(Account& account, const EffectiveKnobs& knobs,
                                      Instant now) {
  // The burst first: an account leaving "unlimited" (a schedule's phase)
  // then starts with its whole new burst, as a fresh account does.
  if (account.bucket.burst() != knobs.burst) account.bucket.set_burst(knobs.burst, now.steady);
  if (account.bucket.rate() != knobs.rps) account.bucket.set_rate(knobs.rps, now.steady);
}

void VerificationService::count(const std::string& account_id, ApiStatus status, Instant now) {
  Stats& s = *stats_;
  ++s.total;
  std::string_view name = to_string(status);
  ++s.by_status[std::string(name)];
  ++s.by_account[account_id.empty() ? std::string(kNoAccount) : account_id][std::string(name)];
  auto window = std::chrono::duration_cast<std::chrono::seconds>(now.steady - s.start).count();
  if (window != s.window) {
    s.window = window;
    s.window_count = 0;
    s.window_ok = 0;
  }
  ++s.window_count;
  if (status == ApiStatus::kOk) ++s.window_ok;
  s.peak = std::max(s.peak, s.window_count);
  s.peak_ok = std::max(s.peak_ok, s.window_ok);
}

ServiceResponse VerificationService::error_response(ApiStatus status,
                                                    const std::string& request_id,
                                                    std::optional<std::string> reason,
                                                    std::optional<std::string> image) const {
  ordered_json body;
  body["request_id"] = request_id;
  body["status"] = to_string(status);
  if (reason) body["reason"] = *reason;
  if (image) body["image"] = *image;
  ServiceResponse r;
  r.http_status = http_status_of(status);
  // The image name and reason may carry any bytes; never let them make the
  // body invalid JSON.
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

ServiceStep VerificationService::handle(const ServiceRequest& request, Instant now) {
  std::string_view target = request.target;
  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  if (path.starts_with(kAdminPrefix)) return handle_admin(request, path, query, now);
  return handle_api(request, path, query, now);
}

Delivery VerificationService::decide_delivery(const EffectiveKnobs& k) {
  Delivery d;
  std::lock_guard lock(mu_);
  std::int64_t delay = k.latency_ms;
  if (k.latency_jitter_ms > 0) {
    delay += std::uniform_int_distribution<std::int64_t>(0, k.latency_jitter_ms)(rng_);
  }
  d.delay = std::chrono::milliseconds(delay);
  if (delay > 0) ++stats_->delayed;
  // One draw split into consecutive ranges: the rates add up.
  double r = uniform();
  double edge = k.reset_rate;
  if (r < edge) {
    d.fault = DeliveryFault::kReset;
    ++stats_->reset;
    return d;
  }
  edge += k.stall_rate;
  if (r < edge) {
    d.fault = DeliveryFault::kStall;
    d.stall = std::chrono::milliseconds(k.stall_ms);
    ++stats_->stall;
    return d;
  }
  edge += k.truncate_rate;
  if (r < edge) {
    d.fault = DeliveryFault::kTruncate;
    ++stats_->truncate;
    return d;
  }
  edge += k.bad_json_rate;
  if (r < edge) {
    d.bad_json = true;
    ++stats_->bad_json;
  }
  return d;
}

ServiceResponse VerificationService::deliver(ServiceResponse r, Delivery delivery,
                                             ApiStatus status, const std::string& account_id,
                                             Instant now, CallRecord call) {
  if (log_calls_) {
    call.at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     now.wall.time_since_epoch())
                     .count();
    call.account = account_id;
    call.http_status = delivery.bad_json ? 200 : r.http_status;
    call.api_status = std::string(to_string(status));
    switch (delivery.fault) {
      case DeliveryFault::kReset: call.faults.emplace_back("reset"); break;
      case DeliveryFault::kStall: call.faults.emplace_back("stall"); break;
      case DeliveryFault::kTruncate: call.faults.emplace_back("truncate"); break;
      case DeliveryFault::kNone: break;
    }
    if (delivery.bad_json) call.faults.emplace_back("bad_json");
    call.delay_ms = delivery.delay.count();
  }
  {
    std::lock_guard lock(mu_);
    count(account_id, status, now);
    if (log_calls_) calls_.append(std::move(call));
  }
  if (delivery.bad_json) {
    r.http_status = 200;
    r.content_type = "text/html";
    r.body = kBadJsonBody;
    delivery.headers.clear();
  }
  r.delivery = std::move(delivery);
  return r;
}

ServiceStep VerificationService::handle_api(const ServiceRequest& request, std::string_view path,
                                            std::string_view query, Instant now) {
  std::string request_id;
  EffectiveKnobs knobs;  // the account's once authenticated, else the defaults
  {
    std::lock_guard lock(mu_);
    request_id = "TID" + random_hex(32);
    knobs = knobs_for(nullptr, now);
    if (knobs.outage_status > 0) {
      // The gateway answers for the API, which never sees the request.
      ++stats_->gateway_outage;
      ++stats_->total;
      ++stats_->by_status["GATEWAY_" + std::to_string(knobs.outage_status)];
      return gateway_page(static_cast<int>(knobs.outage_status), knobs.outage_retry_after_s);
    }
  }
  std::string account_id;  // set once authenticated
  std::optional<Delivery> delivery;  // decided once per request
  std::vector<std::pair<std::string, std::string>> extra_headers;
  std::shared_ptr<void> slot;  // the concurrency slot, once admitted
  CallRecord call;             // filled only when the call log is on
  if (log_calls_) call.request_id = request_id;

  auto finish = [&](ServiceResponse r, ApiStatus status) -> ServiceResponse {
    if (!delivery) delivery = decide_delivery(knobs);
    for (auto& h : extra_headers) delivery->headers.push_back(std::move(h));
    delivery->in_flight = std::move(slot);
    return deliver(std::move(r), std::move(*delivery), status, account_id, now, std::move(call));
  };
  auto fail = [&](ApiStatus status, std::optional<std::string> reason = std::nullopt,
                  std::optional<std::string> image = std::nullopt) {
    if (status == ApiStatus::kRateLimitExceeded && knobs.throttle_http_status == 429) {
      // A gateway's throttle: its own page, not the API's JSON.
      ServiceResponse page = gateway_page(429, 0);
      return finish(std::move(page), status);
    }
    return finish(error_response(status, request_id, std::move(reason), std::move(image)),
                  status);
  };

  if (path != kVerificationPath) return fail(ApiStatus::kNotFound);
  if (request.method != "POST") {
    return fail(ApiStatus::kInvalidArgument,
                "this API takes POST with multipart/form-data, not " +
                    std::string(request.method));
  }
  if (request.body_truncated) {
    if (auto name = file_part_name(request.body)) {
      return fail(ApiStatus::kImageFileSizeTooBig, std::nullopt, *name);
    }
    std::uint64_t limit;
    {
      std::lock_guard lock(mu_);
      limit = body_limit_;
    }
    return fail(ApiStatus::kInvalidArgument,
                "request body over " + std::to_string(limit) + " bytes");
  }

  // Parameters: query string, then the form.
  Params params;
  {
    auto from_query = parse_urlencoded(query, "query string");
    if (!from_query) return fail(ApiStatus::kInvalidArgument, from_query.error().message);
    params.fields = std::move(*from_query);
  }
  std::string_view content_type = header_of(request, "Content-Type");
  std::string ct_lower = lowercase(trim(content_type.substr(0, content_type.find(';'))));
  // Parts view into request.body, which outlives this call's use of them.
  std::vector<FormPart> parts;
  if (ct_lower == "multipart/form-data") {
    auto parsed = parse_multipart(request.body, content_type);
    if (!parsed) return fail(ApiStatus::kInvalidArgument, parsed.error().message);
    parts = std::move(*parsed);
    for (const auto& part : parts) {
      if (part.name == "file") {
        if (params.has_file) {
          return fail(ApiStatus::kInvalidArgument, "the file part appears more than once");
        }
        params.has_file = true;
        params.file_bytes = part.body;
        params.file_name = part.filename && !part.filename->empty() ? *part.filename : "file";
        if (part.filename) params.sent_file_name = *part.filename;
        params.file_content_type = std::string(part.content_type);
      } else {
        params.fields.emplace_back(part.name, std::string(part.body));
      }
    }
  } else if (ct_lower == "application/x-www-form-urlencoded") {
    auto from_form = parse_urlencoded(request.body, "form body");
    if (!from_form) return fail(ApiStatus::kInvalidArgument, from_form.error().message);
    for (auto& f : *from_form) params.fields.push_back(std::move(f));
  } else if (!request.body.empty() || !ct_lower.empty()) {
    return fail(ApiStatus::kInvalidArgument,
                "Content-Type must be multipart/form-data, not " +
                    (content_type.empty() ? std::string("(none)") : std::string(content_type)));
  }

  if (log_calls_) {  // what was sent, before any check can refuse it
    call.has_file = params.has_file;
    if (params.has_file) {
      call.file_name = params.sent_file_name;
      call.file_content_type = params.file_content_type;
      call.sha256 = sha256_hex(params.file_bytes);
      call.bytes = params.file_bytes.size();
    }
    if (const std::string* v = params.get("file_url")) call.file_url = *v;
    if (const std::string* v = params.get("file_id")) call.file_id = *v;
  }
  for (const auto& [k, v] : params.fields) {
    if (!is_valid_utf8(k) || !is_valid_utf8(v)) return fail(ApiStatus::kEncodingError);
  }
  // The file part's name is a parameter too (a GBK file name is not UTF-8).
  if (!is_valid_utf8(params.sent_file_name)) return fail(ApiStatus::kEncodingError);
  // A parameter given twice must agree with itself.
  for (std::size_t i = 0; i < params.fields.size(); ++i) {
    for (std::size_t j = i + 1; j < params.fields.size(); ++j) {
      if (params.fields[i].first == params.fields[j].first &&
          params.fields[i].second != params.fields[j].second) {
        return fail(ApiStatus::kInvalidArgument,
                    "parameter " + params.fields[i].first +
                        " is given more than once with different values");
      }
    }
  }
  const std::string* api_id = params.get("api_id");
  const std::string* api_secret = params.get("api_secret");
  if (!api_id || api_id->empty()) return fail(ApiStatus::kInvalidArgument, "api_id is required");
  if (!api_secret || api_secret->empty()) {
    return fail(ApiStatus::kInvalidArgument, "api_secret is required");
  }

  // Authentication and admission, in one critical section.
  {
    std::unique_lock lock(mu_);
    auto it = accounts_.find(*api_id);
    if (it == accounts_.end() || it->second->spec.api_secret != *api_secret) {
      lock.unlock();
      return fail(ApiStatus::kUnauthorized);
    }
    Account& account = *it->second;
    account_id = account.spec.api_id;
    knobs = knobs_for(&account, now);
    if (account.spec.expires_at && now.wall >= *account.spec.expires_at) {
      std::string reason = "api_id " + account_id + " expired at " +
                           format_iso8601_utc(*account.spec.expires_at);
      lock.unlock();
      return fail(ApiStatus::kKeyExpired, reason);
    }
    if (!account.spec.permission) {
      lock.unlock();
      return fail(ApiStatus::kNoPermission);
    }
    auto throttle_header = [&](std::chrono::steady_clock::duration wait) {
      if (!knobs.retry_after) return;
      // Whole seconds, rounded up (a millisecond of float noise forgiven).
      auto secs = static_cast<std::int64_t>(std::ceil(Seconds(wait).count() - 0.001));
      extra_headers.emplace_back("Retry-After", std::to_string(std::max<std::int64_t>(1, secs)));
    };
    if (knobs.max_concurrent > 0 && account.in_flight >= knobs.max_concurrent) {
      throttle_header(std::chrono::seconds(1));
      lock.unlock();
      return fail(ApiStatus::kRateLimitExceeded);
    }
    sync_bucket(account, knobs, now);
    if (!account.bucket.try_take(now.steady)) {
      throttle_header(account.bucket.wait_time(now.steady));
      lock.unlock();
      return fail(ApiStatus::kRateLimitExceeded);
    }
    if (knobs.quota_reset_seconds > 0) {
      auto period = std::chrono::seconds(knobs.quota_reset_seconds);
      if (now.steady - account.quota_window_start >= period) {
        auto periods = (now.steady - account.quota_window_start) / period;
        account.quota_window_start += periods * period;
        account.quota_used = 0;
      }
    }
    if (knobs.quota > 0 && account.quota_used >= knobs.quota) {
      if (knobs.quota_reset_seconds > 0) {
        throttle_header(account.quota_window_start +
                        std::chrono::seconds(knobs.quota_reset_seconds) - now.steady);
      }
      lock.unlock();
      return fail(ApiStatus::kOutOfQuota);
    }
    // Admitted: holds a concurrency slot until the answer is delivered.
    ++account.in_flight;
    ++stats_->in_flight;
    stats_->peak_in_flight = std::max(stats_->peak_in_flight, stats_->in_flight);
    Account* slot_owner = &account;  // accounts are never removed
    slot = std::shared_ptr<void>(nullptr, [this, slot_owner](void*) {
      std::lock_guard slot_lock(mu_);
      --slot_owner->in_flight;
      --stats_->in_flight;
    });
    if (knobs.fail_rate > 0 && uniform() < knobs.fail_rate) {
      ++stats_->injected_internal_error;
      lock.unlock();
      if (log_calls_) call.faults.emplace_back("internal_error");
      return fail(ApiStatus::kInternalError);
    }
    ++account.quota_used;
    call.billed = true;
  }

  const std::string* file_url = params.get("file_url");
  const std::string* file_id = params.get("file_id");
  bool has_url = file_url && !file_url->empty();
  bool has_id = file_id && !file_id->empty();
  int sources = int{params.has_file} + int{has_url} + int{has_id};
  if (sources == 0) {
    return fail(ApiStatus::kInvalidArgument, "one of file, file_url or file_id is required");
  }
  if (sources > 1) {
    std::string given;
    if (params.has_file) given += "file";
    if (has_url) given += given.empty() ? "file_url" : " and file_url";
    if (has_id) given += given.empty() ? "file_id" : " and file_id";
    return fail(ApiStatus::kInvalidArgument,
                "only one of file, file_url and file_id may be given, got " + given);
  }
  if (const std::string* rotate = params.get("auto_rotate")) {
    std::string v = lowercase(*rotate);
    if (v != "true" && v != "false" && v != "1" && v != "0") {
      return fail(ApiStatus::kInvalidArgument,
                  "auto_rotate must be true or false, got \"" + *rotate + "\"");
    }
  }

  if (params.has_file) {
    auto [r, status] = judge_image(request_id, params.file_name, params.file_bytes, true);
    return finish(std::move(r), status);
  }
  if (has_id) {
    std::shared_ptr<const std::string> bytes;
    {
      std::lock_guard lock(mu_);
      bytes = images_.get(*file_id);
    }
    if (!bytes) return fail(ApiStatus::kImageIdNotExist, std::nullopt, *file_id);
    if (log_calls_) {
      call.sha256 = sha256_hex(*bytes);
      call.bytes = bytes->size();
    }
    auto [r, status] = judge_image(request_id, *file_id, *bytes, false);
    return finish(std::move(r), status);
  }

  // file_url: only http, only loopback unless allowed.
  auto url = boost::urls::parse_absolute_uri(*file_url);
  if (!url) return fail(ApiStatus::kDownloadError, "not a URL", *file_url);
  if (url->scheme_id() != boost::urls::scheme::http) {
    return fail(ApiStatus::kDownloadError,
                "lfemu fetches only http:// URLs, not " + std::string(url->scheme()) + "://",
                *file_url);
  }
  if (url->host().empty()) return fail(ApiStatus::kDownloadError, "the URL has no host", *file_url);
  PendingDownload pending;
  {
    std::lock_guard lock(mu_);
    pending.download.allow_remote = options_.allow_remote_downloads;
    pending.download.timeout = std::chrono::milliseconds(options_.download_timeout_ms);
    pending.download.max_bytes = image_limits_.max_bytes;
    ++stats_->downloads;
  }
  if (!pending.download.allow_remote && !is_loopback_host(*url)) {
    return fail(ApiStatus::kDownloadError,
                "host " + std::string(url->host()) +
                    " refused: lfemu downloads only from loopback hosts unless "
                    "service.allow_remote_downloads is true",
                *file_url);
  }
  pending.download.url = *file_url;
  pending.request_id = request_id;
  pending.account_id = account_id;
  pending.delivery = decide_delivery(knobs);
  for (auto& h : extra_headers) pending.delivery.headers.push_back(std::move(h));
  pending.delivery.in_flight = std::move(slot);
  pending.call = std::move(call);
  return pending;
}

ServiceResponse VerificationService::finish_download(PendingDownload pending,
                                                     DownloadResult result, Instant now) {
  const std::string& url = pending.download.url;
  auto fail = [&](ApiStatus status, std::optional<std::string> reason) {
    return deliver(error_response(status, pending.request_id, std::move(reason), url),
                   std::move(pending.delivery), status, pending.account_id, now,
                   std::move(pending.call));
  };
  switch (result.kind) {
    case DownloadResult::Kind::kTimeout:
      return fail(ApiStatus::kDownloadTimeout, std::nullopt);
    case DownloadResult::Kind::kError:
      return fail(ApiStatus::kDownloadError,
                  result.detail.empty() ? std::nullopt : std::optional(result.detail));
    case DownloadResult::Kind::kTooBig:
      return fail(ApiStatus::kImageFileSizeTooBig, std::nullopt);
    case DownloadResult::Kind::kOk:
      break;
  }
  if (log_calls_) {
    pending.call.sha256 = sha256_hex(result.bytes);
    pending.call.bytes = result.bytes.size();
  }
  auto [r, status] = judge_image(pending.request_id, url, result.bytes, true);
  return deliver(std::move(r), std::move(pending.delivery), status, pending.account_id, now,
                 std::move(pending.call));
}

std::pair<ServiceResponse, ApiStatus> VerificationService::judge_image(
    const std::string& request_id, const std::string& image_name, std::string_view bytes,
    bool store) {
  // The same verdict lfsamples' manifest predicts.
  UploadVerdict verdict = judge_upload(bytes, image_limits_);
  if (verdict.status == ApiStatus::kFaceDetectionFailed) {
    return {error_response(verdict.status, request_id, std::string(verdict.reason), std::nullopt),
            verdict.status};
  }
  if (verdict.status != ApiStatus::kOk) {
    return {error_response(verdict.status, request_id, std::nullopt, image_name), verdict.status};
  }
  ordered_json body;
  body["request_id"] = request_id;
  body["status"] = "OK";
  body["verify_score"] = verdict.score;
  // image_id: "returned when the image came as file or file_url" (the spec).
  if (store) {
    std::string image_id;
    std::string copy(bytes);  // copied outside the lock
    {
      std::lock_guard lock(mu_);
      image_id = random_hex(32);
      ++stats_->uploads_accepted;
      images_.put(image_id, std::move(copy));
    }
    body["image_id"] = image_id;
  }
  ServiceResponse r;
  r.body = body.dump();
  return {std::move(r), ApiStatus::kOk};
}

ServiceResponse VerificationService::malformed_request(std::string reason, Instant now) {
  std::string request_id;
  {
    std::lock_guard lock(mu_);
    request_id = "TID" + random_hex(32);
  }
  CallRecord call;
  if (log_calls_) call.request_id = request_id;
  return deliver(error_response(ApiStatus::kInvalidArgument, request_id, std::move(reason),
                                std::nullopt),
                 Delivery{}, ApiStatus::kInvalidArgument, std::string(), now, std::move(call));
}

}  // namespace lf
