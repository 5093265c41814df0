#include "report/html_report.h"

#include <regex>
#include <sstream>

#include <gtest/gtest.h>

namespace lf {
namespace {

ReportSummary sample() {
  ReportSummary s;
  s.database = "/data/<archive>.db";
  s.generated_at = 1'764'042'355'123;
  s.filter = "tag = \"2025&Q4\"";
  s.threshold = 0.7;
  s.jobs = 5;
  s.by_state = {{"pending", 1}, {"leased", 0}, {"done", 3}, {"failed", 1}};
  s.by_status = {{"OK", 3}, {"FACE_DETECTION_FAILED", 1}};
  s.failure_reasons = {{"FACE_DETECTION_FAILED: no face detected", 1}};
  for (double v : {0.2, 0.75, 0.9}) s.scores.add(v);
  s.passed = 2;
  s.below_threshold = 1;
  RunSummary run;
  run.id = 1;
  run.started_at = 1'764'042'000'000;
  run.finished_at = 1'764'042'060'000;
  run.ended_how = "completed";
  run.requests = 6;
  s.runs.push_back(run);
  s.failures.push_back(FailureRow{4, "/photos/<script>alert('x')</script>.jpg", "FACE_DETECTION_FAILED",
                                  "no face detected & <b>bold</b>", 1, 1'764'042'050'000, "张三"});
  s.failures_total = 1;
  return s;
}

std::string render(const ReportSummary& s) {
  std::ostringstream out;
  write_html_report(s, out);
  return out.str();
}

TEST(HtmlReport, EscapesEveryTextFromTheDatabase) {
  const std::string html = render(sample());
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<b>bold"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("no face detected &amp; &lt;b&gt;bold&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(html.find("/data/&lt;archive&gt;.db"), std::string::npos);
  EXPECT_NE(html.find("tag = &quot;2025&amp;Q4&quot;"), std::string::npos);
  EXPECT_NE(html.find("张三"), std::string::npos);
}

TEST(HtmlReport, HasTheHistogramStatusAndTimelineAsInlineSvg) {
  const std::string html = render(sample());
  EXPECT_NE(html.find("<svg id=\"score-histogram\""), std::string::npos);
  EXPECT_NE(html.find("<svg id=\"status-breakdown\""), std::string::npos);
  EXPECT_NE(html.find("<svg id=\"run-timeline\""), std::string::npos);
  EXPECT_NE(html.find("id=\"threshold-line\""), std::string::npos);
  // 20 histogram bars of 0.05.
  std::size_t bars = 0;
  for (std::size_t p = html.find("class=\"bar\""); p != std::string::npos; p = html.find("class=\"bar\"", p + 1)) ++bars;
  EXPECT_EQ(bars, 20u);
  EXPECT_NE(html.find("<table id=\"failures\">"), std::string::npos);
}

TEST(HtmlReport, ShowsWhoDecidedAndWhatEachRunSaved) {
  ReportSummary s = sample();
  s.by_decider = {{"api", 2}, {"preflight", 1}, {"reused", 1}};
  s.runs[0].decided_locally = 1;
  s.runs[0].reused = 1;
  s.runs[0].sent_by_image_id = 3;
  s.runs[0].image_ids_expired = 1;
  const std::string html = render(s);
  EXPECT_NE(html.find("<h2>Who decided</h2>"), std::string::npos);
  EXPECT_NE(html.find("<svg id=\"decider-breakdown\""), std::string::npos);
  // One segment per decider that decided something, each with its count.
  std::size_t parts = 0;
  for (std::size_t p = html.find("class=\"decider\""); p != std::string::npos;
       p = html.find("class=\"decider\"", p + 1)) {
    ++parts;
  }
  EXPECT_EQ(parts, 3u);
  EXPECT_NE(html.find("<title>api: 2 (50.0%)</title>"), std::string::npos);
  EXPECT_NE(html.find("<title>preflight: 1 (25.0%)</title>"), std::string::npos);
  EXPECT_NE(html.find("<title>reused: 1 (25.0%)</title>"), std::string::npos);
  EXPECT_NE(html.find("<tr class=\"hl\"><td>calls saved</td><td class=\"n\">2</td></tr>"), std::string::npos);
  EXPECT_NE(html.find("<b>2</b><span>calls saved"), std::string::npos);
  EXPECT_NE(html.find("in the runs listed</td><td class=\"n\">3</td>"), std::string::npos);
  EXPECT_NE(html.find("bytes were uploaded</td><td class=\"n\">1</td>"), std::string::npos);
  // The runs table: done, failed, pre-flight, reused, by image_id, expired.
  EXPECT_NE(html.find("\">pre-flight</th>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"n\">0</td><td class=\"n\">0</td><td class=\"n\">1</td>"
                      "<td class=\"n\">1</td><td class=\"n\">3</td><td class=\"n\">1</td><td>completed"),
            std::string::npos)
      << html;
}

TEST(HtmlReport, LoadsNothingFromTheNetwork) {
  const std::string html = render(sample());
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("Content-Security-Policy\" content=\"default-src 'none'"), std::string::npos);
}

TEST(HtmlReport, AUrlSourceIsShownAsTextNotLoaded) {
  ReportSummary s = sample();
  s.failures[0].source = "https://images.example.com/a.jpg\"><img src=x>";
  const std::string html = render(s);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("href="), std::string::npos);
  EXPECT_NE(html.find("https://images.example.com/a.jpg&quot;&gt;&lt;img src=x&gt;"), std::string::npos);
}

TEST(HtmlReport, SaysWhenTheFailureTableIsCut) {
  ReportSummary s = sample();
  s.failures_total = 12'345;
  const std::string html = render(s);
  EXPECT_NE(html.find("Showing the first 1 of 12,345 failed jobs"), std::string::npos);
}

TEST(HtmlReport, AnEmptyDatabaseStillRenders) {
  ReportSummary s;
  s.database = "empty.db";
  s.filter = "all jobs";
  const std::string html = render(s);
  EXPECT_NE(html.find("<svg id=\"score-histogram\""), std::string::npos);
  EXPECT_NE(html.find("No runs recorded yet."), std::string::npos);
  EXPECT_NE(html.find("No failed jobs."), std::string::npos);
  EXPECT_NE(html.find("no done or failed jobs"), std::string::npos);
  EXPECT_NE(html.find("<table id=\"not-paid-for\">"), std::string::npos);  // zeros, still shown
  EXPECT_NE(html.find("</html>"), std::string::npos);
}

TEST(HtmlReport, EscapeCoversTheFiveCharacters) {
  EXPECT_EQ(html_escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
}

}  // namespace
}  // namespace lf
