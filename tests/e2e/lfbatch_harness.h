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

}  // namespace lf::e2e
