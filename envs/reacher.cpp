// reacher.cpp: Reacher-v5 (ENVS.md section 3): move a two-link arm's fingertip onto a target.
// Obs (10): cos(qpos[0:2]), sin(qpos[0:2]), qpos[2:4] (target), qvel[0:2], and the x, y of
// xpos[fingertip] - xpos[target]. Reward: -||xpos[fingertip] - xpos[target]|| (3-D, after the
// step, xpos as the last mj_step left it) - |action|^2. Never terminates; TimeLimit 50 steps.
// Reset: qpos = qpos0 + U(-0.1, 0.1) (4 draws), then the goal g ~ U(-0.2, 0.2)^2 redrawn until
// ||g|| < 0.2 goes into qpos[2:4]; qvel = U(-0.005, 0.005) (4 draws) with qvel[2:4] = 0.
// frame_skip 2. Keyword arguments: xml_file, frame_skip, reward_dist_weight (1),
// reward_control_weight (1) (define_reacher()); with another model the target is the last two
// qpos and the observation holds qpos[2:].
#include <cmath>
#include <stdexcept>

#include "sac/mujoco_env.h"
#include "tasks.h"

namespace sac {
namespace {

class Reacher final : public MujocoEnv {
 public:
  static constexpr int max_steps = 50;
  static constexpr double qpos_noise = 0.1;
  static constexpr double qvel_noise = 5e-3;
  static constexpr double goal_radius = 0.2;  // goal drawn in the square, kept inside the disc

  explicit Reacher(const TaskKwargs& k)
      : MujocoEnv(load_xml_file(k.string("xml_file")), k.integer("frame_skip"), false),
        m_dist_reward_weight(k.number("reward_dist_weight")),
        m_ctrl_cost_weight(k.number("reward_control_weight")) {
    require_model(m_model->nq >= 4 && m_model->nv >= 4, "Reacher-v5",
                  "at least 4 qpos and qvel (two arm joints, the target's two slides last)");
    init_spec("Reacher-v5", 4 + (m_model->nq - 2) + 2 + 2, {"reward_dist", "reward_ctrl"},
              max_steps);
    m_fingertip = body_id("fingertip");
    m_target = body_id("target");
  }

  void reset(HostRng& rng, double* obs) override {
    const mjModel* m = m_model.get();
    reset_data();
    // arm and target noise, then the goal by rejection sampling, then velocities
    for (int i = 0; i < m->nq; ++i) m_data->qpos[i] = m->qpos0[i] + rng.uniform(-qpos_noise, qpos_noise);
    double gx, gy;
    do {
      gx = rng.uniform(-goal_radius, goal_radius);
      gy = rng.uniform(-goal_radius, goal_radius);
    } while (!(std::sqrt(gx * gx + gy * gy) < goal_radius));
    m_data->qpos[m->nq - 2] = gx;
    m_data->qpos[m->nq - 1] = gy;
    for (int i = 0; i < m->nv; ++i) m_data->qvel[i] = rng.uniform(-qvel_noise, qvel_noise);
    m_data->qvel[m->nv - 2] = 0.0;
    m_data->qvel[m->nv - 1] = 0.0;
    mj_forward(m, m_data);
    write_obs(obs);
  }

  StepResult step(const double* action, double* obs) override {
    StepResult r;
    r.unstable = do_simulation(action);
    // v5: the distance after the physics step
    const double* tip = m_data->xpos + 3 * m_fingertip;
    const double* target = m_data->xpos + 3 * m_target;
    double dx = tip[0] - target[0], dy = tip[1] - target[1], dz = tip[2] - target[2];
    double dist = std::sqrt(dx * dx + dy * dy + dz * dz);
    r.set_reward(-m_dist_reward_weight * dist, -(m_ctrl_cost_weight * action_sq_norm(action)));
    r.terminated = false;
    write_obs(obs);
    return r;
  }

 private:
  void write_obs(double* obs) const {
    const double* qpos = m_data->qpos;
    obs[0] = std::cos(qpos[0]);
    obs[1] = std::cos(qpos[1]);
    obs[2] = std::sin(qpos[0]);
    obs[3] = std::sin(qpos[1]);
    int k = 4;
    for (int i = 2; i < m_model->nq; ++i) obs[k++] = qpos[i];
    obs[k++] = m_data->qvel[0];
    obs[k++] = m_data->qvel[1];
    obs[k++] = m_data->xpos[3 * m_fingertip] - m_data->xpos[3 * m_target];
    obs[k++] = m_data->xpos[3 * m_fingertip + 1] - m_data->xpos[3 * m_target + 1];
  }

  double m_dist_reward_weight, m_ctrl_cost_weight;
  int m_fingertip = -1;
  int m_target = -1;
};

}  // namespace

TaskDefinition define_reacher() {
  return {"Reacher-v5",
          {xml_file_kwarg("reacher.xml"), frame_skip_kwarg(2), camera_kwarg(),
           number_kwarg("reward_dist_weight", 1.0, "weight of the fingertip-target distance cost"),
           number_kwarg("reward_control_weight", 1.0, "weight of the squared action cost")},
          [](const TaskKwargs& k) { return std::make_unique<Reacher>(k); }, 50};
}

}  // namespace sac
