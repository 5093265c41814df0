// Figures over every run of a database, for the metrics file: what the runs
// table says once the run that reports them has ended. Reads only the runs
// table (a few rows per night), never jobs or attempts, so it costs the same
// at 5,000,000 jobs as at 10.
//
// Not thread-safe: use from the thread that owns the session.
#pragma once

#include <cstdint>
#include <optional>

#include "core/job.h"
#include "core/result.h"
#include "store/sql_session.h"

namespace lf {

struct RunHistory {
  std::int64_t runs = 0;
  std::int64_t requests = 0;   // runs.requests summed: every request any run sent
  std::int64_t throttled = 0;  // runs.throttled summed
  // finished_at of the newest run that ended completed, deadline or budget
  // (the ends that exit 0); nullopt: no such run.
  std::optional<UnixMillis> last_success_at;
};

Result<RunHistory> run_history(SqlSession& session);

}  // namespace lf
