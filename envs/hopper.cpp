// hopper.cpp: Hopper-v5 (ENVS.md section 3): hop forward on one leg without falling.
// Defaults: obs (11) qpos[1:6] (x excluded), clip(qvel[0:6], -10, 10). Reward: forward velocity
// of rootx (finite difference over dt) + 1 if healthy - 1e-3 * |action|^2. Healthy: qpos[2:]
// and qvel strictly inside (-100, 100), height qpos[1] > 0.7, pitch -0.2 < qpos[2] < 0.2;
// terminates when not healthy. Reset noise U(-5e-3, 5e-3) on qpos and qvel. frame_skip 4.
// Every number above is one of Gymnasium's v5 keyword arguments (define_hopper()).
#include <algorithm>

#include "sac/mujoco_env.h"
#include "tasks.h"

namespace sac {
namespace {

class Hopper final : public MujocoEnv {
 public:
  static constexpr double obs_velocity_clip = 10.0;

  explicit Hopper(const TaskKwargs& k)
      : MujocoEnv(load_xml_file(k.string("xml_file")), k.integer("frame_skip"), false),
        m_forward_reward_weight(k.number("forward_reward_weight")),
        m_healthy_reward(k.number("healthy_reward")),
        m_ctrl_cost_weight(k.number("ctrl_cost_weight")),
        m_terminate_when_unhealthy(k.boolean("terminate_when_unhealthy")),
        m_healthy_state(k.number_pair("healthy_state_range")),
        m_healthy_z(k.number_pair("healthy_z_range")),
        m_healthy_angle(k.number_pair("healthy_angle_range")),
        m_reset_noise(k.number("reset_noise_scale")),
        m_skipped_qpos(k.boolean("exclude_current_positions_from_observation") ? 1 : 0) {
    require_model(m_model->nq >= 3, "Hopper-v5", "at least 3 qpos (x, height z and pitch)");
    init_spec("Hopper-v5", m_model->nq - m_skipped_qpos + m_model->nv,
              {"reward_forward", "reward_survive", "reward_ctrl"});
    m_spec.info_terms = {"x_position", "z_distance_from_origin", "x_velocity"};
  }

  void reset(HostRng& rng, double* obs) override {
    reset_state(rng, {ResetNoise::Kind::uniform, m_reset_noise},
                {ResetNoise::Kind::uniform, m_reset_noise});
    write_obs(obs);
  }

  bool splits_step() const override { return true; }

 protected:
  void before_physics() override { m_x_before = m_data->qpos[0]; }

  StepResult after_physics(const double* action, bool unstable, double* obs) override {
    StepResult r;
    r.unstable = unstable;
    // Gymnasium's finite difference of x over the step
    double x_velocity = (m_data->qpos[0] - m_x_before) / dt();
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
  // the v5 health check on the raw (unclipped) state; NaN fails every comparison
  bool is_healthy() const {
    const double* qpos = m_data->qpos;
    const double* qvel = m_data->qvel;
    auto in_state_range = [this](double v) {
      return v > m_healthy_state.first && v < m_healthy_state.second;
    };
    for (int i = 2; i < m_model->nq; ++i)
      if (!in_state_range(qpos[i])) return false;
    for (int i = 0; i < m_model->nv; ++i)
      if (!in_state_range(qvel[i])) return false;
    return qpos[1] > m_healthy_z.first && qpos[1] < m_healthy_z.second &&
           qpos[2] > m_healthy_angle.first && qpos[2] < m_healthy_angle.second;
  }

  void write_obs(double* obs) const {
    int k = 0;
    for (int i = m_skipped_qpos; i < m_model->nq; ++i) obs[k++] = m_data->qpos[i];
    for (int i = 0; i < m_model->nv; ++i)
      obs[k++] = std::clamp(m_data->qvel[i], -obs_velocity_clip, obs_velocity_clip);
  }

  double m_forward_reward_weight, m_healthy_reward, m_ctrl_cost_weight;
  bool m_terminate_when_unhealthy;
  std::pair<double, double> m_healthy_state, m_healthy_z, m_healthy_angle;
  double m_reset_noise;
  int m_skipped_qpos;
  double m_x_before = 0.0;  // qpos[0] before the step's physics
};

}  // namespace

TaskDefinition define_hopper() {
  return {"Hopper-v5",
          {xml_file_kwarg("hopper.xml"), frame_skip_kwarg(4), camera_kwarg(),
           number_kwarg("forward_reward_weight", 1.0, "weight of the forward velocity reward"),
           number_kwarg("ctrl_cost_weight", 1e-3, "weight of the squared action cost"),
           number_kwarg("healthy_reward", 1.0, "reward per step while healthy"),
           flag_kwarg("terminate_when_unhealthy", true, "end the episode when not healthy"),
           range_kwarg("healthy_state_range", -100.0, 100.0,
                       "healthy while every qpos[2:] and qvel is strictly inside this range"),
           range_kwarg("healthy_z_range", 0.7, nullptr, "healthy while low < qpos[1] < high"),
           range_kwarg("healthy_angle_range", -0.2, 0.2, "healthy while low < qpos[2] < high"),
           reset_noise_kwarg(5e-3), exclude_positions_kwarg(1)},
          [](const TaskKwargs& k) { return std::make_unique<Hopper>(k); }};
}

}  // namespace sac
