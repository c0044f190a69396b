// cheetah_run.cpp: dm_control's cheetah-run on sac's task API (sac/mujoco_env.h), written from
// dm_control's description of the task (dm_control/suite/cheetah.py):
//   model        dm_control's cheetah.xml, read from the dm-control package at run time
//   observation  qpos without the horizontal position (8), then qvel (9): 17 values
//   reward       tolerance(speed, bounds=(10, inf), margin=10, value_at_margin=0, linear):
//                1 at 10 m/s or faster, speed / 10 between, 0 when not moving forward; speed is
//                the torso subtree's linear velocity along x (sensor torso_subtreelinvel)
//   action       6 motors in [-1, 1]; one physics step (0.01 s) per env step
//   episode      1000 steps (dm_control's 10 s time limit), truncated, never terminated
//   reset        every limited joint uniform in its range, then 200 physics steps to settle,
//                time back to 0
// Physics steps as dm_control's "legacy" step does: after each step the position and velocity
// stages are recomputed (mj_step1), so the sensor reads the new state.
#include "cheetah_run.h"

#include <sac/mujoco_env.h>

#include <cmath>
#include <memory>
#include <string>

namespace cheetah_run {
namespace {

constexpr double kRunSpeed = 10.0;    // dm_control's _RUN_SPEED
constexpr int kSettleSteps = 200;     // physics steps after the random pose
constexpr int kTimeLimitSteps = 1000; // 10 s of 0.01 s steps

// dm_control's rewards.tolerance with bounds (lower, inf), margin `margin`, value_at_margin 0 and
// the linear sigmoid
double tolerance_above(double x, double lower, double margin) {
  if (x >= lower) return 1.0;
  const double d = (lower - x) / margin;
  return std::fabs(d) < 1.0 ? 1.0 - d : 0.0;
}

class CheetahRun final : public sac::MujocoEnv {
 public:
  explicit CheetahRun(const sac::TaskKwargs& k)
      : MujocoEnv(sac::load_xml_file(k.string("xml_file")), 1, false) {
    const int sensor = mj_name2id(m_model.get(), mjOBJ_SENSOR, "torso_subtreelinvel");
    if (sensor < 0 || m_model->nq != m_model->njnt || m_model->nq < 2)
      throw sac::InputError(std::string(kId) + ": model '" + k.string("xml_file") +
                            "' is not dm_control's cheetah (no sensor torso_subtreelinvel, or a "
                            "joint with more than one degree of freedom)");
    m_speed = m_model->sensor_adr[sensor];
    init_spec(kId, (m_model->nq - 1) + m_model->nv, {"reward_run"}, kTimeLimitSteps);
  }

  void reset(sac::HostRng& rng, double* obs) override {
    const mjModel* m = m_model.get();
    reset_data();
    mj_forward(m, m_data);
    for (int j = 0; j < m->njnt; ++j)
      if (m->jnt_limited[j])
        m_data->qpos[m->jnt_qposadr[j]] = rng.uniform(m->jnt_range[2 * j], m->jnt_range[2 * j + 1]);
    // settle as dm_control does: its step finishes the step begun by the last forward pass
    // (mj_step2), takes the rest whole, then brings positions and velocities up to date
    mj_step2(m, m_data);
    for (int i = 1; i < kSettleSteps; ++i) mj_step(m, m_data);
    mj_step1(m, m_data);
    m_data->time = 0;
    mj_forward(m, m_data);
    write_obs(obs);
  }

  sac::StepResult step(const double* action, double* obs) override {
    sac::StepResult r;
    r.unstable = do_simulation(action);
    mj_step1(m_model.get(), m_data);  // the sensor of the new state
    write_obs(obs);
    r.set_reward(tolerance_above(m_data->sensordata[m_speed], kRunSpeed, kRunSpeed));
    return r;
  }

 private:
  void write_obs(double* obs) const {
    int k = 0;
    for (int i = 1; i < m_model->nq; ++i) obs[k++] = m_data->qpos[i];
    for (int i = 0; i < m_model->nv; ++i) obs[k++] = m_data->qvel[i];
  }

  int m_speed = 0;  // sensordata index of the torso's forward velocity
};

}  // namespace

sac::TaskDefinition task() {
  return {kId,
          {{"xml_file", sac::TaskKwarg::Type::string, DM_CONTROL_SUITE_DIR "/cheetah.xml",
            "dm_control's cheetah.xml (its common/ folder beside it)"}},
          [](const sac::TaskKwargs& k) { return std::make_unique<CheetahRun>(k); },
          kTimeLimitSteps};
}

}  // namespace cheetah_run
