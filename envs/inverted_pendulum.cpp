// inverted_pendulum.cpp: InvertedPendulum-v5 (ENVS.md section 3): keep a pole upright on a cart.
// Obs (4): qpos[0:2] (cart position, pole angle), qvel[0:2]. Reward 1 per step, 0 on the
// terminating step; terminates when the pole leans past 0.2 rad or the obs is non-finite.
// Reset noise U(-0.01, 0.01) on qpos and qvel; frame_skip 2.
#include <cmath>

#include "mujoco_env.h"
#include "tasks.h"

namespace sac {
namespace {

class InvertedPendulum final : public MujocoEnv {
 public:
  static constexpr int frame_skip_steps = 2;
  static constexpr double reset_noise = 0.01;   // U(-0.01, 0.01) on qpos and qvel
  static constexpr double max_pole_angle = 0.2;  // |qpos[1]| above this terminates

  InvertedPendulum() : MujocoEnv("inverted_pendulum.xml", frame_skip_steps, false) {
    init_spec("InvertedPendulum-v5", 4, {"reward_survive"});
  }

  void reset(HostRng& rng, double* obs) override {
    reset_state(rng, {ResetNoise::Kind::uniform, reset_noise},
                {ResetNoise::Kind::uniform, reset_noise});
    write_obs(obs);
  }

  StepResult step(const double* action, double* obs) override {
    StepResult r;
    r.unstable = do_simulation(action);
    write_obs(obs);
    // terminated on a non-finite obs or a pole past the angle limit; reward 1 only while alive
    bool finite = true;
    for (int i = 0; i < 4; ++i) finite = finite && std::isfinite(obs[i]);
    r.terminated = !finite || std::fabs(obs[1]) > max_pole_angle;
    r.set_reward(r.terminated ? 0.0 : 1.0);
    return r;
  }

 private:
  void write_obs(double* obs) const {
    obs[0] = m_data->qpos[0];
    obs[1] = m_data->qpos[1];
    obs[2] = m_data->qvel[0];
    obs[3] = m_data->qvel[1];
  }
};

}  // namespace

std::unique_ptr<Env> make_inverted_pendulum() { return std::make_unique<InvertedPendulum>(); }

}  // namespace sac
