// batch_stepper.h: MjBatchStepper, MuJoCo's batch API (mujoco/mjbatch.h, new in MuJoCo 4.0)
// running the physics of an env pool's MuJoCo envs: one simulation per env in one persistent
// mjBatch, stepped by mjb_step on the batch's own thread pool. The task's own code runs on each
// simulation's mjData through mjb_apply, with the env bound to it (MujocoEnv::bind_data): its
// reset (noise included), and around each mjb_step its begin_step() and finish_step(), so the
// observation, reward and termination come from the same code as on the pool's threads and, the
// physics being the same mj_step calls on the same states, the same bits
// (tests/test_batch_stepper.cpp, `sac_tests --gtest_filter='*MjBatch*'`). `sac bench env
// --engine mjbatch` measures it; bench/pool_vs_mjbatch.sh sets it beside the pool.
//
// The batch is persistent (one mjData per simulation, not per thread): a task reads derived
// fields as the last mj_step left them (Ant-v5's body positions and contact forces), which a
// batch of per-thread mjData would hand from one simulation to the next.
#pragma once
#include <mujoco/mjbatch.h>

#include <exception>
#include <vector>

#include "sac/mujoco_env.h"
#include "thread_pool.h"

namespace sac {

class MjBatchStepper {
 public:
  /// One simulation per env of `envs` (all of one task: the same model and frame skip, a task
  /// that splits its step, MujocoEnv::splits_step()) on `threads` threads, the caller's
  /// included. Throws InputError when the task does not split its step, std::invalid_argument
  /// when the envs differ and std::runtime_error when MuJoCo refuses the batch. The envs must
  /// outlive the stepper.
  MjBatchStepper(const std::vector<MujocoEnv*>& envs, int threads);
  ~MjBatchStepper();
  MjBatchStepper(const MjBatchStepper&) = delete;
  MjBatchStepper& operator=(const MjBatchStepper&) = delete;

  /// Threads of the batch, the caller's included (at most one per env).
  int threads() const;

  /// Runs `reset_env(i)` for every env i, bound to its simulation (the caller resets it there:
  /// Env::reset), then its begin_step(); the states are saved into the batch.
  void reset(TaskRef reset_env);

  /// One env step of every env: env i's controls (nu doubles at ctrl + i * nu) into its state
  /// row, frame_skip mj_step calls by mjb_step, then `finish_env(i)` with env i bound to its
  /// simulation (the caller runs MujocoEnv::finish_step and may reset the env), then its
  /// begin_step() for the next step; the states are saved. Throws std::runtime_error naming
  /// the simulation and MuJoCo's message when one fails, or rethrows the first exception (in
  /// env order) of `finish_env`.
  void step(const double* ctrl, TaskRef finish_env);

 private:
  // the mjb_apply function: `task` and begin_step() on one simulation, exceptions kept
  static void apply_task(const mjModel* m, mjData* d, int sim, void* arg);
  // runs `task` on every simulation through mjb_apply, states saved; rethrows a failure
  void apply(TaskRef task);
  // gives every env its own data back and throws `call`'s first failed simulation's error
  void throw_failure(const char* call, int failed);

  std::vector<MujocoEnv*> m_envs;
  mjBatch* m_batch = nullptr;
  int m_nu = 0, m_nstate = 0, m_frame_skip = 1;
  double* m_ctrl = nullptr;                  // ctrl in state row 0; row i is m_nstate * i on
  const TaskRef* m_task = nullptr;           // the task of the running apply()
  std::vector<std::exception_ptr> m_errors;  // per simulation, of the running apply()
};

}  // namespace sac
