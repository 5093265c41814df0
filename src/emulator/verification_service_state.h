// The state VerificationService keeps behind its mutex, shared by the
// rooms that implement it: the API (verification_service.cc) and the admin
// endpoints (verification_service_admin.cc). Private to lf_emulator.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "core/token_bucket.h"
#include "emulator/emulator_settings.h"
#include "emulator/verification_service.h"

namespace lf {

inline constexpr std::string_view kAdminPrefix = "/_admin/";
inline constexpr std::string_view kNoAccount = "-";  // stats bucket of requests without an account

struct VerificationService::Account {
  Account(AccountSpec s, const EffectiveKnobs& k, Instant now)
      : spec(std::move(s)), bucket(k.rps, k.burst, now.steady), quota_window_start(now.steady) {}
  AccountSpec spec;
  TokenBucket bucket;
  std::int64_t in_flight = 0;
  std::int64_t quota_used = 0;
  std::chrono::steady_clock::time_point quota_window_start;
};

struct VerificationService::Stats {
  std::chrono::steady_clock::time_point start;
  std::uint64_t total = 0;
  std::map<std::string, std::uint64_t, std::less<>> by_status;
  std::map<std::string, std::map<std::string, std::uint64_t, std::less<>>, std::less<>> by_account;
  std::uint64_t injected_internal_error = 0, reset = 0, stall = 0, truncate = 0, bad_json = 0,
                delayed = 0, gateway_outage = 0;
  std::int64_t window = -1;
  std::uint64_t window_count = 0, window_ok = 0, peak = 0, peak_ok = 0;
  std::int64_t in_flight = 0, peak_in_flight = 0;
  std::uint64_t uploads_accepted = 0;
  std::uint64_t downloads = 0;
};

}  // namespace lf
