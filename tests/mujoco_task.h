// mujoco_task.h: helpers shared by the MuJoCo task tests (test_mujoco_envs.cpp,
// test_mujoco_tasks.cpp): a task instance next to a test-owned copy of its model, and step_from,
// which steps the env from a known state and checks it bit for bit against the test's own
// simulation of the same step.
#pragma once
#include <gtest/gtest.h>
#include <mujoco/mujoco.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "model_compare.h"
#include "mujoco_env.h"
#include "sac/env.h"

namespace sac {
namespace mjtest {

inline MujocoEnv& as_mujoco(Env& env) {
  auto* m = dynamic_cast<MujocoEnv*>(&env);
  if (!m) throw std::runtime_error("not a MujocoEnv");
  return *m;
}

// a task instance plus a test-owned copy of its model file.
struct Task {
  std::unique_ptr<Env> env;
  ModelPtr model;
  bool contact_forces = false;  // the task observes cfrc_ext (mj_rnePostConstraint after a step)
  MujocoEnv& mj() { return as_mujoco(*env); }
  int body(const char* name) const { return mj_name2id(model.get(), mjOBJ_BODY, name); }
};

inline Task make_task(const std::string& id, const std::string& file, bool contact_forces = false) {
  Task t;
  t.env = make_env(id);
  t.model = load_model_or_fail(model_dir() + "/" + file);
  t.contact_forces = contact_forces;
  return t;
}

// one env step from a known state, next to the test's own simulation of it.
struct Stepped {
  StepResult r;
  std::vector<double> obs;
  DataPtr before;  // the env's data once the state was set (set_state runs mj_forward)
  DataPtr after;   // the test's simulation from there: ctrl, frame_skip mj_step, then
                   // mj_rnePostConstraint when the task observes contact forces
};

// puts `t` in (qpos, qvel) as Gymnasium's set_state does, snapshots the env's mjData, steps the
// env with `action`, simulates the same step on the snapshot and checks the env's state against
// it bit for bit. The snapshot keeps the solver warm start of the env's data, which is what
// makes bit-for-bit agreement possible with contacts (mj_forward refreshes qacc_warmstart, so a
// fresh mjData would converge to slightly different contact forces). Reward and observation
// checks then recompute their formulas from `before` and `after`.
inline Stepped step_from(Task& t, const std::vector<double>& qpos, const std::vector<double>& qvel,
                         const std::vector<double>& action) {
  const mjModel* m = t.model.get();
  Stepped s;
  HostRng rng(1);
  s.obs.assign(t.env->spec().obs_dim, 0.0);
  t.env->reset(rng, s.obs.data());
  t.mj().set_state(qpos.data(), qvel.data());
  s.before.reset(mj_makeData(m));
  mj_copyData(s.before.get(), m, t.mj().data());
  for (int i = 0; i < m->nq; ++i) EXPECT_EQ(s.before->qpos[i], qpos[i]) << "qpos " << i;
  for (int i = 0; i < m->nv; ++i) EXPECT_EQ(s.before->qvel[i], qvel[i]) << "qvel " << i;
  s.r = t.env->step(action.data(), s.obs.data());

  s.after.reset(mj_makeData(m));
  mj_copyData(s.after.get(), m, s.before.get());
  for (int i = 0; i < m->nu; ++i) s.after->ctrl[i] = action[i];
  for (int k = 0; k < t.mj().frame_skip(); ++k) mj_step(m, s.after.get());
  if (t.contact_forces) mj_rnePostConstraint(m, s.after.get());

  std::vector<double> q(t.env->nq()), v(t.env->nv());
  t.env->get_state(q.data(), v.data());
  for (int i = 0; i < m->nq; ++i) EXPECT_EQ(q[i], s.after->qpos[i]) << "qpos " << i;
  for (int i = 0; i < m->nv; ++i) EXPECT_EQ(v[i], s.after->qvel[i]) << "qvel " << i;
  EXPECT_FALSE(s.r.unstable);
  return s;
}

}  // namespace mjtest
}  // namespace sac
