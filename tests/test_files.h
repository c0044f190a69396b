// test_files.h: file and command-line helpers shared by the tests that write run directories or
// run the `sac` binary: scratch folders, whole-file reads and writes, and `sac ARGS` with its
// exit code and output (to completion, or as a child process to signal and wait for).
#pragma once
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace sac {
namespace test {

/// The whole file as bytes ("" when it cannot be read).
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// Replaces the file with `bytes`. Unlinks first: rewriting a truncated file in place makes
/// ext4 flush it to disk on close, which is slow.
inline void write_file(const std::string& path, const std::string& bytes) {
  ::unlink(path.c_str());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), (std::streamsize)bytes.size());
}

/// The rows of the eval.csv file at `path` without its wall-clock column (wall_seconds, the
/// second): what two runs of one config must agree on.
inline std::vector<std::string> eval_returns(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> rows;
  std::string line;
  while (std::getline(in, line)) {
    size_t a = line.find(','), b = line.find(',', a + 1);
    rows.push_back(a == std::string::npos || b == std::string::npos ? line
                                                                    : line.substr(0, a) + line.substr(b));
  }
  return rows;
}

inline bool path_exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

/// An empty folder named after `name` and this process under the test temp dir (ctest runs
/// each test in its own process, so parallel tests never share one); left for inspection.
inline std::string fresh_dir(const std::string& name) {
  std::string dir = ::testing::TempDir() + "sac_" + name + "_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

/// A new folder for one test's files, removed afterwards unless the test failed.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "sac") {
    std::string pattern = ::testing::TempDir() + prefix + "_XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    const char* dir = mkdtemp(buf.data());
    if (!dir) throw std::runtime_error("mkdtemp failed for " + pattern);
    m_path = dir;
  }
  ~TempDir() {
    std::error_code ec;
    if (!::testing::Test::HasFailure()) std::filesystem::remove_all(m_path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return m_path; }
  operator const std::string&() const { return m_path; }
  std::string operator/(const std::string& name) const { return m_path + "/" + name; }

 private:
  std::string m_path;
};

struct CliRun {
  int exit_code;
  std::string output;  // stdout and stderr together
};

/// Runs the shell command `cmd` to completion: its exit code and what it wrote to stdout (add
/// 2>&1 for stderr too).
inline CliRun run_shell(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {-1, "popen failed for " + cmd};
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

/// Runs `sac ARGS` (ARGS as one shell string) to completion.
inline CliRun run_sac(const std::string& args) {
  return run_shell(std::string(SAC_BINARY) + " " + args + " 2>&1");
}

/// Runs the sac binary with `args`, stdout and stderr to `log`; returns the child's pid
inline pid_t spawn_sac(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> all = {SAC_BINARY};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) ::dup2(fd, 1), ::dup2(fd, 2);
    ::execv(SAC_BINARY, argv.data());
    ::_exit(127);
  }
  return pid;
}

/// Waits for `pid`: its exit code, 128 + signal when killed, -1 (after kill -9) on timeout
inline int wait_child(pid_t pid, double timeout_s) {
  auto t0 = std::chrono::steady_clock::now();
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > timeout_s) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

/// Runs the sac binary to completion: exit code and output.
inline std::pair<int, std::string> run_sac(const std::vector<std::string>& args,
                                           const std::string& log, double timeout_s = 120) {
  int code = wait_child(spawn_sac(args, log), timeout_s);
  return {code, read_file(log)};
}

/// Waits until `path` exists; false after `timeout_s` seconds.
inline bool wait_for_file(const std::string& path, double timeout_s) {
  auto t0 = std::chrono::steady_clock::now();
  while (!path_exists(path)) {
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > timeout_s)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace test
}  // namespace sac
