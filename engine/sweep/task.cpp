// task.cpp: `sac sweep run DIR --task K` (sweep/task.h).
#include "sweep/task.h"

#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <utility>

#include "formats/path_checks.h"
#include "formats/whole_file.h"
#include "run/run_directory.h"
#include "run/run_lock.h"
#include "sac/safetensors.h"
#include "sac/trainer.h"

namespace sac {
namespace {

using nlohmann::json;

std::string host_name() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

// writes the state file; a failure to write it must not hide the run's own outcome
void write_state(const std::string& dir, const PlannedRun& run, json state) {
  state["host"] = host_name();
  state["pid"] = (int64_t)::getpid();
  state["time"] = (int64_t)std::time(nullptr);
  try {
    std::filesystem::create_directories(dir + "/state");
    write_file_atomic(sweep_state_path(dir, run), state.dump() + "\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sac: could not write the state of run %s: %s\n", run.id.c_str(),
                 e.what());
  }
}

// the first line of an error message
std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

std::string sweep_state_path(const std::string& dir, const PlannedRun& run) {
  return dir + "/state/" + run.id + ".json";
}

json read_sweep_state(const std::string& dir, const PlannedRun& run) {
  std::optional<std::string> text = read_whole_file(sweep_state_path(dir, run));
  if (!text) return json::object();
  json j = json::parse(*text, nullptr, false);
  if (!j.is_object()) return json::object();
  // only the fields this engine writes, of the types it writes: a state file edited or cut by
  // hand never throws out of `sac sweep status` (a number for a string) or converts a float
  // beyond int64 (undefined behaviour)
  json kept = json::object();
  for (const char* key : {"state", "host", "error"})
    if (j.contains(key) && j[key].is_string()) kept[key] = j[key];
  // integers that fit: a pid as the kernel numbers them, a step and a time as int64
  const auto fits = [&](const char* key, int64_t most) {
    const json& v = j[key];
    return v.is_number_unsigned() ? v.get<uint64_t>() <= (uint64_t)most
                                  : v.is_number_integer() && v.get<int64_t>() >= 0 &&
                                        v.get<int64_t>() <= most;
  };
  const int64_t any = std::numeric_limits<int64_t>::max();
  for (const auto& [key, most] : {std::pair<const char*, int64_t>{"pid", INT32_MAX},
                                  {"step", any}, {"time", any}})
    if (j.contains(key) && fits(key, most)) kept[key] = j[key].get<int64_t>();
  return kept;
}

bool sweep_run_finished(const std::string& dir, const PlannedRun& run) {
  return summary_steps(planned_run_dir(dir, run)) >= run.config.total_steps;
}

json run_sweep_task(const std::string& dir, int64_t task, bool progress) {
  std::vector<PlannedRun> runs = read_plan(dir);
  if (task < 0 || task >= (int64_t)runs.size())
    throw InputError("--task " + std::to_string(task) + " is out of range: the plan in '" + dir +
                     "' has tasks 0 to " + std::to_string(runs.size() - 1));
  const PlannedRun& run = runs[(size_t)task];
  const std::string run_dir = planned_run_dir(dir, run);
  json out = {{"task", run.task}, {"id", run.id}, {"run_dir", run_dir}};
  if (sweep_run_finished(dir, run)) {
    out["state"] = "already done";
    return out;
  }

  TrainOptions options;
  options.progress = progress;
  options.handle_signals = true;  // SIGINT/SIGTERM/SIGUSR1: checkpoint, then return
  const bool resuming = path_exists(run_dir + "/config.json");
  // a run another process holds is refused before this one writes its state over that one's
  if (resuming) {
    RunLock probe(run_dir);
  }
  write_state(dir, run, {{"state", "running"}});
  TrainSummary s;
  try {
    if (resuming)
      s = resume(run.config, run_dir, options);  // the plan's config: resumable keys may differ
    else
      s = train(run.config, run_dir, options);
  } catch (const InputError& e) {
    write_state(dir, run, {{"state", "failed"}, {"error", first_line(e.what())}, {"exit", 2}});
    throw;
  } catch (const std::exception& e) {
    const std::string what = first_line(e.what());
    const bool diverged = what.find("diverged") != std::string::npos;
    write_state(dir, run, {{"state", diverged ? "diverged" : "failed"}, {"error", what}, {"exit", 1}});
    throw;
  }
  out["state"] = s.interrupted ? "stopped" : "done";
  out["summary"] = summary_json(run.config, s);
  json state = {{"state", s.interrupted ? "stopped" : "done"}, {"step", s.steps}};
  write_state(dir, run, state);
  return out;
}

}  // namespace sac
