// What both queues share: the content key of a hash, the names of deciders,
// the lease owner of a run, enqueue's cutting and counting.
#include "store/job_queue.h"

#include <algorithm>
#include <string_view>
#include <utility>
#include <unordered_map>

#include <fmt/format.h>

#include "store/enqueue_runs.h"

namespace lf {

std::string lease_owner_of(RunId run_id) { return fmt::format("run-{}", run_id); }

std::optional<std::int64_t> content_key_of(std::string_view content_hash) {
  if (content_hash.size() < 16) return std::nullopt;
  std::uint64_t key = 0;
  for (char c : content_hash.substr(0, 16)) {
    int digit;
    if (c >= '0' && c <= '9') digit = c - '0';
    else if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    else return std::nullopt;
    key = key << 4 | static_cast<std::uint64_t>(digit);
  }
  return static_cast<std::int64_t>(key);
}

std::string_view to_string(Decider decider) {
  switch (decider) {
    case Decider::kApi: return "api";
    case Decider::kPreflight: return "preflight";
    case Decider::kReused: return "reused";
  }
  return "api";
}

Status check_sources(std::span<const NewJob> jobs) {
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    if (jobs[i].source.empty()) {
      return Error{"enqueue: source number " + std::to_string(i + 1) + " is empty"};
    }
  }
  return Status::Ok();
}

Status for_each_run_of_one_kind(std::span<const NewJob> jobs,
                                const std::function<Status(std::span<const NewJob>)>& run) {
  for (std::size_t begin = 0; begin < jobs.size();) {
    std::size_t end = begin + 1;
    while (end < jobs.size() && jobs[end].kind == jobs[begin].kind &&
           jobs[end].auto_rotate == jobs[begin].auto_rotate && jobs[end].tag == jobs[begin].tag) {
      ++end;
    }
    if (Status status = run(jobs.subspan(begin, end - begin)); !status) return status;
    begin = end;
  }
  return Status::Ok();
}

DistinctSources distinct_sources(std::span<const NewJob> run) {
  DistinctSources distinct;
  std::unordered_map<std::string_view, std::size_t> first_of;
  first_of.reserve(run.size());
  for (const NewJob& job : run) {
    auto [it, inserted] = first_of.try_emplace(job.source, distinct.jobs.size());
    if (inserted) {
      distinct.jobs.push_back(&job);
      distinct.repeats.push_back(0);
    } else {
      ++distinct.repeats[it->second];
      ++distinct.repeated;
    }
  }
  return distinct;
}

void add(EnqueueCounts& total, const EnqueueCounts& batch) {
  total.added += batch.added;
  total.already_queued += batch.already_queued;
  total.already_done += batch.already_done;
  total.already_failed += batch.already_failed;
  total.rejected_by_preflight += batch.rejected_by_preflight;
}

std::vector<Job> oldest_due_first(std::vector<Job> jobs, const std::vector<UnixMillis>& due_at) {
  std::vector<std::size_t> order(jobs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::pair(due_at[a], jobs[a].id) < std::pair(due_at[b], jobs[b].id);
  });
  std::vector<Job> sorted;
  sorted.reserve(jobs.size());
  for (std::size_t i : order) sorted.push_back(std::move(jobs[i]));
  return sorted;
}

}  // namespace lf
