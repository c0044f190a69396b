// ant.cpp: Ant-v5 (ENVS.md section 3): a quadruped on a free joint runs forward along x.
// Defaults: obs (105) qpos[2:15] (x, y excluded), qvel[0:14], clip(cfrc_ext[1:14], -1, 1)
// row-major (13 bodies x 6, world body excluded). Reward: x velocity of the main body's xpos
// (finite difference over dt) + 1 if healthy - 0.5 * |action|^2 - 5e-4 * |clip(cfrc_ext, -1,
// 1)|^2. Healthy: qpos and qvel finite and torso height 0.2 <= qpos[2] <= 1.0; terminates when
// not healthy. Reset noise: qpos += U(-0.1, 0.1) (quaternion included, not re-normalised), qvel
// = 0.1 * N(0, 1). frame_skip 5; mj_rnePostConstraint after the physics fills cfrc_ext. xpos and
// cfrc_ext are read as the last mj_step left them (no extra mj_forward), as Gymnasium does.
// Every number above is one of Gymnasium's v5 keyword arguments (define_ant()).
#include <algorithm>
#include <cmath>

#include "sac/mujoco_env.h"
#include "tasks.h"

namespace sac {
namespace {

class Ant final : public MujocoEnv {
 public:
  explicit Ant(const TaskKwargs& k)
      : MujocoEnv(load_xml_file(k.string("xml_file")), k.integer("frame_skip"), true),
        m_forward_reward_weight(k.number("forward_reward_weight")),
        m_healthy_reward(k.number("healthy_reward")),
        m_ctrl_cost_weight(k.number("ctrl_cost_weight")),
        m_contact_cost_weight(k.number("contact_cost_weight")),
        m_terminate_when_unhealthy(k.boolean("terminate_when_unhealthy")),
        m_healthy_z(k.number_pair("healthy_z_range")),
        m_contact_force(k.number_pair("contact_force_range")),
        m_reset_noise(k.number("reset_noise_scale")),
        m_skipped_qpos(k.boolean("exclude_current_positions_from_observation") ? 2 : 0),
        m_cfrc_in_obs(k.boolean("include_cfrc_ext_in_observation")) {
    require_model(m_model->nq >= 3, "Ant-v5", "at least 3 qpos (x, y and the height z)");
    const nlohmann::json& main_body = k.value("main_body");
    if (main_body.is_string()) {
      m_main_body = body_id(main_body.get<std::string>());
    } else {
      m_main_body = main_body.get<int>();
      require_model(m_main_body < m_model->nbody, "Ant-v5",
                    "a body of index main_body=" + std::to_string(m_main_body));
    }
    int obs_dim = m_model->nq - m_skipped_qpos + m_model->nv +
                  (m_cfrc_in_obs ? 6 * (m_model->nbody - 1) : 0);
    init_spec("Ant-v5", obs_dim,
              {"reward_forward", "reward_survive", "reward_ctrl", "reward_contact"});
    m_spec.info_terms = {"x_position", "y_position", "distance_from_origin", "x_velocity",
                         "y_velocity"};
  }

  void reset(HostRng& rng, double* obs) override {
    reset_state(rng, {ResetNoise::Kind::uniform, m_reset_noise},
                {ResetNoise::Kind::normal, m_reset_noise});
    write_obs(obs);
  }

  bool splits_step() const override { return true; }

 protected:
  // the main body's position as the last mj_step left it (Gymnasium reads data.body().xpos)
  void before_physics() override {
    m_x_before = m_data->xpos[3 * m_main_body];
    m_y_before = m_data->xpos[3 * m_main_body + 1];
  }

  StepResult after_physics(const double* action, bool unstable, double* obs) override {
    StepResult r;
    r.unstable = unstable;
    double x_velocity = (m_data->xpos[3 * m_main_body] - m_x_before) / dt();
    const double y_before = m_y_before;
    const double x = m_data->qpos[0], y = m_data->qpos[1];
    r.set_info(x, y, std::sqrt(x * x + y * y), x_velocity,
               (m_data->xpos[3 * m_main_body + 1] - y_before) / dt());
    bool healthy = is_healthy();
    // contact cost over every body's clipped external force (the world row is zero)
    double contact_sq = 0.0;
    for (int i = 0; i < 6 * m_model->nbody; ++i) {
      double f = clip_force(m_data->cfrc_ext[i]);
      contact_sq += f * f;
    }
    r.set_reward(m_forward_reward_weight * x_velocity, healthy ? m_healthy_reward : 0.0,
                 -(m_ctrl_cost_weight * action_sq_norm(action)),
                 -(m_contact_cost_weight * contact_sq));
    r.terminated = !healthy && m_terminate_when_unhealthy;
    write_obs(obs);
    return r;
  }

 private:
  double clip_force(double f) const {
    return std::clamp(f, m_contact_force.first, m_contact_force.second);
  }

  // finite state and torso height inside the closed range; NaN fails the comparisons
  bool is_healthy() const {
    for (int i = 0; i < m_model->nq; ++i)
      if (!std::isfinite(m_data->qpos[i])) return false;
    for (int i = 0; i < m_model->nv; ++i)
      if (!std::isfinite(m_data->qvel[i])) return false;
    double z = m_data->qpos[2];
    return z >= m_healthy_z.first && z <= m_healthy_z.second;
  }

  void write_obs(double* obs) const {
    int k = 0;
    for (int i = m_skipped_qpos; i < m_model->nq; ++i) obs[k++] = m_data->qpos[i];
    for (int i = 0; i < m_model->nv; ++i) obs[k++] = m_data->qvel[i];
    if (m_cfrc_in_obs)
      for (int i = 6; i < 6 * m_model->nbody; ++i) obs[k++] = clip_force(m_data->cfrc_ext[i]);
  }

  double m_forward_reward_weight, m_healthy_reward, m_ctrl_cost_weight, m_contact_cost_weight;
  bool m_terminate_when_unhealthy;
  std::pair<double, double> m_healthy_z, m_contact_force;
  double m_reset_noise;
  int m_skipped_qpos;
  bool m_cfrc_in_obs;
  int m_main_body = 1;
  double m_x_before = 0.0, m_y_before = 0.0;  // the main body's x, y before the step's physics
};

}  // namespace

TaskDefinition define_ant() {
  return {"Ant-v5",
          {xml_file_kwarg("ant.xml"), frame_skip_kwarg(5), camera_kwarg(),
           number_kwarg("forward_reward_weight", 1.0, "weight of the forward velocity reward"),
           number_kwarg("ctrl_cost_weight", 0.5, "weight of the squared action cost"),
           number_kwarg("contact_cost_weight", 5e-4, "weight of the squared contact force cost"),
           number_kwarg("healthy_reward", 1.0, "reward per step while healthy"),
           {"main_body", TaskKwarg::Type::name_or_index, 1,
            "body (name or index) whose x velocity is rewarded"},
           flag_kwarg("terminate_when_unhealthy", true, "end the episode when not healthy"),
           range_kwarg("healthy_z_range", 0.2, 1.0,
                       "healthy while low <= qpos[2] <= high (and the state is finite)"),
           range_kwarg("contact_force_range", -1.0, 1.0,
                       "cfrc_ext is clipped to this range (observation and contact cost)"),
           reset_noise_kwarg(0.1), exclude_positions_kwarg(2),
           flag_kwarg("include_cfrc_ext_in_observation", true,
                      "append the clipped external contact forces of the bodies (world excluded)")},
          [](const TaskKwargs& k) { return std::make_unique<Ant>(k); }};
}

}  // namespace sac
