// test_mujoco_envs.cpp: the MuJoCo env base class and the suites that run over all ten tasks:
// the project's model files against the Gymnasium reference files (every mjModel field),
// dimensions and bounds, reset noise, same-seed determinism and instability flags; and the
// reward, observation and termination tests of InvertedPendulum-v5, HalfCheetah-v5 and Hopper-v5
// on known states, checked against the test's own simulation (the other seven tasks' are in
// test_mujoco_tasks.cpp).
// Run: ./sac_tests --gtest_filter='*Mujoco*'
// The model-equivalence tests read the reference models from $SAC_REFERENCE_MODELS, else from
// SAC_SOURCE_DIR/../shared/mujoco/models, and skip when that folder does not exist.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <vector>

#include <mujoco/mjxmacro.h>
#include <mujoco/mujoco.h>

#include "model_compare.h"
#include "mujoco_env.h"
#include "mujoco_task.h"
#include "sac/env.h"

namespace sac {
namespace {

using namespace mjtest;  // model loading (model_compare.h), Task and step_from (mujoco_task.h)

// ---------------------------------------------------------------------------------------------
// helpers

// one env step simulated by the test itself: fresh mjData, state set, ctrl written, frame_skip
// mj_step calls. Returns the data after the step.
DataPtr simulate_step(const mjModel* m, const std::vector<double>& qpos,
                      const std::vector<double>& qvel, const std::vector<double>& ctrl,
                      int frame_skip) {
  DataPtr d(mj_makeData(m));
  for (int i = 0; i < m->nq; ++i) d->qpos[i] = qpos[i];
  for (int i = 0; i < m->nv; ++i) d->qvel[i] = qvel[i];
  mj_forward(m, d.get());
  for (int i = 0; i < m->nu; ++i) d->ctrl[i] = ctrl[i];
  for (int k = 0; k < frame_skip; ++k) mj_step(m, d.get());
  return d;
}

// ---------------------------------------------------------------------------------------------
// model equivalence: the project's models compile to the same mjModel as the reference files
// (compare_models is in model_compare.h)

class MujocoModelEquivalence : public ::testing::TestWithParam<const char*> {};

TEST_P(MujocoModelEquivalence, CompilesToTheReferenceModel) {
  std::string ref_dir = reference_model_dir();
  if (!is_dir(ref_dir)) GTEST_SKIP() << "reference models not found at " << ref_dir;
  std::string file = GetParam();
  ModelPtr ours = load_model_or_fail(model_dir() + "/" + file);
  ModelPtr ref = load_model_or_fail(ref_dir + "/" + file);
  ASSERT_TRUE(ours && ref);

  int fields = 0;
  std::vector<std::string> diffs = compare_models(ours.get(), ref.get(), &fields);
  EXPECT_GT(fields, 250);  // every size, option and array of mjModel was visited
  std::string all;
  for (const auto& d : diffs) all += "  " + d + "\n";
  EXPECT_TRUE(diffs.empty()) << diffs.size() << " differences in " << file << ":\n" << all;
}

INSTANTIATE_TEST_SUITE_P(Files, MujocoModelEquivalence,
                         ::testing::Values("inverted_pendulum.xml", "inverted_double_pendulum.xml",
                                           "half_cheetah.xml", "hopper.xml", "walker2d_v5.xml",
                                           "ant.xml", "humanoid.xml", "swimmer.xml",
                                           "reacher.xml", "pusher_v5.xml"));

// the comparison itself notices a changed physical parameter.
TEST(MujocoModelCompare, DetectsADifference) {
  ModelPtr a = load_model_or_fail(model_dir() + "/hopper.xml");
  ModelPtr b = load_model_or_fail(model_dir() + "/hopper.xml");
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(compare_models(a.get(), b.get(), nullptr).empty());
  b->geom_friction[3 * 4] += 1e-6;  // foot friction
  b->opt.timestep *= 2;
  EXPECT_EQ(compare_models(a.get(), b.get(), nullptr).size(), 2u);
}

// ---------------------------------------------------------------------------------------------
// base class: model cache and loading errors

TEST(MujocoEnvBase, EnvsOfATaskShareOneModel) {
  auto a = make_env("Hopper-v5");
  auto b = make_env("Hopper-v5");
  EXPECT_EQ(as_mujoco(*a).model(), as_mujoco(*b).model());
  EXPECT_NE(as_mujoco(*a).data(), as_mujoco(*b).data());
}

TEST(MujocoEnvBase, LoadErrorNamesTheFile) {
  const std::string path = "/nonexistent/sac_no_such_model.xml";
  try {
    load_mujoco_model(path);
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(MujocoEnvBase, MujocoErrorsThrowInsteadOfExiting) {
  install_mujoco_handlers();
  EXPECT_THROW(mju_error("sac test error"), std::runtime_error);
}

// ---------------------------------------------------------------------------------------------
// dimensions

struct DimCase {
  const char* id;
  int obs_dim, act_dim;
  double ctrl_limit;  // ctrlrange is [-ctrl_limit, ctrl_limit] for every actuator
  int max_episode_steps;
  int nq, nv, nbody;
  double dt;
  int integrator;
};

class MujocoDims : public ::testing::TestWithParam<DimCase> {};

TEST_P(MujocoDims, MatchTheSpec) {
  const DimCase c = GetParam();
  auto env = make_env(c.id);
  const EnvSpec& s = env->spec();
  EXPECT_EQ(s.id, c.id);
  EXPECT_EQ(s.obs_dim, c.obs_dim);
  EXPECT_EQ(s.act_dim, c.act_dim);
  EXPECT_EQ(s.action_low, std::vector<double>(c.act_dim, -c.ctrl_limit));
  EXPECT_EQ(s.action_high, std::vector<double>(c.act_dim, c.ctrl_limit));
  EXPECT_EQ(s.max_episode_steps, c.max_episode_steps);
  EXPECT_EQ(env->nq(), c.nq);
  EXPECT_EQ(env->nv(), c.nv);
  const mjModel* m = as_mujoco(*env).model();
  EXPECT_EQ(m->nbody, c.nbody);
  EXPECT_DOUBLE_EQ(as_mujoco(*env).dt(), c.dt);
  EXPECT_EQ(m->opt.integrator, c.integrator);
  for (int i = 0; i < m->nu; ++i) EXPECT_TRUE(m->actuator_ctrllimited[i]) << i;
}

INSTANTIATE_TEST_SUITE_P(
    Tasks, MujocoDims,
    ::testing::Values(DimCase{"InvertedPendulum-v5", 4, 1, 3.0, 1000, 2, 2, 3, 0.04, mjINT_RK4},
                      DimCase{"HalfCheetah-v5", 17, 6, 1.0, 1000, 9, 9, 8, 0.05, mjINT_EULER},
                      DimCase{"Hopper-v5", 11, 3, 1.0, 1000, 6, 6, 5, 0.008, mjINT_RK4},
                      DimCase{"Walker2d-v5", 17, 6, 1.0, 1000, 9, 9, 8, 0.008, mjINT_RK4},
                      DimCase{"Ant-v5", 105, 8, 1.0, 1000, 15, 14, 14, 0.05, mjINT_RK4},
                      DimCase{"Humanoid-v5", 348, 17, 0.4, 1000, 24, 23, 14, 0.015, mjINT_RK4},
                      DimCase{"InvertedDoublePendulum-v5", 9, 1, 1.0, 1000, 3, 3, 4, 0.05,
                              mjINT_RK4},
                      DimCase{"Swimmer-v5", 8, 2, 1.0, 1000, 5, 5, 4, 0.04, mjINT_RK4},
                      DimCase{"Reacher-v5", 10, 2, 1.0, 50, 4, 4, 5, 0.02, mjINT_RK4},
                      DimCase{"Pusher-v5", 23, 7, 2.0, 100, 11, 11, 13, 0.05, mjINT_EULER}));

// Hopper starts standing: the torso's initial height is 1.25 (qpos0[1])
TEST(MujocoHopper, StartsStanding) {
  auto env = make_env("Hopper-v5");
  EXPECT_DOUBLE_EQ(as_mujoco(*env).model()->qpos0[1], 1.25);
}

// ---------------------------------------------------------------------------------------------
// reward and termination on known states, against a simulation run by the test

// step_from (mujoco_task.h) returning the result, the observation and the test's data after it.
StepResult step_from(Task& t, const std::vector<double>& qpos, const std::vector<double>& qvel,
                     const std::vector<double>& action, std::vector<double>& obs, DataPtr& after) {
  Stepped s = mjtest::step_from(t, qpos, qvel, action);
  obs = s.obs;
  after = std::move(s.after);
  return s.r;
}

TEST(MujocoInvertedPendulum, RewardOneWhileUpright) {
  Task t = make_task("InvertedPendulum-v5", "inverted_pendulum.xml");
  std::vector<double> obs;
  DataPtr d;
  StepResult r = step_from(t, {0.1, 0.05}, {0.2, -0.1}, {0.5}, obs, d);
  ASSERT_LE(std::fabs(d->qpos[1]), 0.2);
  EXPECT_FALSE(r.terminated);
  EXPECT_EQ(r.reward, 1.0);
  EXPECT_EQ(obs, std::vector<double>({d->qpos[0], d->qpos[1], d->qvel[0], d->qvel[1]}));
}

TEST(MujocoInvertedPendulum, RewardZeroOnTheTerminatingStep) {
  Task t = make_task("InvertedPendulum-v5", "inverted_pendulum.xml");
  std::vector<double> obs;
  DataPtr d;
  // leaning past 0.2 rad and falling further
  StepResult r = step_from(t, {0.0, 0.25}, {0.0, 0.5}, {0.0}, obs, d);
  ASSERT_GT(std::fabs(d->qpos[1]), 0.2);
  EXPECT_TRUE(r.terminated);
  EXPECT_EQ(r.reward, 0.0);
  // leaning the other way, out of range of any recovery in one step
  r = step_from(t, {0.0, -0.3}, {0.0, 0.0}, {3.0}, obs, d);
  ASSERT_LT(d->qpos[1], -0.2);
  EXPECT_TRUE(r.terminated);
  EXPECT_EQ(r.reward, 0.0);
}

TEST(MujocoHalfCheetah, RewardIsVelocityMinusUnclippedControlCost) {
  Task t = make_task("HalfCheetah-v5", "half_cheetah.xml");
  std::vector<double> qpos = {0.3, -0.05, 0.02, 0.1, -0.2, 0.1, -0.1, 0.2, 0.05};
  std::vector<double> qvel = {1.5, 0.1, -0.2, 0.5, -0.5, 0.3, 0.2, -0.3, 0.1};
  std::vector<double> action = {0.5, -1.5, 0.25, 1.0, -0.75, 2.0};  // two beyond ctrlrange
  std::vector<double> obs;
  DataPtr d;
  StepResult r = step_from(t, qpos, qvel, action, obs, d);
  double sq = 0;
  for (double a : action) sq += a * a;
  double expected = (d->qpos[0] - qpos[0]) / 0.05 - 0.1 * sq;
  EXPECT_NEAR(r.reward, expected, 1e-12);
  EXPECT_FALSE(r.terminated);
  // obs: qpos[1:9] then qvel[0:9]
  for (int i = 0; i < 8; ++i) EXPECT_EQ(obs[i], d->qpos[i + 1]);
  for (int i = 0; i < 9; ++i) EXPECT_EQ(obs[8 + i], d->qvel[i]);

  // MuJoCo clamps the control: the physics equals that of the clipped action
  std::vector<double> clipped = action;
  for (double& a : clipped) a = std::clamp(a, -1.0, 1.0);
  DataPtr dc = simulate_step(t.model.get(), qpos, qvel, clipped, 5);
  for (int i = 0; i < 9; ++i) EXPECT_EQ(dc->qpos[i], d->qpos[i]);
}

TEST(MujocoHalfCheetah, NeverTerminates) {
  Task t = make_task("HalfCheetah-v5", "half_cheetah.xml");
  std::vector<double> qpos(9, 0.0), qvel(9, 0.0);
  qpos[2] = 3.0;  // upside down
  std::vector<double> obs;
  DataPtr d;
  StepResult r = step_from(t, qpos, qvel, std::vector<double>(6, 0.0), obs, d);
  EXPECT_FALSE(r.terminated);
}

// the Hopper v5 health test, written out from ENVS.md.
bool hopper_healthy(const mjData* d) {
  for (int i = 2; i < 6; ++i)
    if (!(std::fabs(d->qpos[i]) < 100)) return false;
  for (int i = 0; i < 6; ++i)
    if (!(std::fabs(d->qvel[i]) < 100)) return false;
  return d->qpos[1] > 0.7 && std::fabs(d->qpos[2]) < 0.2;
}

double hopper_expected_reward(const mjData* d, double x_before, const std::vector<double>& a) {
  double sq = 0;
  for (double v : a) sq += v * v;
  return (d->qpos[0] - x_before) / 0.008 + (hopper_healthy(d) ? 1.0 : 0.0) - 1e-3 * sq;
}

TEST(MujocoHopper, HealthyStepRewardAndObs) {
  Task t = make_task("Hopper-v5", "hopper.xml");
  std::vector<double> qpos = {0.1, 1.25, 0.05, -0.1, -0.2, 0.1};
  std::vector<double> qvel = {12.0, 0.3, -0.4, 0.5, -0.5, 0.2};  // rootx beyond the obs clip
  std::vector<double> action = {0.3, -0.6, 1.2};
  std::vector<double> obs;
  DataPtr d;
  StepResult r = step_from(t, qpos, qvel, action, obs, d);
  ASSERT_TRUE(hopper_healthy(d.get()));
  EXPECT_FALSE(r.terminated);
  EXPECT_NEAR(r.reward, hopper_expected_reward(d.get(), qpos[0], action), 1e-12);
  // obs: qpos[1:6] then qvel[0:6] clipped to [-10, 10]
  for (int i = 0; i < 5; ++i) EXPECT_EQ(obs[i], d->qpos[i + 1]);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(obs[5 + i], std::clamp(d->qvel[i], -10.0, 10.0));
  EXPECT_GT(d->qvel[0], 10.0);
  EXPECT_EQ(obs[5], 10.0);
}

constexpr double half_pi = 1.5707963267948966;

TEST(MujocoHopper, TerminatesBelowHeight) {
  Task t = make_task("Hopper-v5", "hopper.xml");
  // thigh folded back by 90 degrees so the leg clears the floor at low torso heights
  std::vector<double> qvel(6, 0.0), action = {0.0, 0.0, 0.0};
  std::vector<double> obs;
  DataPtr d;
  StepResult r = step_from(t, {0.0, 0.69, 0.0, -half_pi, 0.0, 0.0}, qvel, action, obs, d);
  ASSERT_LT(d->qpos[1], 0.7);
  EXPECT_TRUE(r.terminated);
  EXPECT_NEAR(r.reward, hopper_expected_reward(d.get(), 0.0, action), 1e-12);
  EXPECT_LT(r.reward, 0.5);  // no healthy bonus
  // just above the threshold the same pose is healthy
  r = step_from(t, {0.0, 0.72, 0.0, -half_pi, 0.0, 0.0}, qvel, action, obs, d);
  ASSERT_GT(d->qpos[1], 0.7);
  EXPECT_FALSE(r.terminated);
  EXPECT_NEAR(r.reward, hopper_expected_reward(d.get(), 0.0, action), 1e-12);
  EXPECT_GT(r.reward, 0.5);
}

TEST(MujocoHopper, TerminatesOnPitchOutOfRange) {
  Task t = make_task("Hopper-v5", "hopper.xml");
  std::vector<double> qvel(6, 0.0), action = {0.0, 0.0, 0.0};
  std::vector<double> obs;
  DataPtr d;
  for (double pitch : {0.21, -0.21}) {
    StepResult r = step_from(t, {0.0, 1.25, pitch, 0.0, 0.0, 0.0}, qvel, action, obs, d);
    ASSERT_GT(std::fabs(d->qpos[2]), 0.2);
    EXPECT_TRUE(r.terminated) << pitch;
    EXPECT_NEAR(r.reward, hopper_expected_reward(d.get(), 0.0, action), 1e-12);
  }
  StepResult r = step_from(t, {0.0, 1.25, 0.19, 0.0, 0.0, 0.0}, qvel, action, obs, d);
  ASSERT_LT(std::fabs(d->qpos[2]), 0.2);
  EXPECT_FALSE(r.terminated);
}

TEST(MujocoHopper, TerminatesOnStateBeyondBounds) {
  Task t = make_task("Hopper-v5", "hopper.xml");
  std::vector<double> qvel(6, 0.0), action = {0.0, 0.0, 0.0};
  qvel[0] = 150.0;  // sliding along x, above the bound of 100; height and pitch are fine
  std::vector<double> obs;
  DataPtr d;
  StepResult r = step_from(t, {0.0, 1.25, 0.0, 0.0, 0.0, 0.0}, qvel, action, obs, d);
  ASSERT_GT(d->qvel[0], 100.0);
  ASSERT_GT(d->qpos[1], 0.7);
  EXPECT_TRUE(r.terminated);
  EXPECT_NEAR(r.reward, hopper_expected_reward(d.get(), 0.0, action), 1e-12);
  EXPECT_EQ(obs[5], 10.0);
}

// ---------------------------------------------------------------------------------------------
// reset noise, determinism, instability

struct NoiseCase {
  const char* id;
  double qpos_scale;
  bool qvel_normal;  // qvel = scale * N(0,1) instead of U(-scale, scale)
  double qvel_scale;
  bool free_joint;  // qpos[3:7] is a free joint's quaternion
};

class MujocoReset : public ::testing::TestWithParam<NoiseCase> {};

TEST_P(MujocoReset, NoiseMatchesTheSpec) {
  const NoiseCase c = GetParam();
  auto env = make_env(c.id);
  const mjModel* m = as_mujoco(*env).model();
  int nq = env->nq(), nv = env->nv();
  std::vector<double> obs(env->spec().obs_dim), q(nq), v(nv);
  double max_q = 0, max_v = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    HostRng rng(seed, 3), twin(seed, 3);
    env->reset(rng, obs.data());
    env->get_state(q.data(), v.data());
    // the same draws, in the same order: nq for qpos (a free joint's quaternion included; the
    // env does not re-normalise it, and MuJoCo 4's mj_forward leaves qpos as it is, as in
    // Gymnasium), then nv for qvel
    std::vector<double> expected(nq);
    for (int i = 0; i < nq; ++i) {
      expected[i] = m->qpos0[i] + twin.uniform(-c.qpos_scale, c.qpos_scale);
      EXPECT_LE(std::fabs(expected[i] - m->qpos0[i]), c.qpos_scale);
      max_q = std::max(max_q, std::fabs(expected[i] - m->qpos0[i]));
    }
    if (c.free_joint)  // the noisy quaternion is kept, not unit length
      EXPECT_GT(std::fabs(mju_norm(q.data() + 3, 4) - 1.0), 1e-6);
    for (int i = 0; i < nq; ++i) EXPECT_EQ(q[i], expected[i]) << i;
    for (int i = 0; i < nv; ++i) {
      double expected = c.qvel_normal ? c.qvel_scale * twin.normal()
                                      : twin.uniform(-c.qvel_scale, c.qvel_scale);
      EXPECT_EQ(v[i], expected) << i;
      if (!c.qvel_normal) {
        EXPECT_LE(std::fabs(v[i]), c.qvel_scale);
      }
      max_v = std::max(max_v, std::fabs(v[i]));
    }
    EXPECT_EQ(rng.counter(), twin.counter());
  }
  // the noise is really there, on the scale asked for
  EXPECT_GT(max_q, 0.5 * c.qpos_scale);
  EXPECT_GT(max_v, 0.5 * c.qvel_scale);
}

INSTANTIATE_TEST_SUITE_P(
    Tasks, MujocoReset,
    ::testing::Values(NoiseCase{"InvertedPendulum-v5", 0.01, false, 0.01, false},
                      NoiseCase{"HalfCheetah-v5", 0.1, true, 0.1, false},
                      NoiseCase{"Hopper-v5", 5e-3, false, 5e-3, false},
                      NoiseCase{"Walker2d-v5", 5e-3, false, 5e-3, false},
                      NoiseCase{"Ant-v5", 0.1, true, 0.1, true},
                      NoiseCase{"Humanoid-v5", 0.01, false, 0.01, true},
                      NoiseCase{"InvertedDoublePendulum-v5", 0.1, true, 0.1, false},
                      NoiseCase{"Swimmer-v5", 0.1, false, 0.1, false}));

// 200 steps of random actions (in bounds), resetting on termination; returns every obs, reward
// and flag in order.
std::vector<double> rollout(const std::string& id, uint64_t seed) {
  auto env = make_env(id);
  const EnvSpec& s = env->spec();
  HostRng rng(seed, 0), act_rng(seed, 1);
  std::vector<double> obs(s.obs_dim), action(s.act_dim), trace;
  env->reset(rng, obs.data());
  trace.insert(trace.end(), obs.begin(), obs.end());
  for (int step = 0; step < 200; ++step) {
    for (int i = 0; i < s.act_dim; ++i) action[i] = act_rng.uniform(s.action_low[i], s.action_high[i]);
    StepResult r = env->step(action.data(), obs.data());
    EXPECT_FALSE(r.unstable) << id << " step " << step;
    for (double o : obs) EXPECT_TRUE(std::isfinite(o)) << id << " step " << step;
    trace.insert(trace.end(), obs.begin(), obs.end());
    trace.push_back(r.reward);
    trace.push_back(r.terminated);
    if (r.terminated) {
      env->reset(rng, obs.data());
      trace.insert(trace.end(), obs.begin(), obs.end());
    }
  }
  return trace;
}

class MujocoDeterminism : public ::testing::TestWithParam<const char*> {};

TEST_P(MujocoDeterminism, SameSeedSameTrajectory) {
  std::vector<double> a = rollout(GetParam(), 7);
  std::vector<double> b = rollout(GetParam(), 7);
  std::vector<double> c = rollout(GetParam(), 8);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << "entry " << i;
  EXPECT_NE(a, c);
}

INSTANTIATE_TEST_SUITE_P(Tasks, MujocoDeterminism,
                         ::testing::Values("InvertedPendulum-v5", "HalfCheetah-v5", "Hopper-v5",
                                           "Walker2d-v5", "Ant-v5", "Humanoid-v5",
                                           "InvertedDoublePendulum-v5", "Swimmer-v5",
                                           "Reacher-v5", "Pusher-v5"));

TEST(MujocoEnvBase, NonFiniteStateIsFlaggedUnstable) {
  auto env = make_env("HalfCheetah-v5");
  HostRng rng(0);
  std::vector<double> obs(17), action(6, 0.0), q(9, 0.0), v(9, 0.0);
  env->reset(rng, obs.data());
  v[3] = std::numeric_limits<double>::quiet_NaN();
  as_mujoco(*env).set_state(q.data(), v.data());
  StepResult r = env->step(action.data(), obs.data());
  EXPECT_TRUE(r.unstable);
  // a reset clears the warning counters and the env runs normally again
  env->reset(rng, obs.data());
  r = env->step(action.data(), obs.data());
  EXPECT_FALSE(r.unstable);
}

}  // namespace
}  // namespace sac
