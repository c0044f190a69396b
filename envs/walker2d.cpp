// walker2d.cpp: Walker2d-v5 (ENVS.md section 3): walk forward on two legs in the x-z plane.
// Defaults: obs (17) qpos[1:9] (x excluded), clip(qvel[0:9], -10, 10). Reward: forward velocity
// of rootx (finite difference over dt) + 1 if healthy - 1e-3 * |action|^2. Healthy: torso
// height 0.8 < qpos[1] < 2.0 and pitch -1 < qpos[2] < 1; terminates when not healthy. Reset
// noise U(-5e-3, 5e-3) on qpos and qvel. frame_skip 4. Model walker2d_v5.xml (both feet
// friction 1.9). Every number above is one of Gymnasium's v5 keyword arguments
// (define_walker2d()).
#include <algorithm>

#include "sac/mujoco_env.h"
#include "tasks.h"

namespace sac {
namespace {

class Walker2d final : public MujocoEnv {
 public:
  static constexpr double obs_velocity_clip = 10.0;

  explicit Walker2d(const TaskKwargs& k)
      : MujocoEnv(load_xml_file(k.string("xml_file")), k.integer("frame_skip"), false),
        m_forward_reward_weight(k.number("forward_reward_weight")),
        m_healthy_reward(k.number("healthy_reward")),
        m_ctrl_cost_weight(k.number("ctrl_cost_weight")),
        m_terminate_when_unhealthy(k.boolean("terminate_when_unhealthy")),
        m_healthy_z(k.number_pair("healthy_z_range")),
        m_healthy_angle(k.number_pair("healthy_angle_range")),
        m_reset_noise(k.number("reset_noise_scale")),
        m_skipped_qpos(k.boolean("exclude_current_positions_from_observation") ? 1 : 0) {
    require_model(m_model->nq >= 3, "Walker2d-v5", "at least 3 qpos (x, height z and pitch)");
    init_spec("Walker2d-v5", m_model->nq - m_skipped_qpos + m_model->nv,
              {"reward_forward", "reward_survive", "reward_ctrl"});
    m_spec.info_terms = {"x_position", "z_distance_from_origin", "x_velocity"};
  }

  void reset(HostRng& rng, double* obs) override {
    reset_state(rng, {ResetNoise::Kind::uniform, m_reset_noise},
                {ResetNoise::Kind::uniform, m_reset_noise});
    write_obs(obs);
  }

  StepResult step(const double* action, double* obs) override {
    StepResult r;
    double x_velocity = simulate_forward(action, r.unstable, [&] { return m_data->qpos[0]; });
    bool healthy = is_healthy();
    // forward progress plus the alive bonus (v5: only while healthy) minus control cost
    r.set_reward(m_forward_reward_weight * x_velocity, healthy ? m_healthy_reward : 0.0,
                 -(m_ctrl_cost_weight * action_sq_norm(action)));
    r.terminated = !healthy && m_terminate_when_unhealthy;
    r.set_info(m_data->qpos[0], m_data->qpos[1] - m_model->qpos0[1], x_velocity);
    write_obs(obs);
    return r;
  }

 private:
  // torso height and pitch inside their open ranges; NaN fails every comparison
  bool is_healthy() const {
    double z = m_data->qpos[1], pitch = m_data->qpos[2];
    return z > m_healthy_z.first && z < m_healthy_z.second && pitch > m_healthy_angle.first &&
           pitch < m_healthy_angle.second;
  }

  void write_obs(double* obs) const {
    int k = 0;
    for (int i = m_skipped_qpos; i < m_model->nq; ++i) obs[k++] = m_data->qpos[i];
    for (int i = 0; i < m_model->nv; ++i)
      obs[k++] = std::clamp(m_data->qvel[i], -obs_velocity_clip, obs_velocity_clip);
  }

  double m_forward_reward_weight, m_healthy_reward, m_ctrl_cost_weight;
  bool m_terminate_when_unhealthy;
  std::pair<double, double> m_healthy_z, m_healthy_angle;
  double m_reset_noise;
  int m_skipped_qpos;
};

}  // namespace

TaskDefinition define_walker2d() {
  return {"Walker2d-v5",
          {xml_file_kwarg("walker2d_v5.xml"), frame_skip_kwarg(4), camera_kwarg(),
           number_kwarg("forward_reward_weight", 1.0, "weight of the forward velocity reward"),
           number_kwarg("ctrl_cost_weight", 1e-3, "weight of the squared action cost"),
           number_kwarg("healthy_reward", 1.0, "reward per step while healthy"),
           flag_kwarg("terminate_when_unhealthy", true, "end the episode when not healthy"),
           range_kwarg("healthy_z_range", 0.8, 2.0, "healthy while low < qpos[1] < high"),
           range_kwarg("healthy_angle_range", -1.0, 1.0, "healthy while low < qpos[2] < high"),
           reset_noise_kwarg(5e-3), exclude_positions_kwarg(1)},
          [](const TaskKwargs& k) { return std::make_unique<Walker2d>(k); }};
}

}  // namespace sac
