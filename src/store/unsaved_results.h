// Answers that were paid for but could not be committed (the database was
// locked, full or failing past the runner's patience), kept in a file beside
// the database until a later `lfbatch run` or `lfbatch init` imports them.
//
// The file is "<real path of the database>.unsaved-results.jsonl": one JSON
// object a line, each a Settlement with its lease owner, run and run-count
// deltas. Appends are fsynced, so a result in the file survives a SIGKILL
// and a power loss. Importing is idempotent: a result whose attempt is
// already completed in the database changes nothing (JobQueue::settle), so
// a file that was imported, or whose results were committed after all, may
// be imported again safely.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/job_queue.h"
#include "store/run_log.h"
#include "store/store.h"

namespace lf {

struct UnsavedResult {
  std::string owner;  // the lease owner that held the job when the answer came
  RunId run_id = 0;
  Settlement settlement;
  RunCounts counts;   // the run-count deltas of the settlement (requests excluded:
                      // those were counted when the attempt was recorded as sent)
};

// The file that holds the unsaved results of the database `db`.
//  - SQLite: beside the database, "<real path>.unsaved-results.jsonl".
//  - PostgreSQL: one file per run (several runs of one host may share the
//    database), in the state directory ($LFBATCH_STATE_DIR, else
//    $XDG_STATE_HOME/lfbatch, else ~/.local/state/lfbatch):
//    "unsaved-<64-bit hash of the URL without password>-run<run_id>.jsonl".
std::string unsaved_results_path(const std::string& db, RunId run_id = 0);

// PostgreSQL: the unsaved-results files of `db` in the state directory, with
// the run each belongs to. SQLite: none (its one file is unsaved_results_path).
struct UnsavedFile {
  std::string path;
  RunId run_id = 0;
};
std::vector<UnsavedFile> unsaved_results_files(const std::string& db);

// One line of the file for `result`, and back; parse fails on a line that
// is not one (e.g. cut short by a crash in the middle of a write).
std::string to_json_line(const UnsavedResult& result);
Result<UnsavedResult> parse_unsaved_result(const std::string& line);

// Appends `results` to the file at `path` (created mode 0600) and fsyncs it.
// Errors name the file.
Status append_unsaved_results(const std::string& path, std::span<const UnsavedResult> results);

// How many results wait in the file at `path` (0 when there is none): its
// non-empty lines, without parsing them.
std::int64_t count_unsaved_results(const std::string& path);

struct UnsavedImport {
  std::int64_t imported = 0;        // results applied now
  std::int64_t already_stored = 0;  // results found stored (or jobs no longer leased)
  std::int64_t unreadable = 0;      // lines that are not results (skipped, reported)
};

// Imports the unsaved results at `path`, if the file exists, into `store` in
// one transaction, then removes the file. No file: zero counts.
// REQUIRES: the owners of the results are dead (SQLite: the caller holds the
// database's RunnerLock), so their leases are still theirs to settle.
Result<UnsavedImport> import_unsaved_results(Store& store, const std::string& path,
                                             UnixMillis now);

}  // namespace lf
