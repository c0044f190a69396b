// background_eval.cpp: see background_eval.h.
#include "run/background_eval.h"

#include <stdexcept>

namespace sac {

BackgroundEval::BackgroundEval(const AgentSpec& spec, EnvPool& pool)
    : m_backend(make_backend("cpu", 1)),
      m_policy(*m_backend, spec, false),
      m_pool(pool),
      m_d_obs(*m_backend, (size_t)pool.size() * pool.spec().obs_dim),
      m_d_actions(*m_backend, (size_t)pool.size() * pool.spec().act_dim) {
  if ((int64_t)spec.max_act_batch * spec.num_seeds() < pool.size())
    throw std::invalid_argument("BackgroundEval: the agent acts for fewer envs than the pool has");
}

void BackgroundEval::start(int64_t step, double wall_seconds,
                           const std::vector<float>& actor_params,
                           const std::vector<char>& stopped) {
  if (m_running) throw std::logic_error("BackgroundEval::start: an evaluation is running");
  if (actor_params.size() != m_policy.actor().num_params())
    throw std::invalid_argument("BackgroundEval::start: actor parameter count differs");
  m_backend->upload(m_policy.actor().params(), actor_params.data(),
                    actor_params.size() * sizeof(float));
  m_done.step = step;
  m_done.wall_seconds = wall_seconds;
  m_stopped = stopped;
  m_running = true;
  m_worker.start(1, [this](int) {
    m_done.results = evaluate_seeds(m_policy, *m_backend, m_pool, m_d_obs.data(),
                                    m_d_actions.data(), m_stopped);
  });
}

BackgroundEval::Done BackgroundEval::wait() {
  if (!m_running) throw std::logic_error("BackgroundEval::wait: no evaluation is running");
  m_running = false;
  m_worker.wait();
  return m_done;
}

}  // namespace sac
