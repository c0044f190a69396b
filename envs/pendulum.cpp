// pendulum.cpp: Gymnasium's Pendulum-v1 (classic control, no MuJoCo): swing a pendulum up and
// hold it. Used for fast learning tests.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "tasks.h"

namespace sac {
namespace {

class Pendulum final : public Env {
 public:
  Pendulum() {
    m_spec.id = "Pendulum-v1";
    m_spec.obs_dim = 3;
    m_spec.act_dim = 1;
    m_spec.action_low = {-kMaxTorque};
    m_spec.action_high = {kMaxTorque};
    m_spec.max_episode_steps = 200;
  }

  const EnvSpec& spec() const override { return m_spec; }

  void reset(HostRng& rng, double* obs) override {
    m_theta = rng.uniform(-M_PI, M_PI);
    m_theta_dot = rng.uniform(-1.0, 1.0);
    observe(obs);
  }

  StepResult step(const double* action, double* obs) override {
    double u = std::clamp(action[0], -kMaxTorque, kMaxTorque);
    double angle = std::remainder(m_theta, 2.0 * M_PI);  // normalised to [-pi, pi]
    StepResult r;
    r.reward = -(angle * angle + 0.1 * m_theta_dot * m_theta_dot + 0.001 * u * u);
    // semi-implicit Euler, as Gymnasium integrates it
    double theta_dot = m_theta_dot + (3.0 * kG / (2.0 * kL) * std::sin(m_theta) +
                                      3.0 / (kM * kL * kL) * u) * kDt;
    m_theta_dot = std::clamp(theta_dot, -kMaxSpeed, kMaxSpeed);
    m_theta += m_theta_dot * kDt;
    r.unstable = !std::isfinite(m_theta) || !std::isfinite(m_theta_dot);
    observe(obs);
    return r;
  }

  std::vector<double> save_state() const override { return {m_theta, m_theta_dot}; }

  void load_state(const std::vector<double>& state) override {
    if (state.size() != 2)
      throw std::invalid_argument("Pendulum-v1 state needs 2 values (theta, theta_dot), got " +
                                  std::to_string(state.size()));
    m_theta = state[0];
    m_theta_dot = state[1];
  }

 private:
  static constexpr double kMaxSpeed = 8.0, kMaxTorque = 2.0, kDt = 0.05;
  static constexpr double kG = 10.0, kM = 1.0, kL = 1.0;

  void observe(double* obs) const {
    obs[0] = std::cos(m_theta);
    obs[1] = std::sin(m_theta);
    obs[2] = m_theta_dot;
  }

  EnvSpec m_spec;
  double m_theta = 0.0, m_theta_dot = 0.0;
};

}  // namespace

TaskDefinition define_pendulum() {
  return {"Pendulum-v1", {}, [](const TaskKwargs&) { return std::make_unique<Pendulum>(); }, 200};
}

}  // namespace sac
