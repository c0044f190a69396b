// inverted_double_pendulum.cpp: InvertedDoublePendulum-v5 (ENVS.md section 3): balance two
// chained poles upright on a cart. Obs (9 by default): qpos[0], sin(qpos[1:]), cos(qpos[1:]),
// clip(qvel, -10, 10), clip(qfrc_constraint[0], -10, 10). With (x, _, y) the first site's
// position (site_xpos, as the last mj_step left it; the tip): terminates when y <= 1; reward
// healthy_reward (10, only when not terminated) - 0.01 x^2 - (y - 2)^2 - 1e-3 qvel[1]^2 -
// 5e-3 qvel[2]^2. Reset noise: qpos += U(-0.1, 0.1), qvel = 0.1 * N(0, 1). frame_skip 5.
// Keyword arguments: xml_file, frame_skip, healthy_reward, reset_noise_scale.
#include <algorithm>
#include <cmath>

#include "sac/mujoco_env.h"
#include "tasks.h"

namespace sac {
namespace {

class InvertedDoublePendulum final : public MujocoEnv {
 public:
  static constexpr double min_tip_height = 1.0;  // tip height y <= 1 terminates
  static constexpr double target_tip_height = 2.0;
  static constexpr double x_penalty_weight = 0.01;
  static constexpr double hinge_velocity_weight = 1e-3;   // on qvel[1]^2
  static constexpr double hinge2_velocity_weight = 5e-3;  // on qvel[2]^2
  static constexpr double obs_clip = 10.0;
  static constexpr int tip_site = 0;

  explicit InvertedDoublePendulum(const TaskKwargs& k)
      : MujocoEnv(load_xml_file(k.string("xml_file")), k.integer("frame_skip"), false),
        m_alive_bonus(k.number("healthy_reward")), m_reset_noise(k.number("reset_noise_scale")) {
    const mjModel* m = m_model.get();
    require_model(m->nq >= 3 && m->nv >= 3, "InvertedDoublePendulum-v5",
                  "at least 3 qpos and qvel (cart, two hinges)");
    require_model(m->nsite >= 1, "InvertedDoublePendulum-v5", "a site (the tip), the first one");
    init_spec("InvertedDoublePendulum-v5", 1 + 2 * (m->nq - 1) + m->nv + 1,
              {"reward_survive", "distance_penalty", "velocity_penalty"});
  }

  void reset(HostRng& rng, double* obs) override {
    reset_state(rng, {ResetNoise::Kind::uniform, m_reset_noise},
                {ResetNoise::Kind::normal, m_reset_noise});
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
    r.set_reward(r.terminated ? 0.0 : m_alive_bonus, -dist_penalty, -vel_penalty);
    return r;
  }

 private:
  void write_obs(double* obs) const {
    const mjModel* m = m_model.get();
    const double* qpos = m_data->qpos;
    int k = 0;
    obs[k++] = qpos[0];
    for (int i = 1; i < m->nq; ++i) obs[k++] = std::sin(qpos[i]);
    for (int i = 1; i < m->nq; ++i) obs[k++] = std::cos(qpos[i]);
    for (int i = 0; i < m->nv; ++i) obs[k++] = std::clamp(m_data->qvel[i], -obs_clip, obs_clip);
    obs[k++] = std::clamp(m_data->qfrc_constraint[0], -obs_clip, obs_clip);
  }

  double m_alive_bonus, m_reset_noise;
};

}  // namespace

TaskDefinition define_inverted_double_pendulum() {
  TaskKwarg camera = camera_kwarg();
  camera.default_value = nullptr;  // Gymnasium's default here is None
  return {"InvertedDoublePendulum-v5",
          {xml_file_kwarg("inverted_double_pendulum.xml"), frame_skip_kwarg(5), camera,
           number_kwarg("healthy_reward", 10.0, "reward per step while the tip is above 1"),
           reset_noise_kwarg(0.1)},
          [](const TaskKwargs& k) { return std::make_unique<InvertedDoublePendulum>(k); }};
}

}  // namespace sac
