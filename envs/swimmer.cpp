// swimmer.cpp: Swimmer-v5 (ENVS.md section 3): a three-segment snake swims forward along x in
// a viscous fluid. Defaults: obs (8) qpos[2:5] (x, y excluded), qvel[0:5]. Reward: forward
// velocity of slider1 (qpos[0], finite difference over dt) - 1e-4 * |action|^2. Never
// terminates. Reset noise U(-0.1, 0.1) on qpos and qvel. frame_skip 4. Every number above is
// one of Gymnasium's v5 keyword arguments (define_swimmer()).
#include <cmath>

#include "sac/mujoco_env.h"
#include "tasks.h"

namespace sac {
namespace {

class Swimmer final : public MujocoEnv {
 public:
  explicit Swimmer(const TaskKwargs& k)
      : MujocoEnv(load_xml_file(k.string("xml_file")), k.integer("frame_skip"), false),
        m_forward_reward_weight(k.number("forward_reward_weight")),
        m_ctrl_cost_weight(k.number("ctrl_cost_weight")),
        m_reset_noise(k.number("reset_noise_scale")),
        m_skipped_qpos(k.boolean("exclude_current_positions_from_observation") ? 2 : 0) {
    require_model(m_model->nq >= 2, "Swimmer-v5", "at least 2 qpos (x, y)");
    init_spec("Swimmer-v5", m_model->nq - m_skipped_qpos + m_model->nv,
              {"reward_forward", "reward_ctrl"});
    m_spec.info_terms = {"x_position", "y_position", "distance_from_origin", "x_velocity",
                         "y_velocity"};
  }

  void reset(HostRng& rng, double* obs) override {
    reset_state(rng, {ResetNoise::Kind::uniform, m_reset_noise},
                {ResetNoise::Kind::uniform, m_reset_noise});
    write_obs(obs);
  }

  StepResult step(const double* action, double* obs) override {
    StepResult r;
    const double y_before = m_data->qpos[1];
    double x_velocity = simulate_forward(action, r.unstable, [&] { return m_data->qpos[0]; });
    const double x = m_data->qpos[0], y = m_data->qpos[1];
    r.set_info(x, y, std::sqrt(x * x + y * y), x_velocity, (y - y_before) / dt());
    // forward progress minus control cost on the unclipped action
    r.set_reward(m_forward_reward_weight * x_velocity,
                 -(m_ctrl_cost_weight * action_sq_norm(action)));
    r.terminated = false;
    write_obs(obs);
    return r;
  }

 private:
  void write_obs(double* obs) const {
    int k = 0;
    for (int i = m_skipped_qpos; i < m_model->nq; ++i) obs[k++] = m_data->qpos[i];
    for (int i = 0; i < m_model->nv; ++i) obs[k++] = m_data->qvel[i];
  }

  double m_forward_reward_weight, m_ctrl_cost_weight, m_reset_noise;
  int m_skipped_qpos;
};

}  // namespace

TaskDefinition define_swimmer() {
  TaskKwarg camera = camera_kwarg();
  camera.default_value = nullptr;  // Gymnasium's default here is None
  return {"Swimmer-v5",
          {xml_file_kwarg("swimmer.xml"), frame_skip_kwarg(4), camera,
           number_kwarg("forward_reward_weight", 1.0, "weight of the forward velocity reward"),
           number_kwarg("ctrl_cost_weight", 1e-4, "weight of the squared action cost"),
           reset_noise_kwarg(0.1), exclude_positions_kwarg(2)},
          [](const TaskKwargs& k) { return std::make_unique<Swimmer>(k); }};
}

}  // namespace sac
