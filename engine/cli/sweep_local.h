// sweep_local.h: `sac sweep local DIR [--jobs N] [--gpus G]`: the tasks of a sweep plan on this
// machine, N child processes of this binary (`sac sweep run DIR --task K`) at a time, each with
// its output in DIR/logs/local-<K>.log. With G GPUs (default: the /dev/nvidia<N> devices there
// are) child number i sees GPU i mod G alone, by CUDA_VISIBLE_DEVICES. SIGINT/SIGTERM are passed
// on to the children, which checkpoint and exit; no new task starts after one.
// Tests: sac_tests --gtest_filter='Sweep*'; tests/slurm/sweep_test.sh.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sweep/plan.h"

namespace sac {

/// The GPUs of this machine: the /dev/nvidia<N> device files.
int count_gpu_devices();

/// Runs the tasks `tasks` of the plan in `dir` as child processes of `sac_path`, `jobs` at a
/// time, and waits for them. Returns one JSON object per task (task, id, exit) and sets
/// `failed` to the number of tasks that did not exit 0.
std::vector<nlohmann::json> run_sweep_locally(const std::string& dir, const std::string& sac_path,
                                              const std::vector<PlannedRun>& runs, int jobs,
                                              int gpus, int& failed);

}  // namespace sac
