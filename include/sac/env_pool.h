// env_pool.h: N envs of one task stepped as a batch, with the TimeLimit, auto-reset and the
// [-1, 1] -> task-bounds action scaling applied here. Every output lives in a preallocated
// batch array; env i is seeded `seed + i`.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "sac/env.h"

namespace sac {

/// Episode totals of envs that finished during the last step.
struct FinishedEpisode {
  double ret = 0.0;
  int length = 0;
};

class EnvPool {
 public:
  /// Creates `num_envs` instances of task `id`; throws on an unknown id or num_envs < 1.
  /// `num_threads` is accepted for the threaded pool's interface; this pool steps in order.
  EnvPool(const std::string& id, int num_envs, uint64_t seed, int num_threads = 1);
  ~EnvPool();

  const EnvSpec& spec() const { return m_spec; }
  int size() const { return m_num_envs; }

  /// Resets every env; obs() then holds the first observations.
  void reset();

  /// Steps every env with `actions` (size() x act_dim, each in [-1, 1]; scaled to the task's
  /// bounds here). Envs whose episode ended are reset automatically: obs() holds the new first
  /// observation and final_obs() the real last observation of the finished episode.
  /// Throws std::invalid_argument on a non-finite action.
  void step(const float* actions);

  const float* obs() const { return m_obs.data(); }              // size() x obs_dim
  const float* final_obs() const { return m_final_obs.data(); }  // valid where done
  const float* reward() const { return m_reward.data(); }
  const uint8_t* terminated() const { return m_terminated.data(); }
  const uint8_t* truncated() const { return m_truncated.data(); }
  /// 1 where the last step's physics blew up (that env is also truncated and reset); such a
  /// transition's data is not meaningful and must not be learned from.
  const uint8_t* unstable() const { return m_unstable_flags.data(); }
  /// Episodes that ended in the last step().
  const std::vector<FinishedEpisode>& finished() const { return m_finished; }
  /// Episodes ended because the physics became unstable, since construction.
  int64_t unstable_episodes() const { return m_unstable; }
  /// The env used by slot i (for state inspection).
  const Env& env(int i) const { return *m_envs[i]; }

 private:
  EnvSpec m_spec;
  int m_num_envs;
  std::vector<std::unique_ptr<Env>> m_envs;
  std::vector<HostRng> m_rngs;
  std::vector<int> m_steps;
  std::vector<double> m_ep_return;
  std::vector<double> m_obs64, m_act64;
  std::vector<float> m_obs, m_final_obs, m_reward;
  std::vector<uint8_t> m_terminated, m_truncated, m_unstable_flags;
  std::vector<FinishedEpisode> m_finished;
  int64_t m_unstable = 0;
};

}  // namespace sac
