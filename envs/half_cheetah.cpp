// half_cheetah.cpp: HalfCheetah-v5 (ENVS.md section 3): run forward in the x-z plane.
// Defaults: obs (17) qpos[1:9] (x excluded), qvel[0:9]. Reward: forward velocity of rootx
// (finite difference over dt) - 0.1 * |action|^2. Never terminates. Reset noise: qpos +=
// U(-0.1, 0.1), qvel = 0.1 * N(0, 1). frame_skip 5. Every number above is one of Gymnasium's v5
// keyword arguments (define_half_cheetah()).
#include "sac/mujoco_env.h"
#include "tasks.h"

namespace sac {
namespace {

class HalfCheetah final : public MujocoEnv {
 public:
  explicit HalfCheetah(const TaskKwargs& k)
      : MujocoEnv(load_xml_file(k.string("xml_file")), k.integer("frame_skip"), false),
        m_forward_reward_weight(k.number("forward_reward_weight")),
        m_ctrl_cost_weight(k.number("ctrl_cost_weight")),
        m_reset_noise(k.number("reset_noise_scale")),
        m_skipped_qpos(k.boolean("exclude_current_positions_from_observation") ? 1 : 0) {
    require_model(m_model->nq >= 1, "HalfCheetah-v5", "at least 1 qpos (x)");
    init_spec("HalfCheetah-v5", m_model->nq - m_skipped_qpos + m_model->nv,
              {"reward_forward", "reward_ctrl"});
    m_spec.info_terms = {"x_position", "x_velocity"};
  }

  void reset(HostRng& rng, double* obs) override {
    reset_state(rng, {ResetNoise::Kind::uniform, m_reset_noise},
                {ResetNoise::Kind::normal, m_reset_noise});
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
    // forward progress minus control cost on the unclipped action
    r.set_reward(m_forward_reward_weight * x_velocity,
                 -(m_ctrl_cost_weight * action_sq_norm(action)));
    r.terminated = false;
    r.set_info(m_data->qpos[0], x_velocity);
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
  double m_x_before = 0.0;  // qpos[0] before the step's physics
};

}  // namespace

TaskDefinition define_half_cheetah() {
  return {"HalfCheetah-v5",
          {xml_file_kwarg("half_cheetah.xml"), frame_skip_kwarg(5), camera_kwarg(),
           number_kwarg("forward_reward_weight", 1.0, "weight of the forward velocity reward"),
           number_kwarg("ctrl_cost_weight", 0.1, "weight of the squared action cost"),
           reset_noise_kwarg(0.1), exclude_positions_kwarg(1)},
          [](const TaskKwargs& k) { return std::make_unique<HalfCheetah>(k); }};
}

}  // namespace sac
