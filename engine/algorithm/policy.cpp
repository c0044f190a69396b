// policy.cpp: the shared actor (policy.h): acting, deterministic or with each seed's own
// Philox noise, and the snapshot the step loop acts on beside the update.
// Tests: sac_tests --gtest_filter='*Pipeline*:*StepTraffic*:*LaneHazard*:*RingInsert*'.
#include "sac/policy.h"

#include <stdexcept>
#include <string>

#include "sac/learner.h"

namespace sac {
namespace {

// the Philox stream of the action noise (the key is the seed)
constexpr uint64_t kStreamAct = 4;

// S, checked: 1 <= S <= Backend::kMaxSeeds
int checked_seeds(const AgentSpec& spec) {
  int S = spec.num_seeds();
  if (S < 1 || S > Backend::kMaxSeeds)
    throw std::invalid_argument("agent: " + std::to_string(S) + " seeds; at most " +
                                std::to_string(Backend::kMaxSeeds) + " train in one agent");
  return S;
}

}  // namespace

MlpSpec actor_spec(const AgentSpec& s) { return {s.obs_dim, s.hidden, 2 * s.act_dim}; }

Policy::Policy(Backend& backend, const AgentSpec& spec, bool trainable)
    : m_backend(backend),
      m_obs_dim(spec.obs_dim),
      m_act_dim(spec.act_dim),
      m_seeds(checked_seeds(spec)),
      m_max_act_batch(spec.max_act_batch),
      m_log_std_min(spec.log_std_min),
      m_log_std_max(spec.log_std_max),
      m_precision(spec.matmul_precision),
      m_seed_keys(spec.seed_list()),
      m_actor(backend, actor_spec(spec), m_seeds, trainable),
      m_act_draws(backend, 1),
      m_act_acts(backend, actor_spec(spec), m_seeds, spec.max_act_batch),
      m_snapshot_acts(backend, actor_spec(spec), m_seeds, spec.max_act_batch) {
  const size_t act_rows = (size_t)m_seeds * spec.max_act_batch;
  m_act_eps = DeviceArray<float>(backend, act_rows * m_act_dim);
  m_act_logp = DeviceArray<float>(backend, act_rows);
  m_actor_snapshot = DeviceArray<float>(backend, m_actor.num_params());
  m_snapshot_eps = DeviceArray<float>(backend, act_rows * m_act_dim);
  m_snapshot_logp = DeviceArray<float>(backend, act_rows);
}

void Policy::act(int n, const float* d_obs, bool deterministic, float* d_actions) {
  act_with(m_actor.params(), m_act_acts, m_act_eps.data(), m_act_logp.data(), n, d_obs,
           deterministic, d_actions);
}

void Policy::act_with(const float* actor_params, MlpActivations& acts, float* eps, float* logp,
                      int n, const float* d_obs, bool deterministic, float* d_actions) {
  const int A = m_act_dim, S = m_seeds;
  const Backend::MatmulPrecisionScope precision(m_precision);
  if (n < 0 || n > m_max_act_batch)
    throw std::invalid_argument("Policy::act: " + std::to_string(n) +
                                " rows per seed; max_act_batch is " +
                                std::to_string(m_max_act_batch));
  mlp_forward(m_backend, m_actor, actor_params, n, d_obs, S > 1 ? (size_t)n * m_obs_dim : 0,
              acts);
  if (deterministic) {
    m_backend.tanh_gaussian_mean(S * n, A, acts.result(), d_actions);
    return;
  }
  // each seed's noise from its own key, at the same draw block
  m_backend.increment(m_act_draws.data());
  m_backend.fill_normal_seeds(S, (size_t)n * A, m_seed_keys.data(), kStreamAct,
                              m_act_draws.data(), eps);
  m_backend.tanh_gaussian_sample(S, n, A, acts.result(), eps, m_log_std_min, m_log_std_max,
                                 d_actions, A, 1, logp);
}

void Policy::act_snapshot(int n, const float* d_obs, float* d_actions, float* h_actions) {
  auto work = [this, n, d_obs, d_actions] {
    act_with(m_actor_snapshot.data(), m_snapshot_acts, m_snapshot_eps.data(),
             m_snapshot_logp.data(), n, d_obs, false, d_actions);
  };
  m_backend.set_lane(0);
  m_backend.fork(Backend::kActLane);  // after the obs upload and the latest snapshot
  m_backend.set_lane(Backend::kActLane);
  if (m_snapshot_is_live) {
    // the snapshot was not copied (snapshot_actor): the live actor is it
    act_with(m_actor.params(), m_act_acts, m_act_eps.data(), m_act_logp.data(), n, d_obs, false,
             d_actions);
  } else if (!m_snapshot_warm) {
    work();
    m_snapshot_warm = true;
  } else {
    std::unique_ptr<RecordedOps>& slot = m_recorded_acts[{n, d_obs, d_actions}];
    if (!slot) slot = m_backend.record(work);
    slot->replay();
  }
  m_backend.download_async(h_actions, d_actions, (size_t)m_seeds * n * m_act_dim * sizeof(float));
  m_backend.set_lane(0);
}

void Policy::snapshot_actor() {
  m_backend.set_lane(0);
  m_backend.join(Backend::kActLane);  // no act_snapshot still reads the old weights
  // where nothing runs beside anything else (the CPU), acting until the next update reads the
  // live actor, and the next update copies it first: no copy, and one actor in the caches
  m_snapshot_is_live = m_backend.runs_in_issue_order();
  if (!m_snapshot_is_live)
    m_backend.copy(m_actor_snapshot.data(), m_actor.params(),
                   m_actor.num_params() * sizeof(float));
}

void Policy::keep_snapshot() {
  if (!m_snapshot_is_live) return;
  m_backend.copy(m_actor_snapshot.data(), m_actor.params(), m_actor.num_params() * sizeof(float));
  m_snapshot_is_live = false;
}

}  // namespace sac
