// lfemu's admin endpoints (GET /_admin/stats, /_admin/calls, GET|POST
// /_admin/config, POST /_admin/reset-quota, /_admin/reset-stats): a room of
// VerificationService apart from the API it emulates.
#include <string>

#include <nlohmann/json.hpp>

#include "emulator/knob_schedule.h"
#include "emulator/verification_service.h"
#include "emulator/verification_service_state.h"

namespace lf {
namespace {

using json = nlohmann::json;

ServiceResponse admin_answer(int http_status, const json& body) {
  ServiceResponse r;
  r.http_status = http_status;
  r.body = body.dump();
  return r;
}

ServiceResponse admin_error(int http_status, std::string message) {
  return admin_answer(http_status, json{{"error", std::move(message)}});
}

}  // namespace

std::string VerificationService::stats_json(Instant now) {
  std::lock_guard lock(mu_);
  const Stats& s = *stats_;
  json j;
  j["uptime_ms"] =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.steady - s.start).count();
  j["requests_total"] = s.total;
  j["by_status"] = json::object();
  for (const auto& [k, v] : s.by_status) j["by_status"][k] = v;
  j["by_account"] = json::object();
  for (const auto& [acc, m] : s.by_account) {
    json a = json::object();
    for (const auto& [k, v] : m) a[k] = v;
    j["by_account"][acc] = a;
  }
  j["peak_rps"] = s.peak;
  j["peak_ok_rps"] = s.peak_ok;
  j["in_flight"] = s.in_flight;
  j["peak_in_flight"] = s.peak_in_flight;
  j["faults"] = {{"internal_error", s.injected_internal_error},
                 {"reset", s.reset},
                 {"stall", s.stall},
                 {"truncate", s.truncate},
                 {"bad_json", s.bad_json},
                 {"delayed", s.delayed},
                 {"gateway_outage", s.gateway_outage}};
  j["uploads"] = {{"accepted_total", s.uploads_accepted},
                  {"stored", images_.count()},
                  {"stored_bytes", images_.size_bytes()},
                  {"capacity_bytes", images_.capacity()},
                  {"evicted", images_.evictions()},
                  {"downloads", s.downloads}};
  json accounts = json::object();
  for (const auto& [id, account] : accounts_) {
    EffectiveKnobs k = knobs_for(account.get(), now);
    json a;
    a["quota_used"] = account->quota_used;
    a["quota"] = k.quota;
    a["in_flight"] = account->in_flight;
    a["rps"] = k.rps;
    a["burst"] = k.burst;
    a["tokens"] = account->bucket.unlimited() ? json(nullptr)
                                              : json(account->bucket.available(now.steady));
    accounts[id] = a;
  }
  j["accounts"] = accounts;
  j["call_log"] = {{"capacity", calls_.capacity()},
                   {"kept", calls_.size()},
                   {"recorded", calls_.recorded()},
                   {"dropped", calls_.dropped()},
                   {"last_seq", calls_.last_seq()}};
  return j.dump();
}

ServiceResponse VerificationService::handle_admin(const ServiceRequest& request,
                                                  std::string_view path,
                                                  std::string_view query, Instant now) {
  auto parse_body = [&]() -> Result<json> {
    if (request.body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
      return json::object();
    }
    try {
      json j = json::parse(request.body);
      if (!j.is_object()) return Error{"the body must be a JSON object"};
      return j;
    } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e999
      return Error{std::string("the body is not valid JSON: ") + e.what()};
    }
  };
  auto config_json = [&]() {  // REQUIRES: mu_ held
    json j;
    j["defaults"] = knobs_to_json(defaults_);
    j["schedule"] = schedule_to_json(schedule_.phases);
    j["schedule_elapsed_s"] = std::chrono::duration<double>(now.steady - schedule_.start).count();
    j["service"] = {{"allow_remote_downloads", options_.allow_remote_downloads},
                    {"download_timeout_ms", options_.download_timeout_ms},
                    {"image_store_bytes", options_.image_store_bytes}};
    json accounts = json::object();
    for (const auto& [id, a] : accounts_) {
      json aj = knobs_to_json(a->spec.knobs);
      aj["permission"] = a->spec.permission;
      aj["expires_at"] =
          a->spec.expires_at ? json(format_iso8601_utc(*a->spec.expires_at)) : json(nullptr);
      accounts[id] = aj;
    }
    j["accounts"] = accounts;
    return j;
  };

  if (path == "/_admin/stats") {
    if (request.method != "GET") return admin_error(405, "use GET /_admin/stats");
    ServiceResponse r;
    r.body = stats_json(now);
    return r;
  }
  if (path == "/_admin/calls") {
    if (request.method != "GET") return admin_error(405, "use GET /_admin/calls");
    if (!log_calls_) {
      return admin_error(404, "the call log is off: start lfemu with --call-log N "
                              "(or service.call_log_entries in --config)");
    }
    auto q = parse_call_query(query);
    if (!q) return admin_error(400, q.error().message);
    std::uint64_t dropped, last_seq;
    std::vector<CallRecord> records;
    {
      std::lock_guard lock(mu_);
      records = calls_.since(q->since, q->limit);
      dropped = calls_.dropped();
      last_seq = calls_.last_seq();
    }
    ServiceResponse r;
    r.content_type = "application/jsonl";
    r.body = to_json_lines(records);  // formatted outside the lock
    r.delivery.headers.emplace_back("X-Calls-Dropped", std::to_string(dropped));
    r.delivery.headers.emplace_back("X-Calls-Last-Seq", std::to_string(last_seq));
    return r;
  }
  if (path == "/_admin/config") {
    if (request.method == "GET") {
      std::lock_guard lock(mu_);
      return admin_answer(200, config_json());
    }
    if (request.method != "POST") return admin_error(405, "use GET or POST /_admin/config");
    auto body = parse_body();
    if (!body) return admin_error(400, body.error().message);
    std::lock_guard lock(mu_);
    // Validate everything on copies, then commit at once.
    Knobs defaults = defaults_;
    ServiceOptions options = options_;
    std::map<std::string, AccountSpec> changed;
    std::optional<std::vector<SchedulePhase>> schedule;
    for (const auto& [key, v] : body->items()) {
      if (key == "schedule") {
        // Replaces the schedule; its clock starts now.
        auto phases = parse_schedule(v, "schedule");
        if (!phases) return admin_error(400, phases.error().message);
        schedule = std::move(*phases);
      } else if (key == "defaults") {
        if (auto s = apply_knobs_json(v, "defaults", defaults, false); !s) {
          return admin_error(400, s.message());
        }
      } else if (key == "service") {
        if (!v.is_object()) return admin_error(400, "service must be an object");
        for (const auto& [sk, sv] : v.items()) {
          if (sk == "allow_remote_downloads" && sv.is_boolean()) {
            options.allow_remote_downloads = sv.get<bool>();
          } else if (sk == "download_timeout_ms" && sv.is_number_integer() &&
                     sv.get<std::int64_t>() > 0) {
            options.download_timeout_ms = sv.get<std::int64_t>();
          } else {
            return admin_error(400, "service." + sk +
                                        " cannot be set here (settable: allow_remote_downloads "
                                        "true/false, download_timeout_ms > 0)");
          }
        }
      } else if (key == "accounts") {
        if (!v.is_object()) {
          return admin_error(400, "accounts must be an object keyed by api_id");
        }
        for (const auto& [id, av] : v.items()) {
          AccountSpec spec;
          if (auto it = accounts_.find(id); it != accounts_.end()) {
            spec = it->second->spec;
          } else {
            spec.api_id = id;
          }
          if (auto s = apply_account_json(av, "accounts[" + id + "]", spec); !s) {
            return admin_error(400, s.message());
          }
          if (spec.api_id != id) return admin_error(400, "accounts[" + id + "]: api_id differs");
          if (spec.api_secret.empty()) {
            return admin_error(400, "accounts[" + id + "] is new: it needs an api_secret");
          }
          changed[id] = std::move(spec);
        }
      } else {
        return admin_error(400, "unknown key " + key +
                                    " (expected defaults, schedule, accounts, service)");
      }
    }
    defaults_ = merge_knobs(default_knobs(), defaults);
    if (schedule) schedule_ = KnobSchedule{std::move(*schedule), now.steady};
    options_.allow_remote_downloads = options.allow_remote_downloads;
    options_.download_timeout_ms = options.download_timeout_ms;
    for (auto& [id, spec] : changed) {
      if (auto it = accounts_.find(id); it != accounts_.end()) {
        it->second->spec = std::move(spec);
      } else {
        auto knobs = resolve_knobs(merge_knobs(defaults_, spec.knobs));
        accounts_[id] = std::make_unique<Account>(std::move(spec), knobs, now);
      }
    }
    return admin_answer(200, config_json());
  }
  if (path == "/_admin/reset-quota") {
    if (request.method != "POST") return admin_error(405, "use POST /_admin/reset-quota");
    auto body = parse_body();
    if (!body) return admin_error(400, body.error().message);
    std::lock_guard lock(mu_);
    json reset = json::array();
    std::optional<std::string> only;
    if (body->contains("account")) {
      if (!(*body)["account"].is_string()) return admin_error(400, "account must be a string");
      only = (*body)["account"].get<std::string>();
      if (!accounts_.contains(*only)) return admin_error(404, "no account " + *only);
    }
    for (auto& [id, a] : accounts_) {
      if (only && id != *only) continue;
      a->quota_used = 0;
      a->quota_window_start = now.steady;
      reset.push_back(id);
    }
    return admin_answer(200, json{{"reset", reset}});
  }
  if (path == "/_admin/reset-stats") {
    if (request.method != "POST") return admin_error(405, "use POST /_admin/reset-stats");
    std::lock_guard lock(mu_);
    std::int64_t in_flight = stats_->in_flight;
    stats_ = std::make_unique<Stats>();
    stats_->start = now.steady;
    stats_->in_flight = in_flight;
    stats_->peak_in_flight = in_flight;
    return admin_answer(200, json{{"reset", true}});
  }
  return admin_error(404, "unknown admin endpoint " + std::string(path) +
                              " (GET /_admin/stats, GET /_admin/calls, GET|POST /_admin/config, "
                              "POST /_admin/reset-quota, POST /_admin/reset-stats)");
}

}  // namespace lf
