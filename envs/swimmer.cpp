// swimmer.cpp: Swimmer-v5 (ENVS.md section 3): a three-segment snake swims forward along x in
// a viscous fluid. Obs (8): qpos[2:5] (x, y excluded), qvel[0:5]. Reward: forward velocity of
// slider1 (qpos[0], finite difference over dt) - 1e-4 * |action|^2. Never terminates. Reset
// noise U(-0.1, 0.1) on qpos and qvel. frame_skip 4.
#include "mujoco_env.h"
#include "tasks.h"

namespace sac {
namespace {

class Swimmer final : public MujocoEnv {
 public:
  static constexpr int frame_skip_steps = 4;
  static constexpr double forward_reward_weight = 1.0;
  static constexpr double ctrl_cost_weight = 1e-4;
  static constexpr double reset_noise = 0.1;

  Swimmer() : MujocoEnv("swimmer.xml", frame_skip_steps, false) {
    init_spec("Swimmer-v5", 8, {"reward_forward", "reward_ctrl"});
  }

  void reset(HostRng& rng, double* obs) override {
    reset_state(rng, {ResetNoise::Kind::uniform, reset_noise},
                {ResetNoise::Kind::uniform, reset_noise});
    write_obs(obs);
  }

  StepResult step(const double* action, double* obs) override {
    StepResult r;
    double x_velocity = simulate_forward(action, r.unstable, [&] { return m_data->qpos[0]; });
    // forward progress minus control cost on the unclipped action
    r.set_reward(forward_reward_weight * x_velocity, -(ctrl_cost_weight * action_sq_norm(action)));
    r.terminated = false;
    write_obs(obs);
    return r;
  }

 private:
  void write_obs(double* obs) const {
    int k = 0;
    for (int i = 2; i < 5; ++i) obs[k++] = m_data->qpos[i];
    for (int i = 0; i < 5; ++i) obs[k++] = m_data->qvel[i];
  }
};

}  // namespace

std::unique_ptr<Env> make_swimmer() { return std::make_unique<Swimmer>(); }

}  // namespace sac
