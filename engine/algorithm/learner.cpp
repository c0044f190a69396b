// learner.cpp: the learners' settings from the config (AgentSpec::from_config) and the factory
// that builds the learner a config's `algo` names (learner.h).
// Tests: sac_tests --gtest_filter='*Learner*'.
#include "sac/learner.h"

#include <stdexcept>
#include <string>

#include "sac/agent.h"

namespace sac {

AgentSpec AgentSpec::from_config(const Config& c, int obs_dim, int act_dim, int act_batch) {
  AgentSpec s;
  s.algo = c.algo;
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
  s.matmul_precision =
      c.matmul_precision == "tf32" ? MatmulPrecision::kTf32 : MatmulPrecision::kFp32;
  s.seed = c.seed;
  s.seeds = c.seeds;
  return s;
}

std::vector<std::string> learner_algos() { return {"sac"}; }

std::unique_ptr<Learner> make_learner(Backend& backend, const AgentSpec& spec) {
  if (spec.algo == "sac") return std::make_unique<Agent>(backend, spec);
  throw std::invalid_argument("make_learner: no learner for algo '" + spec.algo + "'");
}

}  // namespace sac
