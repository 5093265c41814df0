// `lfbatch enqueue`: checks the named sources (paths, directories, URLs, list
// files, image_ids) and adds a job for each good one; each bad one gets one
// warning line, and the exit code says whether any was rejected.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/command.h"
#include "cli/command_support.h"
#include "cli/exit_codes.h"
#include "cli/source_scan.h"
#include "store/job_queue.h"

namespace lf {
namespace {

struct EnqueueArgs {
  std::vector<std::string> sources;
  std::vector<std::string> file_ids;
  std::vector<std::string> lists;
  std::string tag;
  bool recursive = false;
  bool auto_rotate = false;
  CLI::Option* auto_rotate_option = nullptr;
  bool again = false;
  bool no_preflight = false;
};

std::string summary(const EnqueueCounts& counts, const ScanStats& stats, bool again) {
  std::string line = fmt::format("added {}", counts.added);
  if (counts.rejected_by_preflight > 0) {
    line += fmt::format(" ({} failed pre-flight: the API would reject them, so they are never "
                        "sent; see lfbatch jobs list --state failed)",
                        counts.rejected_by_preflight);
  }
  line += fmt::format(", already queued/done/failed {}/{}/{}", counts.already_queued,
                      counts.already_done, counts.already_failed);
  if (!again && counts.already_queued + counts.already_done + counts.already_failed > 0) {
    line += " (use --again to re-verify)";
  }
  line += fmt::format(", rejected {}", stats.rejected);
  if (stats.skipped_non_images > 0) {
    line += fmt::format(", skipped {} non-image file{}", stats.skipped_non_images,
                        stats.skipped_non_images == 1 ? "" : "s");
  }
  if (stats.skipped_dir_links > 0) {
    line += fmt::format(", did not follow {} symlink{} to directories", stats.skipped_dir_links,
                        stats.skipped_dir_links == 1 ? "" : "s");
  }
  return line;
}

int run_enqueue(const GlobalOptions& global, const EnqueueArgs& args) {
  if (args.sources.empty() && args.file_ids.empty() && args.lists.empty()) {
    return fail(Error{"nothing to enqueue; name files, directories (with --recursive), http(s) "
                      "URLs, --file-id ID or --from-file LIST (see lfbatch enqueue --help)"},
                kExitUsage);
  }
  Result<Config> config = effective_config(global);
  if (!config) return fail(config.error(), kExitUsage);
  auto store = open_store(*config, /*create=*/false);
  if (!store) return fail(store.error(), kExitDatabase);
  JobQueue& queue = (*store)->queue();

  ScanOptions options;
  options.recursive = args.recursive;
  options.tag = args.tag;
  options.preflight = !args.no_preflight;
  options.auto_rotate =
      args.auto_rotate_option->count() > 0 ? args.auto_rotate : config->auto_rotate;

  EnqueueCounts counts;
  auto on_chunk = [&](std::span<const NewJob> jobs) -> Status {
    Result<EnqueueCounts> r = queue.enqueue(jobs, args.again, now_millis());
    if (!r) return r.error();
    counts.added += r->added;
    counts.already_queued += r->already_queued;
    counts.already_done += r->already_done;
    counts.already_failed += r->already_failed;
    counts.rejected_by_preflight += r->rejected_by_preflight;
    spdlog::debug("enqueue: {} added so far", counts.added);
    return {};
  };
  auto on_reject = [](const Rejection& r) { spdlog::warn("{}", format_rejection(r)); };
  SourceScanner scanner(options, on_chunk, on_reject);

  Status status;
  for (const auto& source : args.sources) {
    if (status = scanner.add(source); !status) break;
  }
  for (const auto& id : args.file_ids) {
    if (!status) break;
    status = scanner.add_file_id(id);
  }
  std::int64_t unreadable_lists = 0;
  for (const auto& list : args.lists) {
    if (!status) break;
    // /dev/stdin: an ifstream reads it faster than std::cin, and leaves the
    // process's stdio settings alone.
    std::ifstream in(list == "-" ? std::string("/dev/stdin") : list, std::ios::binary);
    if (!in) {
      ++unreadable_lists;
      spdlog::warn("{}", format_rejection(Rejection{
                             "--from-file " + list, "",
                             fmt::format("cannot open the list ({}); check the path",
                                         std::strerror(errno))}));
      continue;
    }
    status = scanner.add_list(in, list == "-" ? "stdin" : list);
  }
  if (status) status = scanner.finish();
  if (!status) {
    return fail(Error{fmt::format("{}; the {} jobs added before this error stay queued",
                                  status.message(), counts.added)},
                kExitDatabase);
  }
  ScanStats stats = scanner.stats();
  stats.rejected += unreadable_lists;
  if (!global.quiet) fmt::print("{}\n", summary(counts, stats, args.again));
  return stats.rejected > 0 ? kExitSomeRejected : kExitOk;
}

}  // namespace

void register_enqueue_command(CLI::App& app, GlobalOptions& global, int& exit_code) {
  auto args = std::make_shared<EnqueueArgs>();
  CLI::App* cmd = app.add_subcommand(
      "enqueue",
      "Add photos to the queue: files, directories (--recursive), http(s) URLs (sent as file_url), "
      "image_ids (--file-id) or list files (--from-file). Each bad source gets one warning line; "
      "the rest are queued. Exit code 1 if any source was rejected.");
  cmd->add_option("sources", args->sources,
                  "Image files, directories (with --recursive) or http:// https:// URLs");
  cmd->add_option("--file-id", args->file_ids,
                  "An image_id the API returned for an earlier upload (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--from-file", args->lists,
                  "A list: one path or URL per line, '-' for stdin; blank lines and # comments "
                  "skipped (repeatable)")
      ->allow_extra_args(false);
  cmd->add_flag("-r,--recursive", args->recursive,
                "Walk directories and queue their image files (jpg jpeg png gif bmp tif tiff)");
  cmd->add_option("--tag", args->tag, "A label stored with every job, for reports");
  args->auto_rotate_option = cmd->add_flag(
      "--auto-rotate,!--no-auto-rotate", args->auto_rotate,
      "Ask the API to rotate the photo by its EXIF orientation and faces (default: the config's "
      "auto_rotate)");
  cmd->add_flag("--no-preflight", args->no_preflight,
                "Do not read each file's headers now (lfbatch run checks every file before "
                "sending it anyway): for archives on slow disks, where enqueue would read a few "
                "KiB of every file");
  cmd->add_flag("--again", args->again,
                "Queue sources that already have a job (done, failed or queued) again, to re-verify");
  cmd->callback([&global, &exit_code, args] { exit_code = run_enqueue(global, *args); });
}

}  // namespace lf
