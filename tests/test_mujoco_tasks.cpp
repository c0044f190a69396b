// test_mujoco_tasks.cpp: task-specific tests of Walker2d-v5, Ant-v5, Humanoid-v5,
// InvertedDoublePendulum-v5, Swimmer-v5, Reacher-v5 and Pusher-v5 (ENVS.md sections 2 and 3):
// reward, observation and termination on known states recomputed here from an independent
// simulation of the same step, the goal/object rejection sampling of Reacher and Pusher, model
// details, and the registry order of the MuJoCo ids. The suites over all ten tasks (model
// equivalence, dimensions, reset noise, determinism) are in test_mujoco_envs.cpp.
// Run: ./sac_tests --gtest_filter='MujocoTask*'   (about a second)
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

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

double sq_norm(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return s;
}

double dist3(const double* a, const double* b) {
  return std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) +
                   (a[2] - b[2]) * (a[2] - b[2]));
}

// a copy of `d` with kinematics recomputed from its final qpos (what an extra mj_forward would
// give); used to show that the tasks read the lagged values instead.
DataPtr recomputed(const mjModel* m, const mjData* d) {
  DataPtr c(mj_makeData(m));
  mj_copyData(c.get(), m, d);
  mj_kinematics(m, c.get());
  mj_comPos(m, c.get());
  return c;
}

constexpr double half_pi = 1.5707963267948966;

// ---------------------------------------------------------------------------------------------
// registry and dimensions (ENVS.md section 2)

TEST(MujocoTaskRegistry, MujocoIdsInOrder) {
  std::vector<std::string> mujoco;
  // the built-in ones (a test may register tasks of its own after them)
  for (const std::string& id : env_ids())
    if (id.size() > 3 && id.compare(id.size() - 3, 3, "-v5") == 0) mujoco.push_back(id);
  EXPECT_EQ(mujoco, std::vector<std::string>({"InvertedPendulum-v5", "InvertedDoublePendulum-v5",
                                              "HalfCheetah-v5", "Hopper-v5", "Walker2d-v5",
                                              "Ant-v5", "Humanoid-v5", "Swimmer-v5", "Reacher-v5",
                                              "Pusher-v5", "HumanoidStandup-v5"}));
}

TEST(MujocoTaskModel, Details) {
  // humanoid: PGS with 50 iterations; pusher: no gravity, 20 iterations; double pendulum: tip
  // is site 0; walker2d v5: both feet friction 1.9
  auto humanoid = make_env("Humanoid-v5");
  EXPECT_EQ(as_mujoco(*humanoid).model()->opt.solver, mjSOL_PGS);
  EXPECT_EQ(as_mujoco(*humanoid).model()->opt.iterations, 50);
  auto pusher = make_env("Pusher-v5");
  const mjModel* pm = as_mujoco(*pusher).model();
  EXPECT_EQ(pm->opt.iterations, 20);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(pm->opt.gravity[k], 0.0);
  auto idp = make_env("InvertedDoublePendulum-v5");
  EXPECT_EQ(mj_name2id(as_mujoco(*idp).model(), mjOBJ_SITE, "tip"), 0);
  auto walker = make_env("Walker2d-v5");
  const mjModel* wm = as_mujoco(*walker).model();
  for (const char* foot : {"foot_geom", "foot_left_geom"})
    EXPECT_EQ(wm->geom_friction[3 * mj_name2id(wm, mjOBJ_GEOM, foot)], 1.9) << foot;
}

// ---------------------------------------------------------------------------------------------
// Walker2d: forward velocity + healthy bonus - 1e-3 |a|^2; healthy 0.8 < z < 2, |pitch| < 1

bool walker_healthy(const mjData* d) {
  return d->qpos[1] > 0.8 && d->qpos[1] < 2.0 && d->qpos[2] > -1.0 && d->qpos[2] < 1.0;
}

double walker_reward(const mjData* d, double x_before, const std::vector<double>& a) {
  return (d->qpos[0] - x_before) / 0.008 + (walker_healthy(d) ? 1.0 : 0.0) - 1e-3 * sq_norm(a);
}

TEST(MujocoTaskWalker2d, HealthyStepRewardAndObs) {
  Task t = make_task("Walker2d-v5", "walker2d_v5.xml");
  std::vector<double> qpos = {0.1, 1.25, 0.05, -0.1, -0.2, 0.1, -0.3, -0.1, 0.05};
  std::vector<double> qvel = {12.0, 0.3, -0.4, 0.5, -0.5, 0.2, 0.1, -11.0, 0.3};
  std::vector<double> action = {0.3, -0.6, 1.2, -1.5, 0.0, 0.9};  // two beyond ctrlrange
  Stepped s = step_from(t, qpos, qvel, action);
  const mjData* d = s.after.get();
  ASSERT_TRUE(walker_healthy(d));
  EXPECT_FALSE(s.r.terminated);
  EXPECT_NEAR(s.r.reward, walker_reward(d, qpos[0], action), 1e-12);
  // obs: qpos[1:9] then qvel[0:9] clipped to [-10, 10]
  for (int i = 0; i < 8; ++i) EXPECT_EQ(s.obs[i], d->qpos[i + 1]);
  for (int i = 0; i < 9; ++i) EXPECT_EQ(s.obs[8 + i], std::clamp(d->qvel[i], -10.0, 10.0));
  ASSERT_GT(d->qvel[0], 10.0);
  EXPECT_EQ(s.obs[8], 10.0);
}

TEST(MujocoTaskWalker2d, TerminatesOutsideHeightAndPitchRanges) {
  Task t = make_task("Walker2d-v5", "walker2d_v5.xml");
  std::vector<double> qvel(9, 0.0), action(6, 0.0);
  // both thighs folded back by 90 degrees, so the legs clear the floor at low torso heights
  auto pose = [](double z, double pitch) {
    return std::vector<double>{0.0, z, pitch, -half_pi, 0.0, 0.0, -half_pi, 0.0, 0.0};
  };
  struct Case {
    double z, pitch;
    bool healthy;
  };
  for (Case c : {Case{0.78, 0.0, false}, Case{0.83, 0.0, true}, Case{2.1, 0.0, false},
                 Case{1.9, 0.0, true}, Case{1.25, 1.05, false}, Case{1.25, -1.05, false},
                 Case{1.25, 0.95, true}}) {
    Stepped s = step_from(t, pose(c.z, c.pitch), qvel, action);
    const mjData* d = s.after.get();
    ASSERT_EQ(walker_healthy(d), c.healthy) << "z " << c.z << " pitch " << c.pitch;
    EXPECT_EQ(s.r.terminated, !c.healthy) << "z " << c.z << " pitch " << c.pitch;
    EXPECT_NEAR(s.r.reward, walker_reward(d, 0.0, action), 1e-12);
  }
}

// ---------------------------------------------------------------------------------------------
// Ant: torso xpos velocity + healthy bonus - 0.5 |a|^2 - 5e-4 |clip(cfrc_ext)|^2

double clip1(double v) { return std::clamp(v, -1.0, 1.0); }

bool ant_healthy(const mjData* d, const mjModel* m) {
  for (int i = 0; i < m->nq; ++i)
    if (!std::isfinite(d->qpos[i])) return false;
  for (int i = 0; i < m->nv; ++i)
    if (!std::isfinite(d->qvel[i])) return false;
  return d->qpos[2] >= 0.2 && d->qpos[2] <= 1.0;
}

double ant_reward(const Stepped& s, const mjModel* m, const std::vector<double>& a) {
  const mjData* d = s.after.get();
  double vx = (d->xpos[3 * 1] - s.before->xpos[3 * 1]) / 0.05;
  double contact = 0;
  for (int i = 0; i < 6 * m->nbody; ++i) contact += clip1(d->cfrc_ext[i]) * clip1(d->cfrc_ext[i]);
  return vx + (ant_healthy(d, m) ? 1.0 : 0.0) - 0.5 * sq_norm(a) - 5e-4 * contact;
}

TEST(MujocoTaskAnt, StepRewardAndObs) {
  Task t = make_task("Ant-v5", "ant.xml", true);
  const mjModel* m = t.model.get();
  // on its back (turned 180 degrees about x), the torso sphere resting on the floor and sliding
  // along x: the torso's contact force exceeds the clip (the ant weighs 0.9 kg)
  std::vector<double> qpos = {0.2, -0.1, 0.26, 0, 1, 0, 0, 0.1, 1, -0.1, -1, 0.1, -1, -0.1, 1};
  std::vector<double> qvel(14, 0.0);
  qvel[0] = 0.5;
  std::vector<double> action = {0.5, -1.3, 0.2, 0.9, -0.4, 1.1, 0.0, -0.7};  // two beyond 1
  Stepped s = step_from(t, qpos, qvel, action);
  const mjData* d = s.after.get();
  ASSERT_TRUE(ant_healthy(d, m));
  EXPECT_FALSE(s.r.terminated);
  EXPECT_NEAR(s.r.reward, ant_reward(s, m, action), 1e-12);

  // contact forces are present, some beyond the clip, and the world row is zero
  double max_force = 0;
  for (int i = 6; i < 6 * m->nbody; ++i) max_force = std::max(max_force, std::fabs(d->cfrc_ext[i]));
  EXPECT_GT(max_force, 1.0);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(d->cfrc_ext[i], 0.0);

  // obs: qpos[2:15], qvel[0:14], clip(cfrc_ext[1:14]) row-major
  ASSERT_EQ(s.obs.size(), 105u);
  for (int i = 0; i < 13; ++i) EXPECT_EQ(s.obs[i], d->qpos[i + 2]);
  for (int i = 0; i < 14; ++i) EXPECT_EQ(s.obs[13 + i], d->qvel[i]);
  for (int i = 0; i < 78; ++i) EXPECT_EQ(s.obs[27 + i], clip1(d->cfrc_ext[6 + i])) << i;

  // the velocity uses xpos as the last mj_step left it, not recomputed from the final qpos
  DataPtr fresh = recomputed(m, d);
  EXPECT_GT(std::fabs(fresh->xpos[3] - d->xpos[3]), 1e-6);
}

TEST(MujocoTaskAnt, TerminatesOutsideHeightRange) {
  Task t = make_task("Ant-v5", "ant.xml", true);
  const mjModel* m = t.model.get();
  std::vector<double> qvel(14, 0.0), action(8, 0.0);
  auto pose = [](double z) {
    std::vector<double> q(15, 0.0);
    q[2] = z;
    q[3] = 1.0;
    for (int leg = 0; leg < 4; ++leg) q[8 + 2 * leg] = (leg == 0 || leg == 3) ? 0.9 : -0.9;
    return q;
  };
  // in the air with the legs spread: above 1 m unhealthy, below healthy (no floor contact yet)
  for (double z : {1.05, 0.95}) {
    Stepped s = step_from(t, pose(z), qvel, action);
    const mjData* d = s.after.get();
    ASSERT_EQ(d->qpos[2] > 1.0, z > 1.0);
    EXPECT_EQ(s.r.terminated, z > 1.0) << z;
    EXPECT_NEAR(s.r.reward, ant_reward(s, m, action), 1e-12);
  }
  // the torso sphere (radius 0.25) always rests above 0.2 m, so the low bound is reached only
  // from an unphysical start: buried 2 m deep, the floor contact lifts it to about 0.06 m
  Stepped s = step_from(t, pose(-2.0), qvel, action);
  ASSERT_LT(s.after->qpos[2], 0.2);
  EXPECT_TRUE(s.r.terminated);
  EXPECT_NEAR(s.r.reward, ant_reward(s, m, action), 1e-12);
}

TEST(MujocoTaskAnt, ResetObsHasNoContactForces) {
  auto env = make_env("Ant-v5");
  HostRng rng(3);
  std::vector<double> obs(105), action(8, 1.0);
  env->reset(rng, obs.data());
  for (int k = 0; k < 20; ++k) env->step(action.data(), obs.data());
  double sum = 0;
  for (int i = 27; i < 105; ++i) sum += std::fabs(obs[i]);
  EXPECT_GT(sum, 0.0);  // the ant stands on the floor
  env->reset(rng, obs.data());
  for (int i = 27; i < 105; ++i) EXPECT_EQ(obs[i], 0.0) << i;
}

// ---------------------------------------------------------------------------------------------
// Humanoid: 1.25 * com velocity + healthy bonus 5 - 0.1 |ctrl|^2 - min(5e-7 |cfrc_ext|^2, 10)

double mass_center_x(const mjModel* m, const mjData* d) {
  double mass = 0, moment = 0;
  for (int b = 0; b < m->nbody; ++b) {
    mass += m->body_mass[b];
    moment += m->body_mass[b] * d->xipos[3 * b];
  }
  return moment / mass;
}

double humanoid_reward(const Stepped& s, const mjModel* m, const std::vector<double>& a) {
  const mjData* d = s.after.get();
  double vx = (mass_center_x(m, d) - mass_center_x(m, s.before.get())) / 0.015;
  bool healthy = d->qpos[2] > 1.0 && d->qpos[2] < 2.0;
  double contact = 0;
  for (int i = 0; i < 6 * m->nbody; ++i) contact += d->cfrc_ext[i] * d->cfrc_ext[i];
  return 1.25 * vx + (healthy ? 5.0 : 0.0) - 0.1 * sq_norm(a) - std::min(5e-7 * contact, 10.0);
}

// qpos0 with the root at height z and orientation quat.
std::vector<double> humanoid_pose(const mjModel* m, double z, std::vector<double> quat = {1, 0, 0, 0}) {
  std::vector<double> q(m->qpos0, m->qpos0 + m->nq);
  q[2] = z;
  for (int k = 0; k < 4; ++k) q[3 + k] = quat[k];
  return q;
}

TEST(MujocoTaskHumanoid, StandingStepRewardAndObs) {
  Task t = make_task("Humanoid-v5", "humanoid.xml", true);
  const mjModel* m = t.model.get();
  // standing with the feet pressed into the floor, walking forward, a bent right knee
  std::vector<double> qpos = humanoid_pose(m, 1.28);
  qpos[0] = 0.3;
  qpos[7 + 6] = -0.3;  // right knee
  std::vector<double> qvel(23, 0.0);
  qvel[0] = 0.7;
  qvel[6] = 0.4;
  std::vector<double> action(17);
  for (int i = 0; i < 17; ++i) action[i] = 0.05 * (i - 8);  // the last entries beyond 0.4
  Stepped s = step_from(t, qpos, qvel, action);
  const mjData* d = s.after.get();
  ASSERT_GT(d->qpos[2], 1.0);
  EXPECT_FALSE(s.r.terminated);
  EXPECT_NEAR(s.r.reward, humanoid_reward(s, m, action), 1e-10);

  // contact forces and actuator forces are present
  double contact = 0;
  for (int i = 0; i < 6 * m->nbody; ++i) contact += d->cfrc_ext[i] * d->cfrc_ext[i];
  EXPECT_GT(contact, 0.0);

  // obs blocks: qpos[2:], qvel, cinert[1:], cvel[1:], qfrc_actuator[6:], cfrc_ext[1:]
  ASSERT_EQ(s.obs.size(), 348u);
  size_t k = 0;
  auto block = [&](const double* src, int begin, int end, const char* what) {
    for (int i = begin; i < end; ++i, ++k) ASSERT_EQ(s.obs[k], src[i]) << what << " " << i;
  };
  block(d->qpos, 2, 24, "qpos");
  block(d->qvel, 0, 23, "qvel");
  block(d->cinert, 10, 140, "cinert");
  block(d->cvel, 6, 84, "cvel");
  block(d->qfrc_actuator, 6, 23, "qfrc_actuator");
  block(d->cfrc_ext, 6, 84, "cfrc_ext");
  EXPECT_EQ(k, 348u);

  // the centre of mass uses xipos as the last mj_step left it
  DataPtr fresh = recomputed(m, d);
  EXPECT_GT(std::fabs(mass_center_x(m, fresh.get()) - mass_center_x(m, d)), 1e-9);
}

TEST(MujocoTaskHumanoid, ContactCostIsCappedAt10) {
  Task t = make_task("Humanoid-v5", "humanoid.xml", true);
  const mjModel* m = t.model.get();
  // dropped hard onto the floor: large contact forces
  std::vector<double> qpos = humanoid_pose(m, 1.32);
  std::vector<double> qvel(23, 0.0);
  qvel[2] = -4.0;
  std::vector<double> action(17, 0.0);
  Stepped s = step_from(t, qpos, qvel, action);
  const mjData* d = s.after.get();
  double contact = 0;
  for (int i = 0; i < 6 * m->nbody; ++i) contact += d->cfrc_ext[i] * d->cfrc_ext[i];
  ASSERT_GT(5e-7 * contact, 10.0);
  EXPECT_NEAR(s.r.reward, humanoid_reward(s, m, action), 1e-10);
}

TEST(MujocoTaskHumanoid, TerminatesOutsideHeightRange) {
  Task t = make_task("Humanoid-v5", "humanoid.xml", true);
  const mjModel* m = t.model.get();
  std::vector<double> qvel(23, 0.0), action(17, 0.0);
  // lying along x (90 degrees about y), half a metre up; standing 2.1 m up (feet in the air)
  const double c = std::sqrt(0.5);
  for (auto q : {humanoid_pose(m, 0.5, {c, 0, c, 0}), humanoid_pose(m, 2.1)}) {
    Stepped s = step_from(t, q, qvel, action);
    const mjData* d = s.after.get();
    ASSERT_FALSE(d->qpos[2] > 1.0 && d->qpos[2] < 2.0);
    EXPECT_TRUE(s.r.terminated) << q[2];
    EXPECT_NEAR(s.r.reward, humanoid_reward(s, m, action), 1e-10);
  }
}

TEST(MujocoTaskHumanoid, ResetObsHasNoContactOrActuatorForces) {
  auto env = make_env("Humanoid-v5");
  HostRng rng(5);
  std::vector<double> obs(348), action(17, 0.4);
  env->reset(rng, obs.data());
  for (int k = 0; k < 10; ++k) env->step(action.data(), obs.data());
  env->reset(rng, obs.data());
  // qfrc_actuator block [253, 270), cfrc_ext block [270, 348)
  for (int i = 253; i < 348; ++i) EXPECT_EQ(obs[i], 0.0) << i;
}

// ---------------------------------------------------------------------------------------------
// InvertedDoublePendulum: 10 (alive) - 0.01 x^2 - (y - 2)^2 - 1e-3 w1^2 - 5e-3 w2^2; y <= 1 ends

double idp_reward(const mjData* d, bool terminated) {
  double x = d->site_xpos[0], y = d->site_xpos[2];
  return (terminated ? 0.0 : 10.0) - (0.01 * x * x + (y - 2) * (y - 2)) -
         (1e-3 * d->qvel[1] * d->qvel[1] + 5e-3 * d->qvel[2] * d->qvel[2]);
}

// obs: x, sin, sin, cos, cos, clipped qvel, clipped qfrc_constraint[0]
std::vector<double> idp_obs(const mjData* d) {
  return {d->qpos[0],
          std::sin(d->qpos[1]),
          std::sin(d->qpos[2]),
          std::cos(d->qpos[1]),
          std::cos(d->qpos[2]),
          std::clamp(d->qvel[0], -10.0, 10.0),
          std::clamp(d->qvel[1], -10.0, 10.0),
          std::clamp(d->qvel[2], -10.0, 10.0),
          std::clamp(d->qfrc_constraint[0], -10.0, 10.0)};
}

TEST(MujocoTaskInvertedDoublePendulum, UprightStepRewardAndObs) {
  Task t = make_task("InvertedDoublePendulum-v5", "inverted_double_pendulum.xml");
  const mjModel* m = t.model.get();
  std::vector<double> qpos = {0.3, 0.05, -0.1}, qvel = {0.5, 0.4, -0.3}, action = {-1.4};
  Stepped s = step_from(t, qpos, qvel, action);
  const mjData* d = s.after.get();
  ASSERT_GT(d->site_xpos[2], 1.0);
  EXPECT_FALSE(s.r.terminated);
  EXPECT_NEAR(s.r.reward, idp_reward(d, false), 1e-12);
  EXPECT_EQ(s.obs, idp_obs(d));
  // the tip position is the lagged site_xpos, not one recomputed from the final qpos
  DataPtr fresh = recomputed(m, d);
  EXPECT_GT(std::fabs(fresh->site_xpos[0] - d->site_xpos[0]), 1e-9);
}

TEST(MujocoTaskInvertedDoublePendulum, ObsClipsVelocitiesAndConstraintForce) {
  Task t = make_task("InvertedDoublePendulum-v5", "inverted_double_pendulum.xml");
  // mid-rail, cart and poles moving fast: every velocity beyond the obs clip
  Stepped s = step_from(t, {0.0, 0.05, -0.1}, {-12.0, 15.0, -30.0}, {-1.0});
  const mjData* d = s.after.get();
  EXPECT_EQ(s.obs, idp_obs(d));
  for (int i = 0; i < 3; ++i) {
    EXPECT_GT(std::fabs(d->qvel[i]), 10.0) << i;
    EXPECT_EQ(std::fabs(s.obs[5 + i]), 10.0) << i;
  }
  bool down = d->site_xpos[2] <= 1.0;
  EXPECT_EQ(s.r.terminated, down);
  EXPECT_NEAR(s.r.reward, idp_reward(d, down), 1e-12);
  // cart inside the slider's limit margin and driving into it: the limit constraint force on
  // the cart is beyond the clip
  s = step_from(t, {-0.995, 0.05, -0.1}, {-12.0, 0.0, 0.0}, {-1.0});
  d = s.after.get();
  EXPECT_EQ(s.obs, idp_obs(d));
  EXPECT_GT(std::fabs(d->qfrc_constraint[0]), 10.0);
  EXPECT_EQ(std::fabs(s.obs[8]), 10.0);
  down = d->site_xpos[2] <= 1.0;
  EXPECT_EQ(s.r.terminated, down);
  EXPECT_NEAR(s.r.reward, idp_reward(d, down), 1e-12);
}

TEST(MujocoTaskInvertedDoublePendulum, TerminatesWhenTheTipDropsToOneMetre) {
  Task t = make_task("InvertedDoublePendulum-v5", "inverted_double_pendulum.xml");
  std::vector<double> qvel(3, 0.0), action = {0.0};
  // lower pole tilted by 1.2 rad, upper pole in line: tip about 0.43 m up
  Stepped s = step_from(t, {0.0, 1.2, 0.0}, qvel, action);
  ASSERT_LE(s.after->site_xpos[2], 1.0);
  EXPECT_TRUE(s.r.terminated);
  EXPECT_NEAR(s.r.reward, idp_reward(s.after.get(), true), 1e-12);
  // tilted by 0.45 rad: tip about 1.08 m up, still alive
  s = step_from(t, {0.0, 0.45, 0.0}, qvel, action);
  ASSERT_GT(s.after->site_xpos[2], 1.0);
  EXPECT_FALSE(s.r.terminated);
  EXPECT_NEAR(s.r.reward, idp_reward(s.after.get(), false), 1e-12);
}

// ---------------------------------------------------------------------------------------------
// Swimmer: forward velocity of slider1 - 1e-4 |a|^2, never terminates

TEST(MujocoTaskSwimmer, RewardAndObs) {
  Task t = make_task("Swimmer-v5", "swimmer.xml");
  std::vector<double> qpos = {0.3, -0.2, 0.4, 0.5, -0.6}, qvel = {0.2, 0.1, -0.3, 1.0, -1.0};
  std::vector<double> action = {0.8, -1.6};
  Stepped s = step_from(t, qpos, qvel, action);
  const mjData* d = s.after.get();
  EXPECT_NEAR(s.r.reward, (d->qpos[0] - qpos[0]) / 0.04 - 1e-4 * sq_norm(action), 1e-12);
  EXPECT_FALSE(s.r.terminated);
  std::vector<double> expected = {d->qpos[2], d->qpos[3], d->qpos[4], d->qvel[0],
                                  d->qvel[1], d->qvel[2], d->qvel[3], d->qvel[4]};
  EXPECT_EQ(s.obs, expected);
  // turned around and far away: still no termination
  s = step_from(t, {50.0, -40.0, 3.0, 1.7, -1.7}, std::vector<double>(5, 0.0), action);
  EXPECT_FALSE(s.r.terminated);
}

// ---------------------------------------------------------------------------------------------
// Reacher: -||fingertip - target|| - |a|^2 after the step

TEST(MujocoTaskReacher, RewardAndObs) {
  Task t = make_task("Reacher-v5", "reacher.xml");
  const mjModel* m = t.model.get();
  int tip = t.body("fingertip"), target = t.body("target");
  ASSERT_GE(tip, 0);
  ASSERT_GE(target, 0);
  std::vector<double> qpos = {0.3, -0.8, 0.05, 0.12}, qvel = {1.0, -2.0, 0.0, 0.0};
  std::vector<double> action = {0.7, -1.2};
  Stepped s = step_from(t, qpos, qvel, action);
  const mjData* d = s.after.get();
  double dist = dist3(d->xpos + 3 * tip, d->xpos + 3 * target);
  EXPECT_NEAR(s.r.reward, -dist - sq_norm(action), 1e-12);
  EXPECT_FALSE(s.r.terminated);
  std::vector<double> expected = {std::cos(d->qpos[0]), std::cos(d->qpos[1]),
                                  std::sin(d->qpos[0]), std::sin(d->qpos[1]),
                                  d->qpos[2],           d->qpos[3],
                                  d->qvel[0],           d->qvel[1],
                                  d->xpos[3 * tip] - d->xpos[3 * target],
                                  d->xpos[3 * tip + 1] - d->xpos[3 * target + 1]};
  EXPECT_EQ(s.obs, expected);
  // the target sits where its slides put it (body at (0.1, -0.1) when qpos = ref)
  EXPECT_NEAR(d->xpos[3 * target], d->qpos[2], 1e-12);
  EXPECT_NEAR(d->xpos[3 * target + 1], d->qpos[3], 1e-12);
  // the distance uses the lagged xpos
  DataPtr fresh = recomputed(m, d);
  EXPECT_GT(std::fabs(fresh->xpos[3 * tip] - d->xpos[3 * tip]), 1e-9);
}

TEST(MujocoTaskReacher, ResetSamplesTheGoalInsideTheDisc) {
  auto env = make_env("Reacher-v5");
  const mjModel* m = as_mujoco(*env).model();
  std::vector<double> obs(10), q(4), v(4);
  int rejected = 0;
  double max_q = 0, max_v = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    HostRng rng(seed, 2), twin(seed, 2);
    env->reset(rng, obs.data());
    env->get_state(q.data(), v.data());
    // the same draws in the same order: 4 qpos, goal pairs until inside, 4 qvel
    std::vector<double> eq(4), ev(4);
    for (int i = 0; i < 4; ++i) eq[i] = m->qpos0[i] + twin.uniform(-0.1, 0.1);
    double gx, gy;
    for (int tries = 0;; ++tries) {
      gx = twin.uniform(-0.2, 0.2);
      gy = twin.uniform(-0.2, 0.2);
      if (std::sqrt(gx * gx + gy * gy) < 0.2) break;
      ++rejected;
    }
    eq[2] = gx;
    eq[3] = gy;
    for (int i = 0; i < 4; ++i) ev[i] = twin.uniform(-0.005, 0.005);
    ev[2] = ev[3] = 0.0;
    EXPECT_EQ(q, eq);
    EXPECT_EQ(v, ev);
    EXPECT_EQ(rng.counter(), twin.counter());
    EXPECT_LT(std::hypot(q[2], q[3]), 0.2);
    for (int i = 0; i < 2; ++i) {
      EXPECT_LE(std::fabs(q[i] - m->qpos0[i]), 0.1);
      EXPECT_LE(std::fabs(v[i]), 0.005);
      max_q = std::max(max_q, std::fabs(q[i] - m->qpos0[i]));
      max_v = std::max(max_v, std::fabs(v[i]));
    }
    // the first obs reflects the reset state (positions from mj_forward)
    EXPECT_EQ(obs[4], q[2]);
    EXPECT_EQ(obs[5], q[3]);
  }
  EXPECT_GT(rejected, 0);  // the rejection loop was exercised
  EXPECT_GT(max_q, 0.05);
  EXPECT_GT(max_v, 0.0025);
}

// ---------------------------------------------------------------------------------------------
// Pusher: -||object - goal|| - 0.1 |a|^2 - 0.5 ||object - tips_arm|| after the step

TEST(MujocoTaskPusher, RewardAndObs) {
  Task t = make_task("Pusher-v5", "pusher_v5.xml");
  const mjModel* m = t.model.get();
  int tips = t.body("tips_arm"), object = t.body("object"), goal = t.body("goal");
  ASSERT_GE(tips, 0);
  ASSERT_GE(object, 0);
  ASSERT_GE(goal, 0);
  std::vector<double> qpos = {0.2, 0.3, -0.4, -1.0, 0.5, -0.5, 0.3, -0.2, 0.1, 0.0, 0.0};
  std::vector<double> qvel = {0.5, -0.5, 1.0, 0.3, -0.2, 0.4, -1.0, 0.0, 0.0, 0.0, 0.0};
  std::vector<double> action = {1.0, -2.5, 0.3, 1.8, -0.6, 2.2, 0.0};  // two beyond ctrlrange
  Stepped s = step_from(t, qpos, qvel, action);
  const mjData* d = s.after.get();
  double dist = dist3(d->xpos + 3 * object, d->xpos + 3 * goal);
  double near = dist3(d->xpos + 3 * object, d->xpos + 3 * tips);
  EXPECT_NEAR(s.r.reward, -dist - 0.1 * sq_norm(action) - 0.5 * near, 1e-12);
  EXPECT_FALSE(s.r.terminated);
  std::vector<double> expected;
  for (int i = 0; i < 7; ++i) expected.push_back(d->qpos[i]);
  for (int i = 0; i < 7; ++i) expected.push_back(d->qvel[i]);
  for (int b : {tips, object, goal})
    for (int k = 0; k < 3; ++k) expected.push_back(d->xpos[3 * b + k]);
  EXPECT_EQ(s.obs, expected);
  // the distances use the lagged xpos
  DataPtr fresh = recomputed(m, d);
  EXPECT_GT(dist3(fresh->xpos + 3 * tips, d->xpos + 3 * tips), 1e-6);
}

TEST(MujocoTaskPusher, ResetPlacesTheObjectAwayFromTheGoal) {
  auto env = make_env("Pusher-v5");
  std::vector<double> obs(23), q(11), v(11);
  int rejected = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    HostRng rng(seed, 4), twin(seed, 4);
    env->reset(rng, obs.data());
    env->get_state(q.data(), v.data());
    // object offset pairs (y draw first) until farther than 0.17 from the goal, then 11 qvel
    std::vector<double> eq(11, 0.0), ev(11);
    double cy, cx;
    for (;;) {
      cy = twin.uniform(-0.3, 0.0);
      cx = twin.uniform(-0.2, 0.2);
      if (std::sqrt(cy * cy + cx * cx) > 0.17) break;
      ++rejected;
    }
    eq[7] = cy;
    eq[8] = cx;
    for (int i = 0; i < 11; ++i) ev[i] = twin.uniform(-0.005, 0.005);
    for (int i = 7; i < 11; ++i) ev[i] = 0.0;
    EXPECT_EQ(q, eq);
    EXPECT_EQ(v, ev);
    EXPECT_EQ(rng.counter(), twin.counter());
    EXPECT_GT(std::hypot(q[7], q[8]), 0.17);
    EXPECT_LE(q[7], 0.0);
    EXPECT_GE(q[7], -0.3);
    EXPECT_LE(std::fabs(q[8]), 0.2);
    // obs: the object body sits at its start position offset by the slides (y is qpos[7])
    const mjModel* m = as_mujoco(*env).model();
    int object = mj_name2id(m, mjOBJ_BODY, "object");
    EXPECT_NEAR(obs[14 + 3 + 0], m->body_pos[3 * object] + q[8], 1e-12);
    EXPECT_NEAR(obs[14 + 3 + 1], m->body_pos[3 * object + 1] + q[7], 1e-12);
  }
  EXPECT_GT(rejected, 0);  // the rejection loop was exercised
}

// (model equivalence, dimensions, reset noise and determinism of every task: the suites over all
// ten tasks in test_mujoco_envs.cpp)

}  // namespace
}  // namespace sac
