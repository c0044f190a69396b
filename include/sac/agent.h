// agent.h: the SAC agent (Haarnoja et al. 2018b): a tanh-Gaussian actor, a group of critics
// (E = num_critics, clipped double-Q), their Polyak-averaged targets and a learned log alpha.
// update() is the paper's Algorithm 1 step, written out in agent.cpp in one function.
// S seeds train as members of the same groups (DESIGN.md section 12): the actor group has
// E = S, critics and targets E = S x num_critics ordered [seed][critic]; each seed has its own
// log alpha, Philox key, replay ring and losses, and reads nothing of another seed.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "sac/backend.h"
#include "sac/config.h"
#include "sac/mlp.h"
#include "sac/replay_buffer.h"
#include "sac/state_tensor.h"

namespace sac {

/// Settings the agent needs, taken from Config plus the task's sizes.
struct AgentSpec {
  int obs_dim = 0;
  int act_dim = 0;
  std::vector<int> hidden = {256, 256};
  int num_critics = 2;
  int batch_size = 256;
  int max_act_batch = 1;  // largest batch act() is called with
  float gamma = 0.99f, tau = 0.005f;
  float actor_lr = 3e-4f, critic_lr = 3e-4f, alpha_lr = 3e-4f;
  float beta1 = 0.9f, beta2 = 0.999f, adam_eps = 1e-8f;
  float init_log_alpha = 0.0f;
  bool learn_alpha = true;
  float target_entropy = 0.0f;
  float log_std_min = -5.0f, log_std_max = 2.0f;
  MatmulPrecision matmul_precision = MatmulPrecision::kFp32;
  uint64_t seed = 1;
  /// The seeds trained together as members (empty: {seed}); at most Backend::kMaxSeeds.
  std::vector<uint64_t> seeds;

  /// The seeds as members, in member order ({seed} when `seeds` is empty).
  std::vector<uint64_t> seed_list() const {
    return seeds.empty() ? std::vector<uint64_t>{seed} : seeds;
  }
  /// S, the number of seeds.
  int num_seeds() const { return seeds.empty() ? 1 : (int)seeds.size(); }

  static AgentSpec from_config(const Config& config, int obs_dim, int act_dim, int act_batch);
};

/// Scalars of the latest update, read back on demand (a host sync on CUDA).
struct UpdateMetrics {
  float critic_loss = 0, actor_loss = 0, alpha_loss = 0, alpha = 0, entropy = 0;
  int64_t updates = 0;
};

class Agent {
 public:
  Agent(Backend& backend, const AgentSpec& spec);

  const AgentSpec& spec() const { return m_spec; }
  Backend& backend() { return m_backend; }

  /// The most updates one recorded sequence holds; a larger count is several launches of it
  /// (a graph's size and instantiation time grow with the updates it holds).
  static constexpr int kMaxRecordedUpdates = 32;

  /// `count` SAC updates, each on a minibatch drawn from `replay` (sampling and noise on the
  /// backend), with no allocation and no host synchronisation. The agent's very first update
  /// runs op by op (so module loading and library set-up never happen inside a CUDA graph
  /// capture); the rest run as launches of recorded sequences of at most kMaxRecordedUpdates
  /// updates, recorded once per (replay, length) and replayed: one CUDA graph launch each.
  void update(const ReplayBuffer& replay, int count = 1);

  /// update() of S seeds at once, seed s sampling from rings[s] (one ring per seed, in seed
  /// order); the recordings are kept per set of rings (by their ids). Each seed's result is
  /// the result of its own single-seed agent on its ring.
  void update(const std::vector<const ReplayBuffer*>& rings, int count = 1);

  /// One SAC update on a given minibatch and given policy noise (batch_size x act_dim each,
  /// backend memory): eps_next for the target actions, eps_cur for the actor loss. The batch
  /// is first laid out as sample_minibatch lays out a sampled one. One seed only (S = 1).
  void update_on(const TransitionBatch& batch, const float* eps_next, const float* eps_cur);

  /// Actions in [-1, 1] for n observations per seed (backend memory, n <= max_act_batch; S x n
  /// rows in and S x n actions out, stacked by seed): a tanh-Gaussian sample with fresh Philox
  /// noise from each seed's own key, or tanh(mean) when `deterministic`.
  void act(int n, const float* d_obs, bool deterministic, float* d_actions);

  /// The step loop's acting: act(n, d_obs, false, d_actions) on the actor snapshot (not the
  /// live actor), issued on Backend::kActLane after everything issued so far on the main lane,
  /// followed by the download of the actions into h_actions (allocate_host memory): the host
  /// reads them after wait_lane(Backend::kActLane). Update blocks issued later run beside it.
  /// The first call runs op by op; later ones are a recording per (n, d_obs, d_actions), one
  /// CUDA graph launch each. The current lane is the main lane again on return.
  void act_snapshot(int n, const float* d_obs, float* d_actions, float* h_actions);

  /// Copies the actor's weights into the snapshot act_snapshot reads, on the main lane, once
  /// every act_snapshot issued so far has finished with it. The step loop calls it after each
  /// update block; the agent takes one at construction (call it again after loading weights).
  /// On a backend that runs in issue order (the CPU) the copy waits for the next update(),
  /// which makes it before changing the actor; until then acting reads the live actor, the same
  /// weights (so weights written into actor() from outside are seen by acting until then).
  void snapshot_actor();

  /// The latest update's scalars of seed `seed_index` (0 <= seed_index < S).
  UpdateMetrics read_metrics(int seed_index = 0) const;

  MlpGroup& actor() { return m_actor; }
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
  /// Stochastic act() calls so far (the draw block of the action noise).
  int64_t* act_draw_counter() { return m_act_draws.data(); }
  /// Losses of the latest update: critic, actor, alpha (3 x S values: the critic losses of the
  /// seeds, then their actor losses, then their alpha losses).
  float* losses() { return m_losses.data(); }

  /// The agent's checkpoint tensors (backend memory): actor, critic, target, their Adam
  /// moments, log alpha with its gradient and Adam state, the losses and the counters, in the
  /// order a non-finite scan reports them (losses, log alpha, weights, then Adam state).
  std::vector<StateTensor> state_tensors();

  /// Seed number `seed_index`'s share of state_tensors(), in the same order: its members of the
  /// networks and their Adam moments, and its values of the per-seed tensors (losses, log alpha
  /// and its state, each a one-value view); the shared counters are left out. For scans of one
  /// seed (a run of several stops a diverged seed alone).
  std::vector<StateTensor> seed_state_tensors(int seed_index);

 private:
  void sample_and_update(const std::vector<const ReplayBuffer*>& rings);
  // Algorithm 1's update on the minibatch in m_mb (see agent.cpp for its lanes)
  void update_laid_out();

  Backend& m_backend;
  AgentSpec m_spec;
  MlpGroup m_actor, m_critic, m_target;
  DeviceArray<float> m_log_alpha, m_log_alpha_grad, m_log_alpha_m, m_log_alpha_v;
  DeviceArray<int64_t> m_updates, m_act_draws, m_indices;

  // workspace, sized at start: the update allocates nothing
  DeviceArray<float> m_mb_storage;  // the minibatch in the networks' layouts (m_mb)
  MinibatchLayout m_mb;
  DeviceArray<float> m_logp_next, m_y, m_logp;
  DeviceArray<float> m_losses;  // critic, actor, alpha
  // actor on s' and on s, critics on (s, a) then (s, a~), targets on (s', a')
  MlpActivations m_actor_next_acts, m_actor_acts, m_critic_acts, m_target_acts, m_act_acts;
  DeviceArray<float> m_act_eps, m_act_logp;
  // act_snapshot's own weights and workspace, never touched by update() or act()
  DeviceArray<float> m_actor_snapshot;
  MlpActivations m_snapshot_acts;
  DeviceArray<float> m_snapshot_eps, m_snapshot_logp;
  bool m_snapshot_warm = false;  // act_snapshot has run once (eagerly)
  // the snapshot is the live actor, not yet copied (a backend that runs in issue order)
  bool m_snapshot_is_live = false;
  void keep_snapshot();
  std::map<std::tuple<int, const float*, float*>, std::unique_ptr<RecordedOps>> m_recorded_acts;
  void act_with(const float* actor_params, MlpActivations& acts, float* eps, float* logp, int n,
                const float* d_obs, bool deterministic, float* d_actions);

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
