// agent.h: the SAC learner (Haarnoja et al. 2018b), the Learner (learner.h) of algo "sac": the
// shared tanh-Gaussian Policy, a group of critics (E = num_critics, clipped double-Q), their
// Polyak-averaged targets and a learned log alpha. update() is the paper's Algorithm 1 step,
// written out in agent.cpp in one function.
// S seeds train as members of the same groups (DESIGN.md section 12): the actor group has
// E = S, critics and targets E = S x num_critics ordered [seed][critic]; each seed has its own
// log alpha, Philox key, replay ring and losses, and reads nothing of another seed.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sac/backend.h"
#include "sac/learner.h"
#include "sac/mlp.h"
#include "sac/policy.h"
#include "sac/replay_buffer.h"
#include "sac/state_tensor.h"

namespace sac {

class Agent final : public Learner {
 public:
  Agent(Backend& backend, const AgentSpec& spec);

  std::string algo() const override { return "sac"; }
  const AgentSpec& spec() const override { return m_spec; }
  Backend& backend() override { return m_backend; }
  Policy& policy() override { return m_policy; }
  using Learner::update;

  /// The most updates one recorded sequence holds; a larger count is several launches of it
  /// (a graph's size and instantiation time grow with the updates it holds).
  static constexpr int kMaxRecordedUpdates = 32;

  /// `count` SAC updates of S seeds, seed s on minibatches drawn from rings[s] (sampling and
  /// noise on the backend), with no allocation and no host synchronisation. The agent's very
  /// first update runs op by op (so module loading and library set-up never happen inside a
  /// CUDA graph capture); the rest run as launches of recorded sequences of at most
  /// kMaxRecordedUpdates updates, recorded once per (rings, length) and replayed: one CUDA
  /// graph launch each (recordings kept per set of rings, by their ids). Each seed's result is
  /// the result of its own single-seed agent on its ring.
  void update(const std::vector<const ReplayBuffer*>& rings, int count = 1) override;

  /// One SAC update on a given minibatch and given policy noise (batch_size x act_dim each,
  /// backend memory): eps_next for the target actions, eps_cur for the actor loss. The batch
  /// is first laid out as sample_minibatch lays out a sampled one. One seed only (S = 1).
  void update_on(const TransitionBatch& batch, const float* eps_next, const float* eps_cur);

  /// The latest update's scalars of seed `seed_index` (0 <= seed_index < S).
  UpdateMetrics read_metrics(int seed_index = 0) const override;

  MlpGroup& critic() { return m_critic; }
  MlpGroup& target() { return m_target; }
  float* log_alpha() { return m_log_alpha.data(); }
  float* log_alpha_grad() { return m_log_alpha_grad.data(); }

  // ---- optimiser state and counters, for checkpoints (backend memory; log alpha and its
  // gradient and Adam state hold S values, one per seed; counters 1 value, shared by the seeds)
  float* log_alpha_adam_m() { return m_log_alpha_m.data(); }
  float* log_alpha_adam_v() { return m_log_alpha_v.data(); }
  /// Updates done so far (the Adam step and the draw block of the update noise).
  int64_t* update_counter() { return m_updates.data(); }
  /// Losses of the latest update: critic, actor, alpha (3 x S values: the critic losses of the
  /// seeds, then their actor losses, then their alpha losses).
  float* losses() { return m_losses.data(); }

  /// The agent's checkpoint tensors (backend memory): actor, critic, target, their Adam
  /// moments, log alpha with its gradient and Adam state, the losses and the counters, in the
  /// order a non-finite scan reports them (losses, log alpha, weights, then Adam state).
  std::vector<StateTensor> state_tensors() override;

  /// Seed number `seed_index`'s share of state_tensors(), in the same order: its members of the
  /// networks and their Adam moments, and its values of the per-seed tensors (losses, log alpha
  /// and its state, each a one-value view); the shared counters are left out. For scans of one
  /// seed (a run of several stops a diverged seed alone).
  std::vector<StateTensor> seed_state_tensors(int seed_index) override;

 private:
  void sample_and_update(const std::vector<const ReplayBuffer*>& rings);
  // Algorithm 1's update on the minibatch in m_mb (see agent.cpp for its lanes)
  void update_laid_out();

  Backend& m_backend;
  AgentSpec m_spec;
  Policy m_policy;
  MlpGroup& m_actor;  // m_policy's
  MlpGroup m_critic, m_target;
  DeviceArray<float> m_log_alpha, m_log_alpha_grad, m_log_alpha_m, m_log_alpha_v;
  DeviceArray<int64_t> m_updates, m_indices;

  // workspace, sized at start: the update allocates nothing
  DeviceArray<float> m_mb_storage;  // the minibatch in the networks' layouts (m_mb)
  MinibatchLayout m_mb;
  DeviceArray<float> m_logp_next, m_y, m_logp;
  DeviceArray<float> m_losses;  // critic, actor, alpha
  // actor on s' and on s, critics on (s, a) then (s, a~), targets on (s', a')
  MlpActivations m_actor_next_acts, m_actor_acts, m_critic_acts, m_target_acts;

  // The recorded sequence of `length` updates on the replay buffers with ids m_recorded_rings
  // (recorded on first use; recordings for other buffers are dropped).
  RecordedOps& recorded_updates(const std::vector<const ReplayBuffer*>& rings, int length);

  int m_seeds;         // S
  std::vector<uint64_t> m_seed_keys;  // m_spec.seed_list(), kept so no step allocates it
  int m_copies;        // copies of each seed's critic inputs (S > 1: one per critic, else 1)
  size_t m_critic_x_stride, m_actor_x_stride;  // first-layer member strides (0 at S = 1)
  bool m_warm = false;  // the first update has run (eagerly)
  std::map<int, std::unique_ptr<RecordedOps>> m_recorded;  // by length
  std::vector<uint64_t> m_recorded_rings;
};

}  // namespace sac
