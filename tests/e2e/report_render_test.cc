// The HTML report in a real browser: headless Chromium (Debian's chromium)
// loads the page made from a filled database and must log no console
// message (a CSP violation, a script error, a blocked load) and keep the
// inline SVG charts in its DOM. Skipped when chromium is not installed.
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "report/html_report.h"
#include "report/report_queries.h"
#include "store/database.h"
#include "store/sqlite_session.h"

namespace lf {
namespace {

namespace fs = std::filesystem;

std::string chromium_path() {
  if (const char* env = std::getenv("LF_CHROMIUM")) return env;
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (fs::exists(p)) return p;
  }
  return "";
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Rendered {
  int exit_status = -1;
  std::string dom;
  std::string console;  // the ":CONSOLE" lines of Chromium's log
};

// Loads `page` in headless Chromium; returns its DOM and console lines.
Rendered render(const std::string& chromium, const fs::path& dir, const fs::path& page) {
  const fs::path dom = dir / "dom.html", log = dir / "chromium.log", profile = dir / "profile";
  const std::string cmd = "'" + chromium +
                          "' --headless --no-sandbox --disable-gpu --disable-background-networking "
                          "--disable-component-update --disable-sync --no-first-run --user-data-dir='" +
                          profile.string() + "' --enable-logging=stderr --v=0 --dump-dom 'file://" +
                          page.string() + "' > '" + dom.string() + "' 2> '" + log.string() + "'";
  Rendered r;
  r.exit_status = std::system(("timeout 120 " + cmd).c_str());
  r.dom = slurp(dom);
  std::istringstream lines(slurp(log));
  for (std::string line; std::getline(lines, line);) {
    if (line.find(":CONSOLE") != std::string::npos) r.console += line + "\n";
  }
  return r;
}

class ReportRender : public ::testing::Test {
 protected:
  void SetUp() override {
    chromium_ = chromium_path();
    if (chromium_.empty()) GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it)";
    std::string tmpl = (fs::temp_directory_path() / "lf_render_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string chromium_;
  fs::path dir_;
};

TEST_F(ReportRender, ReportFromAFilledDatabaseRendersWithoutConsoleMessages) {
  auto db = Database::open((dir_ / "q.db").string(), true);
  ASSERT_TRUE(db.ok()) << db.error().message;
  ASSERT_TRUE((*db)->exec(R"sql(
    INSERT INTO runs (id, started_at, finished_at, ended_how) VALUES
      (1, 1764000000000, 1764000600000, 'out_of_quota'), (2, 1764090000000, 1764090900000, 'completed');
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
    INSERT INTO jobs (id, source_kind, source, tag, state, attempts, verify_score, api_status, reason,
                      created_at, updated_at, finished_at)
    SELECT i, 'path', '/archive/<b>' || i || '</b>&张三.jpg', 'nightly',
           CASE WHEN i % 9 = 0 THEN 'failed' WHEN i % 23 = 0 THEN 'pending' ELSE 'done' END, 1,
           CASE WHEN i % 9 = 0 OR i % 23 = 0 THEN NULL ELSE ((i * 7919) % 1000) / 1000.0 END,
           CASE WHEN i % 9 = 0 THEN 'FACE_DETECTION_FAILED' WHEN i % 23 = 0 THEN NULL ELSE 'OK' END,
           CASE WHEN i % 9 = 0 THEN '<script>alert(1)</script> no face detected' END,
           1764000000000, 1764000000000, CASE WHEN i % 23 = 0 THEN NULL ELSE 1764000000000 + i * 300 END
    FROM n;
    INSERT INTO attempts (job_id, run_id, started_at, finished_at, api_status, disposition)
    SELECT id, CASE WHEN id < 1000 THEN 1 ELSE 2 END, finished_at - 100, finished_at, api_status,
           CASE state WHEN 'done' THEN 'done' ELSE 'permanent_failure' END
    FROM jobs WHERE finished_at IS NOT NULL;
  )sql").ok());
  SqliteSession session(**db);
  auto summary = summarize(session, {}, 0.7, 1764100000000);
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  const fs::path page = dir_ / "report.html";
  {
    std::ofstream out(page, std::ios::binary);
    write_html_report(*summary, out);
  }
  const Rendered r = render(chromium_, dir_, page);
  EXPECT_EQ(r.exit_status, 0);
  EXPECT_EQ(r.console, "") << "the page logged console messages";
  EXPECT_NE(r.dom.find("<svg id=\"score-histogram\""), std::string::npos) << r.dom.substr(0, 500);
  EXPECT_NE(r.dom.find("<svg id=\"status-breakdown\""), std::string::npos);
  EXPECT_NE(r.dom.find("<svg id=\"run-timeline\""), std::string::npos);
  std::size_t bars = 0;
  for (auto p = r.dom.find("class=\"bar\""); p != std::string::npos; p = r.dom.find("class=\"bar\"", p + 1)) ++bars;
  EXPECT_EQ(bars, 20u);
  // The escaped markup stayed text: no script element made it into the DOM.
  EXPECT_EQ(r.dom.find("<script"), std::string::npos);
  EXPECT_NE(r.dom.find("张三"), std::string::npos);
}

// The check above is only worth something if a page that does log to the
// console is caught: a blocked remote image is.
TEST_F(ReportRender, AConsoleMessageIsDetected) {
  const fs::path page = dir_ / "bad.html";
  {
    std::ofstream out(page);
    out << "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" "
           "content=\"default-src 'none'\"></head><body><img src=\"http://192.0.2.1/x.png\"></body></html>";
  }
  const Rendered r = render(chromium_, dir_, page);
  EXPECT_NE(r.console, "");
}

}  // namespace
}  // namespace lf
