// `lfbatch report --format csv`: the jobs matching a filter, one CSV row
// each, streamed from the database to a stream in flat memory.
#pragma once

#include <cstdint>
#include <ostream>
#include <vector>

#include "core/result.h"
#include "report/csv_writer.h"
#include "report/report_queries.h"

namespace lf {

struct CsvExportOptions {
  std::vector<ReportColumn> columns = default_report_columns();
  double threshold = 0.7;  // decision: pass when verify_score >= threshold
  CsvOptions csv;
  bool header = true;      // first row: the column names
};

// Writes the header and one row per job; returns the number of job rows.
Result<std::int64_t> export_csv(SqlSession& session, const JobFilter& filter, const CsvExportOptions& options,
                                std::ostream& out);

// One job's cells in `columns` order (exposed for tests).
void write_job_cells(CsvWriter& writer, const JobRowView& row, const std::vector<ReportColumn>& columns,
                     double threshold, std::string& scratch);

}  // namespace lf
