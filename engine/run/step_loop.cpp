// step_loop.cpp: the batch step of the training loop (step_loop.h, trainer.h).
#include "run/step_loop.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace sac {
namespace {

constexpr uint64_t kStreamWarmup = 7;  // HostRng stream of the warm-up actions

using Clock = std::chrono::steady_clock;

// adds the seconds of its lifetime to *slot (nothing when slot is null)
class StageTimer {
 public:
  explicit StageTimer(double* slot) : m_slot(slot), m_t0(slot ? Clock::now() : Clock::time_point()) {}
  ~StageTimer() {
    if (m_slot) *m_slot += std::chrono::duration<double>(Clock::now() - m_t0).count();
  }
  StageTimer(const StageTimer&) = delete;
  StageTimer& operator=(const StageTimer&) = delete;

 private:
  double* m_slot;
  Clock::time_point m_t0;
};

// updates owed after `steps` env steps in batch steps of `num_envs`: the loop's debt arithmetic
// (the same operations in the same order) replayed from the start
int64_t updates_owed(const Config& c, int num_envs, int64_t steps) {
  double debt = 0.0;
  int64_t owed = 0;
  for (int64_t s = 0; s < steps;) {
    s += num_envs;
    if (s > c.warmup_steps) {
      debt += num_envs * c.updates_per_step;
      while (debt >= 1.0) {
        ++owed;
        debt -= 1.0;
      }
    }
  }
  return owed;
}

}  // namespace

int update_block(const Config& c, int num_envs) {
  const double per_step = num_envs * c.updates_per_step;
  return per_step >= 1.0 && per_step <= 65536.0 && per_step == std::floor(per_step)
             ? (int)per_step
             : 1;
}

StepLoop::StepLoop(const Config& c, bool overlapped, Backend& backend, EnvPool& pool,
                   Learner& agent, const std::vector<ReplayBuffer*>& rings, StageTimes* times)
    : m_c(c), m_overlapped(overlapped), m_backend(backend), m_pool(pool), m_agent(agent),
      m_rings(rings), m_ring_view(rings.begin(), rings.end()), m_times(times),
      m_S((int)rings.size()), m_N(pool.size() / std::max(1, m_S)), m_O(pool.spec().obs_dim),
      m_A(pool.spec().act_dim), m_per_seed(!c.seeds.empty()) {
  const std::vector<uint64_t> seeds = seed_list(c);
  if (m_S != (int)seeds.size() || m_S != agent.spec().num_seeds() || m_N * m_S != pool.size())
    throw std::invalid_argument("StepLoop: " + std::to_string(rings.size()) + " rings and " +
                                std::to_string(pool.size()) + " envs do not fit " +
                                std::to_string(seeds.size()) + " seeds");
  for (uint64_t seed : seeds) m_warmup_rngs.emplace_back(seed, kStreamWarmup);
  m_st.seeds.resize(m_S);
  const size_t envs = (size_t)m_S * m_N;
  for (int p = 0; p < 2; ++p) {
    m_h_obs[p] = HostArray<float>(backend, envs * m_O);
    m_h_actions[p] = HostArray<float>(backend, envs * m_A);
    m_h_step[p] = HostArray<float>(backend, m_S * StepTransitions::floats(m_N, m_O));
    m_d_obs[p] = DeviceArray<float>(backend, envs * m_O);
    m_d_actions[p] = DeviceArray<float>(backend, envs * m_A);
    m_d_step[p] = DeviceArray<float>(backend, m_S * StepTransitions::floats(m_N, m_O));
  }
  m_st.next_log = c.log_every;
  m_st.next_eval = c.eval_every > 0 ? c.eval_every : c.total_steps;
  m_block = update_block(c, m_N);
  // the overlapped loop on the CPU backend runs its update block on one worker thread
  if (overlapped && backend.name() == "cpu") m_worker = std::make_unique<ThreadPool>(2);
}

void StepLoop::resume(const TrainerState& st) {
  const int64_t pending = updates_owed(m_c, m_N, st.steps) - st.updates;
  if (pending < 0 || pending > (int64_t)std::ceil(m_N * m_c.updates_per_step) + 1)
    throw std::invalid_argument("its " + std::to_string(st.updates) + " updates at step " +
                                std::to_string(st.steps) + " do not fit the update schedule");
  if ((int)st.seeds.size() != m_S)
    throw std::invalid_argument("it holds " + std::to_string(st.seeds.size()) +
                                " seeds, this run has " + std::to_string(m_S));
  m_st = st;
  for (HostRng& rng : m_warmup_rngs) rng.set_counter(st.warmup_rng_counter);
  m_pending = pending;
  m_agent.snapshot_actor();  // the restored weights
}

// `count` updates (see update_block), then the actor snapshot acting reads
void StepLoop::issue(int64_t count) {
  for (; count >= m_block; count -= m_block) m_agent.update(m_ring_view, m_block);
  for (; count > 0; --count) m_agent.update(m_ring_view, 1);
  m_agent.snapshot_actor();
}

void StepLoop::drain() {
  if (m_pending == 0) return;
  const int64_t count = launch_pending();
  wait_pending(count);
  StageTimer t(slot(&StageTimes::update_wait));
  m_backend.synchronize();
}

// overlapped loop: launches the block owed for the previous step's data, which runs while the
// host steps the envs (CPU backend: on the worker thread; CUDA: queued behind the acting)
int64_t StepLoop::launch_pending() {
  const int64_t count = m_pending;
  m_pending = 0;
  if (count == 0) return 0;
  if (m_worker) {
    double* update_slot = slot(&StageTimes::update);  // written by the worker only
    m_worker->start(1, [this, count, update_slot](int) {
      StageTimer t(update_slot);
      issue(count);
    });
  } else {
    StageTimer t(slot(&StageTimes::update));
    issue(count);
  }
  return count;
}

// the CPU worker's block must end before the ring changes; CUDA keeps that by stream order
void StepLoop::wait_pending(int64_t count) {
  if (count == 0) return;
  if (m_worker) {
    StageTimer t(slot(&StageTimes::update_wait));
    m_worker->wait();
  }
  m_st.updates += count;
}

// observations up (they serve acting and the ring); actions: uniform random during the warm-up
// (then up, for the ring), else the policy's for all N envs at once, queued down
void StepLoop::act(int p) {
  const size_t obs_floats = (size_t)m_S * m_N * m_O, action_floats = (size_t)m_S * m_N * m_A;
  {
    StageTimer t(slot(&StageTimes::copy));
    std::copy_n(m_pool.obs(), obs_floats, m_h_obs[p].data());
    m_backend.upload_async(m_d_obs[p].data(), m_h_obs[p].data(), obs_floats * sizeof(float));
  }
  if (m_st.steps < m_c.warmup_steps) {
    // each seed's block from its own generator (they all draw as many, so one counter)
    float* a = m_h_actions[p].data();
    for (HostRng& rng : m_warmup_rngs)
      for (size_t i = 0; i < (size_t)m_N * m_A; ++i) *a++ = (float)rng.uniform(-1.0, 1.0);
    m_st.warmup_rng_counter = m_warmup_rngs[0].counter();
    StageTimer t(slot(&StageTimes::copy));
    m_backend.upload_async(m_d_actions[p].data(), m_h_actions[p].data(),
                           action_floats * sizeof(float));
    return;
  }
  StageTimer t(slot(&StageTimes::inference));
  m_agent.act_snapshot(m_N, m_d_obs[p].data(), m_d_actions[p].data(), m_h_actions[p].data());
}

// the step's transitions into the host block, seed by seed (each seed's block as a run of that
// seed alone lays it out); m_kept[k] says how many of seed k's are kept. A finished episode's
// transition keeps its real last observation; one whose physics blew up is dropped.
void StepLoop::assemble(int p) {
  const int N = m_N, O = m_O;
  for (int k = 0; k < m_S; ++k) {
    float* block = m_h_step[p].data() + k * StepTransitions::floats(N, O);
    float *reward = block, *terminated = block + N, *keep = block + 2 * N;
    float* next_obs = block + 3 * N;
    int kept = 0;
    for (int j = 0; j < N; ++j) {
      const int i = k * N + j;
      const bool done = m_pool.terminated()[i] || m_pool.truncated()[i];
      const float* src = (done ? m_pool.final_obs() : m_pool.obs()) + (size_t)i * O;
      std::copy(src, src + O, next_obs + (size_t)j * O);
      reward[j] = m_pool.reward()[i];
      terminated[j] = m_pool.terminated()[i] ? 1.0f : 0.0f;
      keep[j] = m_pool.unstable()[i] ? 0.0f : 1.0f;
      kept += m_pool.unstable()[i] ? 0 : 1;
    }
    m_kept[k] = kept;
  }
}

// the transitions up in one copy, and each seed's ring insert behind it
void StepLoop::store(int p) {
  {
    StageTimer t(slot(&StageTimes::copy));
    m_backend.upload_async(m_d_step[p].data(), m_h_step[p].data(),
                           m_h_step[p].size() * sizeof(float));
  }
  StageTimer t(slot(&StageTimes::insert));
  for (int k = 0; k < m_S; ++k)
    if (m_kept[k] > 0)
      m_rings[k]->insert_step(m_N, m_kept[k], m_d_obs[p].data() + (size_t)k * m_N * m_O,
                              m_d_actions[p].data() + (size_t)k * m_N * m_A,
                              m_d_step[p].data() + k * StepTransitions::floats(m_N, m_O));
  for (const FinishedEpisode& ep : m_pool.finished()) {
    SeedProgress& seed = m_st.seeds[ep.env / m_N];
    seed.recent_return_sum += ep.ret, ++seed.recent_episodes;
  }
  m_st.steps += m_N;
}

// a seed that stopped acts with zeros; so does one whose actions are not finite (the run
// reports it, non_finite_actions(), and stops that seed, or the run of one seed, naming the
// first non-finite value: a NaN weight that reached the actions must not end the run as a bad
// action refused by the env pool)
void StepLoop::guard_actions(int p) {
  m_non_finite.clear();
  const size_t block = (size_t)m_N * m_A;
  for (int k = 0; k < m_S; ++k) {
    float* a = m_h_actions[p].data() + k * block;
    bool zero = !m_st.seeds[k].training();
    if (!zero) {
      for (size_t i = 0; i < block; ++i) zero |= !std::isfinite(a[i]);
      if (zero) m_non_finite.push_back(k);
    }
    if (zero) std::fill(a, a + block, 0.0f);
  }
}

// the updates owed for this step's data at the ratio: run now (sequential) or pending for the
// next step's block (overlapped)
void StepLoop::owe_updates() {
  if (m_st.steps <= m_c.warmup_steps) return;
  m_st.update_debt += m_N * m_c.updates_per_step;
  int64_t count = 0;
  while (m_st.update_debt >= 1.0) {
    ++count;
    m_st.update_debt -= 1.0;
  }
  if (m_overlapped) {
    m_pending += count;
    return;
  }
  if (count == 0) return;
  StageTimer t(slot(&StageTimes::update));
  issue(count);
  m_st.updates += count;
}

// act; (overlapped: launch the block owed for the previous step's data); wait for the actions;
// step the envs; store the transitions once the block is done with the ring; owe the updates
void StepLoop::step() {
  const int p = m_parity;
  m_parity ^= 1;
  if (!m_overlapped && m_pending > 0) drain();  // an overlapped run's checkpoint, resumed so
  act(p);
  const int64_t count = m_overlapped ? launch_pending() : 0;
  try {
    if (m_st.steps >= m_c.warmup_steps) {
      StageTimer t(slot(&StageTimes::copy));
      m_backend.wait_lane(Backend::kActLane);
    }
    guard_actions(p);
    {
      StageTimer t(slot(&StageTimes::env_step));
      m_pool.step(m_h_actions[p].data());
    }
    StageTimer t(slot(&StageTimes::insert));
    assemble(p);  // host memory only
  } catch (...) {
    if (count > 0 && m_worker) {
      try {
        m_worker->wait();
      } catch (...) {
      }
    }
    throw;
  }
  wait_pending(count);
  store(p);
  owe_updates();
  // after the warm-up the wait for the actions also covers every copy queued before the acting
  // (the host slots are rewritten two steps later); a warm-up step has no such wait, so it
  // waits for its own copies here (a no-op on the CPU)
  if (m_st.steps - m_N < m_c.warmup_steps) {
    StageTimer t(slot(&StageTimes::copy));
    m_backend.wait_lane(0);
  }
}

}  // namespace sac
