// pool_state.cpp: capture and restore of an EnvPool's state (see pool_state.h).
#include "pool_state.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace sac {

PoolState save_pool_state(const EnvPool& pool) {
  PoolState s;
  const int N = pool.size(), O = pool.spec().obs_dim;
  s.num_envs = N;
  s.obs_dim = O;
  s.obs.assign(pool.obs(), pool.obs() + (size_t)N * O);
  for (int i = 0; i < N; ++i) {
    s.rng_seeds.push_back(pool.rng(i).seed());
    s.rng_counters.push_back(pool.rng(i).counter());
    s.episode_steps.push_back(pool.episode_steps(i));
    s.episode_returns.push_back(pool.episode_return(i));
    s.env_states.push_back(pool.env(i).save_state());
  }
  s.unstable_episodes = pool.unstable_episodes();
  return s;
}

void load_pool_state(EnvPool& pool, const PoolState& s) {
  const int N = pool.size(), O = pool.spec().obs_dim;
  auto bad = [](const std::string& what) {
    return std::invalid_argument("env pool state: " + what);
  };
  // ---- check everything first
  if (s.num_envs != N || s.obs_dim != O)
    throw bad("saved for " + std::to_string(s.num_envs) + " envs with " +
              std::to_string(s.obs_dim) + " observations, the pool has " + std::to_string(N) +
              " with " + std::to_string(O));
  if (s.rng_seeds.size() != (size_t)N || s.rng_counters.size() != (size_t)N ||
      s.episode_steps.size() != (size_t)N || s.episode_returns.size() != (size_t)N ||
      s.env_states.size() != (size_t)N || s.obs.size() != (size_t)N * O)
    throw bad("per-env arrays do not match the pool size " + std::to_string(N));
  if (s.unstable_episodes < 0) throw bad("negative count of unstable episodes");
  for (int i = 0; i < N; ++i) {
    // an episode at the time limit would already have been reset
    if (s.episode_steps[i] < 0 || s.episode_steps[i] >= pool.spec().max_episode_steps)
      throw bad("env " + std::to_string(i) + " has episode step " +
                std::to_string(s.episode_steps[i]) + ", outside [0, " +
                std::to_string(pool.spec().max_episode_steps) + ")");
    if (s.rng_seeds[i] != pool.rng(i).seed())
      throw bad("env " + std::to_string(i) + " was seeded " + std::to_string(s.rng_seeds[i]) +
                ", this pool's env is seeded " + std::to_string(pool.rng(i).seed()));
    if (!std::isfinite(s.episode_returns[i]))
      throw bad("env " + std::to_string(i) + " has a non-finite episode return");
    size_t expected = pool.env(i).save_state().size();
    if (s.env_states[i].size() != expected)
      throw bad("env " + std::to_string(i) + " state has " +
                std::to_string(s.env_states[i].size()) + " values, " + pool.spec().id + " needs " +
                std::to_string(expected));
  }
  // ---- then apply
  for (int i = 0; i < N; ++i) {
    pool.mutable_env(i).load_state(s.env_states[i]);
    pool.rng(i).set_counter(s.rng_counters[i]);
    pool.set_episode(i, s.episode_steps[i], s.episode_returns[i]);
  }
  std::copy(s.obs.begin(), s.obs.end(), pool.mutable_obs());
  pool.set_unstable_episodes(s.unstable_episodes);
}

}  // namespace sac
