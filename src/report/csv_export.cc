// Streams the rows of for_each_job through a CsvWriter.
#include "report/csv_export.h"

#include <algorithm>

#include "report/iso_time.h"

namespace lf {
namespace {

void time_cell(CsvWriter& w, std::optional<UnixMillis> t, std::string& scratch) {
  if (!t) {
    w.empty();
    return;
  }
  scratch.clear();
  append_iso8601_utc(*t, scratch);
  w.text(scratch);
}

}  // namespace

void write_job_cells(CsvWriter& w, const JobRowView& row, const std::vector<ReportColumn>& columns,
                     double threshold, std::string& scratch) {
  for (ReportColumn c : columns) {
    switch (c) {
      case ReportColumn::kId: w.integer(row.id); break;
      case ReportColumn::kSource: w.text(row.source); break;
      case ReportColumn::kSourceKind: w.text(row.source_kind); break;
      case ReportColumn::kState: w.text(row.state); break;
      case ReportColumn::kVerifyScore:
        if (row.verify_score) w.number(*row.verify_score); else w.empty();
        break;
      case ReportColumn::kDecision:
        if (row.verify_score) w.text(*row.verify_score >= threshold ? "pass" : "fail"); else w.empty();
        break;
      case ReportColumn::kImageId: w.text(row.image_id); break;
      case ReportColumn::kRequestId: w.text(row.request_id); break;
      case ReportColumn::kApiStatus: w.text(row.api_status); break;
      case ReportColumn::kReason: w.text(row.reason); break;
      case ReportColumn::kHttpStatus:
        if (row.http_status) w.integer(*row.http_status); else w.empty();
        break;
      case ReportColumn::kAttempts: w.integer(row.attempts); break;
      case ReportColumn::kFirstAttemptAt: time_cell(w, row.first_attempt_at, scratch); break;
      case ReportColumn::kLastAttemptAt: time_cell(w, row.last_attempt_at, scratch); break;
      case ReportColumn::kTag: w.text(row.tag); break;
      case ReportColumn::kCreatedAt: time_cell(w, row.created_at, scratch); break;
      case ReportColumn::kFinishedAt: time_cell(w, row.finished_at, scratch); break;
      case ReportColumn::kDecidedBy:
        if (row.state != "done" && row.state != "failed") {
          w.empty();
        } else {
          w.text(row.decided_by.empty() ? std::string_view("api") : row.decided_by);
        }
        break;
      case ReportColumn::kReusedFrom:
        if (row.reused_from) w.integer(*row.reused_from); else w.empty();
        break;
      case ReportColumn::kContentHash: w.text(row.content_hash); break;
    }
  }
  w.end_row();
}

Result<std::int64_t> export_csv(SqlSession& session, const JobFilter& filter, const CsvExportOptions& options,
                                std::ostream& out) {
  JobScanOptions scan;
  scan.with_attempt_times = std::any_of(options.columns.begin(), options.columns.end(), [](ReportColumn c) {
    return c == ReportColumn::kFirstAttemptAt || c == ReportColumn::kLastAttemptAt;
  });
  CsvWriter writer(out, options.csv);
  // The header with the first row (or at the end, when there is none): a
  // query that fails at once writes nothing.
  bool header_due = options.header;
  auto write_header = [&] {
    for (ReportColumn c : options.columns) writer.text(column_name(c));
    writer.end_row();
    header_due = false;
  };
  std::string scratch;
  Result<std::int64_t> rows = for_each_job(
      session, filter,
      [&](const JobRowView& row) {
        if (header_due) write_header();
        write_job_cells(writer, row, options.columns, options.threshold, scratch);
        return Status::Ok();
      },
      scan);
  if (!rows) return rows.error();
  if (header_due) write_header();
  if (Status s = writer.flush(); !s) return s.error();
  return rows;
}

}  // namespace lf
