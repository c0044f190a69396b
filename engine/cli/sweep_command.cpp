// sweep_command.cpp: `sac sweep plan|run|local|slurm|status|collect`, a sweep of tasks x settings
// x seeds (engine/sweep/plan.h) on this machine or as a Slurm job array:
//   sac sweep plan SWEEP.json --out DIR [--configs configs]   DIR/plan.jsonl, DIR/configs/<id>.json
//   sac sweep run DIR --task K                                 trains (or resumes) run K
//   sac sweep local DIR [--jobs N] [--gpus G]                  every task, N processes at a time
//   sac sweep slurm DIR [--partition P] [--gpus-per-task G] [--max-parallel M] [--time T]
//                       [--signal-seconds S] [--sbatch LINE ...] [--submit]
//   sac sweep status DIR                                       one JSON line per run, then counts
//   sac sweep collect DIR                                      results.csv, results.md, plots/
// Bad input (the sweep file, a DIR holding another plan, a task out of range, --submit without
// sbatch) exits 2 before anything is written. Tests: sac_tests --gtest_filter='Sweep*';
// tests/slurm/sweep_test.sh (a real one-node Slurm).
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cli/sweep_local.h"
#include "cli/sweep_plots.h"
#include "sweep/plan.h"
#include "sweep/results.h"
#include "sweep/slurm.h"
#include "sweep/task.h"
#include "sac/safetensors.h"

namespace sac {
namespace {

using nlohmann::json;

void print(const json& j) {
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
}

// this binary, for child processes and the job script
std::string own_path() {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot find the sac binary (/proc/self/exe): " + ec.message());
  return p.string();
}

// `name` found as an executable file on the PATH ("" when not)
std::string on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = (end > start ? dirs.substr(start, end - start) : ".") + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}

// Slurm's time formats: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S; seconds, or -1 when not one
int64_t slurm_seconds(const std::string& t) {
  std::smatch m;
  static const std::regex with_days(R"((\d+)-(\d+)(?::(\d+))?(?::(\d+))?)");
  static const std::regex plain(R"((\d+)(?::(\d+))?(?::(\d+))?)");
  auto n = [&](int i) { return m[i].matched ? std::stoll(m[i].str()) : 0LL; };
  if (std::regex_match(t, m, with_days)) return ((n(1) * 24 + n(2)) * 60 + n(3)) * 60 + n(4);
  if (!std::regex_match(t, m, plain)) return -1;
  if (m[3].matched) return (n(1) * 60 + n(2)) * 60 + n(3);  // H:M:S
  return n(1) * 60 + n(2);                                   // M or M:S
}

std::string absolute(const std::string& dir) {
  return std::filesystem::absolute(dir).lexically_normal().string();
}

// ---- plan

struct PlanOptions {
  std::string sweep, out, configs = "configs";
};

int cmd_plan(const PlanOptions& o) {
  if (o.sweep.empty()) throw ConfigError("sac sweep plan needs a sweep file (SWEEP.json)");
  SweepFile sweep = read_sweep_file(o.sweep);
  std::vector<PlannedRun> runs = expand_sweep(sweep, o.configs);
  PlanWrite w = write_plan(o.out, sweep, runs);
  print({{"dir", o.out}, {"runs", runs.size()},
         {"plan", w == PlanWrite::created ? "created" : w == PlanWrite::unchanged ? "unchanged" : "updated"}});
  return 0;
}

// ---- run

struct RunOptions {
  std::string dir;
  int64_t task = -1;
  bool quiet = false;
};

int cmd_run(const RunOptions& o) {
  print(run_sweep_task(o.dir, o.task, !o.quiet));
  return 0;
}

// ---- local

struct LocalOptions {
  std::string dir;
  int jobs = 1;
  int gpus = -1;  // -1: count them
};

int cmd_local(const LocalOptions& o) {
  std::vector<PlannedRun> runs = read_plan(o.dir);
  const int gpus = o.gpus >= 0 ? o.gpus : count_gpu_devices();
  int failed = 0;
  for (const json& j : run_sweep_locally(o.dir, own_path(), runs, o.jobs, gpus, failed)) print(j);
  std::map<std::string, int> counts;
  for (const SweepRunStatus& s : sweep_status(o.dir, runs)) ++counts[s.state];
  print({{"dir", o.dir}, {"tasks", runs.size()}, {"failed", failed}, {"counts", counts}});
  return failed == 0 ? 0 : 1;
}

// ---- slurm

struct SlurmCommand {
  std::string dir;
  SlurmOptions script;
  bool submit = false;
};

int cmd_slurm(const SlurmCommand& o) {
  std::vector<PlannedRun> runs = read_plan(o.dir);
  if (!o.script.time.empty()) {
    int64_t limit = slurm_seconds(o.script.time);
    if (limit < 0)
      throw ConfigError("--time must be a Slurm time (M, M:S, H:M:S, D-H, D-H:M or D-H:M:S), got '" +
                        o.script.time + "'");
    if (limit <= o.script.signal_seconds)
      throw ConfigError("--signal-seconds " + std::to_string(o.script.signal_seconds) +
                        " must be less than --time " + o.script.time + " (" +
                        std::to_string(limit) + " s)");
  }
  for (const std::string& line : o.script.extra_lines)
    if (line.find('\n') != std::string::npos || line.rfind("-", 0) != 0)
      throw ConfigError("--sbatch takes one sbatch option per line starting with '-', got '" + line + "'");
  std::string sbatch;
  if (o.submit) {
    sbatch = on_path("sbatch");
    if (sbatch.empty())
      throw ConfigError("--submit needs 'sbatch' on the PATH, and there is none; write the script "
                        "without --submit and submit it where Slurm is");
  }
  const std::string dir = absolute(o.dir);
  const std::string script_path = dir + "/sweep.sbatch";
  std::filesystem::create_directories(dir + "/logs");
  write_file_atomic(script_path, slurm_script(dir, runs, own_path(), o.script));
  json out = {{"script", script_path}, {"tasks", runs.size()}};
  if (o.submit) {
    std::string cmd = "'" + sbatch + "' --parsable '" + script_path + "' 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) throw std::runtime_error("cannot run " + sbatch);
    std::string text;
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) text += buf;
    int status = ::pclose(p);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (status != 0 || text.empty() || !std::isdigit((unsigned char)text[0]))
      throw std::runtime_error("sbatch refused " + script_path + ": " + text);
    out["job_id"] = text.substr(0, text.find(';'));  // "id;cluster" on a federation
  }
  print(out);
  return 0;
}

// ---- status and collect

int cmd_status(const std::string& dir) {
  std::vector<PlannedRun> runs = read_plan(dir);
  std::map<std::string, int> counts;
  for (const SweepRunStatus& s : sweep_status(dir, runs)) {
    print(status_json(s));
    ++counts[s.state];
  }
  print({{"dir", dir}, {"runs", runs.size()}, {"counts", counts}});
  return 0;
}

int cmd_collect(const std::string& dir) {
  std::vector<PlannedRun> runs = read_plan(dir);
  std::vector<SweepRunStatus> status = sweep_status(dir, runs);
  // one plot per task and setting, and per task all its settings (sweep_plots.h)
  std::vector<std::pair<std::string, std::string>> plots = write_sweep_plots(dir, runs, status);
  print(write_results(dir, runs, status, plots));
  return 0;
}

}  // namespace

void add_sweep_command(CLI::App& parent, CommandRunner& run) {
  CLI::App* sweep = parent.add_subcommand(
      "sweep", "sweeps of tasks x settings x seeds: plan, run, local, slurm, status, collect");
  sweep->allow_extras();

  auto plan = std::make_shared<PlanOptions>();
  CLI::App* p = add_command(*sweep, "plan",
                            "expand a sweep file into runs: DIR/plan.jsonl and each run's config",
                            run, [plan] { return cmd_plan(*plan); });
  p->add_option("SWEEP", plan->sweep, "the sweep file (JSON: base, grid, seeds, seeds_per_run, set)")->required();
  p->add_option("--out", plan->out, "the sweep directory to write; required")->required();
  p->add_option("--configs", plan->configs,
                "the folder of task configs used when the sweep file has no base");

  auto r = std::make_shared<RunOptions>();
  CLI::App* rc = add_command(*sweep, "run",
                             "train run K of a plan into DIR/runs/<id>, or resume it; a finished "
                             "run is a no-op. SIGTERM/SIGUSR1: checkpoint, exit 0",
                             run, [r] { return cmd_run(*r); });
  rc->add_option("DIR", r->dir, "the sweep directory")->required();
  add_int_option(rc, "--task", r->task, 0, 1 << 30, "the run's index in plan.jsonl; required")
      ->required()
      ->default_str("");
  rc->add_flag("--quiet", r->quiet, "no progress line on stderr");

  auto l = std::make_shared<LocalOptions>();
  CLI::App* lc = add_command(*sweep, "local", "run every task of a plan on this machine, N processes at a time", run,
                             [l] { return cmd_local(*l); });
  lc->add_option("DIR", l->dir, "the sweep directory")->required();
  add_int_option(lc, "--jobs", l->jobs, 1, 1024, "tasks run at a time (one process each)");
  add_int_option(lc, "--gpus", l->gpus, 0, 1024,
                 "GPUs to spread the processes over by CUDA_VISIBLE_DEVICES (default: the "
                 "/dev/nvidia<N> devices; 0: leave CUDA_VISIBLE_DEVICES alone)")
      ->default_str("");

  auto s = std::make_shared<SlurmCommand>();
  CLI::App* sc = add_command(*sweep, "slurm",
                             "write DIR/sweep.sbatch, a Slurm job array over the plan, and with "
                             "--submit submit it",
                             run, [s] { return cmd_slurm(*s); });
  sc->add_option("DIR", s->dir, "the sweep directory")->required();
  sc->add_option("--partition", s->script.partition, "the partition (default: the cluster's)")
      ->default_str("");
  add_int_option(sc, "--gpus-per-task", s->script.gpus_per_task, 0, 64,
                 "GPUs per task (--gres=gpu:G; 0: none)");
  add_int_option(sc, "--max-parallel", s->script.max_parallel, 0, 1 << 20,
                 "tasks running at a time (--array=0-K%M; 0: no limit)");
  sc->add_option("--time", s->script.time, "the time limit of a task, in Slurm's format "
                 "(default: the partition's)")
      ->default_str("");
  add_int_option(sc, "--signal-seconds", s->script.signal_seconds, 10, 86400,
                 "seconds before the time limit at which SIGUSR1 makes the run checkpoint and requeue");
  sc->add_option("--sbatch", s->script.extra_lines,
                 "an extra sbatch option for the script, e.g. --sbatch=--account=rl (repeatable)")
      ->expected(1)
      ->take_all()
      ->allow_extra_args(false)
      ->default_str("");
  sc->add_flag("--submit", s->submit, "submit the script with sbatch and print the job id");

  auto st = std::make_shared<std::string>();
  CLI::App* stc = add_command(*sweep, "status",
                              "one line per run: pending, running, done, failed, diverged; then "
                              "the counts",
                              run, [st] { return cmd_status(*st); });
  stc->add_option("DIR", *st, "the sweep directory")->required();

  auto co = std::make_shared<std::string>();
  CLI::App* cc = add_command(*sweep, "collect",
                             "DIR/results.csv, DIR/results.md and a plot per task and setting",
                             run, [co] { return cmd_collect(*co); });
  cc->add_option("DIR", *co, "the sweep directory")->required();
}

}  // namespace sac
