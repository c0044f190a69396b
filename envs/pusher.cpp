// pusher.cpp: Pusher-v5 (ENVS.md section 3): a seven-joint arm pushes a cylinder onto a goal.
// Obs (23): qpos[0:7], qvel[0:7] (arm), xpos of tips_arm, object and goal (3 each). Reward:
// -||object - goal|| - 0.1 * |action|^2 - 0.5 * ||object - tips_arm|| on the xpos after the step
// (as the last mj_step left them). Never terminates; TimeLimit 100 steps. Reset: arm at qpos0
// (no noise); the object offset c = (U(-0.3, 0), U(-0.2, 0.2)) redrawn until ||c|| > 0.17 goes
// into qpos[7] (obj_slidey) and qpos[8] (obj_slidex); goal slides at 0; qvel = U(-0.005, 0.005)
// (11 draws) with qvel[7:11] = 0. frame_skip 5. Model pusher_v5.xml. Keyword arguments:
// xml_file, frame_skip, reward_near_weight (0.5), reward_dist_weight (1), reward_control_weight
// (0.1) (define_pusher()); with another model the object and goal slides are the last four qpos.
#include <cmath>
#include <stdexcept>

#include "sac/mujoco_env.h"
#include "tasks.h"

namespace sac {
namespace {

class Pusher final : public MujocoEnv {
 public:
  static constexpr int max_steps = 100;
  static constexpr double qvel_noise = 5e-3;
  static constexpr double min_object_goal_dist = 0.17;  // object start redrawn until beyond

  explicit Pusher(const TaskKwargs& k)
      : MujocoEnv(load_xml_file(k.string("xml_file")), k.integer("frame_skip"), false),
        m_near_reward_weight(k.number("reward_near_weight")),
        m_dist_reward_weight(k.number("reward_dist_weight")),
        m_ctrl_cost_weight(k.number("reward_control_weight")) {
    require_model(m_model->nq >= 11 && m_model->nv >= 11, "Pusher-v5",
                  "at least 11 qpos and qvel (7 arm joints, then the object's and goal's slides)");
    init_spec("Pusher-v5", 23, {"reward_dist", "reward_ctrl", "reward_near"}, max_steps);
    m_tips_arm = body_id("tips_arm");
    m_object = body_id("object");
    m_goal = body_id("goal");
  }

  void reset(HostRng& rng, double* obs) override {
    const mjModel* m = m_model.get();
    // as mj_resetData: qpos = qpos0 (all zero) and qvel = 0
    reset_data();
    // object start by rejection sampling around the goal (at the origin of its slides)
    double cy, cx;
    do {
      cy = rng.uniform(-0.3, 0.0);
      cx = rng.uniform(-0.2, 0.2);
    } while (!(std::sqrt(cy * cy + cx * cx) > min_object_goal_dist));
    const int slides = m->nq - 4;   // obj_slidey, obj_slidex, goal_slidey, goal_slidex
    m_data->qpos[slides] = cy;  // obj_slidey takes the first draw, as in Gymnasium
    m_data->qpos[slides + 1] = cx;
    m_data->qpos[slides + 2] = 0.0;
    m_data->qpos[slides + 3] = 0.0;
    for (int i = 0; i < m->nv; ++i) m_data->qvel[i] = rng.uniform(-qvel_noise, qvel_noise);
    for (int i = m->nv - 4; i < m->nv; ++i) m_data->qvel[i] = 0.0;
    mj_forward(m, m_data);
    write_obs(obs);
  }

  StepResult step(const double* action, double* obs) override {
    StepResult r;
    r.unstable = do_simulation(action);
    // v5: both distances after the physics step
    double near = distance(m_object, m_tips_arm);
    double dist = distance(m_object, m_goal);
    r.set_reward(-m_dist_reward_weight * dist, -(m_ctrl_cost_weight * action_sq_norm(action)),
                 -(m_near_reward_weight * near));
    r.terminated = false;
    write_obs(obs);
    return r;
  }

 private:
  double distance(int a, int b) const {
    double sq = 0.0;
    for (int k = 0; k < 3; ++k) {
      double d = m_data->xpos[3 * a + k] - m_data->xpos[3 * b + k];
      sq += d * d;
    }
    return std::sqrt(sq);
  }

  void write_obs(double* obs) const {
    int k = 0;
    for (int i = 0; i < 7; ++i) obs[k++] = m_data->qpos[i];
    for (int i = 0; i < 7; ++i) obs[k++] = m_data->qvel[i];
    for (int body : {m_tips_arm, m_object, m_goal})
      for (int j = 0; j < 3; ++j) obs[k++] = m_data->xpos[3 * body + j];
  }

  double m_near_reward_weight, m_dist_reward_weight, m_ctrl_cost_weight;
  int m_tips_arm = -1;
  int m_object = -1;
  int m_goal = -1;
};

}  // namespace

TaskDefinition define_pusher() {
  return {"Pusher-v5",
          {xml_file_kwarg("pusher_v5.xml"), frame_skip_kwarg(5), camera_kwarg(),
           number_kwarg("reward_near_weight", 0.5, "weight of the fingertip-object distance cost"),
           number_kwarg("reward_dist_weight", 1.0, "weight of the object-goal distance cost"),
           number_kwarg("reward_control_weight", 0.1, "weight of the squared action cost")},
          [](const TaskKwargs& k) { return std::make_unique<Pusher>(k); }, 100};
}

}  // namespace sac
