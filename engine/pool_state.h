// pool_state.h: the mutable state of an EnvPool between two steps (every env's physics state,
// noise counter, running episode and current observation), captured and restored through the
// pool's public accessors, so a checkpointed run continues the same episodes bit for bit.
// Tested by tests/test_checkpoint.cpp (`sac_tests --gtest_filter='Checkpoint*'`).
#pragma once
#include <cstdint>
#include <vector>

#include "sac/env_pool.h"

namespace sac {

/// Everything of an EnvPool that changes as it steps.
struct PoolState {
  int num_envs = 0;
  int obs_dim = 0;
  std::vector<uint64_t> rng_seeds;              // per env: its HostRng seed (checked on load)
  std::vector<uint64_t> rng_counters;           // per env: its HostRng counter
  std::vector<int> episode_steps;               // per env: steps of the running episode
  std::vector<double> episode_returns;          // per env: return of the running episode
  std::vector<float> obs;                       // num_envs x obs_dim, the current observations
  std::vector<std::vector<double>> env_states;  // per env: Env::save_state()
  int64_t unstable_episodes = 0;
};

/// Captures the state of `pool` (call between steps).
PoolState save_pool_state(const EnvPool& pool);

/// Restores a state captured from a pool of the same task and size. Everything is checked
/// before anything changes; throws std::invalid_argument naming the first mismatch.
void load_pool_state(EnvPool& pool, const PoolState& state);

}  // namespace sac
