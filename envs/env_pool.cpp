// env_pool.cpp: the batch of envs on persistent worker threads. Time limits, auto-reset, final
// observations and action scaling live here so every task gets them alike. A job (reset or
// step) is published by bumping a generation counter; workers spin briefly on it, then sleep on
// a condition variable (kernels/thread_pool.cpp's pattern), run their contiguous block of envs
// and count themselves done. Nothing is allocated per step.
#include "sac/env_pool.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace sac {
namespace {

// about 100-200 microseconds of pause instructions: back-to-back steps arrive sooner than that,
// a trainer busy with its update leaves the workers asleep instead of burning a core
constexpr int kSpinIterations = 20000;
// a spinning thread yields its core every this many polls
constexpr int kYieldEvery = 64;
// the caller spins this long on the done counter before yielding its core
constexpr int kCallerSpinIterations = 2000;

inline void cpu_relax() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

// the CPUs this process may run on, in order (empty when unknown)
std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0)
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
#endif
  return cpus;
}

bool pin_threads_requested() {
  const char* v = std::getenv("SAC_PIN_THREADS");
  return v && std::strcmp(v, "1") == 0;
}

void pin_current_thread(int cpu) {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);  // best effort
#else
  (void)cpu;
#endif
}

}  // namespace

EnvPool::EnvPool(const std::string& id, int num_envs, uint64_t seed, int num_threads)
    : m_num_envs(num_envs) {
  if (num_envs < 1) throw std::invalid_argument("env pool needs at least one env");
  if (num_threads < 0)
    throw std::invalid_argument("env pool threads must be >= 0 (0 = one per core), got " +
                                std::to_string(num_threads));
  for (int i = 0; i < num_envs; ++i) {
    m_envs.push_back(make_env(id));
    m_rngs.emplace_back(seed + (uint64_t)i, 0);
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
  m_terminated.assign(num_envs, 0);
  m_truncated.assign(num_envs, 0);
  m_unstable_flags.assign(num_envs, 0);
  m_finished.reserve(num_envs);

  int threads = num_threads;
  if (threads == 0) threads = std::max(1, (int)std::thread::hardware_concurrency());
  m_num_threads = std::min(threads, num_envs);
  m_block.resize(m_num_threads + 1);
  for (int t = 0; t <= m_num_threads; ++t)
    m_block[t] = (int)((int64_t)t * num_envs / m_num_threads);
  m_errors.assign(m_num_threads, nullptr);

  std::vector<int> cpus = pin_threads_requested() ? allowed_cpus() : std::vector<int>();
  try {
    for (int t = 1; t < m_num_threads; ++t) {
      int cpu = cpus.empty() ? -1 : cpus[t % cpus.size()];
      m_workers.emplace_back([this, t, cpu] { worker_loop(t, cpu); });
    }
  } catch (...) {
    stop_workers();  // joins the workers already started
    throw;
  }
}

EnvPool::~EnvPool() { stop_workers(); }

void EnvPool::stop_workers() {
  if (m_workers.empty()) return;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_stop = true;
    m_generation.fetch_add(1, std::memory_order_release);
  }
  m_wake.notify_all();
  for (std::thread& w : m_workers) w.join();
  m_workers.clear();
}

void EnvPool::worker_loop(int t, int cpu) {
  if (cpu >= 0) pin_current_thread(cpu);
  uint64_t seen = 0;
  for (;;) {
    // spin for a short while before sleeping: the next batch step usually comes soon
    // (yielding now and then, so that more threads than free cores still make progress)
    for (int spin = 0;
         spin < kSpinIterations && m_generation.load(std::memory_order_acquire) == seen; ++spin) {
      if (spin % kYieldEvery == kYieldEvery - 1) std::this_thread::yield();
      else cpu_relax();
    }
    if (m_generation.load(std::memory_order_acquire) == seen) {
      std::unique_lock<std::mutex> lock(m_mutex);
      m_wake.wait(lock, [&] { return m_generation.load(std::memory_order_acquire) != seen; });
    }
    seen = m_generation.load(std::memory_order_acquire);
    if (m_stop) return;
    run_block(t);
    m_pending.fetch_sub(1, std::memory_order_release);
  }
}

void EnvPool::dispatch(Job job) {
  m_job = job;
  if (m_workers.empty()) {
    run_block(0);
  } else {
    m_pending.store((int)m_workers.size(), std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_generation.fetch_add(1, std::memory_order_release);
    }
    m_wake.notify_all();
    run_block(0);
    for (int spin = 0; m_pending.load(std::memory_order_acquire) != 0; ++spin) {
      if (spin < kCallerSpinIterations && spin % kYieldEvery != kYieldEvery - 1) cpu_relax();
      else std::this_thread::yield();
    }
  }
  for (std::exception_ptr& e : m_errors)
    if (e) {
      std::exception_ptr first = e;
      for (std::exception_ptr& x : m_errors) x = nullptr;
      std::rethrow_exception(first);
    }
}

void EnvPool::run_block(int t) {
  try {
    for (int i = m_block[t]; i < m_block[t + 1]; ++i) {
      if (m_job == Job::step) step_env(i);
      else reset_env(i);
    }
  } catch (...) {
    m_errors[t] = std::current_exception();
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

void EnvPool::step_env(int i) {
  const int O = m_spec.obs_dim, A = m_spec.act_dim;
  const float* action = m_actions + (size_t)i * A;
  double* act64 = m_act64.data() + (size_t)i * A;
  double* obs64 = m_obs64.data() + (size_t)i * O;
  // [-1, 1] -> [low, high]
  for (int j = 0; j < A; ++j) {
    double lo = m_spec.action_low[j], hi = m_spec.action_high[j];
    act64[j] = lo + 0.5 * ((double)action[j] + 1.0) * (hi - lo);
  }
  StepResult r = m_envs[i]->step(act64, obs64);
  ++m_steps[i];
  m_ep_return[i] += r.reward;
  // a blow-up ends the episode as truncated; otherwise the TimeLimit truncates
  bool terminated = r.terminated && !r.unstable;
  bool truncated = !terminated && (r.unstable || m_steps[i] >= m_spec.max_episode_steps);
  m_unstable_flags[i] = r.unstable;
  m_reward[i] = (float)r.reward;
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
    if (m_terminated[i] || m_truncated[i]) m_finished.push_back({m_last_return[i], m_last_length[i]});
    m_unstable += m_unstable_flags[i];
  }
}

}  // namespace sac
