// `lfbatch report`: the database as CSV for auditors (default), a summary
// for a terminal, JSON for scripts, or one self-contained HTML page.
// Output goes to stdout or, with -o, to a temporary file renamed into place
// once complete, so a reader never sees half a report.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/command.h"
#include "cli/command_support.h"
#include "cli/exit_codes.h"
#include "cli/report_filter_flags.h"
#include "report/csv_export.h"
#include "report/html_report.h"
#include "report/report_queries.h"
#include "report/summary_format.h"

namespace lf {
namespace {

struct ReportFlags {
  FilterFlags filter;
  std::string format = "csv";
  std::string output = "-";
  bool excel = false;
  std::optional<double> threshold;
  std::string columns;
  int max_failures = 500;
};

// Where a report goes: stdout, a device or fifo (written directly), or a
// regular file (written beside it, renamed into place on commit()).
class ReportOutput {
 public:
  static Result<std::unique_ptr<ReportOutput>> open(const std::string& path) {
    auto out = std::unique_ptr<ReportOutput>(new ReportOutput(path));
    if (path == "-") return out;
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (std::filesystem::exists(status) && std::filesystem::is_directory(status)) {
      return Error{fmt::format("-o {}: is a directory; give a file name, e.g. -o {}/report.csv", path, path)};
    }
    if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status)) {
      out->target_ = path;  // /dev/null, a fifo: write directly
    } else {
      out->temp_ = fmt::format("{}.partial-{}", path, ::getpid());
      out->target_ = out->temp_;
    }
    out->file_.open(out->target_, std::ios::binary | std::ios::trunc);
    if (!out->file_) {
      return Error{fmt::format("-o {}: cannot write there ({}); check that the directory exists and is writable",
                               path, std::strerror(errno))};
    }
    return out;
  }

  ~ReportOutput() {
    if (!temp_.empty()) {
      file_.close();
      std::error_code ec;
      std::filesystem::remove(temp_, ec);
    }
  }

  std::ostream& stream() { return path_ == "-" ? std::cout : file_; }

  Status commit() {
    stream().flush();
    if (!stream()) return Error{fmt::format("writing {} failed (disk full?)", describe())};
    if (temp_.empty()) return {};
    file_.close();
    if (!file_) return Error{fmt::format("writing {} failed (disk full?)", describe())};
    std::error_code ec;
    std::filesystem::rename(temp_, path_, ec);
    if (ec) return Error{fmt::format("cannot move the report into place at {}: {}", path_, ec.message())};
    temp_.clear();
    return {};
  }

  std::string describe() const { return path_ == "-" ? "stdout" : path_; }

 private:
  explicit ReportOutput(std::string path) : path_(std::move(path)) {}
  std::string path_;
  std::string target_;
  std::string temp_;
  std::ofstream file_;
};

int run_report(const GlobalOptions& global, const ReportFlags& flags) {
  Result<Config> config = effective_config(global);
  if (!config) return fail(config.error(), kExitUsage);
  Result<JobFilter> filter = to_filter(flags.filter);
  if (!filter) return fail(filter.error(), kExitUsage);
  const double threshold = flags.threshold.value_or(config->threshold);
  if (!(threshold >= 0 && threshold <= 1)) {
    return fail(Error{fmt::format("threshold {} is outside 0..1, the range of verify_score; pass "
                                  "--threshold, e.g. 0.7 (1 in 10,000 on the spec's table)", threshold)},
                kExitUsage);
  }
  std::vector<ReportColumn> columns = default_report_columns();
  if (!flags.columns.empty()) {
    if (flags.format != "csv") {
      return fail(Error{"--columns applies to --format csv only"}, kExitUsage);
    }
    Result<std::vector<ReportColumn>> parsed = parse_report_columns(flags.columns);
    if (!parsed) return fail(parsed.error(), kExitUsage);
    columns = *parsed;
  }
  if (flags.excel && flags.format != "csv") {
    return fail(Error{"--excel (a UTF-8 byte order mark for Excel) applies to --format csv only"}, kExitUsage);
  }

  auto store = open_store(*config, /*create=*/false);
  if (!store) return fail(store.error(), kExitDatabase);
  SqlSession& session = (*store)->sql();
  auto output = ReportOutput::open(flags.output);
  if (!output) return fail(output.error(), kExitUsage);
  std::ostream& out = (*output)->stream();

  if (flags.format == "csv") {
    // The export reads each page once, in order: a small page cache keeps
    // memory flat instead of filling the store's 64 MiB cache.
    if (Database* db = (*store)->sqlite()) {
      if (Status s = db->exec("PRAGMA cache_size = -8192"); !s) return fail(s.error(), kExitDatabase);
    }
    CsvExportOptions options;
    options.columns = columns;
    options.threshold = threshold;
    options.csv.bom = flags.excel;
    Result<std::int64_t> rows = export_csv(session, *filter, options, out);
    if (!rows) return fail(rows.error(), kExitDatabase);
    if (Status s = (*output)->commit(); !s) return fail(s.error(), kExitDatabase);
    spdlog::info("wrote {} job rows ({}) to {}", *rows, filter->describe(), (*output)->describe());
    return kExitOk;
  }

  Result<ReportSummary> summary = summarize(session, *filter, threshold, now_millis(), flags.max_failures);
  if (!summary) return fail(summary.error(), kExitDatabase);
  if (flags.format == "summary") {
    write_summary_text(*summary, out);
  } else if (flags.format == "json") {
    out << summary_json(*summary);
  } else {
    write_html_report(*summary, out);
  }
  if (Status s = (*output)->commit(); !s) return fail(s.error(), kExitDatabase);
  if (flags.output != "-") spdlog::info("wrote the {} report to {}", flags.format, (*output)->describe());
  return kExitOk;
}

}  // namespace

void register_report_command(CLI::App& app, GlobalOptions& global, int& exit_code) {
  auto flags = std::make_shared<ReportFlags>();
  CLI::App* cmd = app.add_subcommand(
      "report",
      "Write a report: CSV for auditors (one row per job, default), a summary, JSON, or an HTML page");
  cmd->add_option("--format", flags->format,
                  "csv (default), summary (text), json (the summary for scripts), html (one self-contained page)")
      ->check(CLI::IsMember({"csv", "summary", "json", "html"}));
  cmd->add_option("-o,--output", flags->output, "Write to FILE instead of stdout");
  cmd->add_flag("--excel", flags->excel,
                "CSV: start with a UTF-8 byte order mark, so Excel shows Chinese text correctly");
  cmd->add_option("--threshold", flags->threshold,
                  "Pass when verify_score >= T (default: the config's \"threshold\", 0.7). The summary "
                  "places T on the spec's table: 0.4 = 1 in 10 errors ... 0.9 = 1 in 1,000,000");
  std::string column_help = "CSV columns, comma-separated, from:";
  for (const ReportColumnSpec& c : report_columns()) column_help += fmt::format(" {}", c.name);
  cmd->add_option("--columns", flags->columns, column_help);
  cmd->add_option("--max-failures", flags->max_failures,
                  "Summary/HTML: list at most N failed jobs (default 500; the CSV has them all)")
      ->check(CLI::NonNegativeNumber);
  add_filter_flags(*cmd, flags->filter);
  cmd->callback([&global, &exit_code, flags] { exit_code = run_report(global, *flags); });
}

}  // namespace lf
