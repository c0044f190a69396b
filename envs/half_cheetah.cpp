// half_cheetah.cpp: HalfCheetah-v5 (ENVS.md section 3): run forward in the x-z plane.
// Obs (17): qpos[1:9] (x excluded), qvel[0:9]. Reward: forward velocity of rootx (finite
// difference over dt) - 0.1 * |action|^2. Never terminates. Reset noise: qpos += U(-0.1, 0.1),
// qvel = 0.1 * N(0, 1). frame_skip 5.
#include "mujoco_env.h"
#include "tasks.h"

namespace sac {
namespace {

class HalfCheetah final : public MujocoEnv {
 public:
  static constexpr int frame_skip_steps = 5;
  static constexpr double forward_reward_weight = 1.0;
  static constexpr double ctrl_cost_weight = 0.1;
  static constexpr double reset_noise = 0.1;

  HalfCheetah() : MujocoEnv("half_cheetah.xml", frame_skip_steps, false) {
    init_spec("HalfCheetah-v5", 17, {"reward_forward", "reward_ctrl"});
  }

  void reset(HostRng& rng, double* obs) override {
    reset_state(rng, {ResetNoise::Kind::uniform, reset_noise},
                {ResetNoise::Kind::normal, reset_noise});
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
    for (int i = 1; i < 9; ++i) obs[k++] = m_data->qpos[i];
    for (int i = 0; i < 9; ++i) obs[k++] = m_data->qvel[i];
  }
};

}  // namespace

std::unique_ptr<Env> make_half_cheetah() { return std::make_unique<HalfCheetah>(); }

}  // namespace sac
