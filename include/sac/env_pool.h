// env_pool.h: N envs of one task stepped as a batch on T persistent CPU threads, with the
// TimeLimit, auto-reset and the [-1, 1] -> task-bounds action scaling applied here. Every output
// lives in a preallocated batch array; env i is seeded `seed + i` (or as the list says). Envs are split into T
// contiguous blocks, one task each on a thread pool of T threads (kernels/thread_pool.h; the
// calling thread takes part); each env writes only its own slice, so the results depend neither
// on T nor on which thread steps a block. With the mjbatch engine, MuJoCo's batch API runs the
// physics instead (envs/batch_stepper.h) and everything else stays the pool's, bit for bit the
// same results. Tested by tests/test_env_pool.cpp and tests/test_batch_stepper.cpp
// (`sac_tests --gtest_filter='*EnvPool*:*MjBatch*'`); measured by `sac bench env`.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sac/env.h"

namespace sac {

class ThreadPool;      // kernels/thread_pool.h
class MjBatchStepper;  // envs/batch_stepper.h

/// What steps a pool's physics: its own threads (`pool`, any task), or MuJoCo's batch API
/// (`mjbatch`: one mjBatch of persistent simulations on MuJoCo's thread pool; MuJoCo tasks
/// that split their step, MujocoEnv::splits_step()).
enum class StepEngine { pool, mjbatch };

/// "pool" or "mjbatch"; throws InputError naming the value and both names otherwise.
StepEngine step_engine_from_name(const std::string& name);
/// The name of `engine`, as step_engine_from_name() reads it.
const char* step_engine_name(StepEngine engine);

/// Episode totals of envs that finished during the last step.
struct FinishedEpisode {
  double ret = 0.0;
  int length = 0;
  int env = 0;  // the env it ran in
};

class EnvPool {
 public:
  /// Creates `num_envs` instances of task `id` stepped by `num_threads` threads (the caller
  /// counts as one; 0 = one per core; never more than num_envs). Throws std::invalid_argument on
  /// an unknown id, num_envs < 1 or num_threads < 0. With SAC_PIN_THREADS=1 in the environment
  /// worker thread t is pinned to the t-th CPU the process may run on (the caller is left alone).
  EnvPool(const std::string& id, int num_envs, uint64_t seed, int num_threads = 1);
  /// One env per entry of `env_seeds`, env i seeded env_seeds[i] (several runs' envs in one
  /// pool, each seeded as its run would seed it: seeded_envs()).
  EnvPool(const std::string& id, const std::vector<uint64_t>& env_seeds, int num_threads = 1);
  /// The same for task `id` made with keyword arguments `kwargs` (a JSON object, make_env()),
  /// its physics stepped by `engine` (InputError when the task does not fit the engine).
  EnvPool(const std::string& id, const nlohmann::json& kwargs,
          const std::vector<uint64_t>& env_seeds, int num_threads = 1,
          StepEngine engine = StepEngine::pool);
  ~EnvPool();
  EnvPool(const EnvPool&) = delete;
  EnvPool& operator=(const EnvPool&) = delete;

  const EnvSpec& spec() const { return m_spec; }
  int size() const { return m_num_envs; }
  /// Threads stepping the envs, the caller included.
  int threads() const { return m_num_threads; }
  /// What steps the physics.
  StepEngine engine() const { return m_engine; }

  /// Resets every env; obs() then holds the first observations.
  void reset();

  /// Steps every env with `actions` (size() x act_dim, each in [-1, 1]; scaled to the task's
  /// bounds here). Envs whose episode ended are reset automatically: obs() holds the new first
  /// observation and final_obs() the real last observation of the finished episode.
  /// Throws std::invalid_argument on a non-finite action, before any env is stepped.
  void step(const float* actions);

  const float* obs() const { return m_obs.data(); }              // size() x obs_dim
  const float* final_obs() const { return m_final_obs.data(); }  // valid where done
  const float* reward() const { return m_reward.data(); }
  /// The last step's reward terms in double (StepResult::reward_terms, named by
  /// spec().reward_terms): size() x StepResult::max_reward_terms, row i env i's.
  const double* reward_terms() const { return m_reward_terms.data(); }
  /// The last step's other info values (StepResult::info, named by spec().info_terms):
  /// size() x StepResult::max_info_terms, row i env i's.
  const double* info() const { return m_info.data(); }
  const uint8_t* terminated() const { return m_terminated.data(); }
  const uint8_t* truncated() const { return m_truncated.data(); }
  /// 1 where the last step's physics blew up (that env is also truncated and reset); such a
  /// transition's data is not meaningful and must not be learned from.
  const uint8_t* unstable() const { return m_unstable_flags.data(); }
  /// Episodes that ended in the last step(), in env order.
  const std::vector<FinishedEpisode>& finished() const { return m_finished; }
  /// Episodes ended because the physics became unstable, since construction: in all envs, or
  /// in envs [first, first + count).
  int64_t unstable_episodes() const { return unstable_episodes(0, m_num_envs); }
  int64_t unstable_episodes(int first, int count) const;
  /// The env used by slot i (for state inspection). With the mjbatch engine the physics state
  /// lives in the batch, not in the env: throws std::logic_error there.
  const Env& env(int i) const { return *m_envs[checked_env_access(i)]; }

  // ---- state access for checkpoints (engine/formats/pool_state.h); call only between steps
  /// The env of slot i, writable (to restore its state); the pool engine only, as env().
  Env& mutable_env(int i) { return *m_envs[checked_env_access(i)]; }
  /// The noise generator of env i (its counter is the whole mutable state).
  HostRng& rng(int i) { return m_rngs[i]; }
  const HostRng& rng(int i) const { return m_rngs[i]; }
  /// Steps and return so far of env i's running episode.
  int episode_steps(int i) const { return m_steps[i]; }
  double episode_return(int i) const { return m_ep_return[i]; }
  void set_episode(int i, int steps, double ret) { m_steps[i] = steps; m_ep_return[i] = ret; }
  /// The current observations, writable (to restore them).
  float* mutable_obs() { return m_obs.data(); }
  /// Sets env i's count of unstable episodes (a restore puts a block's count on its first env).
  void set_unstable_episodes(int i, int64_t n) { m_unstable[i] = n; }

 private:
  enum class Job { reset, step };

  void dispatch(Job job);  // runs `job` on every env (a pool task per block); rethrows a failure
  void run_block(int t);   // runs the current job on block t's envs
  void reset_env(int i);
  void step_env(int i);
  void scale_action(int i);                     // env i's action in [-1, 1] -> m_act64's slice
  void record_step(int i, const StepResult& r);  // outputs, TimeLimit, auto-reset of env i
  void finish_batch_env(int i);                  // the mjbatch engine's rest of env i's step
  int checked_env_access(int i) const;           // i, or throws under the mjbatch engine

  EnvSpec m_spec;
  int m_num_envs;
  int m_num_threads = 1;
  std::vector<std::unique_ptr<Env>> m_envs;
  std::vector<HostRng> m_rngs;
  // per env: steps and return of the running episode, totals of the one that just ended
  std::vector<int> m_steps, m_last_length;
  std::vector<double> m_ep_return, m_last_return;
  std::vector<double> m_obs64, m_act64;  // per-env double scratch (size() x obs_dim / act_dim)
  std::vector<float> m_obs, m_final_obs, m_reward;
  std::vector<double> m_reward_terms;  // size() x StepResult::max_reward_terms
  std::vector<double> m_info;          // size() x StepResult::max_info_terms
  std::vector<uint8_t> m_terminated, m_truncated, m_unstable_flags;
  std::vector<FinishedEpisode> m_finished;  // reserved for size() entries: never reallocates
  std::vector<int64_t> m_unstable;  // per env

  // ---- threads: block t is envs [m_block[t], m_block[t + 1]), one pool task each
  std::vector<int> m_block;
  Job m_job = Job::step;                  // the current job, written before the pool runs it
  const float* m_actions = nullptr;       // the step's actions, idem
  std::function<void(int)> m_block_task;  // run_block, built once: a step allocates nothing
  std::unique_ptr<ThreadPool> m_pool;     // m_num_threads threads; last: stopped first

  // ---- the mjbatch engine: MuJoCo's batch runs the physics, these the rest of a step
  StepEngine m_engine = StepEngine::pool;
  std::function<void(int)> m_reset_task, m_finish_task;  // reset_env, finish_batch_env
  std::unique_ptr<MjBatchStepper> m_batch;
};

/// The env seeds of `runs` runs of `envs_per_run` envs each in one pool, run r first seeded
/// base_seeds[r] + offset: run r's env i is seeded base_seeds[r] + offset + i, as the pool of
/// that run alone seeds it.
std::vector<uint64_t> seeded_envs(const std::vector<uint64_t>& base_seeds, int envs_per_run,
                                  uint64_t offset = 0);

}  // namespace sac
