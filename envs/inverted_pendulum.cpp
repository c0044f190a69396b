// inverted_pendulum.cpp: InvertedPendulum-v5 (ENVS.md section 3): keep a pole upright on a cart.
// Obs (4 by default): qpos (cart position, pole angle), qvel. Reward 1 per step, 0 on the
// terminating step; terminates when the pole (obs[1]) leans past 0.2 rad or the obs is
// non-finite. Reset noise U(-0.01, 0.01) on qpos and qvel; frame_skip 2. Keyword arguments:
// xml_file, frame_skip, reset_noise_scale (define_inverted_pendulum()).
#include <cmath>

#include "sac/mujoco_env.h"
#include "tasks.h"

namespace sac {
namespace {

class InvertedPendulum final : public MujocoEnv {
 public:
  static constexpr double max_pole_angle = 0.2;  // |qpos[1]| above this terminates

  explicit InvertedPendulum(const TaskKwargs& k)
      : MujocoEnv(load_xml_file(k.string("xml_file")), k.integer("frame_skip"), false),
        m_reset_noise(k.number("reset_noise_scale")) {
    require_model(m_model->nq >= 2, "InvertedPendulum-v5",
                  "at least 2 qpos (cart position, pole angle)");
    init_spec("InvertedPendulum-v5", m_model->nq + m_model->nv, {"reward_survive"});
  }

  void reset(HostRng& rng, double* obs) override {
    reset_state(rng, {ResetNoise::Kind::uniform, m_reset_noise},
                {ResetNoise::Kind::uniform, m_reset_noise});
    write_obs(obs);
  }

  StepResult step(const double* action, double* obs) override {
    StepResult r;
    r.unstable = do_simulation(action);
    write_obs(obs);
    // terminated on a non-finite obs or a pole past the angle limit; reward 1 only while alive
    bool finite = true;
    for (int i = 0; i < m_spec.obs_dim; ++i) finite = finite && std::isfinite(obs[i]);
    r.terminated = !finite || std::fabs(obs[1]) > max_pole_angle;
    r.set_reward(r.terminated ? 0.0 : 1.0);
    return r;
  }

 private:
  void write_obs(double* obs) const {
    int k = 0;
    for (int i = 0; i < m_model->nq; ++i) obs[k++] = m_data->qpos[i];
    for (int i = 0; i < m_model->nv; ++i) obs[k++] = m_data->qvel[i];
  }

  double m_reset_noise;
};

}  // namespace

TaskDefinition define_inverted_pendulum() {
  return {"InvertedPendulum-v5",
          {xml_file_kwarg("inverted_pendulum.xml"), frame_skip_kwarg(2), camera_kwarg(),
           reset_noise_kwarg(0.01)},
          [](const TaskKwargs& k) { return std::make_unique<InvertedPendulum>(k); }};
}

}  // namespace sac
