// Running lfbatch as a child process with its output captured in files.
#include "lfbatch_harness.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace lf::e2e {
namespace {

namespace fs = std::filesystem;

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::string lfbatch_binary() {
#ifdef LFBATCH_BINARY
  return LFBATCH_BINARY;
#else
  const char* build = std::getenv("LF_BUILD_DIR");
  return std::string(build != nullptr ? build : ".") + "/src/cli/lfbatch";
#endif
}

ProcessResult run_lfbatch(const std::vector<std::string>& args, const RunOptions& options) {
  std::string tmpl = (fs::temp_directory_path() / "lf_run_XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  const fs::path io = tmpl;
  std::ofstream(io / "stdin", std::ios::binary) << options.stdin_text;

  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    if (entry.starts_with("LFBATCH_") || entry.starts_with("LINKFACE_")) continue;
    const std::string name(entry.substr(0, entry.find('=')));
    if (options.env.count(name) != 0) continue;
    env_strings.emplace_back(entry);
  }
  for (const auto& [name, value] : options.env) env_strings.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  std::vector<std::string> argv_strings = options.prefix;
  argv_strings.push_back(lfbatch_binary());
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string in_path = (io / "stdin").string(), out_path = (io / "stdout").string(),
                    err_path = (io / "stderr").string();
  posix_spawn_file_actions_addopen(&actions, 0, in_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    fs::remove_all(io);
    throw std::runtime_error("cannot start " + argv_strings[0] + ": " + std::strerror(rc));
  }

  ProcessResult result;
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  int status = 0;
  while (true) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = read_all(io / "stdout");
  result.err = read_all(io / "stderr");
  fs::remove_all(io);
  return result;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::string log_message(const std::string& line) {
  static const std::regex kPlain(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (\w+) +(.*)$)");
  std::smatch m;
  if (std::regex_match(line, m, kPlain)) return m[2].str();
  return line;
}

LfbatchProcess::LfbatchProcess(const std::vector<std::string>& args, const std::string& dir,
                               const std::string& secret, const std::string& tag) {
  out_path_ = dir + "/" + tag + ".out";
  err_path_ = dir + "/" + tag + ".err";
  std::string binary = lfbatch_binary();
  std::vector<std::string> argv_s = {binary};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  pid_ = ::fork();
  if (pid_ == 0) {
    int out = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    ::setenv("LINKFACE_API_ID", kE2eApiId, 1);
    ::setenv("LINKFACE_API_SECRET", secret.c_str(), 1);
    ::unsetenv("LFBATCH_CONFIG");
    ::unsetenv("LFBATCH_DB");
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    _exit(127);
  }
}

LfbatchProcess::~LfbatchProcess() {
  if (pid_ > 0 && !exited_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void LfbatchProcess::signal(int sig) { ::kill(pid_, sig); }

int LfbatchProcess::wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return -1;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      exited_ = true;
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string LfbatchProcess::out() const {
  std::ifstream in(out_path_, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string LfbatchProcess::err() const {
  std::ifstream in(err_path_, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace lf::e2e
