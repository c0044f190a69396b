// ant.cpp: Ant-v5 (ENVS.md section 3): a quadruped on a free joint runs forward along x.
// Obs (105): qpos[2:15] (x, y excluded), qvel[0:14], clip(cfrc_ext[1:14], -1, 1) row-major
// (13 bodies x 6, world body excluded). Reward: x velocity of the torso body's xpos (finite
// difference over dt) + 1 if healthy - 0.5 * |action|^2 - 5e-4 * |clip(cfrc_ext, -1, 1)|^2.
// Healthy: qpos and qvel finite and torso height 0.2 <= qpos[2] <= 1.0; terminates when not
// healthy. Reset noise: qpos += U(-0.1, 0.1) (quaternion included, not re-normalised), qvel =
// 0.1 * N(0, 1). frame_skip 5; mj_rnePostConstraint after the physics fills cfrc_ext. xpos and
// cfrc_ext are read as the last mj_step left them (no extra mj_forward), as Gymnasium does.
#include <algorithm>
#include <cmath>

#include "mujoco_env.h"
#include "tasks.h"

namespace sac {
namespace {

class Ant final : public MujocoEnv {
 public:
  static constexpr int frame_skip_steps = 5;
  static constexpr double forward_reward_weight = 1.0;
  static constexpr double healthy_reward = 1.0;
  static constexpr double ctrl_cost_weight = 0.5;
  static constexpr double contact_cost_weight = 5e-4;
  static constexpr double contact_force_clip = 1.0;  // cfrc_ext clipped to [-1, 1]
  static constexpr double reset_noise = 0.1;
  static constexpr double min_height = 0.2;  // qpos[2] must stay inside [0.2, 1.0]
  static constexpr double max_height = 1.0;
  static constexpr int torso_body = 1;

  Ant() : MujocoEnv("ant.xml", frame_skip_steps, true) {
    init_spec("Ant-v5", 105, {"reward_forward", "reward_survive", "reward_ctrl", "reward_contact"});
  }

  void reset(HostRng& rng, double* obs) override {
    reset_state(rng, {ResetNoise::Kind::uniform, reset_noise},
                {ResetNoise::Kind::normal, reset_noise});
    write_obs(obs);
  }

  StepResult step(const double* action, double* obs) override {
    StepResult r;
    double x_velocity =
        simulate_forward(action, r.unstable, [&] { return m_data->xpos[3 * torso_body]; });
    bool healthy = is_healthy();
    // contact cost over every body's clipped external force (the world row is zero)
    double contact_sq = 0.0;
    for (int i = 0; i < 6 * m_model->nbody; ++i) {
      double f = clip_force(m_data->cfrc_ext[i]);
      contact_sq += f * f;
    }
    r.set_reward(forward_reward_weight * x_velocity, healthy ? healthy_reward : 0.0,
                 -(ctrl_cost_weight * action_sq_norm(action)), -(contact_cost_weight * contact_sq));
    r.terminated = !healthy;
    write_obs(obs);
    return r;
  }

 private:
  static double clip_force(double f) {
    return std::clamp(f, -contact_force_clip, contact_force_clip);
  }

  // finite state and torso height inside the closed range; NaN fails the comparisons
  bool is_healthy() const {
    for (int i = 0; i < m_model->nq; ++i)
      if (!std::isfinite(m_data->qpos[i])) return false;
    for (int i = 0; i < m_model->nv; ++i)
      if (!std::isfinite(m_data->qvel[i])) return false;
    double z = m_data->qpos[2];
    return z >= min_height && z <= max_height;
  }

  void write_obs(double* obs) const {
    int k = 0;
    for (int i = 2; i < m_model->nq; ++i) obs[k++] = m_data->qpos[i];
    for (int i = 0; i < m_model->nv; ++i) obs[k++] = m_data->qvel[i];
    for (int i = 6; i < 6 * m_model->nbody; ++i) obs[k++] = clip_force(m_data->cfrc_ext[i]);
  }
};

}  // namespace

std::unique_ptr<Env> make_ant() { return std::make_unique<Ant>(); }

}  // namespace sac
