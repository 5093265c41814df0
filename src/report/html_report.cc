// Renders a ReportSummary as one HTML page with inline SVG charts.
#include "report/html_report.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "report/iso_time.h"
#include "report/summary_format.h"
#include "report/threshold_table.h"

namespace lf {

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

namespace {

constexpr const char* kStyle = R"(
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC",sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}
.meta{color:#666;font-size:13px}.cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:110px}.card b{display:block;font-size:20px}
.card span{color:#666;font-size:12px}table{border-collapse:collapse;font-size:13px;margin:8px 0}
td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f5f5f5}
td.n{text-align:right;font-variant-numeric:tabular-nums}tr.hl td{background:#fff3cd;font-weight:bold}
#runs{font-size:12px}#runs td,#runs th{padding:3px 5px}
.src{word-break:break-all;max-width:420px}.t{white-space:nowrap}.note{font-size:13px;color:#555}svg text{font-size:11px;fill:#333}
)";

std::string num(std::int64_t n) { return group_thousands(n); }

std::string pct(std::int64_t part, std::int64_t whole) {
  if (whole == 0) return "-";
  return fmt::format("{:.1f}%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

void write_histogram_svg(const ReportSummary& s, std::ostream& out) {
  const std::vector<HistogramBin> bins = s.scores.histogram(kSummaryBinWidth);
  std::int64_t peak = 1;
  for (const HistogramBin& b : bins) peak = std::max(peak, b.count);
  constexpr double kW = 760, kH = 310, kLeft = 60, kRight = 30, kTop = 30, kBottom = 40;
  const double plot_w = kW - kLeft - kRight, plot_h = kH - kTop - kBottom;
  out << fmt::format(
      R"(<svg id="score-histogram" width="{}" height="{}" viewBox="0 0 {} {}" role="img" aria-labelledby="hist-title">)"
      "<title id=\"hist-title\">verify_score histogram, bins of {:g}</title>\n",
      kW, kH, kW, kH, kSummaryBinWidth);
  out << fmt::format(R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#999"/>)", kLeft, kTop + plot_h,
                     kLeft + plot_w, kTop + plot_h);
  out << fmt::format(R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#999"/>)", kLeft, kTop, kLeft,
                     kTop + plot_h);
  for (int i = 0; i <= 4; ++i) {
    const double y = kTop + plot_h - plot_h * i / 4.0;
    out << fmt::format(R"(<text x="{}" y="{:.1f}" text-anchor="end">{}</text>)", kLeft - 6, y + 4,
                       num(std::llround(static_cast<double>(peak) * i / 4.0)));
    if (i > 0) {
      out << fmt::format(R"(<line x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}" stroke="#eee"/>)", kLeft, y,
                         kLeft + plot_w, y);
    }
  }
  const double bar_w = plot_w / static_cast<double>(bins.size());
  for (std::size_t i = 0; i < bins.size(); ++i) {
    const HistogramBin& b = bins[i];
    const double h = plot_h * static_cast<double>(b.count) / static_cast<double>(peak);
    const double x = kLeft + bar_w * static_cast<double>(i);
    const bool pass = b.lower + 1e-9 >= s.threshold;
    out << fmt::format(
        R"(<rect class="bar" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}"><title>{:.2f}–{:.2f}: {}</title></rect>)",
        x + 1, kTop + plot_h - h, bar_w - 2, h, pass ? "#2e7d32" : "#78909c", b.lower, b.upper,
        num(b.count));
    out << "\n";
  }
  for (int i = 0; i <= 10; ++i) {
    const double x = kLeft + plot_w * i / 10.0;
    out << fmt::format(R"(<text x="{:.1f}" y="{}" text-anchor="middle">{:.1f}</text>)", x,
                       kTop + plot_h + 16, i / 10.0);
  }
  out << fmt::format(R"(<text x="{}" y="{}" text-anchor="middle">verify_score</text>)",
                     kLeft + plot_w / 2, kH - 4);
  const double tx = kLeft + plot_w * std::clamp(s.threshold, 0.0, 1.0);
  out << fmt::format(
      R"(<line id="threshold-line" x1="{:.1f}" y1="{}" x2="{:.1f}" y2="{}" stroke="#c62828" stroke-width="2" stroke-dasharray="6,4"/>)",
      tx, kTop, tx, kTop + plot_h);
  out << fmt::format(R"(<text x="{:.1f}" y="{}" text-anchor="middle" style="fill:#c62828">threshold {:g}</text>)",
                     tx, kTop - 8, s.threshold);
  out << "</svg>\n";
}

std::string status_colour(std::string_view name) {
  if (name == "OK") return "#2e7d32";
  if (name == "RATE_LIMIT_EXCEEDED" || name == "OUT_OF_QUOTA") return "#f9a825";
  if (name == "INTERNAL_ERROR" || name == "DOWNLOAD_TIMEOUT" || name == "TIMEOUT" ||
      name == "CONNECT_FAILED" || name == "CONNECTION_LOST" || name == "MALFORMED_RESPONSE") {
    return "#ef6c00";
  }
  return "#c62828";
}

void write_bars_svg(std::string_view id, std::string_view title, const std::vector<NamedCount>& counts,
                    bool colour_by_status, std::ostream& out) {
  std::int64_t peak = 1;
  for (const NamedCount& c : counts) peak = std::max(peak, c.count);
  constexpr double kRow = 22, kLabel = 230, kBar = 430;
  const double height = std::max(1.0, static_cast<double>(counts.size())) * kRow + 10;
  out << fmt::format(
      R"(<svg id="{}" width="{}" height="{:.0f}" viewBox="0 0 {} {:.0f}" role="img"><title>{}</title>)",
      id, kLabel + kBar + 120, height, kLabel + kBar + 120, height, html_escape(title));
  out << "\n";
  if (counts.empty()) out << R"(<text x="0" y="16">no jobs</text>)";
  static constexpr const char* kStateColours[] = {"#90a4ae", "#42a5f5", "#2e7d32", "#c62828"};
  for (std::size_t i = 0; i < counts.size(); ++i) {
    const NamedCount& c = counts[i];
    const double y = static_cast<double>(i) * kRow + 4;
    const double w = kBar * static_cast<double>(c.count) / static_cast<double>(peak);
    const std::string colour = colour_by_status ? status_colour(c.name) : kStateColours[i % 4];
    out << fmt::format(R"(<text x="{}" y="{:.1f}" text-anchor="end">{}</text>)", kLabel - 8, y + 14,
                       html_escape(c.name.empty() ? "(none)" : c.name));
    out << fmt::format(R"(<rect x="{}" y="{:.1f}" width="{:.1f}" height="{}" fill="{}"/>)", kLabel, y,
                       std::max(w, c.count > 0 ? 1.0 : 0.0), kRow - 6, colour);
    out << fmt::format(R"(<text x="{:.1f}" y="{:.1f}">{}</text>)", kLabel + w + 6, y + 14, num(c.count));
    out << "\n";
  }
  out << "</svg>\n";
}

// Who decided the final jobs, as one bar split API / pre-flight / reused,
// with a legend giving each count and share.
void write_decider_svg(const ReportSummary& s, std::ostream& out) {
  struct Part {
    const char* name;
    const char* label;
    const char* colour;
  };
  static constexpr Part kParts[] = {
      {"api", "API (a request was paid for)", "#1565c0"},
      {"preflight", "pre-flight (checked locally, nothing sent)", "#8e24aa"},
      {"reused", "reused (identical content answered before, nothing sent)", "#00897b"},
  };
  std::int64_t total = 0;
  for (const Part& p : kParts) total += s.decided_by(p.name);
  constexpr double kW = 760, kBar = 700, kLeft = 0, kBarH = 26, kRow = 20;
  const double height = kBarH + 12 + kRow * 3;
  out << fmt::format(
      R"(<svg id="decider-breakdown" width="{}" height="{:.0f}" viewBox="0 0 {} {:.0f}" role="img"><title>done and failed jobs by who decided</title>)",
      kW, height, kW, height);
  out << "\n";
  if (total == 0) {
    out << fmt::format(R"(<rect x="{}" y="0" width="{}" height="{}" fill="#eceff1"/>)", kLeft, kBar, kBarH);
    out << fmt::format(R"(<text x="{}" y="17" text-anchor="middle">no done or failed jobs</text>)",
                       kLeft + kBar / 2);
    out << "\n";
  }
  double x = kLeft;
  for (const Part& p : kParts) {
    const std::int64_t n = s.decided_by(p.name);
    if (total == 0 || n == 0) continue;
    const double w = kBar * static_cast<double>(n) / static_cast<double>(total);
    out << fmt::format(
        R"(<rect class="decider" x="{:.1f}" y="0" width="{:.1f}" height="{}" fill="{}"><title>{}: {} ({})</title></rect>)",
        x, std::max(w, 1.0), kBarH, p.colour, p.name, num(n), pct(n, total));
    out << "\n";
    x += w;
  }
  for (std::size_t i = 0; i < std::size(kParts); ++i) {
    const Part& p = kParts[i];
    const double y = kBarH + 12 + kRow * static_cast<double>(i);
    const std::int64_t n = s.decided_by(p.name);
    out << fmt::format(R"(<rect x="{}" y="{:.1f}" width="12" height="12" fill="{}"/>)", kLeft, y, p.colour);
    out << fmt::format(R"(<text x="{}" y="{:.1f}">{} {} ({})</text>)", kLeft + 18, y + 10, html_escape(p.label),
                       num(n), pct(n, total));
    out << "\n";
  }
  out << "</svg>\n";
}

std::string run_colour(const RunSummary& r) {
  if (!r.finished_at) return "#90a4ae";
  if (r.ended_how == "completed") return "#2e7d32";
  if (r.ended_how == "out_of_quota" || r.ended_how == "interrupted" || r.ended_how == "deadline" ||
      r.ended_how == "budget") {
    return "#f9a825";
  }
  return "#c62828";
}

void write_timeline_svg(const ReportSummary& s, std::ostream& out) {
  if (s.runs.empty()) {
    out << "<p class=\"note\">No runs recorded yet.</p>\n";
    return;
  }
  UnixMillis t0 = s.runs.front().started_at, t1 = t0;
  for (const RunSummary& r : s.runs) {
    t0 = std::min(t0, r.started_at);
    t1 = std::max(t1, r.started_at + static_cast<UnixMillis>(r.duration_seconds() * 1000));
  }
  const double span = std::max<double>(1, static_cast<double>(t1 - t0));
  constexpr double kRow = 26, kLeft = 70, kPlot = 700, kTop = 24;
  const double height = kTop + kRow * static_cast<double>(s.runs.size()) + 10;
  out << fmt::format(
      R"(<svg id="run-timeline" width="{}" height="{:.0f}" viewBox="0 0 {} {:.0f}" role="img"><title>runs on a timeline</title>)",
      kLeft + kPlot + 20, height, kLeft + kPlot + 20, height);
  out << fmt::format(R"(<text x="{}" y="14">{}</text>)", kLeft, format_iso8601_utc(t0));
  out << fmt::format(R"(<text x="{}" y="14" text-anchor="end">{}</text>)", kLeft + kPlot,
                     format_iso8601_utc(t1));
  out << "\n";
  for (std::size_t i = 0; i < s.runs.size(); ++i) {
    const RunSummary& r = s.runs[i];
    const double y = kTop + kRow * static_cast<double>(i);
    const double x = kLeft + kPlot * static_cast<double>(r.started_at - t0) / span;
    const double w = std::max(2.0, kPlot * r.duration_seconds() * 1000 / span);
    out << fmt::format(R"(<text x="{}" y="{:.1f}" text-anchor="end">run #{}</text>)", kLeft - 8, y + 15, r.id);
    out << fmt::format(
        R"(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{}" fill="{}"><title>run #{}: {}, {}, {} requests</title></rect>)",
        x, y + 3, w, kRow - 8, run_colour(r), r.id,
        html_escape(r.ended_how.empty() ? "not finished" : r.ended_how),
        format_duration(r.duration_seconds()), num(r.requests));
    const std::string label = fmt::format("{} · {} · {} requests", r.ended_how.empty() ? "not finished" : r.ended_how,
                                          format_duration(r.duration_seconds()), num(r.requests));
    const bool right_room = x + w + 8 + 7.0 * static_cast<double>(label.size()) < kLeft + kPlot;
    out << fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="{}">{}</text>)",
                       right_room ? x + w + 6 : x - 6, y + 15, right_room ? "start" : "end", html_escape(label));
    out << "\n";
  }
  out << "</svg>\n";
}

}  // namespace

void write_html_report(const ReportSummary& s, std::ostream& out) {
  const ThresholdPlacement placement = place_threshold(s.threshold);
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
         "'unsafe-inline'\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<title>linkface-batch report</title>\n<style>"
      << kStyle << "</style>\n</head>\n<body>\n";
  out << "<h1>linkface-batch report</h1>\n";
  out << fmt::format("<p class=\"meta\">{} · generated {} · filter: {}</p>\n", html_escape(s.database),
                     format_iso8601_utc(s.generated_at), html_escape(s.filter));

  auto state_count = [&](std::string_view name) -> std::int64_t {
    for (const NamedCount& c : s.by_state) {
      if (c.name == name) return c.count;
    }
    return 0;
  };
  out << "<div class=\"cards\">";
  out << fmt::format("<div class=\"card\"><b>{}</b><span>jobs</span></div>", num(s.jobs));
  for (const char* st : {"done", "failed", "pending", "leased"}) {
    out << fmt::format("<div class=\"card\"><b>{}</b><span>{}</span></div>", num(state_count(st)), st);
  }
  out << fmt::format("<div class=\"card\"><b>{}</b><span>pass at {:g} ({} of {} scored)</span></div>",
                     pct(s.passed, s.scored()), s.threshold, num(s.passed), num(s.scored()));
  out << fmt::format("<div class=\"card\"><b>{}</b><span>calls saved (pre-flight, reused)</span></div>",
                     num(s.calls_saved()));
  out << "</div>\n";

  out << "<h2>Scores</h2>\n";
  write_histogram_svg(s, out);
  out << fmt::format("<p>{}.</p>\n", html_escape(placement.describe()));
  if (s.scores.count() > 0) {
    out << "<table><tr><th>min</th>";
    for (int d = 1; d <= 9; ++d) out << fmt::format("<th>{}0%</th>", d);
    out << "<th>max</th><th>mean</th></tr>\n<tr>";
    out << fmt::format("<td class=\"n\">{:.4f}</td>", *s.scores.min());
    for (double v : s.scores.deciles()) out << fmt::format("<td class=\"n\">{:.4f}</td>", v);
    out << fmt::format("<td class=\"n\">{:.4f}</td><td class=\"n\">{:.4f}</td></tr></table>\n",
                       *s.scores.max(), *s.scores.mean());
  }
  out << "<table id=\"threshold-table\"><tr><th>threshold (spec)</th><th>error rate</th></tr>\n";
  for (const ThresholdRow& row : threshold_table()) {
    const bool hl = placement.nearest && placement.nearest->threshold == row.threshold;
    out << fmt::format("<tr{}><td class=\"n\">{:g}</td><td>1 in {}</td></tr>\n", hl ? " class=\"hl\"" : "",
                       row.threshold, group_thousands(row.one_in));
  }
  out << "</table>\n";

  out << "<h2>Status</h2>\n";
  write_bars_svg("state-breakdown", "jobs by state", s.by_state, false, out);
  write_bars_svg("status-breakdown", "done and failed jobs by last API status", s.by_status, true, out);

  out << "<h2>Who decided</h2>\n";
  write_decider_svg(s, out);
  // Always shown, zeros included: an auditor sees that it was checked.
  out << "<table id=\"not-paid-for\"><tr><th>not paid for</th><th>count</th></tr>\n";
  out << fmt::format("<tr><td>decided locally by pre-flight (the API would have rejected them)</td>"
                     "<td class=\"n\">{}</td></tr>\n",
                     num(s.decided_by("preflight")));
  out << fmt::format("<tr><td>identical to an answered image (reused)</td><td class=\"n\">{}</td></tr>\n",
                     num(s.decided_by("reused")));
  out << fmt::format("<tr class=\"hl\"><td>calls saved</td><td class=\"n\">{}</td></tr>\n",
                     num(s.calls_saved()));
  out << fmt::format("<tr><td>uploads replaced by an earlier image_id, in the runs listed</td>"
                     "<td class=\"n\">{}</td></tr>\n",
                     num(s.sent_by_image_id()));
  out << fmt::format("<tr><td>&nbsp;&nbsp;of which the image_id had expired and the bytes were uploaded</td>"
                     "<td class=\"n\">{}</td></tr>\n",
                     num(s.image_ids_expired()));
  out << "</table>\n";
  out << "<p class=\"note\">Jobs are counted within the filter, pre-flight at enqueue included "
         "(it belongs to no run); the runs table below has each run's own figures.</p>\n";

  out << "<h2>Runs</h2>\n";
  write_timeline_svg(s, out);
  if (!s.runs.empty()) {
    out << "<table id=\"runs\"><tr><th>run</th><th>started (UTC)</th><th>duration</th><th>requests</th>"
           "<th>req/s</th><th>throttled</th><th>quota used</th><th>transport failures</th>"
           "<th title=\"sent by a run that died before storing the answer: maybe billed\">in doubt</th>"
           "<th>done</th><th>failed</th>"
           "<th title=\"jobs the run failed by pre-flight: no request\">pre-flight</th>"
           "<th title=\"jobs given the answer for identical content: no request\">reused</th>"
           "<th title=\"requests that sent an earlier upload's image_id instead of the bytes\">by image_id</th>"
           "<th title=\"of those, the image_id had expired: the bytes were then uploaded\">expired</th>"
           "<th>ended</th></tr>\n";
    for (const RunSummary& r : s.runs) {
      out << fmt::format(
          "<tr><td>#{}</td><td class=\"t\">{}</td><td class=\"t\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:.1f}</td>"
          "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
          "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
          "<td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}{}</td></tr>\n",
          r.id, format_iso8601_utc(r.started_at), format_duration(r.duration_seconds()), num(r.requests),
          r.requests_per_second(), num(r.throttled), num(r.quota_used), num(r.transport_failures),
          num(r.in_doubt), num(r.done), num(r.failed), num(r.decided_locally), num(r.reused),
          num(r.sent_by_image_id), num(r.image_ids_expired),
          html_escape(r.finished_at ? (r.ended_how.empty() ? "finished" : r.ended_how)
                                    : "not finished"),
          r.ended_detail.empty() ? "" : " — " + html_escape(r.ended_detail));
    }
    out << "</table>\n";
  }

  out << "<h2>Failures</h2>\n";
  if (s.failures_total == 0) {
    out << "<p class=\"note\">No failed jobs.</p>\n";
  } else {
    if (!s.failure_reasons.empty()) {
      out << "<table id=\"failure-reasons\"><tr><th>status: reason</th><th>jobs</th></tr>\n";
      for (const NamedCount& c : s.failure_reasons) {
        out << fmt::format("<tr><td>{}</td><td class=\"n\">{}</td></tr>\n", html_escape(c.name), num(c.count));
      }
      out << "</table>\n";
    }
    if (static_cast<std::int64_t>(s.failures.size()) < s.failures_total) {
      out << fmt::format(
          "<p class=\"note\">Showing the first {} of {} failed jobs; the CSV export has them all "
          "(lfbatch report --state failed -o failed.csv).</p>\n",
          num(static_cast<std::int64_t>(s.failures.size())), num(s.failures_total));
    }
    out << "<table id=\"failures\"><tr><th>job</th><th>source</th><th>status</th><th>reason</th>"
           "<th>attempts</th><th>finished (UTC)</th><th>tag</th></tr>\n";
    for (const FailureRow& f : s.failures) {
      out << fmt::format(
          "<tr><td class=\"n\">{}</td><td class=\"src\">{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td>"
          "<td class=\"t\">{}</td><td>{}</td></tr>\n",
          f.id, html_escape(f.source), html_escape(f.api_status), html_escape(f.reason), f.attempts,
          f.finished_at ? format_iso8601_utc(*f.finished_at) : "", html_escape(f.tag));
    }
    out << "</table>\n";
  }
  out << "</body>\n</html>\n";
}

}  // namespace lf
