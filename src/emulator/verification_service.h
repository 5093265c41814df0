// lfemu's request handler, free of any network code: given one HTTP request
// (method, target, headers, body) and the time, it decides the answer of
// POST /identity/handhold_idcard_verification as the spec describes it
// (accounts, rate limits, quotas, image checks, faces), which faults to
// inject, and serves the /_admin/ endpoints. The HTTP server (http_server.h)
// only moves bytes and carries out what the answer says (delay, download,
// stall, reset, truncate).
//
// Threading: every public member may be called from any thread; shared state
// (accounts, buckets, quotas, RNG, image store, counters) sits behind one
// mutex, held only for bookkeeping: parsing and image checks run outside it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/api_status.h"
#include "core/token_bucket.h"
#include "emulator/call_log.h"
#include "emulator/emulator_settings.h"
#include "emulator/image_store.h"
#include "emulator/knob_schedule.h"
#include "image/preflight.h"

namespace lf {

// The time of a request: steady for limits and windows, wall for key expiry.
struct Instant {
  std::chrono::steady_clock::time_point steady;
  std::chrono::system_clock::time_point wall;
  static Instant now() {
    return {std::chrono::steady_clock::now(), std::chrono::system_clock::now()};
  }
};

// One request as read off the wire. Views stay valid during the call only.
struct ServiceRequest {
  std::string_view method;
  std::string_view target;  // origin form: /path?query
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  std::string_view body;
  // The body was over the server's limit: `body` holds only its first bytes.
  bool body_truncated = false;
};

// How the answer reaches the client.
enum class DeliveryFault {
  kNone,
  kReset,     // no answer: the connection is reset (RST)
  kStall,     // status line and headers, then nothing for `stall`, then close
  kTruncate,  // headers promise the whole body; half is sent, then close
};

// How an answer goes out, decided (from the seeded RNG) before the answer
// itself is known.
struct Delivery {
  std::chrono::milliseconds delay{0};  // wait this long before answering
  DeliveryFault fault = DeliveryFault::kNone;
  std::chrono::milliseconds stall{0};  // for kStall
  bool bad_json = false;               // 200 with an HTML body instead
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Retry-After
  // Holds the account's concurrency slot: the server keeps it until the
  // answer is delivered (or dropped), then releases it by destroying it.
  std::shared_ptr<void> in_flight;
};

struct ServiceResponse {
  int http_status = 200;
  std::string content_type = "application/json";
  std::string body;
  Delivery delivery;
};

// A file_url the server must fetch before the answer can be decided.
struct DownloadRequest {
  std::string url;
  std::chrono::milliseconds timeout{0};
  std::uint64_t max_bytes = 0;  // more than this: kTooBig
  bool allow_remote = false;    // false: connect to loopback addresses only
};

struct DownloadResult {
  enum class Kind { kOk, kTimeout, kError, kTooBig } kind = Kind::kError;
  std::string bytes;   // when kOk
  std::string detail;  // why, when not kOk (goes to `reason`)
};

// A request waiting for its download; give it back to finish_download.
struct PendingDownload {
  DownloadRequest download;
  std::string request_id;
  std::string account_id;
  Delivery delivery;  // delay, fault and concurrency slot already decided
  CallRecord call;    // what the call log knows so far (when it is on)
};

using ServiceStep = std::variant<ServiceResponse, PendingDownload>;

class VerificationService {
 public:
  explicit VerificationService(EmulatorSettings settings, Instant start = Instant::now());
  VerificationService(const VerificationService&) = delete;
  VerificationService& operator=(const VerificationService&) = delete;
  ~VerificationService();

  // Decides the answer to `request` at `now`, or asks for a download first.
  // Never throws; every request gets an answer.
  ServiceStep handle(const ServiceRequest& request, Instant now);

  // Completes a request after its download (any outcome).
  ServiceResponse finish_download(PendingDownload pending, DownloadResult result, Instant now);

  // The answer to a request the server could not read as HTTP (bad request
  // line or headers): INVALID_ARGUMENT with `reason`, counted like others.
  ServiceResponse malformed_request(std::string reason, Instant now);

  // The server's body limit, for the error reason of an oversized request.
  void set_body_limit(std::uint64_t bytes);

  // Counters as served by GET /_admin/stats (a JSON document).
  std::string stats_json(Instant now);

 private:
  struct Account;
  struct Params;
  struct Stats;

  ServiceResponse handle_admin(const ServiceRequest& request, std::string_view path,
                               std::string_view query, Instant now);
  ServiceStep handle_api(const ServiceRequest& request, std::string_view path,
                         std::string_view query, Instant now);
  // The answer for an image that was obtained: checks, faces, then OK (kept
  // in the store under a new image_id when `store`).
  std::pair<ServiceResponse, ApiStatus> judge_image(const std::string& request_id,
                                                    const std::string& image_name,
                                                    std::string_view bytes, bool store);
  Delivery decide_delivery(const EffectiveKnobs& knobs);
  // Counts `status`, records the call in the call log (when on: `call`
  // holds what the handler knew of the request) and puts `r` on `delivery`.
  ServiceResponse deliver(ServiceResponse r, Delivery delivery, ApiStatus status,
                          const std::string& account_id, Instant now, CallRecord call);

  // REQUIRES: mu_ held.
  std::string random_hex(int digits);
  double uniform();
  // The knobs in force for `account` (nullptr: the defaults) at `now`: the
  // defaults, under the schedule's phase, under the account's own.
  EffectiveKnobs knobs_for(const Account* account, Instant now) const;
  // A gateway's answer for an outage (knobs.outage_status), or for a
  // throttle with throttle_http_status 429: an HTML page, not the API's JSON.
  static ServiceResponse gateway_page(int http_status, std::int64_t retry_after_s);
  void count(const std::string& account_id, ApiStatus status, Instant now);
  void sync_bucket(Account& account, const EffectiveKnobs& knobs, Instant now);

  ServiceResponse error_response(ApiStatus status, const std::string& request_id,
                                 std::optional<std::string> reason,
                                 std::optional<std::string> image) const;

  mutable std::mutex mu_;
  ServiceOptions options_;
  Knobs defaults_;
  KnobSchedule schedule_;  // limits and faults over time, from its start
  std::map<std::string, std::unique_ptr<Account>, std::less<>> accounts_;
  std::mt19937_64 rng_;
  ImageStore images_;
  ImageLimits image_limits_;
  std::uint64_t body_limit_ = 6ull * 1024 * 1024;
  std::unique_ptr<Stats> stats_;
  // Fixed at construction: read without mu_ to skip hashing when off.
  const bool log_calls_;
  CallLog calls_;  // guarded by mu_
};

// The api path of the spec.
inline constexpr std::string_view kVerificationPath = "/identity/handhold_idcard_verification";

}  // namespace lf
