// plan.h: a sweep (tasks x settings x seeds) as a file and as a plan. The sweep file is
// JSON, strict like configs:
//   {"base": "configs/hopper.json",                       a config file (optional when env.id
//                                                          is in the grid: each task's own file)
//    "grid": {"sac.tau": [0.005, 0.01], "env.id": [...]},  config key -> values; runs: product
//    "seeds": [1, 2, 3], "seeds_per_run": 3,               seeds, and how many train as members
//                                                          of one process (train.seeds)
//    "set": {"train.total_steps": 300000}}                 fixed overrides
// The plan (`sac sweep plan`) is the list of runs in a fixed order (grid keys in name order, the
// last varying fastest; seeds in groups of seeds_per_run), each with its id, its settings, its
// seeds and its fully resolved config: DIR/plan.jsonl (one run a line) and DIR/configs/<id>.json.
// Bad input throws ConfigError naming the key (or the file), before anything is written.
// Tests: sac_tests --gtest_filter='Sweep*'
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "sac/config.h"

namespace sac {

/// A sweep file, read and checked.
struct SweepFile {
  std::string path;                                              // where it was read from
  std::string base;                                              // "" : each task's own config
  std::vector<std::pair<std::string, std::vector<nlohmann::json>>> grid;  // in key order
  std::vector<uint64_t> seeds;
  int seeds_per_run = 1;
  std::vector<std::pair<std::string, nlohmann::json>> set;
};

/// One run of a plan.
struct PlannedRun {
  int task = 0;                   // its index in the plan (the Slurm array task id)
  std::string id;                 // its folder name under DIR/runs/
  nlohmann::json settings;        // grid key -> value of this run (env.id included)
  std::vector<uint64_t> seeds;
  Config config;                  // fully resolved
};

/// The most runs a sweep may make: Slurm's default MaxArraySize (1001) allows array task ids
/// 0 to 1000.
constexpr size_t kMaxSweepRuns = 1001;

/// Reads and checks `path`: unknown keys, an empty grid or value list, duplicate values or
/// seeds, a grid or set key that is not a config key (or is train.seed/train.seeds, which the
/// seeds decide), an env.id value that is not a string and a sweep of more than kMaxSweepRuns
/// runs are refused with the key named (ConfigError).
SweepFile read_sweep_file(const std::string& path);

/// read_sweep_file() of a sweep file's text already in memory; `path` names it in errors (and
/// is the SweepFile's path).
SweepFile parse_sweep_file(const std::string& text, const std::string& path);

/// The runs of `sweep`, each config loaded, overridden and validated. Without a base config the
/// task's own file is the config in `configs_dir` whose env.id is the task. ConfigError naming the
/// run and the key on a bad value.
std::vector<PlannedRun> expand_sweep(const SweepFile& sweep, const std::string& configs_dir);

/// What write_plan did.
enum class PlanWrite { created, unchanged, updated };

/// Writes the plan of `runs` into `dir` (plan.jsonl, configs/<id>.json, sweep.json: the sweep
/// file's text). A `dir` that exists must be empty or hold the same plan: the same runs, whose
/// configs differ at most in settings a resumed run may change (train.total_steps, ...), which
/// are then updated. Anything else is refused (ConfigError naming the run and the key) before
/// anything is written.
PlanWrite write_plan(const std::string& dir, const SweepFile& sweep,
                     const std::vector<PlannedRun>& runs);

/// The plan in `dir`, each run's config read from DIR/configs/<id>.json. Throws InputError when
/// `dir` holds no readable plan.
std::vector<PlannedRun> read_plan(const std::string& dir);

/// DIR/runs/<id>: the run directory of `run`.
std::string planned_run_dir(const std::string& dir, const PlannedRun& run);

/// The grid settings of `run` other than env.id, as "key=value key=value" ("" when none).
std::string setting_label(const PlannedRun& run);

}  // namespace sac
