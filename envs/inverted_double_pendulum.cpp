// inverted_double_pendulum.cpp: InvertedDoublePendulum-v5 (ENVS.md section 3): balance two
// chained poles upright on a cart. Obs (9): qpos[0], sin(qpos[1:3]), cos(qpos[1:3]),
// clip(qvel[0:3], -10, 10), clip(qfrc_constraint[0], -10, 10). With (x, _, y) the tip site's
// position (site_xpos, as the last mj_step left it): terminates when y <= 1; reward
// 10 (only when not terminated) - 0.01 x^2 - (y - 2)^2 - 1e-3 qvel[1]^2 - 5e-3 qvel[2]^2.
// Reset noise: qpos += U(-0.1, 0.1), qvel = 0.1 * N(0, 1). frame_skip 5.
#include <algorithm>
#include <cmath>

#include "mujoco_env.h"
#include "tasks.h"

namespace sac {
namespace {

class InvertedDoublePendulum final : public MujocoEnv {
 public:
  static constexpr int frame_skip_steps = 5;
  static constexpr double alive_bonus = 10.0;
  static constexpr double min_tip_height = 1.0;  // tip height y <= 1 terminates
  static constexpr double target_tip_height = 2.0;
  static constexpr double x_penalty_weight = 0.01;
  static constexpr double hinge_velocity_weight = 1e-3;   // on qvel[1]^2
  static constexpr double hinge2_velocity_weight = 5e-3;  // on qvel[2]^2
  static constexpr double reset_noise = 0.1;
  static constexpr double obs_clip = 10.0;
  static constexpr int tip_site = 0;

  InvertedDoublePendulum()
      : MujocoEnv("inverted_double_pendulum.xml", frame_skip_steps, false) {
    init_spec("InvertedDoublePendulum-v5", 9,
              {"reward_survive", "distance_penalty", "velocity_penalty"});
  }

  void reset(HostRng& rng, double* obs) override {
    reset_state(rng, {ResetNoise::Kind::uniform, reset_noise},
                {ResetNoise::Kind::normal, reset_noise});
    write_obs(obs);
  }

  StepResult step(const double* action, double* obs) override {
    StepResult r;
    r.unstable = do_simulation(action);
    write_obs(obs);
    // tip position as computed inside the last mj_step (lagged, no extra mj_forward)
    double x = m_data->site_xpos[3 * tip_site];
    double y = m_data->site_xpos[3 * tip_site + 2];
    double v1 = m_data->qvel[1], v2 = m_data->qvel[2];
    double dist_penalty = x_penalty_weight * x * x + (y - target_tip_height) * (y - target_tip_height);
    double vel_penalty = hinge_velocity_weight * v1 * v1 + hinge2_velocity_weight * v2 * v2;
    r.terminated = y <= min_tip_height;
    r.set_reward(r.terminated ? 0.0 : alive_bonus, -dist_penalty, -vel_penalty);
    return r;
  }

 private:
  void write_obs(double* obs) const {
    const double* qpos = m_data->qpos;
    obs[0] = qpos[0];
    obs[1] = std::sin(qpos[1]);
    obs[2] = std::sin(qpos[2]);
    obs[3] = std::cos(qpos[1]);
    obs[4] = std::cos(qpos[2]);
    for (int i = 0; i < 3; ++i) obs[5 + i] = std::clamp(m_data->qvel[i], -obs_clip, obs_clip);
    obs[8] = std::clamp(m_data->qfrc_constraint[0], -obs_clip, obs_clip);
  }
};

}  // namespace

std::unique_ptr<Env> make_inverted_double_pendulum() {
  return std::make_unique<InvertedDoublePendulum>();
}

}  // namespace sac
