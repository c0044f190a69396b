// agent.cpp: the SAC update. Every op runs on the backend with memory sized at construction;
// no host synchronisation happens inside update(), so the CUDA backend can capture it as a graph.
#include "sac/agent.h"

#include <algorithm>
#include <cmath>

namespace sac {
namespace {

// Philox streams of the agent's random numbers (the key is the seed)
constexpr uint64_t kStreamSample = 1;
constexpr uint64_t kStreamNoiseNext = 2;
constexpr uint64_t kStreamNoiseCur = 3;
constexpr uint64_t kStreamAct = 4;
constexpr uint64_t kStreamInit = 5;

MlpSpec actor_spec(const AgentSpec& s) { return {s.obs_dim, s.hidden, 2 * s.act_dim}; }
MlpSpec critic_spec(const AgentSpec& s) { return {s.obs_dim + s.act_dim, s.hidden, 1}; }

}  // namespace

AgentSpec AgentSpec::from_config(const Config& c, int obs_dim, int act_dim, int act_batch) {
  AgentSpec s;
  s.obs_dim = obs_dim;
  s.act_dim = act_dim;
  s.hidden = c.hidden;
  s.num_critics = c.num_critics;
  s.batch_size = c.batch_size;
  s.max_act_batch = act_batch;
  s.gamma = (float)c.gamma;
  s.tau = (float)c.tau;
  s.actor_lr = (float)c.actor_lr;
  s.critic_lr = (float)c.critic_lr;
  s.alpha_lr = (float)c.alpha_lr;
  s.beta1 = (float)c.adam_beta1;
  s.beta2 = (float)c.adam_beta2;
  s.adam_eps = (float)c.adam_eps;
  s.init_log_alpha = (float)c.init_log_alpha;
  s.learn_alpha = c.learn_alpha;
  s.target_entropy = c.target_entropy_auto ? -(float)act_dim : (float)c.target_entropy;
  s.log_std_min = (float)c.log_std_min;
  s.log_std_max = (float)c.log_std_max;
  s.seed = c.seed;
  return s;
}

Agent::Agent(Backend& backend, const AgentSpec& spec)
    : m_backend(backend),
      m_spec(spec),
      m_actor(backend, actor_spec(spec), 1, true),
      m_critic(backend, critic_spec(spec), spec.num_critics, true),
      m_target(backend, critic_spec(spec), spec.num_critics, false),
      m_log_alpha(backend, 1),
      m_log_alpha_grad(backend, 1),
      m_log_alpha_m(backend, 1),
      m_log_alpha_v(backend, 1),
      m_updates(backend, 1),
      m_act_draws(backend, 1),
      m_indices(backend, spec.batch_size),
      m_actor_acts(backend, actor_spec(spec), 1, spec.batch_size),
      m_critic_acts(backend, critic_spec(spec), spec.num_critics, spec.batch_size),
      m_target_acts(backend, critic_spec(spec), spec.num_critics, spec.batch_size),
      m_act_acts(backend, actor_spec(spec), 1, spec.max_act_batch) {
  const int B = spec.batch_size, A = spec.act_dim, O = spec.obs_dim, E = spec.num_critics;
  // one block for the sampled minibatch: obs, action, reward, next_obs, terminated
  m_batch_storage = DeviceArray<float>(backend, TransitionBatch::floats(B, O, A));
  m_batch = TransitionBatch::over(m_batch_storage.data(), B, O, A);

  m_eps_next = DeviceArray<float>(backend, (size_t)B * A);
  m_eps_cur = DeviceArray<float>(backend, (size_t)B * A);
  m_action_next = DeviceArray<float>(backend, (size_t)B * A);
  m_logp_next = DeviceArray<float>(backend, B);
  m_y = DeviceArray<float>(backend, B);
  m_dq = DeviceArray<float>(backend, (size_t)E * B);
  m_action_pi = DeviceArray<float>(backend, (size_t)B * A);
  m_logp = DeviceArray<float>(backend, B);
  m_grad_action = DeviceArray<float>(backend, (size_t)B * A);
  m_critic_in = DeviceArray<float>(backend, (size_t)B * (O + A));
  m_losses = DeviceArray<float>(backend, 3);
  m_act_eps = DeviceArray<float>(backend, (size_t)spec.max_act_batch * A);
  m_act_logp = DeviceArray<float>(backend, spec.max_act_batch);

  // PyTorch-style init; targets start as copies of the critics
  HostRng rng(spec.seed, kStreamInit);
  m_actor.init_uniform(rng);
  m_critic.init_uniform(rng);
  backend.copy(m_target.params(), m_critic.params(), m_critic.num_params() * sizeof(float));
  m_log_alpha.upload(&spec.init_log_alpha, 1);
}

void Agent::adam_group(MlpGroup& group, float lr) {
  m_backend.adam(group.num_params(), group.params(), group.grads(), group.adam_m(),
                 group.adam_v(), lr, m_spec.beta1, m_spec.beta2, m_spec.adam_eps,
                 m_updates.data());
}

void Agent::update(const ReplayBuffer& replay, int count) {
  if (count > 0 && !m_warm) {
    sample_and_update(replay);
    m_warm = true;
    --count;
  }
  while (count > 0) {
    int length = std::min(count, kMaxRecordedUpdates);
    recorded_updates(replay, length).replay();
    count -= length;
  }
}

RecordedOps& Agent::recorded_updates(const ReplayBuffer& replay, int length) {
  if (replay.id() != m_recorded_replay) {
    m_recorded.clear();
    m_recorded_replay = replay.id();
  }
  std::unique_ptr<RecordedOps>& slot = m_recorded[length];
  if (!slot)
    slot = m_backend.record([this, &replay, length] {
      for (int i = 0; i < length; ++i) sample_and_update(replay);
    });
  return *slot;
}

void Agent::sample_and_update(const ReplayBuffer& replay) {
  const int B = m_spec.batch_size;
  const size_t noise = (size_t)B * m_spec.act_dim;
  // draws are indexed by the update count (before this update's increment)
  replay.sample(B, m_spec.seed, kStreamSample, m_updates.data(), m_indices.data(), m_batch);
  m_backend.fill_normal(noise, m_spec.seed, kStreamNoiseNext, m_updates.data(), m_eps_next.data());
  m_backend.fill_normal(noise, m_spec.seed, kStreamNoiseCur, m_updates.data(), m_eps_cur.data());
  update_on(m_batch, m_eps_next.data(), m_eps_cur.data());
}

void Agent::update_on(const TransitionBatch& batch, const float* eps_next, const float* eps_cur) {
  Backend& be = m_backend;
  const int B = m_spec.batch_size, A = m_spec.act_dim, O = m_spec.obs_dim;
  const int E = m_spec.num_critics;
  const int last = (int)m_spec.hidden.size();
  float* log_alpha = m_log_alpha.data();
  be.increment(m_updates.data());  // Adam step t of this update

  // soft targets: a' ~ pi(.|s'), y = r + gamma (1 - d) (min_i Q'_i(s', a') - alpha log pi(a'|s'))
  mlp_forward(be, m_actor, m_actor.params(), B, batch.next_obs, 0, m_actor_acts);
  be.tanh_gaussian_sample(B, A, m_actor_acts.result(), eps_next, m_spec.log_std_min,
                          m_spec.log_std_max, m_action_next.data(), m_logp_next.data());
  be.concat_columns(B, O, batch.next_obs, A, m_action_next.data(), m_critic_in.data());
  mlp_forward(be, m_target, m_target.params(), B, m_critic_in.data(), 0, m_target_acts);
  be.soft_targets(E, B, m_target_acts.result(), m_logp_next.data(), batch.reward,
                  batch.terminated, m_spec.gamma, log_alpha, m_y.data());

  // critic step: sum_i mean (Q_i(s, a) - y)^2
  be.concat_columns(B, O, batch.obs, A, batch.action, m_critic_in.data());
  mlp_forward(be, m_critic, m_critic.params(), B, m_critic_in.data(), 0, m_critic_acts);
  be.critic_loss(E, B, m_critic_acts.result(), m_y.data(), m_critic_acts.grad(last),
                 m_losses.data() + 0);
  mlp_backward(be, m_critic, B, m_critic_in.data(), 0, m_critic_acts, true, false);
  adam_group(m_critic, m_spec.critic_lr);

  // actor step: mean (alpha log pi(a~|s) - min_i Q_i(s, a~)), critics frozen (input grads only)
  mlp_forward(be, m_actor, m_actor.params(), B, batch.obs, 0, m_actor_acts);
  be.tanh_gaussian_sample(B, A, m_actor_acts.result(), eps_cur, m_spec.log_std_min,
                          m_spec.log_std_max, m_action_pi.data(), m_logp.data());
  be.concat_columns(B, O, batch.obs, A, m_action_pi.data(), m_critic_in.data());
  mlp_forward(be, m_critic, m_critic.params(), B, m_critic_in.data(), 0, m_critic_acts);
  be.actor_loss(E, B, m_critic_acts.result(), m_logp.data(), log_alpha, m_critic_acts.grad(last),
                m_losses.data() + 1);
  mlp_backward(be, m_critic, B, m_critic_in.data(), 0, m_critic_acts, false, true);
  be.sum_member_columns(E, B, O + A, O, A, m_critic_acts.input_grad(), m_grad_action.data());
  be.tanh_gaussian_backward(B, A, m_actor_acts.result(), eps_cur, m_action_pi.data(),
                            m_grad_action.data(), log_alpha, 1.0f / B, m_spec.log_std_min,
                            m_spec.log_std_max, m_actor_acts.grad(last));
  mlp_backward(be, m_actor, B, batch.obs, 0, m_actor_acts, true, false);
  adam_group(m_actor, m_spec.actor_lr);

  // temperature step: mean -log alpha (log pi + target entropy), log pi held fixed
  be.alpha_loss(B, m_logp.data(), log_alpha, m_spec.target_entropy, m_log_alpha_grad.data(),
                m_losses.data() + 2);
  if (m_spec.learn_alpha)
    be.adam(1, log_alpha, m_log_alpha_grad.data(), m_log_alpha_m.data(), m_log_alpha_v.data(),
            m_spec.alpha_lr, m_spec.beta1, m_spec.beta2, m_spec.adam_eps, m_updates.data());

  // target critics follow the online critics
  be.polyak(m_target.num_params(), m_target.params(), m_critic.params(), m_spec.tau);
}

void Agent::act(int n, const float* d_obs, bool deterministic, float* d_actions) {
  const int A = m_spec.act_dim;
  mlp_forward(m_backend, m_actor, m_actor.params(), n, d_obs, 0, m_act_acts);
  if (deterministic) {
    m_backend.tanh_gaussian_mean(n, A, m_act_acts.result(), d_actions);
    return;
  }
  m_backend.increment(m_act_draws.data());
  m_backend.fill_normal((size_t)n * A, m_spec.seed, kStreamAct, m_act_draws.data(),
                        m_act_eps.data());
  m_backend.tanh_gaussian_sample(n, A, m_act_acts.result(), m_act_eps.data(), m_spec.log_std_min,
                                 m_spec.log_std_max, d_actions, m_act_logp.data());
}

UpdateMetrics Agent::read_metrics() const {
  UpdateMetrics m;
  float losses[3], log_alpha, grad;
  m_losses.download(losses, 3);
  m_log_alpha.download(&log_alpha, 1);
  m_log_alpha_grad.download(&grad, 1);
  m_updates.download(&m.updates, 1);
  m.critic_loss = losses[0];
  m.actor_loss = losses[1];
  m.alpha_loss = losses[2];
  m.alpha = std::exp(log_alpha);
  // alpha-loss gradient is -mean(log pi + target entropy), so entropy = grad + target entropy
  m.entropy = grad + m_spec.target_entropy;
  return m;
}

}  // namespace sac
