// walker2d.cpp: Walker2d-v5 (ENVS.md section 3): walk forward on two legs in the x-z plane.
// Obs (17): qpos[1:9] (x excluded), clip(qvel[0:9], -10, 10). Reward: forward velocity of rootx
// (finite difference over dt) + 1 if healthy - 1e-3 * |action|^2. Healthy: torso height
// 0.8 < qpos[1] < 2.0 and pitch -1 < qpos[2] < 1; terminates when not healthy. Reset noise
// U(-5e-3, 5e-3) on qpos and qvel. frame_skip 4. Model walker2d_v5.xml (both feet friction 1.9).
#include <algorithm>

#include "mujoco_env.h"
#include "tasks.h"

namespace sac {
namespace {

class Walker2d final : public MujocoEnv {
 public:
  static constexpr int frame_skip_steps = 4;
  static constexpr double forward_reward_weight = 1.0;
  static constexpr double healthy_reward = 1.0;
  static constexpr double ctrl_cost_weight = 1e-3;
  static constexpr double reset_noise = 5e-3;
  static constexpr double min_height = 0.8;  // qpos[1] must stay strictly inside (0.8, 2.0)
  static constexpr double max_height = 2.0;
  static constexpr double max_pitch = 1.0;  // qpos[2] must stay strictly inside (-1, 1)
  static constexpr double obs_velocity_clip = 10.0;

  Walker2d() : MujocoEnv("walker2d_v5.xml", frame_skip_steps, false) {
    init_spec("Walker2d-v5", 17, {"reward_forward", "reward_survive", "reward_ctrl"});
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
  // torso height and pitch inside their open ranges; NaN fails every comparison
  bool is_healthy() const {
    double z = m_data->qpos[1], pitch = m_data->qpos[2];
    return z > min_height && z < max_height && pitch > -max_pitch && pitch < max_pitch;
  }

  void write_obs(double* obs) const {
    int k = 0;
    for (int i = 1; i < 9; ++i) obs[k++] = m_data->qpos[i];
    for (int i = 0; i < 9; ++i)
      obs[k++] = std::clamp(m_data->qvel[i], -obs_velocity_clip, obs_velocity_clip);
  }
};

}  // namespace

std::unique_ptr<Env> make_walker2d() { return std::make_unique<Walker2d>(); }

}  // namespace sac
