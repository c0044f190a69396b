// humanoid.cpp: Humanoid-v5 (ENVS.md section 3): a 3-D biped on a free joint walks along x.
// Obs (348): qpos[2:24] (x, y excluded), qvel[0:23], cinert[1:14] (13 x 10), cvel[1:14]
// (13 x 6), qfrc_actuator[6:23] (17), cfrc_ext[1:14] (13 x 6, not clipped); the world body
// and the free joint's actuator forces are excluded. Reward: 1.25 * x velocity of the
// whole-body centre of mass (mass-weighted xipos, finite difference over dt) + 5 if healthy
// - 0.1 * |ctrl|^2 - min(5e-7 * |cfrc_ext|^2, 10). Healthy: torso height 1 < qpos[2] < 2;
// terminates when not healthy. Reset noise U(-0.01, 0.01) on qpos (quaternion included) and
// qvel. frame_skip 5; mj_rnePostConstraint after the physics fills cfrc_ext. xipos, cinert,
// cvel and cfrc_ext are read as the last mj_step left them (no extra mj_forward).
#include <algorithm>

#include "mujoco_env.h"
#include "tasks.h"

namespace sac {
namespace {

class Humanoid final : public MujocoEnv {
 public:
  static constexpr int frame_skip_steps = 5;
  static constexpr double forward_reward_weight = 1.25;
  static constexpr double healthy_reward = 5.0;
  static constexpr double ctrl_cost_weight = 0.1;
  static constexpr double contact_cost_weight = 5e-7;
  static constexpr double max_contact_cost = 10.0;
  static constexpr double reset_noise = 1e-2;
  static constexpr double min_height = 1.0;  // qpos[2] must stay strictly inside (1, 2)
  static constexpr double max_height = 2.0;

  Humanoid() : MujocoEnv("humanoid.xml", frame_skip_steps, true) {
    init_spec("Humanoid-v5", 348,
              {"reward_forward", "reward_survive", "reward_ctrl", "reward_contact"});
  }

  void reset(HostRng& rng, double* obs) override {
    reset_state(rng, {ResetNoise::Kind::uniform, reset_noise},
                {ResetNoise::Kind::uniform, reset_noise});
    write_obs(obs);
  }

  StepResult step(const double* action, double* obs) override {
    StepResult r;
    double x_velocity = simulate_forward(action, r.unstable, [&] { return mass_center_x(); });
    double z = m_data->qpos[2];
    bool healthy = z > min_height && z < max_height;  // NaN is unhealthy
    // control cost on ctrl (the unclipped action as written), capped contact cost
    double ctrl_sq = 0.0;
    for (int i = 0; i < m_model->nu; ++i) ctrl_sq += m_data->ctrl[i] * m_data->ctrl[i];
    double contact_sq = 0.0;
    for (int i = 0; i < 6 * m_model->nbody; ++i)
      contact_sq += m_data->cfrc_ext[i] * m_data->cfrc_ext[i];
    double contact_cost = std::min(contact_cost_weight * contact_sq, max_contact_cost);
    r.set_reward(forward_reward_weight * x_velocity, healthy ? healthy_reward : 0.0,
                 -(ctrl_cost_weight * ctrl_sq), -contact_cost);
    r.terminated = !healthy;
    write_obs(obs);
    return r;
  }

 private:
  // x of the mass-weighted mean of the bodies' centres of mass (xipos), world body included
  double mass_center_x() const {
    double mass = 0.0, moment = 0.0;
    for (int b = 0; b < m_model->nbody; ++b) {
      mass += m_model->body_mass[b];
      moment += m_model->body_mass[b] * m_data->xipos[3 * b];
    }
    return moment / mass;
  }

  void write_obs(double* obs) const {
    const mjModel* m = m_model.get();
    int k = 0;
    for (int i = 2; i < m->nq; ++i) obs[k++] = m_data->qpos[i];
    for (int i = 0; i < m->nv; ++i) obs[k++] = m_data->qvel[i];
    for (int i = 10; i < 10 * m->nbody; ++i) obs[k++] = m_data->cinert[i];
    for (int i = 6; i < 6 * m->nbody; ++i) obs[k++] = m_data->cvel[i];
    for (int i = 6; i < m->nv; ++i) obs[k++] = m_data->qfrc_actuator[i];
    for (int i = 6; i < 6 * m->nbody; ++i) obs[k++] = m_data->cfrc_ext[i];
  }
};

}  // namespace

std::unique_ptr<Env> make_humanoid() { return std::make_unique<Humanoid>(); }

}  // namespace sac
