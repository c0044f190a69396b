// task.h: one run of a sweep plan trained in this process (`sac sweep run DIR --task K`),
// and the state file it leaves for `sac sweep status` and `collect` to read:
// DIR/state/<id>.json, written atomically, {"state", "host", "pid", "time", ...}:
//   running   while it trains (host and pid of the process)
//   stopped   stopped by a signal after writing a checkpoint ("step"); the next run resumes it
//   done      trained to train.total_steps
//   failed    ended by an error ("error": its message, "exit": 1 or 2)
//   diverged  ended because its numbers went non-finite ("error")
// The run itself is an ordinary run directory, DIR/runs/<id>/, trained (or resumed from its
// latest checkpoint) in process as `sac train` does, under that directory's lock.
// Tests: sac_tests --gtest_filter='Sweep*'; tests/slurm/sweep_test.sh.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "sweep/plan.h"

namespace sac {

/// DIR/state/<id>.json.
std::string sweep_state_path(const std::string& dir, const PlannedRun& run);

/// The state file of `run` (an empty object when there is none or it cannot be parsed).
nlohmann::json read_sweep_state(const std::string& dir, const PlannedRun& run);

/// True when the run directory's summary.json says it trained to train.total_steps.
bool sweep_run_finished(const std::string& dir, const PlannedRun& run);

/// Trains run `task` of the plan in `dir`, resuming it from its latest checkpoint when it has
/// one; a finished run is a no-op. SIGINT, SIGTERM and SIGUSR1 checkpoint and return. Returns
/// the JSON line to print: task, id, run_dir, and "state" (done, stopped, already done) with the
/// run's summary. Throws InputError when `task` is out of range (before anything is written);
/// rethrows a failure of the run after recording it in the state file.
nlohmann::json run_sweep_task(const std::string& dir, int64_t task, bool progress);

}  // namespace sac
