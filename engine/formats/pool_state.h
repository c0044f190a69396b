// pool_state.h: the mutable state of an EnvPool between two steps (every env's physics state,
// noise counter, running episode and current observation), captured and restored through the
// pool's public accessors, so a checkpointed run continues the same episodes bit for bit; and
// its checkpoint tensors (pool.*, eval_pool.rng_counters).
// Tested by tests/test_checkpoint.cpp (`sac_tests --gtest_filter='Checkpoint*'`).
#pragma once
#include <cstdint>
#include <vector>

#include "sac/env_pool.h"
#include "sac/state_tensor.h"

namespace sac {

/// Everything of an EnvPool that changes as it steps.
struct PoolState {
  int num_envs = 0;
  int obs_dim = 0;
  int state_size = 0;                   // values of one env's Env::save_state()
  std::vector<uint64_t> rng_seeds;      // per env: its HostRng seed (checked on load)
  std::vector<uint64_t> rng_counters;   // per env: its HostRng counter
  std::vector<int64_t> episode_steps;   // per env: steps of the running episode
  std::vector<double> episode_returns;  // per env: return of the running episode
  std::vector<float> obs;               // num_envs x obs_dim, the current observations
  std::vector<double> env_states;       // num_envs x state_size, each env's Env::save_state()
  // episodes ended by unstable physics, per block of envs (the envs of one seed of a run of
  // several; one block, all envs, otherwise)
  std::vector<int64_t> unstable_episodes;
};

/// Captures the state of `pool` (call between steps), its unstable episodes counted in
/// `blocks` equal blocks of envs.
PoolState save_pool_state(const EnvPool& pool, int blocks = 1);

/// Throws std::invalid_argument naming the first way in which `state` does not fit `pool` (a
/// pool of another task, size or seed, or values out of range).
void check_pool_state(const EnvPool& pool, const PoolState& state);

/// Restores a state captured from a pool of the same task and size. Everything is checked
/// (check_pool_state) before anything changes; throws std::invalid_argument naming the first
/// mismatch.
void load_pool_state(EnvPool& pool, const PoolState& state);

/// The noise counters of `pool`'s envs: all a checkpoint keeps of an evaluation pool, whose
/// episodes start afresh at every evaluation.
std::vector<uint64_t> rng_counters(const EnvPool& pool);

/// Sets the noise counters of `pool`'s envs (one per env).
void set_rng_counters(EnvPool& pool, const std::vector<uint64_t>& counters);

/// The checkpoint tensors of `state` (pool.*; pool.unstable_episodes holds one count per block) and, unless null, of the evaluation pool's noise
/// counters `eval_rng_counters` (eval_pool.rng_counters), pointing into them (host memory).
std::vector<StateTensor> pool_state_tensors(PoolState& state,
                                            std::vector<uint64_t>* eval_rng_counters);

}  // namespace sac
