// reacher.cpp: Reacher-v5 (ENVS.md section 3): move a two-link arm's fingertip onto a target.
// Obs (10): cos(qpos[0:2]), sin(qpos[0:2]), qpos[2:4] (target), qvel[0:2], and the x, y of
// xpos[fingertip] - xpos[target]. Reward: -||xpos[fingertip] - xpos[target]|| (3-D, after the
// step, xpos as the last mj_step left it) - |action|^2. Never terminates; TimeLimit 50 steps.
// Reset: qpos = qpos0 + U(-0.1, 0.1) (4 draws), then the goal g ~ U(-0.2, 0.2)^2 redrawn until
// ||g|| < 0.2 goes into qpos[2:4]; qvel = U(-0.005, 0.005) (4 draws) with qvel[2:4] = 0.
// frame_skip 2.
#include <cmath>
#include <stdexcept>

#include "mujoco_env.h"
#include "tasks.h"

namespace sac {
namespace {

class Reacher final : public MujocoEnv {
 public:
  static constexpr int frame_skip_steps = 2;
  static constexpr int max_steps = 50;
  static constexpr double dist_reward_weight = 1.0;
  static constexpr double ctrl_cost_weight = 1.0;
  static constexpr double qpos_noise = 0.1;
  static constexpr double qvel_noise = 5e-3;
  static constexpr double goal_radius = 0.2;  // goal drawn in the square, kept inside the disc

  Reacher() : MujocoEnv("reacher.xml", frame_skip_steps, false) {
    init_spec("Reacher-v5", 10, {"reward_dist", "reward_ctrl"}, max_steps);
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
    m_data->qpos[2] = gx;
    m_data->qpos[3] = gy;
    for (int i = 0; i < m->nv; ++i) m_data->qvel[i] = rng.uniform(-qvel_noise, qvel_noise);
    m_data->qvel[2] = 0.0;
    m_data->qvel[3] = 0.0;
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
    r.set_reward(-dist_reward_weight * dist, -(ctrl_cost_weight * action_sq_norm(action)));
    r.terminated = false;
    write_obs(obs);
    return r;
  }

 private:
  int body_id(const char* name) const {
    int id = mj_name2id(m_model.get(), mjOBJ_BODY, name);
    if (id < 0) throw std::runtime_error(std::string("reacher.xml has no body '") + name + "'");
    return id;
  }

  void write_obs(double* obs) const {
    const double* qpos = m_data->qpos;
    obs[0] = std::cos(qpos[0]);
    obs[1] = std::cos(qpos[1]);
    obs[2] = std::sin(qpos[0]);
    obs[3] = std::sin(qpos[1]);
    obs[4] = qpos[2];
    obs[5] = qpos[3];
    obs[6] = m_data->qvel[0];
    obs[7] = m_data->qvel[1];
    obs[8] = m_data->xpos[3 * m_fingertip] - m_data->xpos[3 * m_target];
    obs[9] = m_data->xpos[3 * m_fingertip + 1] - m_data->xpos[3 * m_target + 1];
  }

  int m_fingertip = -1;
  int m_target = -1;
};

}  // namespace

std::unique_ptr<Env> make_reacher() { return std::make_unique<Reacher>(); }

}  // namespace sac
