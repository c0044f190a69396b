// env_pool.cpp: the batch of envs on a thread pool. Time limits, auto-reset, final observations
// and action scaling live here so every task gets them alike. A job (reset or step) runs one
// pool task per contiguous block of envs (kernels/thread_pool.h: the caller takes part, idle
// workers spin briefly, then sleep); the exception of the first failing block, in env order, is
// rethrown. With the mjbatch engine, MuJoCo's batch API steps the physics (batch_stepper.h) and
// runs the same per-env code around it on its own threads. Nothing is allocated per step.
#include "sac/env_pool.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "batch_stepper.h"
#include "sac/errors.h"
#include "sac/mujoco_env.h"
#include "thread_pool.h"

namespace sac {

StepEngine step_engine_from_name(const std::string& name) {
  if (name == "pool") return StepEngine::pool;
  if (name == "mjbatch") return StepEngine::mjbatch;
  throw InputError("unknown step engine \"" + name + "\" (known: pool, mjbatch)");
}

const char* step_engine_name(StepEngine engine) {
  return engine == StepEngine::mjbatch ? "mjbatch" : "pool";
}

namespace {

// the pool's envs as the MuJoCo envs a batch steps; InputError naming the task if they are not
std::vector<MujocoEnv*> mujoco_envs(const std::vector<std::unique_ptr<Env>>& envs) {
  std::vector<MujocoEnv*> out;
  for (const std::unique_ptr<Env>& env : envs) {
    auto* mj = dynamic_cast<MujocoEnv*>(env.get());
    if (!mj)
      throw InputError("task " + env->spec().id + " has no MuJoCo model: the mjbatch engine "
                       "steps MuJoCo tasks only (use the pool engine)");
    out.push_back(mj);
  }
  return out;
}

}  // namespace

std::vector<uint64_t> seeded_envs(const std::vector<uint64_t>& base_seeds, int envs_per_run,
                                  uint64_t offset) {
  std::vector<uint64_t> seeds;
  for (uint64_t base : base_seeds)
    for (int i = 0; i < envs_per_run; ++i) seeds.push_back(base + offset + (uint64_t)i);
  return seeds;
}

EnvPool::EnvPool(const std::string& id, int num_envs, uint64_t seed, int num_threads)
    : EnvPool(id, seeded_envs({seed}, std::max(num_envs, 0)), num_threads) {}

EnvPool::EnvPool(const std::string& id, const std::vector<uint64_t>& env_seeds, int num_threads)
    : EnvPool(id, nlohmann::json::object(), env_seeds, num_threads) {}

EnvPool::EnvPool(const std::string& id, const nlohmann::json& kwargs,
                 const std::vector<uint64_t>& env_seeds, int num_threads, StepEngine engine)
    : m_num_envs((int)env_seeds.size()), m_engine(engine) {
  const int num_envs = m_num_envs;
  if (num_envs < 1) throw std::invalid_argument("env pool needs at least one env");
  if (num_threads < 0)
    throw std::invalid_argument("env pool threads must be >= 0 (0 = one per core), got " +
                                std::to_string(num_threads));
  for (int i = 0; i < num_envs; ++i) {
    m_envs.push_back(make_env(id, kwargs));
    m_rngs.emplace_back(env_seeds[i], 0);
  }
  m_spec = m_envs[0]->spec();
  const int O = m_spec.obs_dim, A = m_spec.act_dim;
  m_steps.assign(num_envs, 0);
  m_last_length.assign(num_envs, 0);
  m_ep_return.assign(num_envs, 0.0);
  m_last_return.assign(num_envs, 0.0);
  m_obs64.assign((size_t)num_envs * O, 0.0);
  m_act64.assign((size_t)num_envs * A, 0.0);
  m_obs.assign((size_t)num_envs * O, 0.0f);
  m_final_obs.assign((size_t)num_envs * O, 0.0f);
  m_reward.assign(num_envs, 0.0f);
  m_reward_terms.assign((size_t)num_envs * StepResult::max_reward_terms, 0.0);
  m_info.assign((size_t)num_envs * StepResult::max_info_terms, 0.0);
  m_terminated.assign(num_envs, 0);
  m_truncated.assign(num_envs, 0);
  m_unstable_flags.assign(num_envs, 0);
  m_unstable.assign(num_envs, 0);
  m_finished.reserve(num_envs);

  int threads = num_threads;
  if (threads == 0) threads = std::max(1, (int)std::thread::hardware_concurrency());
  m_num_threads = std::min(threads, num_envs);
  m_block.resize(m_num_threads + 1);
  for (int t = 0; t <= m_num_threads; ++t)
    m_block[t] = (int)((int64_t)t * num_envs / m_num_threads);
  m_block_task = [this](int t) { run_block(t); };
  if (m_engine == StepEngine::pool) {
    m_pool = std::make_unique<ThreadPool>(m_num_threads, pinning_from_environment());
    return;
  }
  // the batch runs on MuJoCo's own threads (the caller included), the same number
  m_batch = std::make_unique<MjBatchStepper>(mujoco_envs(m_envs), m_num_threads);
  m_num_threads = m_batch->threads();
  m_reset_task = [this](int i) { reset_env(i); };
  m_finish_task = [this](int i) { finish_batch_env(i); };
}

EnvPool::~EnvPool() = default;

void EnvPool::dispatch(Job job) {
  m_job = job;
  if (m_batch) {
    // MuJoCo's batch: a reset runs the task's reset on each simulation; a step its physics
    // (the scaled actions as controls) and then the rest of each env's step
    if (job == Job::reset) {
      m_batch->reset(m_reset_task);
      return;
    }
    for (int i = 0; i < m_num_envs; ++i) scale_action(i);
    m_batch->step(m_act64.data(), m_finish_task);
    return;
  }
  m_pool->run(m_num_threads, m_block_task);
}

int EnvPool::checked_env_access(int i) const {
  if (m_batch)
    throw std::logic_error("the envs of an env pool on the mjbatch engine hold no state: it "
                           "lives in MuJoCo's batch");
  return i;
}

void EnvPool::run_block(int t) {
  for (int i = m_block[t]; i < m_block[t + 1]; ++i) {
    if (m_job == Job::step) step_env(i);
    else reset_env(i);
  }
}

void EnvPool::reset_env(int i) {
  const int O = m_spec.obs_dim;
  double* obs64 = m_obs64.data() + (size_t)i * O;
  m_envs[i]->reset(m_rngs[i], obs64);
  float* obs = m_obs.data() + (size_t)i * O;
  for (int k = 0; k < O; ++k) obs[k] = (float)obs64[k];
  m_steps[i] = 0;
  m_ep_return[i] = 0.0;
}

void EnvPool::scale_action(int i) {
  const int A = m_spec.act_dim;
  const float* action = m_actions + (size_t)i * A;
  double* act64 = m_act64.data() + (size_t)i * A;
  // [-1, 1] -> [low, high]
  for (int j = 0; j < A; ++j) {
    double lo = m_spec.action_low[j], hi = m_spec.action_high[j];
    act64[j] = lo + 0.5 * ((double)action[j] + 1.0) * (hi - lo);
  }
}

void EnvPool::step_env(int i) {
  const int O = m_spec.obs_dim, A = m_spec.act_dim;
  scale_action(i);
  StepResult r = m_envs[i]->step(m_act64.data() + (size_t)i * A, m_obs64.data() + (size_t)i * O);
  record_step(i, r);
}

void EnvPool::finish_batch_env(int i) {
  const int O = m_spec.obs_dim, A = m_spec.act_dim;
  // the env is bound to its simulation, which the batch has just stepped
  auto* env = static_cast<MujocoEnv*>(m_envs[i].get());
  StepResult r = env->finish_step(m_act64.data() + (size_t)i * A, m_obs64.data() + (size_t)i * O);
  record_step(i, r);
}

void EnvPool::record_step(int i, const StepResult& r) {
  const int O = m_spec.obs_dim;
  const double* obs64 = m_obs64.data() + (size_t)i * O;
  ++m_steps[i];
  m_ep_return[i] += r.reward;
  // a blow-up ends the episode as truncated; otherwise the TimeLimit truncates
  bool terminated = r.terminated && !r.unstable;
  bool truncated = !terminated && (r.unstable || m_steps[i] >= m_spec.max_episode_steps);
  m_unstable_flags[i] = r.unstable;
  m_reward[i] = (float)r.reward;
  std::copy(r.reward_terms.begin(), r.reward_terms.end(),
            m_reward_terms.begin() + (size_t)i * StepResult::max_reward_terms);
  std::copy(r.info.begin(), r.info.end(), m_info.begin() + (size_t)i * StepResult::max_info_terms);
  m_terminated[i] = terminated;
  m_truncated[i] = truncated;
  float* obs = m_obs.data() + (size_t)i * O;
  for (int k = 0; k < O; ++k) obs[k] = (float)obs64[k];
  if (terminated || truncated) {
    // keep the real last observation, then start the next episode in place
    std::copy(obs, obs + O, m_final_obs.data() + (size_t)i * O);
    m_last_return[i] = m_ep_return[i];
    m_last_length[i] = m_steps[i];
    reset_env(i);
  }
}

int64_t EnvPool::unstable_episodes(int first, int count) const {
  int64_t n = 0;
  for (int i = first; i < first + count; ++i) n += m_unstable.at(i);
  return n;
}

void EnvPool::reset() { dispatch(Job::reset); }

void EnvPool::step(const float* actions) {
  const int A = m_spec.act_dim;
  for (size_t k = 0; k < (size_t)m_num_envs * A; ++k)
    if (!std::isfinite(actions[k]))
      throw std::invalid_argument("non-finite action for env " + std::to_string(k / A) +
                                  ", dimension " + std::to_string(k % A));
  m_actions = actions;
  dispatch(Job::step);
  m_actions = nullptr;
  // gather in env order from the per-env slots; the reserved vector does not reallocate
  m_finished.clear();
  for (int i = 0; i < m_num_envs; ++i) {
    if (m_terminated[i] || m_truncated[i])
      m_finished.push_back({m_last_return[i], m_last_length[i], i});
    m_unstable[i] += m_unstable_flags[i];
  }
}

}  // namespace sac
