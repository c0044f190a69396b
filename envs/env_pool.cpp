// env_pool.cpp: the batch of envs, stepped in order on the calling thread. Time limits,
// auto-reset, final observations and action scaling live here so every task gets them alike.
#include "sac/env_pool.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace sac {

EnvPool::EnvPool(const std::string& id, int num_envs, uint64_t seed, int num_threads)
    : m_num_envs(num_envs) {
  (void)num_threads;
  if (num_envs < 1) throw std::invalid_argument("env pool needs at least one env");
  for (int i = 0; i < num_envs; ++i) {
    m_envs.push_back(make_env(id));
    m_rngs.emplace_back(seed + (uint64_t)i, 0);
  }
  m_spec = m_envs[0]->spec();
  const int O = m_spec.obs_dim, A = m_spec.act_dim;
  m_steps.assign(num_envs, 0);
  m_ep_return.assign(num_envs, 0.0);
  m_obs64.assign(O, 0.0);
  m_act64.assign(A, 0.0);
  m_obs.assign((size_t)num_envs * O, 0.0f);
  m_final_obs.assign((size_t)num_envs * O, 0.0f);
  m_reward.assign(num_envs, 0.0f);
  m_terminated.assign(num_envs, 0);
  m_truncated.assign(num_envs, 0);
  m_unstable_flags.assign(num_envs, 0);
  m_finished.reserve(num_envs);
}

EnvPool::~EnvPool() = default;

void EnvPool::reset() {
  const int O = m_spec.obs_dim;
  for (int i = 0; i < m_num_envs; ++i) {
    m_envs[i]->reset(m_rngs[i], m_obs64.data());
    for (int k = 0; k < O; ++k) m_obs[(size_t)i * O + k] = (float)m_obs64[k];
    m_steps[i] = 0;
    m_ep_return[i] = 0.0;
  }
}

void EnvPool::step(const float* actions) {
  const int O = m_spec.obs_dim, A = m_spec.act_dim;
  for (size_t k = 0; k < (size_t)m_num_envs * A; ++k)
    if (!std::isfinite(actions[k]))
      throw std::invalid_argument("non-finite action for env " + std::to_string(k / A) +
                                  ", dimension " + std::to_string(k % A));
  m_finished.clear();
  for (int i = 0; i < m_num_envs; ++i) {
    // [-1, 1] -> [low, high]
    for (int j = 0; j < A; ++j) {
      double lo = m_spec.action_low[j], hi = m_spec.action_high[j];
      m_act64[j] = lo + 0.5 * ((double)actions[(size_t)i * A + j] + 1.0) * (hi - lo);
    }
    StepResult r = m_envs[i]->step(m_act64.data(), m_obs64.data());
    ++m_steps[i];
    m_ep_return[i] += r.reward;
    bool truncated = m_steps[i] >= m_spec.max_episode_steps || r.unstable;
    m_unstable += r.unstable;
    m_unstable_flags[i] = r.unstable;
    m_reward[i] = (float)r.reward;
    m_terminated[i] = r.terminated && !r.unstable;
    m_truncated[i] = truncated && !m_terminated[i];
    float* obs = m_obs.data() + (size_t)i * O;
    for (int k = 0; k < O; ++k) obs[k] = (float)m_obs64[k];
    if (m_terminated[i] || m_truncated[i]) {
      // keep the real last observation, then start the next episode in place
      std::copy(obs, obs + O, m_final_obs.data() + (size_t)i * O);
      m_finished.push_back({m_ep_return[i], m_steps[i]});
      m_envs[i]->reset(m_rngs[i], m_obs64.data());
      for (int k = 0; k < O; ++k) obs[k] = (float)m_obs64[k];
      m_steps[i] = 0;
      m_ep_return[i] = 0.0;
    }
  }
}

}  // namespace sac
