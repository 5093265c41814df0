// The summary as text for a terminal (`lfbatch report --format summary`)
// and as JSON for scripts (`--format json`). Pure: data in, text out.
#pragma once

#include <ostream>
#include <string>

#include "report/report_summary.h"

namespace lf {

// Histogram bin width used by the summary and the HTML page.
inline constexpr double kSummaryBinWidth = 0.05;

void write_summary_text(const ReportSummary& summary, std::ostream& out);

// A JSON document (pretty-printed, UTF-8) with every figure of the summary.
std::string summary_json(const ReportSummary& summary);

// "3h 02m 05s", "4m 10s", "12.3s".
std::string format_duration(double seconds);

}  // namespace lf
