// slurm.h: the Slurm job array of a sweep plan, DIR/sweep.sbatch (`sac sweep slurm`).
// One array task per run (`--array=0-K%M`), requeued on preemption (`--requeue`), warned before
// its time limit (`--signal=B:USR1@S`: the batch shell passes USR1 on to `sac sweep run`, which
// checkpoints and returns, and the script requeues the task so it resumes), one GPU each with
// `--gres=gpu:G`, CPUs from the runs' env.threads. A SIGTERM (preemption, scancel) reaches the
// run directly (Slurm signals every process of the job): it checkpoints and exits, and a
// requeued task resumes from that checkpoint. Nothing
// in it is specific to a cluster beyond what the options set; extra `#SBATCH` lines pass through.
// Tests: sac_tests --gtest_filter='Sweep*'; tests/slurm/sweep_test.sh on a real Slurm.
#pragma once
#include <string>
#include <vector>

#include "sweep/plan.h"

namespace sac {

/// What `sac sweep slurm` puts in the script.
struct SlurmOptions {
  std::string partition;                 // "" : the cluster's default
  int gpus_per_task = 1;                 // 0 : no --gres line
  int max_parallel = 0;                  // 0 : no limit (%M left out)
  std::string time;                      // "" : the partition's limit
  int signal_seconds = 300;              // USR1 this long before the time limit
  std::vector<std::string> extra_lines;  // "--account=x": written as "#SBATCH --account=x"
  std::string job_name = "sac-sweep";
};

/// The text of DIR/sweep.sbatch for the plan `runs` in `dir` (an absolute path), run by the sac
/// binary at `sac_path`.
std::string slurm_script(const std::string& dir, const std::vector<PlannedRun>& runs,
                         const std::string& sac_path, const SlurmOptions& options);

}  // namespace sac
