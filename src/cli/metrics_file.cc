// Rendering and atomically writing the metrics file (Prometheus text format).
#include "cli/metrics_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace lf {
namespace {

// A sample value: integers without a decimal point, others exactly (shortest round trip).
std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<std::int64_t>(v));
  return fmt::format("{}", v);  // the shortest text that reads back as v
}

class Writer {
 public:
  void family(const char* name, const char* type, const char* help) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  void sample(const char* name, double v) { out_ += fmt::format("{} {}\n", name, number(v)); }
  void sample(const char* name, const char* label, const std::string& value, double v) {
    out_ += fmt::format("{}{{{}=\"{}\"}} {}\n", name, label, escape_label_value(value), number(v));
  }
  // A family of one unlabelled sample.
  void single(const char* name, const char* type, const char* help, double v) {
    family(name, type, help);
    sample(name, v);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

std::string escape_label_value(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string render_metrics(const RunMetrics& m) {
  Writer w;
  if (m.have_queue) {
    w.family("lfbatch_jobs", "gauge", "Jobs in the queue by state, after the last run.");
    for (const auto& [state, n] : m.jobs_by_state) w.sample("lfbatch_jobs", "state", state, n);
    w.family("lfbatch_results", "gauge",
             "Final (done or failed) jobs by their last API status, after the last run.");
    for (const auto& [status, n] : m.results_by_status) {
      w.sample("lfbatch_results", "status", status.empty() ? "none" : status, n);
    }
    w.single("lfbatch_requests_total", "counter", "Requests sent, summed over every run of the database.",
             m.requests_all_runs);
    w.single("lfbatch_throttled_total", "counter",
             "RATE_LIMIT_EXCEEDED answers, summed over every run of the database.", m.throttled_all_runs);
  }
  w.single("lfbatch_last_run_id", "gauge", "The runs.id of the last run; 0 when it never began.",
           m.run_id);
  w.family("lfbatch_last_run_ended", "gauge",
           "How the last run ended (runs.ended_how; not_started when it never began): 1 for that value.");
  w.sample("lfbatch_last_run_ended", "how", m.ended.empty() ? "not_started" : m.ended, 1);
  w.single("lfbatch_last_run_exit_code", "gauge",
           "The last run's exit code: 0 ok, 75 come back later, 77/78/3/2 fix something.", m.exit_code);
  w.single("lfbatch_last_run_requests", "gauge", "Requests the last run sent and saw end.", m.requests);
  w.single("lfbatch_last_run_done", "gauge", "Jobs the last run settled done.", m.done);
  w.single("lfbatch_last_run_failed", "gauge", "Jobs the last run settled failed for good.", m.failed);
  w.single("lfbatch_last_run_retried", "gauge", "Transient failures the last run sent back for another attempt.",
           m.retried);
  w.single("lfbatch_last_run_throttled", "gauge", "RATE_LIMIT_EXCEEDED answers in the last run.", m.throttled);
  w.single("lfbatch_last_run_quota_used", "gauge",
           "Requests of the last run the server counted against the quota (API answers other than "
           "RATE_LIMIT_EXCEEDED and OUT_OF_QUOTA).",
           m.quota_used);
  w.single("lfbatch_last_run_remaining_jobs", "gauge", "Jobs pending or leased after the last run.", m.remaining);
  w.single("lfbatch_last_run_in_doubt", "gauge",
           "Requests of crashed runs found unanswered when the last run started (maybe billed).", m.in_doubt);
  w.family("lfbatch_last_run_calls_saved", "gauge",
           "Jobs the last run settled without a request: by pre-flight (the API would have "
           "rejected the file) or reused (an answer for identical content).");
  w.sample("lfbatch_last_run_calls_saved", "by", "preflight", m.decided_locally);
  w.sample("lfbatch_last_run_calls_saved", "by", "reused", m.reused);
  w.single("lfbatch_last_run_sent_by_image_id", "gauge",
           "Requests of the last run that sent an earlier upload's image_id instead of the bytes.",
           m.sent_by_image_id);
  w.family("lfbatch_last_run_answers", "gauge", "The last run's requests by code other than OK.");
  for (const auto& [code, n] : m.by_code) w.sample("lfbatch_last_run_answers", "code", code, n);
  w.single("lfbatch_last_run_duration_seconds", "gauge", "How long the last run took.", m.duration_seconds);
  w.single("lfbatch_last_run_requests_per_second", "gauge", "The last run's requests per second.",
           m.requests_per_second);
  w.single("lfbatch_last_run_timestamp_seconds", "gauge", "Unix time the last run ended.",
           m.finished_at_seconds);
  w.single("lfbatch_last_success_timestamp_seconds", "gauge",
           "Unix time the newest successful run (completed, deadline or budget) ended; 0: none yet.",
           m.last_success_seconds.value_or(0));
  return w.take();
}

Status write_metrics_file(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  const std::string tmp = path + ".tmp";
  auto fail = [&](const std::string& what) -> Status {
    const int err = errno;
    ::unlink(tmp.c_str());
    return Error{fmt::format("cannot write the metrics file {}: {} failed: {}; check that its "
                             "directory exists and is writable by this user",
                             path, what, std::strerror(err))};
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail("creating " + tmp);
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return fail("writing " + tmp);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return fail("fsync of " + tmp);
  }
  if (::close(fd) != 0) return fail("closing " + tmp);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return fail("renaming " + tmp);
  // The rename itself survives a power loss once the directory is synced.
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

}  // namespace lf
