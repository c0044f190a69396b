// results.h: where each run of a sweep stands, and the table of what finished, read from
// files only (the plan, the state files of sweep/task.h, the run directories' summaries and
// logs), so they work from a login node while jobs run. Summaries are written atomically, so a
// run in flight is never read half-written: it shows as running, never as a result.
//   sweep_status()   one entry per run: pending, running (steps, latest eval), done, failed (the
//                    error line), diverged
//   write_results()  DIR/results.csv (one row per run and seed) and DIR/results.md (per task and
//                    setting: mean, std, min, max over the seeds that finished; runs not
//                    finished listed with their state)
// Tests: sac_tests --gtest_filter='Sweep*'
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sweep/plan.h"

namespace sac {

/// Where one run of a sweep stands.
struct SweepRunStatus {
  const PlannedRun* run = nullptr;
  std::string state;        // pending, running, done, failed, diverged
  std::string detail;       // the error line, or why it is pending ("stopped at step N ...")
  int64_t steps = -1;       // latest logged env step (-1: none yet)
  double eval_return = NAN; // latest evaluation's mean return (mean over the run's seeds)
};

/// The status of every run of the plan in `dir`, in plan order.
std::vector<SweepRunStatus> sweep_status(const std::string& dir,
                                         const std::vector<PlannedRun>& runs);

/// A status as the JSON line `sac sweep status` prints.
nlohmann::json status_json(const SweepRunStatus& s);

/// One finished seed of a run: its folder and summary.json.
struct SeedResult {
  uint64_t seed = 0;
  std::string run_dir;       // the seed's folder (the run's own for a run of one seed)
  nlohmann::json summary;    // null when the seed did not finish (or diverged)
};

/// The seeds of `run` with their summaries (null for a seed without a finished summary).
std::vector<SeedResult> seed_results(const std::string& dir, const PlannedRun& run);

/// Writes DIR/results.csv and DIR/results.md (atomically); `plots` are the SVG files made, keyed
/// "task\tsetting" (one setting) or "task" (all its settings), paths relative to `dir`. Returns
/// the counts.
nlohmann::json write_results(const std::string& dir, const std::vector<PlannedRun>& runs,
                             const std::vector<SweepRunStatus>& status,
                             const std::vector<std::pair<std::string, std::string>>& plots);

}  // namespace sac
