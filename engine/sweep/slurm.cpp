// slurm.cpp: the job-array script of a sweep (sweep/slurm.h).
#include "sweep/slurm.h"

#include <algorithm>

namespace sac {
namespace {

// `s` in single quotes for the shell
std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

}  // namespace

std::string slurm_script(const std::string& dir, const std::vector<PlannedRun>& runs,
                         const std::string& sac_path, const SlurmOptions& o) {
  // CPUs per task: the most env threads any run asks for (0, one per core, asks for one)
  int cpus = 1;
  for (const PlannedRun& r : runs) cpus = std::max(cpus, r.config.env_threads);
  std::string array = "0-" + std::to_string(runs.size() - 1);
  if (o.max_parallel > 0) array += "%" + std::to_string(o.max_parallel);

  std::string s = "#!/bin/bash\n";
  s += "# sweep.sbatch: the runs of the sweep plan in " + dir + " as a Slurm job array, written by\n"
       "# 'sac sweep slurm'. Submit with: sbatch " + dir + "/sweep.sbatch\n";
  s += "#SBATCH --job-name=" + o.job_name + "\n";
  s += "#SBATCH --array=" + array + "\n";
  s += "#SBATCH --requeue\n";
  s += "#SBATCH --signal=B:USR1@" + std::to_string(o.signal_seconds) + "\n";
  s += "#SBATCH --ntasks=1\n";
  s += "#SBATCH --cpus-per-task=" + std::to_string(cpus) + "\n";
  if (o.gpus_per_task > 0) s += "#SBATCH --gres=gpu:" + std::to_string(o.gpus_per_task) + "\n";
  if (!o.partition.empty()) s += "#SBATCH --partition=" + o.partition + "\n";
  if (!o.time.empty()) s += "#SBATCH --time=" + o.time + "\n";
  s += "#SBATCH --output=" + dir + "/logs/%A_%a.out\n";
  for (const std::string& line : o.extra_lines) s += "#SBATCH " + line + "\n";
  s += "\n";
  s += "sac=" + quoted(sac_path) + "\n";
  s += "dir=" + quoted(dir) + "\n";
  s += R"(
# the run trains in a child so this shell can wait for it. SIGTERM (preemption, scancel, the
# time limit) reaches every process of the job, the run included: it checkpoints and exits, and
# a requeued task resumes from that checkpoint. SIGUSR1 of --signal=B:... reaches this shell
# alone: it is passed on (the run checkpoints and exits) and the task requeues itself.
requeue=0
"$sac" sweep run "$dir" --task "$SLURM_ARRAY_TASK_ID" --quiet &
child=$!
trap 'requeue=1; kill -USR1 "$child" 2>/dev/null' USR1
trap ':' TERM
# wait returns early when a signal arrives; wait again until the child has ended
while :; do
  wait "$child"
  rc=$?
  kill -0 "$child" 2>/dev/null || break
done
# (the loop's last wait may have been cut short by a signal: the child's own status)
wait "$child" 2>/dev/null
status=$?
[ "$status" != 127 ] && rc=$status
if [ "$requeue" = 1 ] && [ "$rc" = 0 ]; then
  scontrol requeue "${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"
fi
exit "$rc"
)";
  return s;
}

}  // namespace sac
