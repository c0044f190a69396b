// trainer.h: the training loop (warm-up with uniform random actions, then updates at the
// configured update-to-data ratio, periodic deterministic evaluation) and the run directory it
// fills: config.json, metrics.jsonl, eval.csv, summary.json, policy.safetensors, checkpoints/.
// A run stopped by a signal or a crash continues from its latest checkpoint with resume().
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "sac/agent.h"
#include "sac/config.h"
#include "sac/env_pool.h"

namespace sac {

/// Mean, min and max of the deterministic returns of one evaluation.
struct EvalResult {
  double mean = 0, min = 0, max = 0;
  int episodes = 0;
};

/// Runs `episodes` deterministic episodes (one per env of `pool`, which must have that many
/// envs) with the actor of `agent`; d_obs and d_actions are backend buffers of pool size.
EvalResult evaluate(Agent& agent, Backend& backend, EnvPool& pool, float* d_obs, float* d_actions);

/// Final figures of a run (also written to summary.json).
struct TrainSummary {
  int64_t steps = 0, updates = 0;
  double wall_seconds = 0, final_eval_return = 0, best_eval_return = 0;
  double env_steps_per_second = 0, updates_per_second = 0;
  std::string run_dir;
  bool interrupted = false;       // stopped by SIGINT/SIGTERM after writing a checkpoint
  int64_t resumed_from = -1;      // step of the checkpoint this process started from (-1: none)
  std::string checkpoint;         // the last checkpoint written ("" when none)
};

/// How a run is driven.
struct TrainOptions {
  bool progress = true;         // progress line on stderr
  bool handle_signals = false;  // SIGINT/SIGTERM: finish the step, checkpoint, return interrupted
};

/// Trains with `config` into `run_dir` ("" = runs/<task>-s<seed>-<time>). Refuses a run_dir
/// that already holds a run. Progress goes to stderr when `progress` is set. Checkpoints go to
/// run_dir/checkpoints every train.checkpoint_every env steps and at the end. Throws
/// std::runtime_error when a loss, log alpha or a weight becomes non-finite (naming it and the
/// step; the last good checkpoint stays), ConfigError when the replay buffer cannot fit in
/// memory (before anything is written).
TrainSummary train(const Config& config, const std::string& run_dir, bool progress = true);
TrainSummary train(const Config& config, const std::string& run_dir, const TrainOptions& options);

/// The config of the run in `run_dir` (its config.json) with `overrides` applied. Only settings
/// that do not change what the run computes may be overridden (checkpoint.h resumable_keys():
/// train.total_steps, train.log_every, ...). Throws ConfigError naming the problem.
Config resume_config(const std::string& run_dir, const std::vector<std::string>& overrides);

/// Continues the run in `run_dir` from its latest complete checkpoint up to
/// config.total_steps, with `config` from resume_config(). On the CPU backend the result is
/// bit-identical to the same run done in one go. Throws (before anything is written) when
/// there is no checkpoint, it does not verify or does not match `config`.
TrainSummary resume(const Config& config, const std::string& run_dir, const TrainOptions& options);

/// Writes the actor of `agent` with what is needed to rebuild it as a safetensors policy file.
void save_policy(Agent& agent, const Config& config, const std::string& path);

/// A policy loaded from a policy or checkpoint file: the config it was trained with and an
/// agent holding its actor.
struct LoadedPolicy {
  Config config;
  std::unique_ptr<Backend> backend;
  std::unique_ptr<Agent> agent;
};
LoadedPolicy load_policy(const std::string& path, const std::string& device, int act_batch);

}  // namespace sac
