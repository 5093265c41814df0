// After `lfbatch run`: the metrics file (--metrics-file, else the config's
// metrics_file) filled from the run's summary and the database, for
// monitoring (cli/metrics_file.h has the format).
#pragma once

#include <string>

#include "cli/command.h"
#include "runner/progress.h"

namespace lf {

// Writes the metrics file, if one is named, for a run that ended with
// `exit_code`. `finished` is the runner's summary, or null when the run was
// refused before the runner started (config, database, credentials,
// options). Reads the queue's counts and the runs table when the database
// opens; without it the file still says the exit code. Never changes the
// run's exit code: a failure to write is logged as a warning naming the path.
void write_run_metrics(const GlobalOptions& global, const std::string& flag_path,
                       const FinishedRun* finished, int exit_code);

}  // namespace lf
