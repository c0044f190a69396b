// step_loop.h: one batch step of the training loop of DESIGN.md section 7 (trainer.h describes
// the sequential and overlapped shapes), with the trainer state it advances and every buffer its
// transfers use. Per batch step after the warm-up, the host and the backend exchange exactly:
//   up    the observations, once (page-locked, queued): they feed acting and the replay ring
//   down  the actions, once (queued on the acting lane; the one host wait of the step)
//   up    the step's transitions (reward, terminated, keep flags, next observations) in one
//         block, queued; the ring insert is a backend op behind it in stream order
// Host blocks and device slots are double-buffered by step parity, so the host fills the next
// step's while the previous step's copies and inserts may still be queued (the wait for the
// actions covers the copies of the step before; a warm-up step, with uniform random actions
// and no acting, uploads its actions too and waits for its own copies at its end). Acting reads the
// agent's actor snapshot (Agent::act_snapshot), taken after each update block, so on CUDA the
// acting of step t runs on its own lane beside the update block launched after it, and the
// results never depend on timing. tests/test_step_traffic.cpp counts the traffic.
// A run of S seeds (train.seeds) steps S blocks of N envs, one per seed, and keeps one ring per
// seed; every host block and device slot holds the S blocks in seed order, so the traffic per
// step is the same three copies. Seed k's warm-up actions come from its own generator, its
// transitions go to its own ring, and its numbers are those of a run of that seed alone
// (tests/test_many_seeds_run.cpp).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "sac/learner.h"
#include "sac/config.h"
#include "sac/env_pool.h"
#include "sac/philox.h"
#include "sac/replay_buffer.h"
#include "sac/trainer.h"
#include "formats/trainer_state.h"
#include "thread_pool.h"

namespace sac {

/// Updates per Agent::update call: N x ratio when that is a whole number (one recorded
/// sequence, its count never changes), else 1 (the count alternates between floor and ceil, and
/// recording a CUDA graph for every count would cost more than the extra launches).
int update_block(const Config& config, int num_envs);

class StepLoop {
 public:
  /// `times` (nullable) receives the seconds of each stage (`sac bench train`). `rings`: one
  /// replay ring per seed of the config (seed_list()); the pool holds N envs per seed.
  StepLoop(const Config& config, bool overlapped, Backend& backend, EnvPool& pool, Learner& agent,
           const std::vector<ReplayBuffer*>& rings, StageTimes* times);
  StepLoop(const StepLoop&) = delete;
  StepLoop& operator=(const StepLoop&) = delete;

  TrainerState& state() { return m_st; }
  const TrainerState& state() const { return m_st; }

  /// Continues from a checkpoint's state (the agent, ring and pool restored already). An
  /// overlapped run's checkpoint leaves the latest step's update block pending; that follows
  /// from steps and updates. Throws std::invalid_argument when the updates do not fit the
  /// schedule.
  void resume(const TrainerState& state);

  /// One batch step: act, step the envs, store the transitions, the updates owed.
  void step();

  /// Runs the pending update block (the end of an overlapped run) and waits for it.
  void drain();

  /// Updates owed for the latest step's data, not yet launched (overlapped loop).
  int64_t pending() const { return m_pending; }

  /// Envs per seed, and the number of seeds.
  int envs_per_seed() const { return m_N; }
  int num_seeds() const { return m_S; }

  /// A seed that stopped (state().seeds[k].stopped_step set, by the run) acts with zeros from
  /// the next step on: nothing it computes reaches an env.
  /// Seeds whose actions in the latest step were not finite (the run stops them). Those actions
  /// were replaced by zeros.
  const std::vector<int>& non_finite_actions() const { return m_non_finite; }

 private:
  double* slot(double StageTimes::*stage) { return m_times ? &(m_times->*stage) : nullptr; }
  void issue(int64_t count);
  int64_t launch_pending();
  void wait_pending(int64_t count);
  void act(int parity);
  void assemble(int parity);
  void store(int parity);
  void owe_updates();
  void guard_actions(int parity);

  const Config& m_c;
  const bool m_overlapped;
  Backend& m_backend;
  EnvPool& m_pool;
  Learner& m_agent;
  std::vector<ReplayBuffer*> m_rings;             // one per seed
  std::vector<const ReplayBuffer*> m_ring_view;  // the same, as Learner::update takes them
  StageTimes* m_times;
  const int m_S, m_N, m_O, m_A;  // seeds, envs per seed, observation and action sizes
  const bool m_per_seed;          // a run given train.seeds: a seed stops alone
  TrainerState m_st;
  std::vector<HostRng> m_warmup_rngs;  // per seed
  std::vector<int> m_non_finite;
  std::vector<int> m_kept = std::vector<int>(kMaxSeeds);  // per seed: transitions kept this step
  // per parity: observations up, actions down (or up during the warm-up), the transitions up
  HostArray<float> m_h_obs[2], m_h_actions[2], m_h_step[2];
  DeviceArray<float> m_d_obs[2], m_d_actions[2], m_d_step[2];
  int m_parity = 0;
  int m_block = 1;
  int64_t m_pending = 0;                 // updates owed for the latest step's data
  std::unique_ptr<ThreadPool> m_worker;  // CPU backend, overlapped loop: the update block
};

}  // namespace sac
