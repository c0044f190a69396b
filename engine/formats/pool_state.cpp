// pool_state.cpp: capture and restore of an EnvPool's state (see pool_state.h).
#include "formats/pool_state.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace sac {

PoolState save_pool_state(const EnvPool& pool, int blocks) {
  PoolState s;
  const int N = pool.size(), O = pool.spec().obs_dim;
  s.num_envs = N;
  s.obs_dim = O;
  s.obs.assign(pool.obs(), pool.obs() + (size_t)N * O);
  s.rng_counters = rng_counters(pool);
  for (int i = 0; i < N; ++i) {
    s.rng_seeds.push_back(pool.rng(i).seed());
    s.episode_steps.push_back(pool.episode_steps(i));
    s.episode_returns.push_back(pool.episode_return(i));
    std::vector<double> state = pool.env(i).save_state();
    s.state_size = (int)state.size();
    s.env_states.insert(s.env_states.end(), state.begin(), state.end());
  }
  const int per_block = N / blocks;
  for (int b = 0; b < blocks; ++b)
    s.unstable_episodes.push_back(pool.unstable_episodes(b * per_block, per_block));
  return s;
}

void check_pool_state(const EnvPool& pool, const PoolState& s) {
  const int N = pool.size(), O = pool.spec().obs_dim;
  const int S = (int)pool.env(0).save_state().size();
  auto bad = [](const std::string& what) {
    return std::invalid_argument("env pool state: " + what);
  };
  if (s.num_envs != N || s.obs_dim != O)
    throw bad("saved for " + std::to_string(s.num_envs) + " envs with " +
              std::to_string(s.obs_dim) + " observations, the pool has " + std::to_string(N) +
              " with " + std::to_string(O));
  if (s.rng_seeds.size() != (size_t)N || s.rng_counters.size() != (size_t)N ||
      s.episode_steps.size() != (size_t)N || s.episode_returns.size() != (size_t)N ||
      s.obs.size() != (size_t)N * O)
    throw bad("per-env arrays do not match the pool size " + std::to_string(N));
  if (s.state_size != S || s.env_states.size() != (size_t)N * S)
    throw bad("env states hold " + std::to_string(s.env_states.size()) + " values (" +
              std::to_string(s.state_size) + " per env), " + pool.spec().id + " needs " +
              std::to_string(S) + " per env");
  if (s.unstable_episodes.empty() || N % (int)s.unstable_episodes.size() != 0)
    throw bad(std::to_string(s.unstable_episodes.size()) +
              " counts of unstable episodes do not split " + std::to_string(N) + " envs");
  for (int64_t n : s.unstable_episodes)
    if (n < 0) throw bad("negative count of unstable episodes");
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
  }
}

void load_pool_state(EnvPool& pool, const PoolState& s) {
  // ---- check everything first
  check_pool_state(pool, s);
  // ---- then apply
  const size_t S = s.state_size;
  for (int i = 0; i < s.num_envs; ++i) {
    auto state = s.env_states.begin() + i * S;
    pool.mutable_env(i).load_state(std::vector<double>(state, state + S));
    pool.set_episode(i, (int)s.episode_steps[i], s.episode_returns[i]);
  }
  set_rng_counters(pool, s.rng_counters);
  std::copy(s.obs.begin(), s.obs.end(), pool.mutable_obs());
  // each block's count on its first env: only block totals are ever read
  const int per_block = s.num_envs / (int)s.unstable_episodes.size();
  for (int i = 0; i < s.num_envs; ++i)
    pool.set_unstable_episodes(i, i % per_block == 0 ? s.unstable_episodes[i / per_block] : 0);
}

std::vector<uint64_t> rng_counters(const EnvPool& pool) {
  std::vector<uint64_t> counters;
  for (int i = 0; i < pool.size(); ++i) counters.push_back(pool.rng(i).counter());
  return counters;
}

void set_rng_counters(EnvPool& pool, const std::vector<uint64_t>& counters) {
  for (int i = 0; i < pool.size(); ++i) pool.rng(i).set_counter(counters.at(i));
}

std::vector<StateTensor> pool_state_tensors(PoolState& s,
                                            std::vector<uint64_t>* eval_rng_counters) {
  const int64_t N = s.num_envs;
  std::vector<StateTensor> list = {
      host_tensor("pool.rng_seeds", s.rng_seeds.data(), {N}),
      host_tensor("pool.rng_counters", s.rng_counters.data(), {N}),
      host_tensor("pool.episode_steps", s.episode_steps.data(), {N}),
      host_tensor("pool.episode_returns", s.episode_returns.data(), {N}),
      host_tensor("pool.obs", s.obs.data(), {N, s.obs_dim}),
      host_tensor("pool.env_state", s.env_states.data(), {N, s.state_size}),
      host_tensor("pool.unstable_episodes", s.unstable_episodes.data(),
                  {(int64_t)s.unstable_episodes.size()})};
  if (eval_rng_counters)
    list.push_back(host_tensor("eval_pool.rng_counters", eval_rng_counters->data(),
                               {(int64_t)eval_rng_counters->size()}));
  return list;
}

}  // namespace sac
