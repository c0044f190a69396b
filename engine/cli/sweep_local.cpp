// sweep_local.cpp: a sweep's tasks as child processes on this machine (sweep_local.h).
#include "cli/sweep_local.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <regex>
#include <stdexcept>

namespace sac {
namespace {

volatile sig_atomic_t g_stop = 0;  // a stop signal came: pass it on, start nothing new
void on_stop(int sig) { g_stop = sig; }

// the child: `sac sweep run DIR --task K --quiet`, output to its log, one GPU when there are any
pid_t start_task(const std::string& sac_path, const std::string& dir, const PlannedRun& run,
                 int gpu) {
  const std::string log = dir + "/logs/local-" + std::to_string(run.task) + ".log";
  const std::string task = std::to_string(run.task);
  const std::string gpu_text = std::to_string(gpu);
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("cannot start a task: fork: ") + std::strerror(errno));
  if (pid == 0) {
    // a group of its own: a Ctrl-C on the terminal reaches the parent alone, which passes it on
    // once (a second signal would make the run exit at once, without its checkpoint)
    ::setpgid(0, 0);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      ::close(fd);
    }
    if (gpu >= 0) ::setenv("CUDA_VISIBLE_DEVICES", gpu_text.c_str(), 1);
    ::execl(sac_path.c_str(), sac_path.c_str(), "sweep", "run", dir.c_str(), "--task",
            task.c_str(), "--quiet", (char*)nullptr);
    ::_exit(127);
  }
  return pid;
}

}  // namespace

int count_gpu_devices() {
  int n = 0;
  std::error_code ec;
  static const std::regex device(R"(nvidia[0-9]+)");
  for (const auto& e : std::filesystem::directory_iterator("/dev", ec))
    if (std::regex_match(e.path().filename().string(), device)) ++n;
  return n;
}

std::vector<nlohmann::json> run_sweep_locally(const std::string& dir, const std::string& sac_path,
                                              const std::vector<PlannedRun>& runs, int jobs,
                                              int gpus, int& failed) {
  std::filesystem::create_directories(dir + "/logs");
  struct sigaction sa {}, old_int, old_term;
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  g_stop = 0;
  ::sigaction(SIGINT, &sa, &old_int);
  ::sigaction(SIGTERM, &sa, &old_term);

  std::map<pid_t, const PlannedRun*> running;
  std::vector<nlohmann::json> results;
  size_t next = 0;
  int started = 0, forwarded = 0;
  failed = 0;
  while (next < runs.size() || !running.empty()) {
    // start tasks while there is room and no stop was asked for
    while (!g_stop && next < runs.size() && (int)running.size() < jobs) {
      const PlannedRun& run = runs[next++];
      running[start_task(sac_path, dir, run, gpus > 0 ? started % gpus : -1)] = &run;
      ++started;
    }
    if (g_stop && forwarded != g_stop) {
      for (const auto& [pid, run] : running) ::kill(pid, g_stop);
      forwarded = g_stop;
    }
    if (running.empty()) break;
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;  // a signal: passed on above
      break;
    }
    auto it = running.find(pid);
    if (it == running.end()) continue;
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (code != 0) ++failed;
    results.push_back({{"task", it->second->task}, {"id", it->second->id}, {"exit", code}});
    running.erase(it);
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  return results;
}

}  // namespace sac
