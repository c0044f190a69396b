// humanoid.cpp: Humanoid-v5 (ENVS.md section 3): a 3-D biped on a free joint walks along x.
// Defaults: obs (348) qpos[2:24] (x, y excluded), qvel[0:23], cinert[1:14] (13 x 10),
// cvel[1:14] (13 x 6), qfrc_actuator[6:23] (17), cfrc_ext[1:14] (13 x 6, not clipped); the
// world body and the free joint's actuator forces are excluded. Reward: 1.25 * x velocity of
// the whole-body centre of mass (mass-weighted xipos, finite difference over dt) + 5 if healthy
// - 0.1 * |ctrl|^2 - clip(5e-7 * |cfrc_ext|^2, -inf, 10). Healthy: torso height 1 < qpos[2] <
// 2; terminates when not healthy. Reset noise U(-0.01, 0.01) on qpos (quaternion included) and
// qvel. frame_skip 5; mj_rnePostConstraint after the physics fills cfrc_ext. xipos, cinert, cvel
// and cfrc_ext are read as the last mj_step left them (no extra mj_forward). Every number above
// is one of Gymnasium's v5 keyword arguments (define_humanoid()).
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "humanoid_body.h"
#include "sac/mujoco_env.h"
#include "tasks.h"

namespace sac {
namespace {

class Humanoid final : public MujocoEnv {
 public:
  explicit Humanoid(const TaskKwargs& k)
      : MujocoEnv(load_xml_file(k.string("xml_file")), k.integer("frame_skip"), true),
        m_forward_reward_weight(k.number("forward_reward_weight")),
        m_healthy_reward(k.number("healthy_reward")),
        m_ctrl_cost_weight(k.number("ctrl_cost_weight")),
        m_contact_cost_weight(k.number("contact_cost_weight")),
        m_contact_cost_range(k.number_pair("contact_cost_range")),
        m_terminate_when_unhealthy(k.boolean("terminate_when_unhealthy")),
        m_healthy_z(k.number_pair("healthy_z_range")),
        m_reset_noise(k.number("reset_noise_scale")),
        m_observation(k) {
    const mjModel* m = m_model.get();
    require_model(m->nq >= 3 && m->nv >= 6, "Humanoid-v5",
                  "a free joint first (at least 3 qpos and 6 qvel)");
    init_spec("Humanoid-v5", m_observation.size(m),
              {"reward_forward", "reward_survive", "reward_ctrl", "reward_contact"});
    require_model(5 + 2 * m->ntendon <= StepResult::max_info_terms, "Humanoid-v5",
                  "at most " + std::to_string((StepResult::max_info_terms - 5) / 2) +
                      " tendons (their lengths and velocities are info values)");
    m_spec.info_terms = {"x_position", "y_position"};
    add_tendon_info_terms(m, m_spec.info_terms);
    for (const char* name : {"distance_from_origin", "x_velocity", "y_velocity"})
      m_spec.info_terms.push_back(name);
  }

  void reset(HostRng& rng, double* obs) override {
    reset_state(rng, {ResetNoise::Kind::uniform, m_reset_noise},
                {ResetNoise::Kind::uniform, m_reset_noise});
    m_observation.write(m_model.get(), m_data, obs);
  }

  StepResult step(const double* action, double* obs) override {
    StepResult r;
    const double y_before = mass_center(1);
    double x_velocity = simulate_forward(action, r.unstable, [&] { return mass_center(0); });
    write_info(r, x_velocity, (mass_center(1) - y_before) / dt());
    double z = m_data->qpos[2];
    bool healthy = z > m_healthy_z.first && z < m_healthy_z.second;  // NaN is unhealthy
    // control cost on ctrl (the unclipped action as written), clipped contact cost
    const mjModel* m = m_model.get();
    double contact_cost =
        clipped_contact_cost(m, m_data, m_contact_cost_weight, m_contact_cost_range);
    r.set_reward(m_forward_reward_weight * x_velocity, healthy ? m_healthy_reward : 0.0,
                 -(m_ctrl_cost_weight * squared_control(m, m_data)), -contact_cost);
    r.terminated = !healthy && m_terminate_when_unhealthy;
    m_observation.write(m, m_data, obs);
    return r;
  }

 private:
  // Gymnasium's info: position, tendons, distance from the origin, centre-of-mass velocity
  void write_info(StepResult& r, double x_velocity, double y_velocity) const {
    const mjModel* m = m_model.get();
    const double x = m_data->qpos[0], y = m_data->qpos[1];
    int k = 0;
    r.info[k++] = x;
    r.info[k++] = y;
    k += write_tendon_info(m, m_data, r.info.data() + k);
    r.info[k++] = std::sqrt(x * x + y * y);
    r.info[k++] = x_velocity;
    r.info[k++] = y_velocity;
  }

  // coordinate `axis` of the mass-weighted mean of the bodies' centres of mass (xipos)
  double mass_center(int axis) const {
    double mass = 0.0, moment = 0.0;
    for (int b = 0; b < m_model->nbody; ++b) {
      mass += m_model->body_mass[b];
      moment += m_model->body_mass[b] * m_data->xipos[3 * b + axis];
    }
    return moment / mass;
  }

  double m_forward_reward_weight, m_healthy_reward, m_ctrl_cost_weight, m_contact_cost_weight;
  std::pair<double, double> m_contact_cost_range;
  bool m_terminate_when_unhealthy;
  std::pair<double, double> m_healthy_z;
  double m_reset_noise;
  HumanoidObservation m_observation;
};

}  // namespace

TaskDefinition define_humanoid() {
  std::vector<TaskKwarg> kwargs = {
      xml_file_kwarg("humanoid.xml"), frame_skip_kwarg(5), camera_kwarg(),
      number_kwarg("forward_reward_weight", 1.25,
                   "weight of the centre-of-mass forward velocity reward"),
      number_kwarg("ctrl_cost_weight", 0.1, "weight of the squared control cost"),
      number_kwarg("contact_cost_weight", 5e-7, "weight of the squared contact force cost"),
      range_kwarg("contact_cost_range", nullptr, 10.0, "the contact cost is clipped to this range"),
      number_kwarg("healthy_reward", 5.0, "reward per step while healthy"),
      flag_kwarg("terminate_when_unhealthy", true, "end the episode when not healthy"),
      range_kwarg("healthy_z_range", 1.0, 2.0, "healthy while low < qpos[2] < high"),
      reset_noise_kwarg(0.01)};
  for (TaskKwarg& k : humanoid_observation_kwargs()) kwargs.push_back(std::move(k));
  return {"Humanoid-v5", std::move(kwargs),
          [](const TaskKwargs& k) { return std::make_unique<Humanoid>(k); }};
}

}  // namespace sac
