// agent.cpp: the SAC update. Every op runs on the backend with memory sized at construction;
// no host synchronisation happens inside update(), so the CUDA backend can capture it as a graph.
//
// One update is 37 launches (each linear layer, forward or either backward GEMM, is one), on
// lanes that may run concurrently (CUDA graph branches):
//   main   sample_minibatch | critic forward on (s, a) | wait target | critic loss | critic
//          backward (input chain) | wait for its weight grads and the step counter | Adam +
//          Polyak | wait actor | critic forward on (s, a~) | actor + alpha loss | critic input
//          backward | tanh-Gaussian backward | actor backward (input chain) | wait | Adam
//   lane 1 actor on s' -> a' | target critics on (s', a')          (forked after the sample)
//   lane 2 actor on s -> a~                                          (forked after the sample)
//   lane 3 the weight gradients of each backward, beside its input-gradient chain
//          (and, first, the update counter: Adam's step t, read by the sample before it)
// The longest dependent chain is 25 launches (tests/test_update_shape.cpp counts both).
//
// S seeds are members: the same launches for any S. Each seed reads only its own rows,
// members and alpha: the fused losses and the tanh-Gaussian ops take S, and with S > 1 each
// seed's critic inputs are stored once per critic (member (s, c) reads copy c of seed s at a
// fixed member stride, so a critic layer stays one strided-batched GEMM); at S = 1 the critics
// share one input (stride 0), as they always did.
#include "sac/agent.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "algorithm/mlp_state_tensors.h"

namespace sac {
namespace {

// Philox streams of the agent's random numbers (the key is the seed)
constexpr uint64_t kStreamSample = 1;
constexpr uint64_t kStreamNoiseNext = 2;
constexpr uint64_t kStreamNoiseCur = 3;
// (4: the policy's action noise, policy.cpp)
constexpr uint64_t kStreamInit = 5;

MlpSpec critic_spec(const AgentSpec& s) { return {s.obs_dim + s.act_dim, s.hidden, 1}; }

}  // namespace

Agent::Agent(Backend& backend, const AgentSpec& spec)
    : m_backend(backend),
      m_spec(spec),
      m_policy(backend, spec, true),  // checks the seed count first
      m_actor(m_policy.actor()),
      m_critic(backend, critic_spec(spec), spec.num_seeds() * spec.num_critics, true),
      m_target(backend, critic_spec(spec), spec.num_seeds() * spec.num_critics, false),
      m_log_alpha(backend, spec.num_seeds()),
      m_log_alpha_grad(backend, spec.num_seeds()),
      m_log_alpha_m(backend, spec.num_seeds()),
      m_log_alpha_v(backend, spec.num_seeds()),
      m_updates(backend, 1),
      m_indices(backend, (size_t)spec.num_seeds() * spec.batch_size),
      m_actor_next_acts(backend, actor_spec(spec), spec.num_seeds(), spec.batch_size),
      m_actor_acts(backend, actor_spec(spec), spec.num_seeds(), spec.batch_size),
      m_critic_acts(backend, critic_spec(spec), spec.num_seeds() * spec.num_critics,
                    spec.batch_size),
      m_target_acts(backend, critic_spec(spec), spec.num_seeds() * spec.num_critics,
                    spec.batch_size) {
  const int B = spec.batch_size, A = spec.act_dim, O = spec.obs_dim, S = spec.num_seeds();
  m_seeds = S;
  m_seed_keys = spec.seed_list();
  m_copies = S > 1 ? spec.num_critics : 1;
  m_critic_x_stride = S > 1 ? (size_t)B * (O + A) : 0;
  m_actor_x_stride = S > 1 ? (size_t)B * O : 0;
  // one block for the minibatch layouts: s, s', [s, a], [s, a~], [s', a'], r, d, 2 noise blocks
  // (per seed; the critic inputs m_copies times)
  const size_t BO = (size_t)S * B * O, BW = (size_t)S * m_copies * B * (O + A),
               BA = (size_t)S * B * A;
  m_mb_storage = DeviceArray<float>(backend, 2 * BO + 3 * BW + 2 * (size_t)S * B + 2 * BA);
  float* next = m_mb_storage.data();
  auto take = [&next](size_t n) {
    float* p = next;
    next += n;
    return p;
  };
  m_mb.indices = m_indices.data();
  m_mb.obs = take(BO);
  m_mb.next_obs = take(BO);
  m_mb.critic_in = take(BW);
  m_mb.critic_in_pi = take(BW);
  m_mb.target_in = take(BW);
  const size_t SB = (size_t)S * B;
  m_mb.reward = take(SB);
  m_mb.terminated = take(SB);
  m_mb.eps_next = take(BA);
  m_mb.eps_cur = take(BA);

  m_logp_next = DeviceArray<float>(backend, SB);
  m_y = DeviceArray<float>(backend, SB);
  m_logp = DeviceArray<float>(backend, SB);
  m_losses = DeviceArray<float>(backend, 3 * (size_t)S);

  // PyTorch-style init from each seed's own generator (its actor, then its critics);
  // targets start as copies of the critics
  std::vector<HostRng> rngs;
  for (uint64_t seed : spec.seed_list()) rngs.emplace_back(seed, kStreamInit);
  m_actor.init_uniform(rngs);
  m_critic.init_uniform(rngs);
  backend.copy(m_target.params(), m_critic.params(), m_critic.num_params() * sizeof(float));
  std::vector<float> log_alpha(S, spec.init_log_alpha);
  m_log_alpha.upload(log_alpha.data(), S);
  m_policy.snapshot_actor();
}

void Agent::update(const std::vector<const ReplayBuffer*>& rings, int count) {
  if ((int)rings.size() != m_seeds)
    throw std::invalid_argument("Agent::update: " + std::to_string(rings.size()) +
                                " replay buffers for " + std::to_string(m_seeds) +
                                " seeds; pass one per seed");
  if (count > 0) m_policy.keep_snapshot();
  if (count > 0 && !m_warm) {
    sample_and_update(rings);
    m_warm = true;
    --count;
  }
  while (count > 0) {
    int length = std::min(count, kMaxRecordedUpdates);
    recorded_updates(rings, length).replay();
    count -= length;
  }
}

RecordedOps& Agent::recorded_updates(const std::vector<const ReplayBuffer*>& rings, int length) {
  auto same_rings = [&] {
    if (rings.size() != m_recorded_rings.size()) return false;
    for (size_t s = 0; s < rings.size(); ++s)
      if (rings[s]->id() != m_recorded_rings[s]) return false;
    return true;
  };
  if (!same_rings()) {
    m_recorded.clear();
    m_recorded_rings.clear();
    for (const ReplayBuffer* ring : rings) m_recorded_rings.push_back(ring->id());
  }
  std::unique_ptr<RecordedOps>& slot = m_recorded[length];
  if (!slot)
    slot = m_backend.record([this, rings, length] {
      for (int i = 0; i < length; ++i) sample_and_update(rings);
    });
  return *slot;
}

void Agent::sample_and_update(const std::vector<const ReplayBuffer*>& rings) {
  // each seed draws from its own key; draws are indexed by the update count (before this
  // update's increment), shared by the seeds
  RingView views[Backend::kMaxSeeds];
  MinibatchDraws draws[Backend::kMaxSeeds];
  for (int s = 0; s < m_seeds; ++s) {
    views[s] = rings[s]->ring();
    draws[s].key = m_seed_keys[s];
    draws[s].index_stream = kStreamSample;
    draws[s].next_noise_stream = kStreamNoiseNext;
    draws[s].cur_noise_stream = kStreamNoiseCur;
    draws[s].d_counter = m_updates.data();
  }
  m_backend.sample_minibatch(m_seeds, m_spec.batch_size, m_spec.obs_dim, m_spec.act_dim,
                             m_copies, views, draws, m_mb);
  update_laid_out();
}

void Agent::update_on(const TransitionBatch& batch, const float* eps_next, const float* eps_cur) {
  m_policy.keep_snapshot();
  if (m_seeds != 1)
    throw std::invalid_argument("Agent::update_on: one seed only (this agent has " +
                                std::to_string(m_seeds) + ")");
  Backend& be = m_backend;
  const int B = m_spec.batch_size, A = m_spec.act_dim, O = m_spec.obs_dim;
  const size_t f = sizeof(float);
  be.copy(m_mb.obs, batch.obs, (size_t)B * O * f);
  be.copy(m_mb.next_obs, batch.next_obs, (size_t)B * O * f);
  be.concat_columns(B, O, batch.obs, A, batch.action, m_mb.critic_in);
  be.copy(m_mb.critic_in_pi, m_mb.critic_in, (size_t)B * (O + A) * f);
  be.concat_columns(B, O, batch.next_obs, A, batch.action, m_mb.target_in);
  be.copy(m_mb.reward, batch.reward, B * f);
  be.copy(m_mb.terminated, batch.terminated, B * f);
  be.copy(m_mb.eps_next, eps_next, (size_t)B * A * f);
  be.copy(m_mb.eps_cur, eps_cur, (size_t)B * A * f);
  update_laid_out();
}

void Agent::update_laid_out() {
  Backend& be = m_backend;
  const int B = m_spec.batch_size, A = m_spec.act_dim, O = m_spec.obs_dim, W = O + A;
  const int S = m_seeds, C = m_spec.num_critics;
  const int last = (int)m_spec.hidden.size();
  const float* log_alpha = m_log_alpha.data();
  float* losses = m_losses.data();
  const size_t xc = m_critic_x_stride, xa = m_actor_x_stride;
  // this agent's precision, not the backend's (another agent may share it)
  const Backend::MatmulPrecisionScope precision(m_spec.matmul_precision);
  constexpr int kMain = 0, kTarget = 1, kActor = 2, kSide = 3;
  be.set_lane(kMain);
  be.fork(kTarget);
  be.fork(kActor);
  be.fork(kSide);

  // Adam step t of this update (the sample read the count before it)
  be.set_lane(kSide);
  be.increment(m_updates.data());

  // soft-target inputs: a' ~ pi(.|s') into [s', a'], then Q'_i(s', a')
  be.set_lane(kTarget);
  mlp_forward(be, m_actor, m_actor.params(), B, m_mb.next_obs, xa, m_actor_next_acts);
  be.tanh_gaussian_sample(S, B, A, m_actor_next_acts.result(), m_mb.eps_next, m_spec.log_std_min,
                          m_spec.log_std_max, m_mb.target_in + O, W, m_copies,
                          m_logp_next.data());
  mlp_forward(be, m_target, m_target.params(), B, m_mb.target_in, xc, m_target_acts);

  // the policy's actions a~ ~ pi(.|s) into [s, a~] (the actor changes only in its own step)
  be.set_lane(kActor);
  mlp_forward(be, m_actor, m_actor.params(), B, m_mb.obs, xa, m_actor_acts);
  be.tanh_gaussian_sample(S, B, A, m_actor_acts.result(), m_mb.eps_cur, m_spec.log_std_min,
                          m_spec.log_std_max, m_mb.critic_in_pi + O, W, m_copies,
                          m_logp.data());

  // critic step: y = r + gamma (1 - d) (min_i Q'_i(s', a') - alpha log pi(a'|s')), loss
  // sum_i mean (Q_i(s, a) - y)^2; Adam, and the targets follow (Polyak) in the same launch
  be.set_lane(kMain);
  mlp_forward(be, m_critic, m_critic.params(), B, m_mb.critic_in, xc, m_critic_acts);
  be.join(kTarget);
  be.critic_loss_soft_targets(S, C, B, m_target_acts.result(), m_logp_next.data(), m_mb.reward,
                              m_mb.terminated, m_spec.gamma, log_alpha, m_critic_acts.result(),
                              m_y.data(), m_critic_acts.grad(last), losses);
  mlp_backward(be, m_critic, B, m_mb.critic_in, xc, m_critic_acts, true, false, kSide);
  be.adam_polyak(m_critic.num_params(), m_critic.params(), m_critic.grads(), m_critic.adam_m(),
                 m_critic.adam_v(), m_spec.critic_lr, m_spec.beta1, m_spec.beta2, m_spec.adam_eps,
                 m_updates.data(), m_target.params(), m_spec.tau);

  // actor step: mean (alpha log pi(a~|s) - min_i Q_i(s, a~)) with the updated critics frozen
  // (input gradients only); temperature: mean -log alpha (log pi + target entropy), log pi fixed
  be.join(kActor);
  mlp_forward(be, m_critic, m_critic.params(), B, m_mb.critic_in_pi, xc, m_critic_acts);
  be.actor_alpha_loss(S, C, B, m_critic_acts.result(), m_logp.data(), log_alpha,
                      m_spec.target_entropy, m_critic_acts.grad(last), losses + S,
                      m_log_alpha_grad.data(), losses + 2 * S);
  mlp_backward(be, m_critic, B, m_mb.critic_in_pi, xc, m_critic_acts, false, true, -1);
  be.tanh_gaussian_backward_critics(S, B, A, m_actor_acts.result(), m_mb.eps_cur,
                                    m_mb.critic_in_pi + O, W, (size_t)m_copies * B * W, C, W, O,
                                    m_critic_acts.input_grad(), log_alpha, 1.0f / B,
                                    m_spec.log_std_min, m_spec.log_std_max,
                                    m_actor_acts.grad(last));
  mlp_backward(be, m_actor, B, m_mb.obs, xa, m_actor_acts, true, false, kSide);
  AdamTensor step[2];
  step[0] = {m_actor.num_params(), m_actor.params(), m_actor.grads(), m_actor.adam_m(),
             m_actor.adam_v(), m_spec.actor_lr};
  step[1] = {(size_t)S, m_log_alpha.data(), m_log_alpha_grad.data(), m_log_alpha_m.data(),
             m_log_alpha_v.data(), m_spec.alpha_lr};
  be.adam_multi(m_spec.learn_alpha ? 2 : 1, step, m_spec.beta1, m_spec.beta2, m_spec.adam_eps,
                m_updates.data());
}

UpdateMetrics Agent::read_metrics(int seed_index) const {
  const int S = m_seeds, s = seed_index;
  if (s < 0 || s >= S)
    throw std::invalid_argument("Agent::read_metrics: seed index " + std::to_string(s) +
                                " of " + std::to_string(S));
  UpdateMetrics m;
  std::vector<float> losses(3 * (size_t)S), log_alpha(S), grad(S);
  m_losses.download(losses.data(), losses.size());
  m_log_alpha.download(log_alpha.data(), S);
  m_log_alpha_grad.download(grad.data(), S);
  m_updates.download(&m.updates, 1);
  m.critic_loss = losses[s];
  m.actor_loss = losses[S + s];
  m.alpha_loss = losses[2 * S + s];
  m.alpha = std::exp(log_alpha[s]);
  // alpha-loss gradient is -mean(log pi + target entropy), so entropy = grad + target entropy
  m.entropy = grad[s] + m_spec.target_entropy;
  return m;
}

std::vector<StateTensor> Agent::state_tensors() {
  using Memory = StateTensor::Memory;
  using Scan = StateTensor::Scan;
  // losses and log alpha, named for the divergence message
  // (S = 1: shapes {3} and {1}, as single-seed checkpoints have always stored them)
  const int S = m_seeds;
  using Shape = std::vector<int64_t>;
  const Shape per_seed = S == 1 ? Shape{1} : Shape{S};
  const Shape loss_shape = S == 1 ? Shape{3} : Shape{3, S};
  std::vector<StateTensor> list = {
      backend_tensor("losses", losses(), loss_shape, Scan::kWithLosses),
      backend_tensor("log_alpha", log_alpha(), per_seed, Scan::kAlways)};
  const std::vector<uint64_t> seeds = m_spec.seed_list();
  auto of_seed = [&](const std::string& what, int s) {
    return S == 1 ? what : what + " of seed " + std::to_string(seeds[s]);
  };
  for (const char* what : {"critic loss (Q values)", "actor loss", "alpha loss"})
    for (int s = 0; s < S; ++s) list[0].labels.push_back(of_seed(what, s));
  for (int s = 0; s < S; ++s) list[1].labels.push_back(of_seed("log alpha", s));
  // the networks' weights, then the Adam moments of the trained ones
  auto add_group = [&](const std::string& prefix, const MlpGroup& group, float* flat, Scan scan) {
    std::vector<StateTensor> g = group_state_tensors(prefix, group, flat, Memory::kBackend, scan);
    list.insert(list.end(), g.begin(), g.end());
  };
  add_group("critic", m_critic, m_critic.params(), Scan::kAlways);
  add_group("actor", m_actor, m_actor.params(), Scan::kAlways);
  add_group("target", m_target, m_target.params(), Scan::kAlways);
  add_group("adam_m.critic", m_critic, m_critic.adam_m(), Scan::kWithMoments);
  add_group("adam_v.critic", m_critic, m_critic.adam_v(), Scan::kWithMoments);
  add_group("adam_m.actor", m_actor, m_actor.adam_m(), Scan::kWithMoments);
  add_group("adam_v.actor", m_actor, m_actor.adam_v(), Scan::kWithMoments);
  // log alpha's Adam state and gradient, the update and action-noise counters
  list.push_back(
      backend_tensor("adam_m.log_alpha", log_alpha_adam_m(), per_seed, Scan::kWithMoments));
  list.push_back(
      backend_tensor("adam_v.log_alpha", log_alpha_adam_v(), per_seed, Scan::kWithMoments));
  list.push_back(backend_tensor("log_alpha_grad", log_alpha_grad(), per_seed));
  list.push_back(backend_tensor("counters.updates", update_counter(), {1}));
  list.push_back(backend_tensor("counters.act_draws", act_draw_counter(), {1}));
  return list;
}

std::vector<StateTensor> Agent::seed_state_tensors(int s) {
  const int S = m_seeds;
  if (s < 0 || s >= S)
    throw std::out_of_range("seed number " + std::to_string(s) + " of " + std::to_string(S));
  // one value of a per-seed tensor of n_kinds x S values: kind k of seed s
  auto view = [&](const StateTensor& t, int k) {
    StateTensor v = t;
    v.data = static_cast<float*>(t.data) + (size_t)k * S + s;
    v.shape = {1};
    v.labels.clear();
    if (!t.labels.empty()) v.labels.push_back(t.labels[(size_t)k * S + s]);
    return v;
  };
  std::vector<StateTensor> mine;
  for (const StateTensor& t : state_tensors()) {
    if (t.member >= 0) {
      // actor members are the seeds; critics and targets hold num_critics members per seed
      const int per_seed = t.name.find("actor.") != std::string::npos ? 1 : m_spec.num_critics;
      if (t.member / per_seed == s) mine.push_back(t);
    } else if (t.name == "losses") {
      for (int k = 0; k < 3; ++k) mine.push_back(view(t, k));
    } else if (t.name.compare(0, 9, "counters.") != 0) {
      mine.push_back(view(t, 0));  // log alpha, its gradient and Adam state
    }
  }
  return mine;
}

}  // namespace sac
