// `lfbatch retry`: put done or failed jobs matching the filters back in the
// queue (e.g. every FACE_DETECTION_FAILED after the photos were fixed). Their
// attempts stay as history. Refuses to re-queue everything without --all.
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/command.h"
#include "cli/command_support.h"
#include "cli/exit_codes.h"
#include "cli/report_filter_flags.h"
#include "report/report_queries.h"

namespace lf {
namespace {

struct RetryFlags {
  FilterFlags filter;
  bool all = false;
  bool dry_run = false;
};

int run_retry(const GlobalOptions& global, const RetryFlags& flags) {
  Result<Config> config = effective_config(global);
  if (!config) return fail(config.error(), kExitUsage);
  Result<JobFilter> filter = to_filter(flags.filter);
  if (!filter) return fail(filter.error(), kExitUsage);
  if (filter->empty() && !flags.all) {
    return fail(Error{"retry without a filter would re-queue every done and failed job; add a filter "
                      "(e.g. --status FACE_DETECTION_FAILED, --state failed, --tag T) or pass --all"},
                kExitUsage);
  }
  for (const std::string& s : filter->states) {
    if (s != "done" && s != "failed") {
      return fail(Error{fmt::format("--state {}: retry re-queues done or failed jobs only; {} jobs are "
                                    "already in the queue", s, s)},
                  kExitUsage);
    }
  }
  auto store = open_store(*config, /*create=*/false);
  if (!store) return fail(store.error(), kExitDatabase);
  SqlSession& session = (*store)->sql();

  if (flags.dry_run) {
    JobFilter finished = *filter;
    if (finished.states.empty()) finished.states = {"done", "failed"};
    Result<std::int64_t> n = count_jobs(session, finished);
    if (!n) return fail(n.error(), kExitDatabase);
    fmt::print("would re-queue {} jobs ({})\n", *n, filter->describe());
    return kExitOk;
  }
  Result<std::int64_t> n = requeue(session, *filter, now_millis());
  if (!n) return fail(n.error(), kExitDatabase);
  fmt::print("re-queued {} jobs ({}); `lfbatch run` sends them again\n", *n, filter->describe());
  return kExitOk;
}

}  // namespace

void register_retry_command(CLI::App& app, GlobalOptions& global, int& exit_code) {
  auto flags = std::make_shared<RetryFlags>();
  CLI::App* cmd = app.add_subcommand(
      "retry",
      "Re-queue done or failed jobs matching the filters (attempts reset to 0, history kept), "
      "e.g. lfbatch retry --status FACE_DETECTION_FAILED");
  cmd->add_flag("--all", flags->all, "Allow re-queueing every done and failed job when no filter is given");
  cmd->add_flag("-n,--dry-run", flags->dry_run, "Only say how many jobs would be re-queued");
  add_filter_flags(*cmd, flags->filter);
  cmd->callback([&global, &exit_code, flags] { exit_code = run_retry(global, *flags); });
}

}  // namespace lf
