// pusher.cpp: Pusher-v5 (ENVS.md section 3): a seven-joint arm pushes a cylinder onto a goal.
// Obs (23): qpos[0:7], qvel[0:7] (arm), xpos of tips_arm, object and goal (3 each). Reward:
// -||object - goal|| - 0.1 * |action|^2 - 0.5 * ||object - tips_arm|| on the xpos after the step
// (as the last mj_step left them). Never terminates; TimeLimit 100 steps. Reset: arm at qpos0
// (no noise); the object offset c = (U(-0.3, 0), U(-0.2, 0.2)) redrawn until ||c|| > 0.17 goes
// into qpos[7] (obj_slidey) and qpos[8] (obj_slidex); goal slides at 0; qvel = U(-0.005, 0.005)
// (11 draws) with qvel[7:11] = 0. frame_skip 5. Model pusher_v5.xml.
#include <cmath>
#include <stdexcept>

#include "mujoco_env.h"
#include "tasks.h"

namespace sac {
namespace {

class Pusher final : public MujocoEnv {
 public:
  static constexpr int frame_skip_steps = 5;
  static constexpr int max_steps = 100;
  static constexpr double near_reward_weight = 0.5;
  static constexpr double dist_reward_weight = 1.0;
  static constexpr double ctrl_cost_weight = 0.1;
  static constexpr double qvel_noise = 5e-3;
  static constexpr double min_object_goal_dist = 0.17;  // object start redrawn until beyond

  Pusher() : MujocoEnv("pusher_v5.xml", frame_skip_steps, false) {
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
    m_data->qpos[7] = cy;  // obj_slidey takes the first draw, as in Gymnasium
    m_data->qpos[8] = cx;
    m_data->qpos[9] = 0.0;
    m_data->qpos[10] = 0.0;
    for (int i = 0; i < m->nv; ++i) m_data->qvel[i] = rng.uniform(-qvel_noise, qvel_noise);
    for (int i = 7; i < 11; ++i) m_data->qvel[i] = 0.0;
    mj_forward(m, m_data);
    write_obs(obs);
  }

  StepResult step(const double* action, double* obs) override {
    StepResult r;
    r.unstable = do_simulation(action);
    // v5: both distances after the physics step
    double near = distance(m_object, m_tips_arm);
    double dist = distance(m_object, m_goal);
    r.set_reward(-dist_reward_weight * dist, -(ctrl_cost_weight * action_sq_norm(action)),
                 -(near_reward_weight * near));
    r.terminated = false;
    write_obs(obs);
    return r;
  }

 private:
  int body_id(const char* name) const {
    int id = mj_name2id(m_model.get(), mjOBJ_BODY, name);
    if (id < 0) throw std::runtime_error(std::string("pusher_v5.xml has no body '") + name + "'");
    return id;
  }

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

  int m_tips_arm = -1;
  int m_object = -1;
  int m_goal = -1;
};

}  // namespace

std::unique_ptr<Env> make_pusher() { return std::make_unique<Pusher>(); }

}  // namespace sac
