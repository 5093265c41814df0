// Progress and summary formatting.
#include "runner/progress.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace lf {

std::string format_eta(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 99 * 3600.0) return "--:--";
  auto total = static_cast<std::int64_t>(std::llround(seconds));
  std::int64_t h = total / 3600, m = (total / 60) % 60, s = total % 60;
  if (h > 0) return fmt::format("{}:{:02}:{:02}", h, m, s);
  return fmt::format("{}:{:02}", m, s);
}

namespace {

std::int64_t finished(const RunStats& s) { return s.done + s.failed; }

double eta_seconds(const ProgressSnapshot& s) {
  std::int64_t left = std::max<std::int64_t>(0, s.total - finished(s.stats));
  if (left == 0) return 0;
  if (s.recent_finished_per_second <= 0) return -1;
  return static_cast<double>(left) / s.recent_finished_per_second;
}

std::string errors_text(const RunStats& stats) {
  // Largest first.
  std::vector<std::pair<std::string, std::int64_t>> codes(stats.by_code.begin(),
                                                          stats.by_code.end());
  std::stable_sort(codes.begin(), codes.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string out;
  for (const auto& [code, n] : codes) {
    if (!out.empty()) out += ' ';
    out += fmt::format("{} {}", code, n);
  }
  return out;
}

std::string facts(const ProgressSnapshot& s) {
  double pct = s.total > 0 ? 100.0 * static_cast<double>(finished(s.stats)) /
                                 static_cast<double>(s.total)
                           : 100.0;
  std::string out = fmt::format("{}/{} {:.1f}%  {:.1f} req/s  ETA {}  in flight {}",
                                finished(s.stats), s.total, std::min(pct, 100.0),
                                s.recent_requests_per_second, format_eta(eta_seconds(s)),
                                s.in_flight);
  if (s.rate_limit > 0) out += fmt::format("  limit {:.1f}/s", s.rate_limit);
  if (!s.state.empty()) out += "  [" + s.state + "]";
  return out;
}

}  // namespace

std::string format_progress_bar(const ProgressSnapshot& s, int width) {
  constexpr int kBar = 24;
  double fraction = s.total > 0 ? static_cast<double>(finished(s.stats)) /
                                      static_cast<double>(s.total)
                                : 1.0;
  int filled = static_cast<int>(std::clamp(fraction, 0.0, 1.0) * kBar);
  std::string out = "[" + std::string(static_cast<std::size_t>(filled), '#') +
                    std::string(static_cast<std::size_t>(kBar - filled), '.') + "] " + facts(s);
  if (s.stats.throttled > 0) out += fmt::format(" | throttled {}", s.stats.throttled);
  std::string errors = errors_text(s.stats);
  if (!errors.empty()) out += " | " + errors;
  if (width > 0 && static_cast<int>(out.size()) > width) out.resize(static_cast<std::size_t>(width));
  return out;
}

std::string format_progress_line(const ProgressSnapshot& s) {
  std::string out = "progress: " + facts(s) +
                    fmt::format("; done {}, failed {}, retried {}, throttled {}", s.stats.done,
                                s.stats.failed, s.stats.retried, s.stats.throttled);
  std::string errors = errors_text(s.stats);
  if (!errors.empty()) out += "; codes: " + errors;
  return out;
}

std::string finished_run_json(const FinishedRun& r) {
  nlohmann::json j = {
      {"run_id", r.run_id},
      {"ended", std::string(ended_how(r.end))},
      {"exit_code", r.exit_code()},
      {"detail", r.detail},
      {"total", r.total},
      {"done", r.stats.done},
      {"failed", r.stats.failed},
      {"retried", r.stats.retried},
      {"throttled", r.stats.throttled},
      {"requests", r.stats.requests},
      {"remaining", r.remaining},
      {"in_doubt", r.in_doubt},
      {"imported_unsaved", r.imported_unsaved},
      {"elapsed_s", std::round(r.elapsed_seconds * 1000) / 1000},
      {"req_per_s", std::round(r.requests_per_second * 10) / 10},
      {"saved",
       {{"decided_locally", r.stats.decided_locally},
        {"reused", r.stats.reused},
        {"sent_by_image_id", r.stats.sent_by_image_id},
        {"image_ids_expired", r.stats.image_ids_expired}}},
      {"by_code", r.stats.by_code},
  };
  return j.dump();
}

std::string finished_run_line(const FinishedRun& r) {
  std::string out = fmt::format(
      "run {} ended: {}{}{} — {} requests in {:.1f}s ({:.1f} req/s): {} done, {} failed, "
      "{} retried, {} throttled; {} jobs left",
      r.run_id, ended_how(r.end), r.detail.empty() ? "" : " (", r.detail.empty() ? "" : r.detail + ")",
      r.stats.requests, r.elapsed_seconds, r.requests_per_second, r.stats.done, r.stats.failed,
      r.stats.retried, r.stats.throttled, r.remaining);
  if (r.stats.decided_locally + r.stats.reused + r.stats.sent_by_image_id > 0) {
    out += fmt::format("; not paid for: {} decided by pre-flight, {} identical to an answered "
                       "image; {} uploads replaced by an image_id",
                       r.stats.decided_locally, r.stats.reused, r.stats.sent_by_image_id);
  }
  if (r.in_doubt > 0) {
    out += fmt::format("; {} requests of crashed runs were in doubt (maybe billed)", r.in_doubt);
  }
  if (r.imported_unsaved > 0) {
    out += fmt::format("; {} unsaved answers of an earlier run stored", r.imported_unsaved);
  }
  return out;
}

}  // namespace lf
