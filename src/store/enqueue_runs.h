// What both queues share beyond the interface (private to src/store):
// enqueue's check of the sources, the cut of a batch into runs of one kind,
// the sources of a run without their repeats, adding up counts; lease's
// order of the jobs it took.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "store/job_queue.h"

namespace lf {

// An error naming the first empty source ("source number N is empty").
Status check_sources(std::span<const NewJob> jobs);

// Calls `run` for each maximal run of `jobs` that share kind, auto_rotate
// and tag (one set-based statement each; usually the whole batch), in
// order; stops at, and returns, the first error.
Status for_each_run_of_one_kind(std::span<const NewJob> jobs,
                                const std::function<Status(std::span<const NewJob>)>& run);

// The jobs of `run` with distinct sources, in first-listed order, and how
// many times each is listed again after its first listing (a repeat counts
// as its first listing does: queued when that one is added).
struct DistinctSources {
  std::vector<const NewJob*> jobs;
  std::vector<std::int64_t> repeats;  // one per element of jobs
  std::int64_t repeated = 0;          // the sum of repeats
};
DistinctSources distinct_sources(std::span<const NewJob> run);

void add(EnqueueCounts& total, const EnqueueCounts& batch);

// `jobs` (with `due_at[i]` the next_attempt_at of jobs[i]) oldest due first,
// then by id: the order lease hands them out in (RETURNING gives none).
std::vector<Job> oldest_due_first(std::vector<Job> jobs, const std::vector<UnixMillis>& due_at);

}  // namespace lf
