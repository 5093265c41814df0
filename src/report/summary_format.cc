// Text and JSON renderings of a ReportSummary.
#include "report/summary_format.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "report/iso_time.h"
#include "report/threshold_table.h"

namespace lf {

double RunSummary::duration_seconds() const {
  const std::optional<UnixMillis> end = finished_at ? finished_at : last_attempt_at;
  if (!end || *end <= started_at) return 0;
  return static_cast<double>(*end - started_at) / 1000.0;
}

double RunSummary::requests_per_second() const {
  const double d = duration_seconds();
  return d > 0 ? static_cast<double>(requests) / d : 0;
}

std::optional<double> ReportSummary::pass_rate() const {
  if (scored() == 0) return std::nullopt;
  return static_cast<double>(passed) / static_cast<double>(scored());
}

std::int64_t ReportSummary::decided_by(std::string_view name) const {
  for (const NamedCount& c : by_decider) {
    if (c.name == name) return c.count;
  }
  return 0;
}

std::int64_t ReportSummary::sent_by_image_id() const {
  std::int64_t n = 0;
  for (const RunSummary& r : runs) n += r.sent_by_image_id;
  return n;
}

std::int64_t ReportSummary::image_ids_expired() const {
  std::int64_t n = 0;
  for (const RunSummary& r : runs) n += r.image_ids_expired;
  return n;
}

std::string format_duration(double seconds) {
  if (seconds < 60) return fmt::format("{:.1f}s", seconds);
  const auto total = static_cast<long long>(std::llround(seconds));
  const long long h = total / 3600, m = total / 60 % 60, s = total % 60;
  if (h > 0) return fmt::format("{}h {:02}m {:02}s", h, m, s);
  return fmt::format("{}m {:02}s", m, s);
}

namespace {

std::string percent(std::int64_t part, std::int64_t whole) {
  if (whole == 0) return "-";
  return fmt::format("{:.1f}%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

std::string counts_line(const std::vector<NamedCount>& counts) {
  std::string line;
  for (const NamedCount& c : counts) {
    if (!line.empty()) line += "   ";
    line += fmt::format("{} {}", c.name.empty() ? "(none)" : c.name, group_thousands(c.count));
  }
  return line.empty() ? "-" : line;
}

std::string run_end_text(const RunSummary& run) {
  if (!run.finished_at) return run.ended_how.empty() ? "not finished (running, or it crashed)" : run.ended_how;
  std::string how = run.ended_how.empty() ? "finished" : run.ended_how;
  if (!run.ended_detail.empty()) how += " (" + run.ended_detail + ")";
  return how;
}

}  // namespace

void write_summary_text(const ReportSummary& s, std::ostream& out) {
  out << fmt::format("linkface-batch report of {}\n", s.database);
  out << fmt::format("generated {}   filter: {}\n\n", format_iso8601_utc(s.generated_at), s.filter);

  out << fmt::format("Jobs: {}\n", group_thousands(s.jobs));
  out << fmt::format("  by state:  {}\n", counts_line(s.by_state));
  out << fmt::format("  by status: {}\n", counts_line(s.by_status));
  out << fmt::format("  decided by: {}\n", counts_line(s.by_decider));
  if (!s.failure_reasons.empty()) {
    out << "  failures by reason:\n";
    for (const NamedCount& c : s.failure_reasons) {
      out << fmt::format("    {:>10}  {}\n", group_thousands(c.count), c.name);
    }
  }

  // Always shown, zeros included: an auditor sees that it was checked.
  out << fmt::format("\nNot paid for: {} calls saved\n", group_thousands(s.calls_saved()));
  out << fmt::format("  {} decided locally by pre-flight (the API would have rejected them)\n",
                     group_thousands(s.decided_by("preflight")));
  out << fmt::format("  {} identical to an answered image (reused)\n", group_thousands(s.decided_by("reused")));
  out << fmt::format("  {} uploads replaced by an earlier image_id in the runs listed (of which {} had "
                     "expired and were uploaded)\n",
                     group_thousands(s.sent_by_image_id()), group_thousands(s.image_ids_expired()));

  out << fmt::format("\nScores: {} job(s) with a verify_score\n", group_thousands(s.scores.count()));
  out << fmt::format("  threshold {:g}: pass {} ({})   below {} ({})\n", s.threshold,
                     group_thousands(s.passed), percent(s.passed, s.scored()),
                     group_thousands(s.below_threshold), percent(s.below_threshold, s.scored()));
  out << "  " << place_threshold(s.threshold).describe() << "\n";
  if (s.scores.count() > 0) {
    out << fmt::format("  min {:.4f}   mean {:.4f}   max {:.4f}\n", *s.scores.min(), *s.scores.mean(),
                       *s.scores.max());
    out << "  deciles:";
    const std::vector<double> deciles = s.scores.deciles();
    for (std::size_t i = 0; i < deciles.size(); ++i) {
      out << fmt::format("  {}0% {:.4f}", i + 1, deciles[i]);
    }
    out << "\n  histogram:\n";
    const std::vector<HistogramBin> bins = s.scores.histogram(kSummaryBinWidth);
    std::int64_t peak = 1;
    for (const HistogramBin& b : bins) peak = std::max(peak, b.count);
    for (const HistogramBin& b : bins) {
      const int width = static_cast<int>(std::lround(40.0 * static_cast<double>(b.count) /
                                                     static_cast<double>(peak)));
      out << fmt::format("    {:.2f}-{:.2f} {} |{:<40}| {}\n", b.lower, b.upper,
                         b.lower + 1e-9 >= s.threshold ? "pass" : "    ", std::string(width, '#'),
                         group_thousands(b.count));
    }
  }

  out << fmt::format("\nRuns: {}\n", s.runs.size());
  for (const RunSummary& r : s.runs) {
    out << fmt::format("  #{} started {}  {}  {} requests  {:.2f} req/s  throttled {}  quota used {}  "
                       "transport failures {}  {}done {}  failed {}  pre-flight {}  reused {}  "
                       "by image_id {} (expired {})  ended: {}\n",
                       r.id, format_iso8601_utc(r.started_at), format_duration(r.duration_seconds()),
                       group_thousands(r.requests), r.requests_per_second(),
                       group_thousands(r.throttled), group_thousands(r.quota_used),
                       group_thousands(r.transport_failures),
                       r.in_doubt > 0 ? fmt::format("in doubt {}  ", group_thousands(r.in_doubt))
                                      : std::string(),
                       group_thousands(r.done), group_thousands(r.failed),
                       group_thousands(r.decided_locally), group_thousands(r.reused),
                       group_thousands(r.sent_by_image_id), group_thousands(r.image_ids_expired),
                       run_end_text(r));
  }
  if (s.in_doubt > 0) {
    out << fmt::format("\nIn doubt: {} requests were sent by runs that died before storing the "
                       "answer; the server may have counted them (not in quota used)\n",
                       group_thousands(s.in_doubt));
  }
  if (s.failures_total > 0) {
    out << fmt::format("\nFailed jobs: {} (list them: lfbatch jobs list --state failed; "
                       "re-queue: lfbatch retry --state failed)\n",
                       group_thousands(s.failures_total));
  }
}

std::string summary_json(const ReportSummary& s) {
  using nlohmann::json;
  auto counts = [](const std::vector<NamedCount>& v) {
    json o = json::object();
    for (const NamedCount& c : v) o[c.name] = c.count;
    return o;
  };
  const ThresholdPlacement placement = place_threshold(s.threshold);
  static constexpr const char* kKinds[] = {"exact", "interpolated", "below_table", "above_table"};

  json j;
  j["database"] = s.database;
  j["generated_at"] = format_iso8601_utc(s.generated_at);
  j["filter"] = s.filter;
  j["jobs"] = s.jobs;
  j["by_state"] = counts(s.by_state);
  j["by_status"] = counts(s.by_status);
  j["decided_by"] = counts(s.by_decider);
  j["calls_saved"] = s.calls_saved();
  json reasons = json::array();
  for (const NamedCount& c : s.failure_reasons) reasons.push_back({{"reason", c.name}, {"count", c.count}});
  j["failure_reasons"] = reasons;
  j["failures_total"] = s.failures_total;

  json threshold;
  threshold["value"] = s.threshold;
  threshold["placement"] = kKinds[static_cast<int>(placement.kind)];
  threshold["error_rate"] = placement.error_rate ? json(*placement.error_rate) : json(nullptr);
  threshold["description"] = placement.describe();
  j["threshold"] = threshold;

  json scores;
  scores["count"] = s.scores.count();
  scores["min"] = s.scores.min() ? json(*s.scores.min()) : json(nullptr);
  scores["max"] = s.scores.max() ? json(*s.scores.max()) : json(nullptr);
  scores["mean"] = s.scores.mean() ? json(*s.scores.mean()) : json(nullptr);
  scores["deciles"] = s.scores.deciles();
  scores["out_of_range"] = s.scores.out_of_range();
  json hist = json::array();
  for (const HistogramBin& b : s.scores.histogram(kSummaryBinWidth)) {
    hist.push_back({{"lower", b.lower}, {"upper", b.upper}, {"count", b.count}});
  }
  scores["histogram"] = hist;
  j["scores"] = scores;

  j["passed"] = s.passed;
  j["below_threshold"] = s.below_threshold;
  j["pass_rate"] = s.pass_rate() ? json(*s.pass_rate()) : json(nullptr);

  json runs = json::array();
  for (const RunSummary& r : s.runs) {
    json jr;
    jr["id"] = r.id;
    jr["started_at"] = format_iso8601_utc(r.started_at);
    jr["finished_at"] = r.finished_at ? json(format_iso8601_utc(*r.finished_at)) : json(nullptr);
    jr["duration_seconds"] = r.duration_seconds();
    jr["requests"] = r.requests;
    jr["requests_per_second"] = r.requests_per_second();
    jr["throttled"] = r.throttled;
    jr["quota_used"] = r.quota_used;
    jr["transport_failures"] = r.transport_failures;
    jr["in_doubt"] = r.in_doubt;
    jr["done"] = r.done;
    jr["failed"] = r.failed;
    jr["decided_locally"] = r.decided_locally;
    jr["reused"] = r.reused;
    jr["sent_by_image_id"] = r.sent_by_image_id;
    jr["image_ids_expired"] = r.image_ids_expired;
    jr["ended_how"] = r.ended_how.empty() ? json(nullptr) : json(r.ended_how);
    jr["ended_detail"] = r.ended_detail;
    jr["host"] = r.host;
    runs.push_back(jr);
  }
  j["runs"] = runs;
  j["in_doubt"] = s.in_doubt;
  j["sent_by_image_id"] = s.sent_by_image_id();    // over the runs listed
  j["image_ids_expired"] = s.image_ids_expired();
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace lf
