// trainer.h: the training loop (warm-up with uniform random actions, then updates at the
// configured update-to-data ratio, periodic deterministic evaluation) and the run directory it
// fills: config.json, metrics.jsonl, eval.csv, summary.json, policy.safetensors.
#pragma once
#include <memory>
#include <string>

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
};

/// Trains with `config` into `run_dir` ("" = runs/<task>-s<seed>-<time>). Refuses a run_dir
/// that already holds a run. Progress goes to stderr when `progress` is set.
TrainSummary train(const Config& config, const std::string& run_dir, bool progress = true);

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
