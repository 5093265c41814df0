// Reading RunHistory from the runs table.
#include "report/run_history.h"

#include <string>

namespace lf {

Result<RunHistory> run_history(SqlSession& session) {
  // The sums cast back to BIGINT: PostgreSQL's sum(bigint) is a numeric.
  static constexpr std::string_view kSql =
      "SELECT count(*), CAST(coalesce(sum(requests), 0) AS BIGINT), "
      "  CAST(coalesce(sum(throttled), 0) AS BIGINT), "
      "  (SELECT max(finished_at) FROM runs "
      "   WHERE ended_how IN ('completed', 'deadline', 'budget') AND finished_at IS NOT NULL) "
      "FROM runs";
  RunHistory h;
  Result<std::int64_t> rows = session.query(kSql, {}, [&h](const SqlRow& r) {
    h.runs = r.integer(0);
    h.requests = r.integer(1);
    h.throttled = r.integer(2);
    h.last_success_at = r.optional_integer(3);
    return Status::Ok();
  });
  if (!rows) return Error{"reading the runs table of " + session.name() + ": " + rows.error().message};
  return h;
}

}  // namespace lf
