// checkpoint.h: checkpoints of a training run, so a stopped run continues exactly where it was.
// A checkpoint is two safetensors files in RUN_DIR/checkpoints, loadable as they are by Python's
// `safetensors` package (tests/check_safetensors.py):
//   ckpt-<step, 12 digits>.safetensors          networks, targets, Adam moments, log alpha and its
//                                                Adam state, device counters, trainer loop state,
//                                                env pool state (physics, noise counters, episodes)
//   ckpt-<step, 12 digits>.replay.safetensors   the filled part of the replay buffer, head, size
// Tensor names of the main file: actor|critic|target.<member>.<layer>.weight|bias (the policy
// file's names, so `sac eval` reads a checkpoint too), adam_m|adam_v.actor|critic.<e>.<l>.*,
// log_alpha, log_alpha_grad, adam_m|adam_v.log_alpha, losses, counters.*, trainer.*, pool.*,
// eval_pool.rng_counters. Metadata: format, version, step, config (the resolved config JSON),
// replay_file, replay_checksum, checksum.
// Each component lists its own tensors (Learner::state_tensors(), ReplayBuffer::state_tensors(),
// pool_state.h, trainer_state.h); writing, restoring and the non-finite scan are one loop each
// over those lists (state_tensors.h).
//
// Integrity: each file carries the "checksum" metadata of include/sac/safetensors.h (FNV-1a 64
// over metadata and tensors), required and verified on every load. Files are written
// atomically (temp file, fsync, rename, fsync of the folder), replay file first; older
// checkpoints are removed only after the new pair is complete, and a failed write removes what
// it wrote, so the previous checkpoint stays the latest.
// Tested by tests/test_checkpoint.cpp and tests/test_fuzz.cpp.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

#include "sac/agent.h"  // the SAC learner, and the Learner interface
#include "sac/config.h"
#include "sac/env_pool.h"
#include "sac/replay_buffer.h"
#include "sac/safetensors.h"
#include "formats/trainer_state.h"

namespace sac {

/// A checkpoint that cannot be read, does not verify or does not fit the run (bad input: `sac`
/// exits 2).
struct CheckpointError : InputError {
  using InputError::InputError;
};

/// A checkpoint that could not be written (disk full, I/O error): a failure during the work.
struct CheckpointWriteError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The two files of one checkpoint; step -1 when there is none.
struct CheckpointFiles {
  int64_t step = -1;
  std::string main, replay;
};

/// File names of the checkpoint of `step` in folder `dir`.
CheckpointFiles checkpoint_files(const std::string& dir, int64_t step);

/// The checkpoint of the highest step in `dir` whose main file is present (complete, since it is
/// renamed into place last); step -1 when there is none or `dir` does not exist.
CheckpointFiles latest_checkpoint(const std::string& dir);

/// Writes the checkpoint of step `state.steps` into `dir` (created if missing), then removes
/// older checkpoints and stale temp files there. Throws std::runtime_error naming the first
/// non-finite value of the agent before anything is written, and CheckpointWriteError when a
/// write fails, after removing its temp file and this checkpoint's replay file (older
/// checkpoints stay as they were); `eval_pool` may be null.
CheckpointFiles write_checkpoint(const std::string& dir, const Config& config, Learner& agent,
                                 const ReplayBuffer& replay, const EnvPool& pool,
                                 const EnvPool* eval_pool, const TrainerState& state);

/// write_checkpoint() of a run with one replay ring per seed (rings[k]: seed number k's; a run
/// given train.seeds names its replay tensors seed<k>.obs, ...). The non-finite check skips the
/// seeds that stopped (state.seeds[k].stopped_step >= 0): their numbers are kept as they are.
CheckpointFiles write_checkpoint(const std::string& dir, const Config& config, Learner& agent,
                                 const std::vector<const ReplayBuffer*>& rings,
                                 const EnvPool& pool, const EnvPool* eval_pool,
                                 const TrainerState& state);

/// write_checkpoint() of a run whose envs step outside the engine (sac_engine.SAC stepping a
/// Python env): `pool` null writes no pool.* tensors (and no eval_pool.*); the rest is the same.
/// `python_env` (JSON, formats/python_env.h): such an env's description, written as the
/// config's "env" in place of the built-in task it does not run (read_checkpoint drops it).
CheckpointFiles write_checkpoint(const std::string& dir, const Config& config, Learner& agent,
                                 const std::vector<const ReplayBuffer*>& rings,
                                 const EnvPool* pool, const EnvPool* eval_pool,
                                 const TrainerState& state, const std::string& python_env = "");

/// A checkpoint read from disk and verified (layout, format, checksums, the pair belongs
/// together), not yet applied.
struct LoadedCheckpoint {
  CheckpointFiles files;
  Config config;  // the config it was written with
  std::string mujoco_version;  // the MuJoCo it was written with ("" before versions were recorded)
  SafetensorsFile main, replay;
};

/// Reads and verifies both files; throws CheckpointError naming the file and the problem.
LoadedCheckpoint read_checkpoint(const CheckpointFiles& files);

/// read_checkpoint() of the two files' bytes already in memory (`main_data`, `replay_data`: the
/// whole files named by `files`, which name them in errors).
LoadedCheckpoint parse_checkpoint(const CheckpointFiles& files, const std::string& main_data,
                                  const std::string& replay_data);

/// Reads one checkpoint file of `format` ("sac-engine checkpoint" or "sac-engine replay") and
/// checks its layout and, when `verify_checksum`, its checksum (tests turn that off to reach the
/// decoding checks behind it). Throws CheckpointError.
SafetensorsFile read_checkpoint_file(const std::string& path, const std::string& format,
                                     bool verify_checksum = true);

/// The config stored in a checkpoint's metadata; throws CheckpointError.
Config checkpoint_config(const SafetensorsFile& main, const std::string& path);

/// Throws CheckpointError naming the first setting in which `checkpoint` differs from `run`,
/// except the settings a resumed run may change (resumable_keys()).
void check_resumable(const Config& checkpoint, const Config& run);

/// Throws CheckpointError naming both versions when `checkpoint` was written with another MuJoCo
/// than this build's and the run's task steps on MuJoCo (other physics: not the same training).
void check_same_physics(const LoadedCheckpoint& checkpoint, const Config& run);

/// Dotted config keys that may differ between a checkpoint and the run resuming it: they change
/// when and how long the run goes, not what it computes.
const std::vector<std::string>& resumable_keys();

/// Restores the agent, the replay buffer, the pools and the trainer state from `ckpt`. Every
/// tensor's presence, dtype and shape is checked against the live components, and the values
/// the components check (trainer ranges and counters, pool state, replay fill) are checked, all
/// before anything changes; throws CheckpointError on the first mismatch, leaving everything as
/// it was. `eval_pool` may be null.
void restore_checkpoint(const LoadedCheckpoint& ckpt, Learner& agent, ReplayBuffer& replay,
                        EnvPool& pool, EnvPool* eval_pool, TrainerState& state);

/// restore_checkpoint() of a run with one replay ring per seed (see write_checkpoint).
void restore_checkpoint(const LoadedCheckpoint& ckpt, Learner& agent,
                        const std::vector<ReplayBuffer*>& rings, EnvPool& pool,
                        EnvPool* eval_pool, TrainerState& state);

/// restore_checkpoint() of a run whose envs step outside the engine: `pool` null reads no
/// pool.* tensors (and `eval_pool` is ignored).
void restore_checkpoint(const LoadedCheckpoint& ckpt, Learner& agent,
                        const std::vector<ReplayBuffer*>& rings, EnvPool* pool,
                        EnvPool* eval_pool, TrainerState& state);

/// Names the first non-finite value of the agent ("critic loss (Q values) = nan",
/// "critic.1.0.weight[12] = inf", "adam_m.critic.0.1.bias[3] = nan", ...) or returns "" when
/// all are finite. Looks at the losses when `with_losses`, then log alpha and the weights of
/// critics, actor and targets, then the Adam moments when `with_moments`. Downloads from the
/// backend (a host sync on CUDA).
/// With `seed_index` >= 0, only that seed's share (Learner::seed_state_tensors).
std::string find_non_finite(Learner& agent, bool with_losses, bool with_moments,
                            int seed_index = -1);

}  // namespace sac
