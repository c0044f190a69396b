// hopper.cpp: Hopper-v5 (ENVS.md section 3): hop forward on one leg without falling.
// Obs (11): qpos[1:6] (x excluded), clip(qvel[0:6], -10, 10). Reward: forward velocity of rootx
// (finite difference over dt) + 1 if healthy - 1e-3 * |action|^2. Healthy: qpos[2:6] and qvel
// strictly inside (-100, 100), height qpos[1] > 0.7, |pitch qpos[2]| < 0.2; terminates when not
// healthy. Reset noise U(-5e-3, 5e-3) on qpos and qvel. frame_skip 4.
#include <algorithm>

#include "mujoco_env.h"
#include "tasks.h"

namespace sac {
namespace {

class Hopper final : public MujocoEnv {
 public:
  static constexpr int frame_skip_steps = 4;
  static constexpr double forward_reward_weight = 1.0;
  static constexpr double healthy_reward = 1.0;
  static constexpr double ctrl_cost_weight = 1e-3;
  static constexpr double reset_noise = 5e-3;
  static constexpr double healthy_state_bound = 100.0;  // |qpos[2:], qvel| must stay below
  static constexpr double min_height = 0.7;             // qpos[1] must stay above
  static constexpr double max_pitch = 0.2;              // |qpos[2]| must stay below
  static constexpr double obs_velocity_clip = 10.0;

  Hopper() : MujocoEnv("hopper.xml", frame_skip_steps, false) {
    init_spec("Hopper-v5", 11, {"reward_forward", "reward_survive", "reward_ctrl"});
  }

  void reset(HostRng& rng, double* obs) override {
    reset_state(rng, {ResetNoise::Kind::uniform, reset_noise},
                {ResetNoise::Kind::uniform, reset_noise});
    write_obs(obs);
  }

  StepResult step(const double* action, double* obs) override {
    StepResult r;
    double x_velocity = simulate_forward(action, r.unstable, [&] { return m_data->qpos[0]; });
    bool healthy = is_healthy();
    // forward progress plus the alive bonus (v5: only while healthy) minus control cost
    r.set_reward(forward_reward_weight * x_velocity, healthy ? healthy_reward : 0.0,
                 -(ctrl_cost_weight * action_sq_norm(action)));
    r.terminated = !healthy;
    write_obs(obs);
    return r;
  }

 private:
  // the v5 health check on the raw (unclipped) state; NaN fails every comparison
  bool is_healthy() const {
    const double* qpos = m_data->qpos;
    const double* qvel = m_data->qvel;
    auto in_bounds = [](double v) { return v > -healthy_state_bound && v < healthy_state_bound; };
    for (int i = 2; i < 6; ++i)
      if (!in_bounds(qpos[i])) return false;
    for (int i = 0; i < 6; ++i)
      if (!in_bounds(qvel[i])) return false;
    return qpos[1] > min_height && qpos[2] > -max_pitch && qpos[2] < max_pitch;
  }

  void write_obs(double* obs) const {
    int k = 0;
    for (int i = 1; i < 6; ++i) obs[k++] = m_data->qpos[i];
    for (int i = 0; i < 6; ++i)
      obs[k++] = std::clamp(m_data->qvel[i], -obs_velocity_clip, obs_velocity_clip);
  }
};

}  // namespace

std::unique_ptr<Env> make_hopper() { return std::make_unique<Hopper>(); }

}  // namespace sac
