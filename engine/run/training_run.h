// training_run.h: what a training run does around its step loop (trainer.h): the metrics line
// and progress, evaluation (inline in the sequential loop; beside training in the overlapped
// one, background_eval.h), checkpoints on their cadence, the divergence guard, a stop by
// signal, and the end (final evaluation and checkpoint, policy, summary). Writes go through
// RunDirectory; a failed write or a non-finite value stops the run with a message naming the
// latest complete checkpoint and how to continue.
// A run of several seeds (train.seeds) writes each seed's logs, policy and summary in the
// seed's own folder (the files a run of that seed alone writes), its checkpoints and a summary
// of all seeds in the run's folder. A seed whose numbers go non-finite stops alone: its folder's
// summary.json says at which step and what, its envs go on with zero actions, and the others
// train on; the run stops only when no seed is left.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "run/background_eval.h"
#include "run/background_video.h"
#include "run/eta.h"
#include "formats/checkpoint.h"
#include "run/run_directory.h"
#include "sac/learner.h"
#include "sac/config.h"
#include "sac/env_pool.h"
#include "sac/replay_buffer.h"
#include "sac/trainer.h"
#include "run/step_loop.h"

namespace sac {

/// The replay ring's capacity for `config`: a run never holds more than total_steps
/// transitions.
int64_t replay_capacity(const Config& config);

/// Refuses (ConfigError, with the figures) a replay buffer that cannot fit in host memory on
/// the CPU backend; the CUDA backend reports a failed allocation with the figure itself.
void check_replay_fits(const Config& config, const std::string& device);
/// The same for the task made with `kwargs` (a resumed run's, on its own model copy).
void check_replay_fits(const Config& config, const std::string& device,
                       const nlohmann::json& kwargs);

/// The components of a run, all sized before anything is written.
struct RunParts {
  Backend& backend;
  EnvPool& pool;
  EnvPool* eval_pool;  // null: no evaluation
  Learner& agent;
  std::vector<const ReplayBuffer*> rings;  // one per seed
  StepLoop& loop;
  bool overlapped;
  BackgroundVideo* videos = nullptr;  // null: no videos (train.video_every = 0)
};

class TrainingRun {
 public:
  /// `resumed_from`: the checkpoint the parts were restored from (step -1: a fresh run).
  /// `seed_dirs`: the folder of each seed of a run given train.seeds (empty otherwise: the run's
  /// folder holds everything).
  TrainingRun(const Config& config, RunParts parts, RunDirectory& dir,
              const std::vector<RunDirectory*>& seed_dirs, const CheckpointFiles& resumed_from,
              const TrainOptions& options);

  /// After each batch step: the metrics line (every log_every steps), evaluation (every
  /// eval_every) and a checkpoint (every checkpoint_every, not when `stopping`).
  void after_step(bool stopping);

  /// The end of a run stopped by signal `signal_number`: checkpoint, policy, summary fields.
  TrainSummary interrupt(int signal_number);

  /// The end of a finished run: the pending updates, the final evaluation and checkpoint (in
  /// the order of the loop's shape), policy.safetensors and summary.json. `finishing`: resumed
  /// from the final checkpoint of a run stopped before its summary.
  TrainSummary finish(bool finishing);

 private:
  using Clock = std::chrono::steady_clock;
  double run_seconds() const;
  void log_metrics();
  void print_progress(double sps, double ups);
  void evaluate_now();
  void record_video();
  void finish_evaluation();
  void record_evaluations(int64_t step, double wall_seconds,
                          const std::vector<EvalResult>& results);
  void checkpoint();
  void check_finite(bool with_moments);
  void check_actions();
  void stop_seed(int k, const std::string& what);
  std::vector<char> stopped_seeds() const;
  void write_seed_files(int k);
  void write_run_summary(const TrainSummary& s);
  nlohmann::json seed_summary_json(int k, const TrainSummary& s) const;
  void poison_if_due();
  void poison_tensor(const std::string& name, int64_t index);
  void write_or_stop(const std::function<void()>& write);
  [[noreturn]] void write_failed(const std::string& what);
  [[noreturn]] void diverged(const std::string& what);
  TrainSummary summary() const;

  const Config& m_c;
  RunParts m_parts;
  RunDirectory& m_dir;
  TrainerState& m_st;
  const TrainOptions m_options;
  const bool m_progress;
  const bool m_per_seed;                    // a run given train.seeds
  const int m_S, m_N;                       // seeds, envs per seed
  std::vector<Config> m_seed_configs;       // each seed's config (seed_config)
  std::vector<RunDirectory*> m_seed_dirs;   // each seed's folder (&m_dir for a run of one)
  std::vector<std::string> m_stopped_because;  // per seed: what was not finite (if it stopped)
  bool m_poisoned = false;
  std::unique_ptr<BackgroundEval> m_background_eval;  // the overlapped loop's evaluations
  DeviceArray<float> m_d_eval_obs, m_d_eval_actions;  // the sequential loop's
  CheckpointFiles m_last_checkpoint;
  const int64_t m_start_steps, m_start_updates;
  const double m_prior_seconds;
  const Clock::time_point m_t0;
  Clock::time_point m_last_log_time;
  int64_t m_last_log_steps, m_last_log_updates, m_next_checkpoint, m_next_video;
  int64_t m_resumed_from;
  EtaEstimator m_eta;  // the progress line's time left, from the recent rate
};

}  // namespace sac
