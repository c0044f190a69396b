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
#pragma once
#include <cstdint>
#include <memory>

#include "sac/agent.h"
#include "sac/config.h"
#include "sac/env_pool.h"
#include "sac/philox.h"
#include "sac/replay_buffer.h"
#include "sac/trainer.h"
#include "run/trainer_state.h"
#include "thread_pool.h"

namespace sac {

/// Updates per Agent::update call: N x ratio when that is a whole number (one recorded
/// sequence, its count never changes), else 1 (the count alternates between floor and ceil, and
/// recording a CUDA graph for every count would cost more than the extra launches).
int update_block(const Config& config, int num_envs);

class StepLoop {
 public:
  /// `times` (nullable) receives the seconds of each stage (`sac bench train`).
  StepLoop(const Config& config, bool overlapped, Backend& backend, EnvPool& pool, Agent& agent,
           ReplayBuffer& replay, StageTimes* times);
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

 private:
  double* slot(double StageTimes::*stage) { return m_times ? &(m_times->*stage) : nullptr; }
  void issue(int64_t count);
  int64_t launch_pending();
  void wait_pending(int64_t count);
  void act(int parity);
  int assemble(int parity);
  void store(int parity, int kept);
  void owe_updates();

  const Config& m_c;
  const bool m_overlapped;
  Backend& m_backend;
  EnvPool& m_pool;
  Agent& m_agent;
  ReplayBuffer& m_replay;
  StageTimes* m_times;
  const int m_N, m_O, m_A;
  TrainerState m_st;
  HostRng m_warmup_rng;
  // per parity: observations up, actions down (or up during the warm-up), the transitions up
  HostArray<float> m_h_obs[2], m_h_actions[2], m_h_step[2];
  DeviceArray<float> m_d_obs[2], m_d_actions[2], m_d_step[2];
  int m_parity = 0;
  int m_block = 1;
  int64_t m_pending = 0;                 // updates owed for the latest step's data
  std::unique_ptr<ThreadPool> m_worker;  // CPU backend, overlapped loop: the update block
};

}  // namespace sac
