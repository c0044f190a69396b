// trainer.h: the training loop (warm-up with uniform random actions, then updates at the
// configured update-to-data ratio, periodic deterministic evaluation) and the run directory it
// fills: config.json, metrics.jsonl, eval.csv, summary.json, policy.safetensors, checkpoints/,
// and run.lock (one process at a time writes a run: engine/run/run_lock.h).
// A run stopped by a signal or a crash continues from its latest checkpoint with resume().
//
// Two loop shapes (train.pipeline), one batch step of N envs each:
//   sequential  act (actor inference for all N envs in one call) -> step the envs -> insert the
//               N transitions -> the updates owed at the ratio, on data that includes them.
//   overlapped  act -> launch the update block owed for the PREVIOUS step's data -> step the
//               envs while it runs -> store. On CUDA the block is launches of recorded graphs
//               of N x ratio updates (at most Agent::kMaxRecordedUpdates per graph; when N x
//               ratio is not a whole number, that many launches of a one-update recording),
//               queued behind the acting of this step on the main lane: the host steps the
//               envs, and the transitions' upload and ring insert queue behind the block in
//               stream order, with no host wait (step_loop.h). On the CPU backend the block
//               runs on a dedicated thread, joined before the insert. So the updates lag the
//               newest data by one batch step and the actions of step t come from a policy
//               that has not yet learned from step t-1's data: deliberate (DESIGN.md section 7),
//               and a different (equally deterministic, equally resumable) run than sequential.
//               The updates owed for the last step run after the final checkpoint (which keeps
//               them pending, so an extended run continues exactly), before the final
//               evaluation and policy.safetensors. Both shapes do the same number of updates.
//   auto        overlapped on the CUDA backend, sequential on the CPU backend (there the update
//               already uses every core; overlapping only makes envs and update share them).
// Evaluation (its own envs, stepped by env.threads threads) runs between batch steps in the
// sequential shape: it stalls training for eval_episodes envs stepped to
// the end of their episodes (up to max_episode_steps batched steps, one actor inference each).
// For HalfCheetah-v5 (10 episodes of 1000 steps, 256x256 actor) that is about 0.5 s on a 2-core
// CPU: ~0.5% of the 10,000 steps between evaluations at the CPU's ~100 env steps/s. The
// overlapped loop therefore evaluates beside training, on a CPU thread with a snapshot of the
// actor (background_eval.h).
// Acting in both shapes reads the agent's actor snapshot, taken after every update block
// (Agent::act_snapshot), on a lane of its own: one observation upload, one action download and
// one transition upload per batch step (step_loop.h).
#pragma once
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sac/agent.h"  // the SAC learner, and the Learner interface
#include "sac/policy.h"
#include "sac/config.h"
#include "sac/env_pool.h"

namespace sac {

/// Mean, min and max of the deterministic returns of one evaluation.
struct EvalResult {
  double mean = 0, min = 0, max = 0;
  int episodes = 0;
};

/// Runs `episodes` deterministic episodes (one per env of `pool`, which must have that many
/// envs) with `policy`; d_obs and d_actions are backend buffers of pool size.
EvalResult evaluate(Policy& policy, Backend& backend, EnvPool& pool, float* d_obs,
                    float* d_actions);

/// evaluate() of a policy of S seeds: the pool holds S blocks of envs, block s acted on by seed
/// s's actor; one result per seed, each what evaluate() gives that seed's policy alone on its
/// block.
/// Seeds marked in `stopped` (by seed number; empty: none) act with zeros: their results mean
/// nothing, and their numbers may not be finite.
std::vector<EvalResult> evaluate_seeds(Policy& policy, Backend& backend, EnvPool& pool,
                                       float* d_obs, float* d_actions,
                                       const std::vector<char>& stopped = {});

/// How one seed of a run of several ended.
struct SeedSummary {
  uint64_t seed = 0;
  std::string run_dir;  // its folder, RUN_DIR/seed-<seed>
  // NaN (null in JSON) when no evaluation ran
  double final_eval_return = NAN, best_eval_return = NAN;
  int64_t stopped_step = -1;  // the step its numbers went non-finite (-1: it trained to the end)
  std::string stopped_because;  // what was not finite
};

/// Final figures of a run (also written to summary.json). A run of several seeds gives the mean
/// over its seeds as final and best eval return, and each seed's in `seeds`.
struct TrainSummary {
  int64_t steps = 0, updates = 0;
  double wall_seconds = 0;  // training time of the whole run, all segments
  // mean over the seeds that trained to the end; NaN (null in JSON) when no evaluation ran (a
  // run stopped before its first, or with train.eval_episodes = 0)
  double final_eval_return = NAN, best_eval_return = NAN;
  // the segment run by this process (from its start or its checkpoint to the end), and its
  // rates: segment steps and updates over segment seconds; NaN when it stepped no env (it only
  // finished a run stopped after its final checkpoint)
  int64_t segment_from_step = 0, segment_steps = 0, segment_updates = 0;
  double segment_seconds = 0;
  double env_steps_per_second = 0, updates_per_second = 0;  // env steps: of every seed
  std::string run_dir;
  bool interrupted = false;       // stopped by SIGINT/SIGTERM/SIGUSR1 after writing a checkpoint
  int64_t resumed_from = -1;      // step of the checkpoint this process started from (-1: none)
  std::string checkpoint;         // the last checkpoint written ("" when none)
  std::vector<SeedSummary> seeds;  // a run given train.seeds: one per seed, in its order
};

/// The JSON object `sac train` prints for a run of `config` that ended with `summary` (the
/// Python module's train() returns the same): task, steps, updates, wall_seconds, final and best
/// eval return, rates, run_dir, interrupted, checkpoint, and resumed_from_step when resumed; a
/// run of several seeds adds "seeds", one object per seed (seed, run_dir, final and best eval
/// return, and "diverged" {step, what} for a seed that stopped).
nlohmann::json summary_json(const Config& config, const TrainSummary& summary);

/// How a run is driven.
struct TrainOptions {
  bool progress = true;         // progress line on stderr
  bool handle_signals = false;  // SIGINT/SIGTERM/SIGUSR1: finish the step, checkpoint, return interrupted
  // test hook: after the batch step that reaches env step `poison_step` (>= 0), seed number
  // `poison_seed`'s log alpha is set to NaN, as if its update had diverged; or, when
  // `poison_tensor` names one of the agent's F32 state tensors ("critic.0.0.weight"), value
  // number `poison_index` of it
  int64_t poison_step = -1;
  int poison_seed = 0;
  std::string poison_tensor;
  int64_t poison_index = 0;
};

/// Trains with `config` into `run_dir` ("" = runs/<task>-s<seed>-<time>), holding the run
/// directory's lock for the whole run. Refuses (InputError, before writing anything) a run_dir
/// that already holds a run or that another process holds. Progress goes to stderr when
/// `progress` is set. Checkpoints go to run_dir/checkpoints every train.checkpoint_every env
/// steps and at the end. Throws std::runtime_error when a loss, log alpha or a weight becomes
/// non-finite (naming it and the step; the last good checkpoint stays) or when a write fails
/// (disk full: naming the latest complete checkpoint and `sac train --resume`), ConfigError
/// when the replay buffer cannot fit in memory (before anything is written).
TrainSummary train(const Config& config, const std::string& run_dir, bool progress = true);
TrainSummary train(const Config& config, const std::string& run_dir, const TrainOptions& options);

/// The config of the run in `run_dir` (its config.json) with `overrides` applied. Only settings
/// that do not change what the run computes may be overridden (checkpoint.h resumable_keys():
/// train.total_steps, train.log_every, ...). Throws ConfigError naming the problem.
Config resume_config(const std::string& run_dir, const std::vector<std::string>& overrides);

/// Continues the run in `run_dir` from its latest complete checkpoint up to
/// config.total_steps, with `config` from resume_config(). On the CPU backend the result is
/// bit-identical to the same run done in one go. A run that stopped before its first
/// checkpoint starts again from step 0 in the same directory (nothing was saved to lose); one
/// that stopped after its final checkpoint but before its summary is finished (policy, summary,
/// and the final evaluation where it came after the checkpoint). Throws (before anything is
/// written) when the checkpoint does not verify or does not match `config`, when the run has
/// already finished at config.total_steps, when a finished run has no checkpoint left, or when
/// another process holds the run directory (its lock is taken before anything is read).
TrainSummary resume(const Config& config, const std::string& run_dir, const TrainOptions& options);

/// The loop shape train.pipeline = `pipeline` gives on backend `device` ("cpu" or "cuda"):
/// "sequential" or "overlapped". Throws ConfigError on an unknown value.
std::string resolve_pipeline(const std::string& pipeline, const std::string& device);

/// Host seconds spent in each stage of the loop, measured with steady_clock (the Backend has no
/// event interface). On CUDA: `inference` is the launch of the actor, `copy` the queueing of the
/// three copies and the one wait for the actions (which waits for the actor, and the actor for
/// the update block before it, so it holds their GPU time), `update` the launch of the update
/// block only. On the CPU backend `update` is the update's compute time (on the update thread
/// in the overlapped loop, concurrently with `env_step`) and `update_wait` the time the loop
/// waits for that thread. `insert` holds the transitions' assembly and the ring insert.
struct StageTimes {
  double inference = 0, copy = 0, env_step = 0, update = 0, update_wait = 0, insert = 0, eval = 0;
};

/// What bench_train() did and measured.
struct BenchTrainResult {
  std::string device, pipeline;
  int64_t steps = 0, updates = 0, warmup_steps = 0;
  double wall_seconds = 0, env_steps_per_second = 0, updates_per_second = 0;
  double env_busy_fraction = 0;  // env_step / wall: the share of wall time the env threads step
  /// CUDA only (NaN on CPU): updates x the GPU time of one update, measured after the loop by
  /// timing blocks replayed back to back between two synchronisations, over the loop's wall
  /// time. An estimate: without events the loop's own update blocks cannot be timed on the GPU.
  double gpu_busy_fraction = NAN;
  StageTimes stages;
};

/// Runs the training loop of `config` for config.total_steps env steps with no run directory,
/// no evaluation, no checkpoints and no logs, timing each stage (`sac bench train`). The
/// caller chooses the warm-up (the bench uses the batch size, so updates start at once).
BenchTrainResult bench_train(const Config& config);

/// Writes the actor of the learner `agent` with what is needed to rebuild it as a safetensors policy file,
/// checksummed (include/sac/safetensors.h). An agent of several seeds writes seed number
/// `seed_index`'s actor, as a run of that seed alone would (`config`: seed_config()).
/// `python_env`: for an actor trained on an env that steps in Python (no built-in task), a JSON
/// object describing it (obs_dim, act_dim, action_low, action_high, and what identifies the env),
/// stored as the config's "env" (and as "python_env" metadata) the loader rebuilds the actor
/// from; empty: a built-in task, whose file is unchanged.
void save_policy(Learner& agent, const Config& config, const std::string& path,
                 int seed_index = 0, const std::string& python_env = "");

/// A policy loaded from a policy or checkpoint file: the config it was trained with and the
/// Policy holding its actor (no critics: acting only).
struct LoadedPolicy {
  Config config;
  EnvSpec env_spec;        // the built-in task's, or the Python env's (id: its name)
  std::string python_env;  // a Python env's description (JSON); empty for a built-in task
  std::unique_ptr<Backend> backend;
  std::unique_ptr<Policy> policy;
};
/// Verifies the file's checksum (a policy file written before checksums existed loads with a
/// warning on stderr); throws InputError naming the file when it cannot be read, is corrupt or
/// holds no policy.
LoadedPolicy load_policy(const std::string& path, const std::string& device, int act_batch);

/// load_policy() of a policy file's bytes already in memory (`data`: the whole file, checksum
/// verified as load_policy does); `path` names it in errors.
LoadedPolicy parse_policy(const std::string& data, const std::string& path,
                          const std::string& device, int act_batch);

}  // namespace sac
