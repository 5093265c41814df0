// lfbatch's exit codes, one list for every subcommand (README "Exit codes").
// Scripts and cron jobs branch on these; never renumber one.
#pragma once

namespace lf {

inline constexpr int kExitOk = 0;
inline constexpr int kExitSomeRejected = 1;  // enqueue: some sources rejected, the rest queued
inline constexpr int kExitUsage = 2;         // bad flags, config file or LFBATCH_* value
inline constexpr int kExitDatabase = 3;      // database missing, unreadable, too new, or a store error
// Codes 4 and up belong to `run` and later subcommands; add them here.
inline constexpr int kExitInternal = 70;     // a bug: an unexpected exception (EX_SOFTWARE)

}  // namespace lf
