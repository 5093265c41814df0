// lfbatch's exit codes, one list for every subcommand (README "Exit codes").
// Scripts and cron jobs branch on these; never renumber one.
#pragma once

namespace lf {

inline constexpr int kExitOk = 0;
inline constexpr int kExitSomeRejected = 1;  // enqueue: some sources rejected, the rest queued
inline constexpr int kExitChecksFailed = 1;  // doctor: at least one check failed
inline constexpr int kExitUsage = 2;         // bad flags, config file or LFBATCH_* value
inline constexpr int kExitDatabase = 3;      // database missing, unreadable, too new, or a store error
// Codes 4 and up belong to `run` and later subcommands; add them here.
// run (src/runner/decision.h exit_code_of is the source of these):
inline constexpr int kExitUnavailable = 69;  // run: another lfbatch run holds the database (EX_UNAVAILABLE)
inline constexpr int kExitTempFail = 75;     // run: OUT_OF_QUOTA, come back later (EX_TEMPFAIL)
inline constexpr int kExitNoPerm = 77;       // run: UNAUTHORIZED, KEY_EXPIRED, NO_PERMISSION (EX_NOPERM)
inline constexpr int kExitConfig = 78;       // run: NOT_FOUND (wrong endpoint), bad endpoint URL, no credentials (EX_CONFIG)
inline constexpr int kExitSigint = 130;      // run: stopped by SIGINT
inline constexpr int kExitSigterm = 143;     // run: stopped by SIGTERM
inline constexpr int kExitInternal = 70;     // a bug: an unexpected exception (EX_SOFTWARE)

}  // namespace lf
