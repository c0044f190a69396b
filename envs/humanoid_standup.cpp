// humanoid_standup.cpp: HumanoidStandup-v5 (Gymnasium 1.x's humanoidstandup_v5): the Humanoid
// body starts lying on its back and is rewarded for raising its torso. Defaults: obs (348)
// qpos[2:24] (x, y excluded), qvel[0:23], cinert[1:14] (13 x 10), cvel[1:14] (13 x 6),
// qfrc_actuator[6:23] (17), cfrc_ext[1:14] (13 x 6); read as the last mj_step left them, with
// mj_rnePostConstraint after the physics (cfrc_ext). Reward: qpos[2] / timestep (reward_linup,
// the torso height over the model's timestep, not over dt) - 0.1 * |ctrl|^2 (reward_quadctrl)
// - clip(5e-7 * |cfrc_ext|^2, -inf, 10) (reward_impact) + 1: Gymnasium adds the 1 outside its
// reward terms, so here the reward is the terms' sum plus 1. Never terminates. Reset noise
// U(-0.01, 0.01) on qpos (quaternion included) and qvel. frame_skip 5. Model
// humanoidstandup.xml. Every number above is one of Gymnasium's v5 keyword arguments
// (define_humanoid_standup()), except the 1 and the height reward's weight: Gymnasium 1.4 takes
// uph_cost_weight but does not apply it, and so it is here.
#include <string>
#include <utility>
#include <vector>

#include "humanoid_body.h"
#include "sac/mujoco_env.h"
#include "tasks.h"

namespace sac {
namespace {

class HumanoidStandup final : public MujocoEnv {
 public:
  explicit HumanoidStandup(const TaskKwargs& k)
      : MujocoEnv(load_xml_file(k.string("xml_file")), k.integer("frame_skip"), true),
        m_ctrl_cost_weight(k.number("ctrl_cost_weight")),
        m_impact_cost_weight(k.number("impact_cost_weight")),
        m_impact_cost_range(k.number_pair("impact_cost_range")),
        m_reset_noise(k.number("reset_noise_scale")),
        m_observation(k) {
    const mjModel* m = m_model.get();
    require_model(m->nq >= 3 && m->nv >= 6, "HumanoidStandup-v5",
                  "a free joint first (at least 3 qpos and 6 qvel)");
    require_model(3 + 2 * m->ntendon <= StepResult::max_info_terms, "HumanoidStandup-v5",
                  "at most " + std::to_string((StepResult::max_info_terms - 3) / 2) +
                      " tendons (their lengths and velocities are info values)");
    init_spec("HumanoidStandup-v5", m_observation.size(m),
              {"reward_linup", "reward_quadctrl", "reward_impact"});
    m_spec.info_terms = {"x_position", "y_position", "z_distance_from_origin"};
    add_tendon_info_terms(m, m_spec.info_terms);
  }

  void reset(HostRng& rng, double* obs) override {
    reset_state(rng, {ResetNoise::Kind::uniform, m_reset_noise},
                {ResetNoise::Kind::uniform, m_reset_noise});
    m_observation.write(m_model.get(), m_data, obs);
  }

  StepResult step(const double* action, double* obs) override {
    const mjModel* m = m_model.get();
    StepResult r;
    r.unstable = do_simulation(action);
    // torso height over the model's timestep (Gymnasium's "uph" reward), control cost on ctrl,
    // clipped impact cost; the 1 Gymnasium adds outside its terms comes last
    double linup = (m_data->qpos[2] - 0) / m->opt.timestep;
    double impact = clipped_contact_cost(m, m_data, m_impact_cost_weight, m_impact_cost_range);
    r.set_reward(linup, -(m_ctrl_cost_weight * squared_control(m, m_data)), -impact);
    r.reward += 1.0;
    r.terminated = false;
    int k = 0;
    r.info[k++] = m_data->qpos[0];
    r.info[k++] = m_data->qpos[1];
    r.info[k++] = m_data->qpos[2] - m->qpos0[2];
    write_tendon_info(m, m_data, r.info.data() + k);
    m_observation.write(m, m_data, obs);
    return r;
  }

 private:
  double m_ctrl_cost_weight, m_impact_cost_weight;
  std::pair<double, double> m_impact_cost_range;
  double m_reset_noise;
  HumanoidObservation m_observation;
};

}  // namespace

TaskDefinition define_humanoid_standup() {
  std::vector<TaskKwarg> kwargs = {
      xml_file_kwarg("humanoidstandup.xml"), frame_skip_kwarg(5), camera_kwarg(),
      number_kwarg("uph_cost_weight", 1.0,
                   "documented by Gymnasium as the torso height reward's weight; Gymnasium "
                   "1.4 does not apply it, and neither does sac (the same reward)"),
      number_kwarg("ctrl_cost_weight", 0.1, "weight of the squared control cost"),
      number_kwarg("impact_cost_weight", 5e-7, "weight of the squared contact force cost"),
      range_kwarg("impact_cost_range", nullptr, 10.0,
                  "the contact force cost is clipped to this range"),
      reset_noise_kwarg(0.01)};
  for (TaskKwarg& k : humanoid_observation_kwargs()) kwargs.push_back(std::move(k));
  return {"HumanoidStandup-v5", std::move(kwargs),
          [](const TaskKwargs& k) { return std::make_unique<HumanoidStandup>(k); }};
}

}  // namespace sac
