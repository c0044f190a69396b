// policy.h: the actor every learner shares: a tanh-Gaussian actor group (E = S seeds, one
// member per seed), acting with fresh Philox noise from each seed's own key or
// deterministically (tanh of the mean), and the snapshot of its weights that the step loop acts
// on beside the update. A learner (learner.h) owns one Policy and trains its actor; evaluation,
// videos and policy files build a Policy alone, without critics or update workspace.
// Tests: sac_tests --gtest_filter='*Pipeline*:*StepTraffic*:*LaneHazard*' (acting and its
// snapshot), '*RunFiles*' (policy files).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "sac/backend.h"
#include "sac/mlp.h"

namespace sac {

struct AgentSpec;

/// The policy's network shape for the task sizes of `spec`: obs_dim in, the hidden widths,
/// 2 x act_dim out ([mean, raw log-std] per action).
MlpSpec actor_spec(const AgentSpec& spec);

class Policy {
 public:
  /// The actor of `spec` (sizes, hidden widths, seeds, max_act_batch, log-std bounds and matmul
  /// precision are read): zero weights until a learner initialises them or a file's are
  /// uploaded. `trainable` adds the gradient and Adam buffers a learner trains with.
  Policy(Backend& backend, const AgentSpec& spec, bool trainable);

  MlpGroup& actor() { return m_actor; }
  const MlpGroup& actor() const { return m_actor; }

  /// Actions in [-1, 1] for n observations per seed (backend memory, n <= max_act_batch; S x n
  /// rows in and S x n actions out, stacked by seed): a tanh-Gaussian sample with fresh Philox
  /// noise from each seed's own key, or tanh(mean) when `deterministic`.
  void act(int n, const float* d_obs, bool deterministic, float* d_actions);

  /// The step loop's acting: act(n, d_obs, false, d_actions) on the actor snapshot (not the
  /// live actor), issued on Backend::kActLane after everything issued so far on the main lane,
  /// followed by the download of the actions into h_actions (allocate_host memory): the host
  /// reads them after wait_lane(Backend::kActLane). Updates issued later run beside it.
  /// The first call runs op by op; later ones are a recording per (n, d_obs, d_actions), one
  /// CUDA graph launch each. The current lane is the main lane again on return.
  void act_snapshot(int n, const float* d_obs, float* d_actions, float* h_actions);

  /// Copies the actor's weights into the snapshot act_snapshot reads, on the main lane, once
  /// every act_snapshot issued so far has finished with it. The step loop calls it after each
  /// update block; a learner takes one at construction (call it again after loading weights).
  /// On a backend that runs in issue order (the CPU) the copy waits for keep_snapshot(), which
  /// a learner calls before changing the actor; until then acting reads the live actor, the
  /// same weights (so weights written into actor() from outside are seen by acting until then).
  void snapshot_actor();

  /// Before the actor's weights change: a snapshot left live (see snapshot_actor) becomes a
  /// copy. A learner calls it at the start of each update.
  void keep_snapshot();

  /// Stochastic act() calls so far (the draw block of the action noise; backend memory, one
  /// value shared by the seeds).
  int64_t* act_draw_counter() { return m_act_draws.data(); }

 private:
  void act_with(const float* actor_params, MlpActivations& acts, float* eps, float* logp, int n,
                const float* d_obs, bool deterministic, float* d_actions);

  Backend& m_backend;
  int m_obs_dim, m_act_dim, m_seeds, m_max_act_batch;
  float m_log_std_min, m_log_std_max;
  MatmulPrecision m_precision;
  std::vector<uint64_t> m_seed_keys;  // the seeds, kept so no act allocates them
  MlpGroup m_actor;
  DeviceArray<int64_t> m_act_draws;
  MlpActivations m_act_acts;
  DeviceArray<float> m_act_eps, m_act_logp;
  // act_snapshot's own weights and workspace, never touched by an update or act()
  DeviceArray<float> m_actor_snapshot;
  MlpActivations m_snapshot_acts;
  DeviceArray<float> m_snapshot_eps, m_snapshot_logp;
  bool m_snapshot_warm = false;  // act_snapshot has run once (eagerly)
  // the snapshot is the live actor, not yet copied (a backend that runs in issue order)
  bool m_snapshot_is_live = false;
  std::map<std::tuple<int, const float*, float*>, std::unique_ptr<RecordedOps>> m_recorded_acts;
};

}  // namespace sac
