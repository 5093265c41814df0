// The HTML report: one self-contained page (no script, no network, no CDN;
// a Content-Security-Policy forbids loading anything) with the score
// histogram, the status breakdown and who decided (API / pre-flight /
// reused, with what was not paid for) as inline SVG, the runs on a
// timeline, and a table of failures with their reasons. Every text that
// comes from the database is HTML-escaped. Pure: data in, HTML out.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include "report/report_summary.h"

namespace lf {

void write_html_report(const ReportSummary& summary, std::ostream& out);

// Escapes & < > " ' for text and attribute values.
std::string html_escape(std::string_view text);

}  // namespace lf
