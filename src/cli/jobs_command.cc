// `lfbatch jobs show ID` (one job with all its attempts) and `lfbatch jobs
// list` (jobs matching the report filters, a table or JSON lines).
#include <algorithm>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/command_support.h"
#include "cli/exit_codes.h"
#include "cli/report_filter_flags.h"
#include "report/iso_time.h"
#include "report/report_queries.h"

namespace lf {
namespace {

// Control characters (a newline in a file name, an escape sequence) shown
// visibly instead of moving the terminal's cursor.
std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string time_or_dash(std::optional<UnixMillis> t) { return t ? format_iso8601_utc(*t) : "-"; }

std::string score_text(std::optional<double> s) { return s ? fmt::format("{:.4f}", *s) : "-"; }

nlohmann::json optional_json(const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

nlohmann::json time_json(std::optional<UnixMillis> t) {
  return t ? nlohmann::json(format_iso8601_utc(*t)) : nlohmann::json(nullptr);
}

std::string detail_json(const JobDetail& d) {
  using nlohmann::json;
  json attempts = json::array();
  for (const AttemptRow& a : d.attempt_rows) {
    attempts.push_back({{"id", a.id},
                        {"run_id", optional_json(a.run_id)},
                        {"started_at", format_iso8601_utc(a.started_at)},
                        {"finished_at", format_iso8601_utc(a.finished_at)},
                        {"latency_ms", optional_json(a.latency_ms)},
                        {"http_status", optional_json(a.http_status)},
                        {"api_status", a.api_status},
                        {"reason", a.reason},
                        {"request_id", a.request_id},
                        {"verify_score", optional_json(a.verify_score)},
                        {"image_id", a.image_id},
                        {"disposition", a.disposition},
                        {"sent_image_id", a.sent_image_id}});
  }
  json j = {{"id", d.id},
            {"source_kind", d.source_kind},
            {"source", d.source},
            {"auto_rotate", d.auto_rotate},
            {"tag", d.tag},
            {"state", d.state},
            {"attempts", d.attempts},
            {"next_attempt_at", format_iso8601_utc(d.next_attempt_at)},
            {"lease_owner", d.lease_owner},
            {"lease_expires_at", time_json(d.lease_expires_at)},
            {"verify_score", optional_json(d.verify_score)},
            {"image_id", d.image_id},
            {"request_id", d.request_id},
            {"api_status", d.api_status},
            {"reason", d.reason},
            {"http_status", optional_json(d.http_status)},
            {"content_hash", d.content_hash},
            {"decided_by", d.decided_by.empty() && (d.state == "done" || d.state == "failed")
                               ? json("api")
                               : json(d.decided_by)},
            {"reused_from", optional_json(d.reused_from)},
            {"created_at", format_iso8601_utc(d.created_at)},
            {"updated_at", format_iso8601_utc(d.updated_at)},
            {"finished_at", time_json(d.finished_at)},
            {"attempt_rows", attempts}};
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string detail_text(const JobDetail& d, double threshold) {
  std::string out = fmt::format("job {}   state {}   attempts {}\n", d.id, d.state, d.attempts);
  out += fmt::format("  source        {} ({}{})\n", printable(d.source), d.source_kind,
                     d.auto_rotate ? ", auto_rotate" : "");
  if (!d.tag.empty()) out += fmt::format("  tag           {}\n", printable(d.tag));
  out += fmt::format("  created       {}\n", format_iso8601_utc(d.created_at));
  out += fmt::format("  updated       {}\n", format_iso8601_utc(d.updated_at));
  if (d.finished_at) out += fmt::format("  finished      {}\n", format_iso8601_utc(*d.finished_at));
  if (d.state == "pending") out += fmt::format("  next attempt  {}\n", format_iso8601_utc(d.next_attempt_at));
  if (d.state == "leased") {
    out += fmt::format("  leased by     {} until {}\n", printable(d.lease_owner), time_or_dash(d.lease_expires_at));
  }
  if (!d.api_status.empty()) {
    out += fmt::format("  last status   {}{}\n", d.api_status,
                       d.http_status ? fmt::format(" (HTTP {})", *d.http_status) : "");
  }
  if (!d.reason.empty()) out += fmt::format("  reason        {}\n", printable(d.reason));
  if (d.verify_score) {
    out += fmt::format("  verify_score  {} ({} at threshold {:g})\n", *d.verify_score,
                       *d.verify_score >= threshold ? "pass" : "fail", threshold);
  }
  if (!d.image_id.empty()) out += fmt::format("  image_id      {}\n", printable(d.image_id));
  if (!d.request_id.empty()) out += fmt::format("  request_id    {}\n", printable(d.request_id));
  if (!d.content_hash.empty()) out += fmt::format("  content_hash  {}\n", d.content_hash);
  if (d.decided_by == "preflight") {
    out += "  decided by    pre-flight: the API's image rules, checked locally (nothing sent)\n";
  } else if (d.decided_by == "reused") {
    out += fmt::format("  decided by    reused: the answer of job {} for identical content "
                       "(nothing sent)\n",
                       d.reused_from ? std::to_string(*d.reused_from) : std::string("?"));
  }

  out += fmt::format("\nAttempts ({})\n", d.attempt_rows.size());
  if (d.attempt_rows.empty()) return out + "  none yet\n";
  out += fmt::format("  {:<4} {:<5} {:<24} {:>8} {:>4}  {:<28} {:<17} {:<7} {}\n", "#", "run", "started (UTC)",
                     "latency", "http", "status", "disposition", "score", "request_id / reason");
  int n = 0;
  for (const AttemptRow& a : d.attempt_rows) {
    std::string tail = printable(a.request_id);
    if (!a.reason.empty()) tail += (tail.empty() ? "" : "  ") + printable(a.reason);
    if (!a.sent_image_id.empty()) tail += "  (sent image_id " + printable(a.sent_image_id) + ")";
    out += fmt::format("  {:<4} {:<5} {:<24} {:>8} {:>4}  {:<28} {:<17} {:<7} {}\n", ++n,
                       a.run_id ? fmt::format("#{}", *a.run_id) : "-", format_iso8601_utc(a.started_at),
                       a.latency_ms ? fmt::format("{:.0f}ms", *a.latency_ms) : "-",
                       a.http_status ? std::to_string(*a.http_status) : "-", a.api_status,
                       a.disposition.empty() ? "-" : a.disposition, score_text(a.verify_score), tail);
  }
  return out;
}

struct ShowFlags {
  std::int64_t id = 0;
  bool json = false;
};

int run_show(const GlobalOptions& global, const ShowFlags& flags) {
  Result<Config> config = effective_config(global);
  if (!config) return fail(config.error(), kExitUsage);
  auto store = open_store(*config, /*create=*/false);
  if (!store) return fail(store.error(), kExitDatabase);
  SqlSession& session = (*store)->sql();
  Result<std::optional<JobDetail>> detail = job_detail(session, flags.id);
  if (!detail) return fail(detail.error(), kExitDatabase);
  if (!detail->has_value()) {
    return fail(Error{fmt::format("no job {} in {}; find ids with `lfbatch jobs list` or the CSV's id column",
                                  flags.id, config->database)},
                kExitUsage);
  }
  fmt::print("{}", flags.json ? detail_json(**detail) : detail_text(**detail, config->threshold));
  return kExitOk;
}

struct ListFlags {
  FilterFlags filter;
  std::int64_t limit = 50;
  bool json = false;
};

int run_list(const GlobalOptions& global, const ListFlags& flags) {
  Result<Config> config = effective_config(global);
  if (!config) return fail(config.error(), kExitUsage);
  Result<JobFilter> filter = to_filter(flags.filter);
  if (!filter) return fail(filter.error(), kExitUsage);
  auto store = open_store(*config, /*create=*/false);
  if (!store) return fail(store.error(), kExitDatabase);
  SqlSession& session = (*store)->sql();
  // One row past the limit tells whether there are more.
  JobScanOptions scan;
  if (flags.limit > 0) scan.limit = flags.limit + 1;
  std::int64_t shown = 0;
  bool more = false;
  if (!flags.json) {
    fmt::print("{:>10}  {:<8} {:<28} {:>7} {:>8}  {}\n", "id", "state", "status", "score", "attempts", "source");
  }
  Result<std::int64_t> listed = for_each_job(session, *filter, [&](const JobRowView& r) {
    if (flags.limit > 0 && shown == flags.limit) {
      more = true;
      return Status::Ok();
    }
    if (flags.json) {
      nlohmann::json j = {{"id", r.id},
                          {"state", r.state},
                          {"api_status", r.api_status},
                          {"verify_score", optional_json(r.verify_score)},
                          {"attempts", r.attempts},
                          {"source", r.source},
                          {"tag", r.tag},
                          {"reason", r.reason}};
      fmt::print("{}\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    } else {
      fmt::print("{:>10}  {:<8} {:<28} {:>7} {:>8}  {}\n", r.id, r.state,
                 r.api_status.empty() ? "-" : r.api_status, score_text(r.verify_score), r.attempts,
                 printable(r.source));
    }
    ++shown;
    return Status::Ok();
  }, scan);
  if (!listed) return fail(listed.error(), kExitDatabase);
  if (!flags.json) {
    if (more) {
      fmt::print("(first {} shown; more match {}: raise --limit, or export all with lfbatch report)\n", shown,
                 filter->describe());
    } else {
      fmt::print("({} jobs: {})\n", shown, filter->describe());
    }
  }
  return kExitOk;
}

}  // namespace

void register_jobs_command(CLI::App& app, GlobalOptions& global, int& exit_code) {
  CLI::App* jobs = app.add_subcommand("jobs", "Look at individual jobs: jobs show ID, jobs list [filters]");
  jobs->require_subcommand(1);

  auto show = std::make_shared<ShowFlags>();
  CLI::App* show_cmd = jobs->add_subcommand("show", "Print one job with all its attempts");
  show_cmd->add_option("id", show->id, "The job's id (the id column of the CSV report or jobs list)")->required();
  show_cmd->add_flag("--json", show->json, "Print JSON");
  show_cmd->fallthrough();  // --db, --config, ... are `jobs`' options (lfbatch_main.cc)
  show_cmd->callback([&global, &exit_code, show] { exit_code = run_show(global, *show); });

  auto list = std::make_shared<ListFlags>();
  CLI::App* list_cmd = jobs->add_subcommand("list", "List jobs matching the filters, oldest id first");
  list_cmd->add_option("--limit", list->limit, "At most N jobs (default 50; 0: all)")->check(CLI::NonNegativeNumber);
  list_cmd->add_flag("--json", list->json, "One JSON object per line");
  list_cmd->fallthrough();
  add_filter_flags(*list_cmd, list->filter);
  list_cmd->callback([&global, &exit_code, list] { exit_code = run_list(global, *list); });
}

}  // namespace lf
