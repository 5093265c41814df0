// What lfbatch's end-to-end tests need: the real lfbatch binary run to
// completion with given arguments, standard input and environment, its exit
// code and everything it wrote to stdout and stderr.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace lf::e2e {

// The lfbatch binary: LFBATCH_BINARY (set by CMake), else $LF_BUILD_DIR/src/cli/lfbatch.
std::string lfbatch_binary();

struct ProcessResult {
  int exit_code = -1;  // -1: killed by a signal (or the timeout)
  std::string out;     // stdout
  std::string err;     // stderr
};

struct RunOptions {
  std::string stdin_text;                     // fed on standard input
  std::map<std::string, std::string> env;     // set on top of the cleaned environment
  std::string cwd;                            // empty: the test's own
  std::chrono::milliseconds timeout = std::chrono::seconds(120);  // then SIGKILL
  // Runs lfbatch under this command (its first element an absolute path),
  // e.g. {"/usr/bin/setpriv", "--reuid=65534", ..., "--"} to drop root.
  std::vector<std::string> prefix;
};

// Runs lfbatch with `args`. The child's environment is the test's without
// any LFBATCH_* or LINKFACE_* variable, plus `options.env`.
ProcessResult run_lfbatch(const std::vector<std::string>& args, const RunOptions& options = {});

// `text` split into lines (without the newlines).
std::vector<std::string> lines_of(const std::string& text);

// The message of a plain (non-TTY) log line "TIMESTAMP LEVEL MESSAGE", or
// the whole line if it is not one.
std::string log_message(const std::string& line);

// The credentials the e2e tests give lfbatch and lfemu.
inline constexpr const char* kE2eApiId = "batch-e2e";
inline constexpr const char* kE2eSecret = "e2e-secret-0123";

// lfbatch started in the background with LINKFACE_API_ID kE2eApiId and
// LINKFACE_API_SECRET `secret` (no LFBATCH_CONFIG, no LFBATCH_DB), its stdout
// and stderr in DIR/TAG.out and DIR/TAG.err. Killed (SIGKILL) on destruction
// if still running.
class LfbatchProcess {
 public:
  LfbatchProcess(const std::vector<std::string>& args, const std::string& dir,
                 const std::string& secret = kE2eSecret, const std::string& tag = "run");
  ~LfbatchProcess();
  LfbatchProcess(const LfbatchProcess&) = delete;
  LfbatchProcess& operator=(const LfbatchProcess&) = delete;

  void signal(int sig);
  int pid() const { return pid_; }

  // The exit code (128 + signal when killed), or -1 after `timeout` (then killed).
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(180));

  std::string out() const;
  std::string err() const;

 private:
  int pid_ = -1;
  bool exited_ = false;
  std::string out_path_, err_path_;
};

}  // namespace lf::e2e
