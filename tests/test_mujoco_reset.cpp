// test_mujoco_reset.cpp: reset_mujoco_data (envs/mujoco_env.h), the cheap replacement of
// mj_resetData, changes nothing MuJoCo can see. For every registered MuJoCo task:
//   1. after hundreds of random-control steps (contacts, constraints), reset_mujoco_data leaves
//      mjData's header fields and its whole buffer byte-identical to mj_resetData's;
//   2. an env resetting through the fast path and one resetting through plain mj_resetData
//      (set_full_reset), with the same reset noise and actions, give bit-identical observations,
//      rewards, flags, qpos/qvel, save_state() and mjData buffers over 400 steps with several
//      resets, even with the fast env's scratch stack filled with NaN before each reset (so no
//      result depends on what mj_resetData would or would not clear there).
// Run: ./sac_tests --gtest_filter='MujocoReset*'
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <mujoco/mjxmacro.h>
#include <mujoco/mujoco.h>

#include "mujoco_env.h"
#include "sac/env.h"
#include "sac/philox.h"

namespace sac {
namespace {

// every MuJoCo task of the registry
std::vector<std::string> mujoco_task_ids() {
  std::vector<std::string> ids;
  for (const std::string& id : env_ids()) {
    std::unique_ptr<Env> env = make_env(id);
    if (dynamic_cast<MujocoEnv*>(env.get())) ids.push_back(id);
  }
  return ids;
}

// mjData's header scalars and vectors (mjxmacro.h) and its whole buffer, byte for byte
void expect_same_data(const mjData* a, const mjData* b, const std::string& what) {
#define X(type, name) EXPECT_EQ(0, std::memcmp(&a->name, &b->name, sizeof(type))) << what << ": " #name;
  MJDATA_SCALAR
#undef X
#define X(type, name, n1, n2) \
  EXPECT_EQ(0, std::memcmp(a->name, b->name, sizeof(type) * (n1) * (n2))) << what << ": " #name;
  MJDATA_VECTOR
#undef X
  ASSERT_EQ(a->nbuffer, b->nbuffer) << what;
  const unsigned char* pa = static_cast<const unsigned char*>(a->buffer);
  const unsigned char* pb = static_cast<const unsigned char*>(b->buffer);
  for (int i = 0; i < a->nbuffer; ++i)
    if (pa[i] != pb[i]) {
      ADD_FAILURE() << what << ": buffers differ first at byte " << i << " of " << a->nbuffer;
      return;
    }
}

void step_random(const mjModel* m, mjData* d, HostRng& rng, int steps) {
  for (int k = 0; k < steps; ++k) {
    for (int j = 0; j < m->nu; ++j)
      d->ctrl[j] = rng.uniform(m->actuator_ctrlrange[2 * j], m->actuator_ctrlrange[2 * j + 1]);
    mj_step(m, d);
  }
}

TEST(MujocoReset, FastResetLeavesTheBytesOfMjResetData) {
  for (const std::string& id : mujoco_task_ids()) {
    SCOPED_TRACE(id);
    std::unique_ptr<Env> env = make_env(id);
    const mjModel* m = dynamic_cast<MujocoEnv*>(env.get())->model();
    mjData* a = mj_makeData(m);
    mjData* b = mj_makeData(m);
    int most_constraints = 0;
    // episodes of different lengths; the second one starts from the reset state
    for (int steps : {40, 600, 5}) {
      HostRng ra(steps, 1), rb(steps, 1);
      step_random(m, a, ra, steps);
      step_random(m, b, rb, steps);
      most_constraints = std::max(most_constraints, a->maxuse_efc);
      mj_resetData(m, a);
      reset_mujoco_data(m, b);
      expect_same_data(a, b, id + " after " + std::to_string(steps) + " steps");
    }
    if (id != "Swimmer-v5") EXPECT_GT(most_constraints, 0) << "no constraint was exercised";
    mj_deleteData(a);
    mj_deleteData(b);
    if (HasFailure()) return;
  }
}

TEST(MujocoReset, FastResetKeepsEveryTrajectoryBitForBit) {
  constexpr int kSteps = 400, kForcedReset = 70;  // a reset at least every 70 steps
  for (const std::string& id : mujoco_task_ids()) {
    SCOPED_TRACE(id);
    std::unique_ptr<Env> fast_env = make_env(id), full_env = make_env(id);
    auto* fast = dynamic_cast<MujocoEnv*>(fast_env.get());
    auto* full = dynamic_cast<MujocoEnv*>(full_env.get());
    full->set_full_reset(true);
    const EnvSpec& spec = fast->spec();
    const int O = spec.obs_dim, A = spec.act_dim, nq = fast->nq(), nv = fast->nv();
    HostRng noise_fast(21, 0), noise_full(21, 0), actions(22, 3);
    std::vector<double> obs_fast(O), obs_full(O), act(A);
    std::vector<double> q_fast(nq), v_fast(nv), q_full(nq), v_full(nv);

    const mjData* d = fast->data();
    auto poison_stack = [&] {  // NaN everywhere in the fast env's scratch stack
      std::memset(d->stack, 0xff, sizeof(mjtNum) * (size_t)d->nstack);
    };
    auto reset_both = [&](const std::string& where) {
      poison_stack();
      fast->reset(noise_fast, obs_fast.data());
      full->reset(noise_full, obs_full.data());
      ASSERT_EQ(0, std::memcmp(obs_fast.data(), obs_full.data(), sizeof(double) * O)) << where;
      expect_same_data(fast->data(), full->data(), where);
    };

    reset_both("first reset");
    int resets = 1, since_reset = 0;
    for (int k = 0; k < kSteps && !HasFailure(); ++k) {
      const std::string where = "step " + std::to_string(k);
      for (int j = 0; j < A; ++j) act[j] = actions.uniform(spec.action_low[j], spec.action_high[j]);
      StepResult rf = fast->step(act.data(), obs_fast.data());
      StepResult rb = full->step(act.data(), obs_full.data());
      ASSERT_EQ(0, std::memcmp(obs_fast.data(), obs_full.data(), sizeof(double) * O)) << where;
      ASSERT_EQ(0, std::memcmp(&rf.reward, &rb.reward, sizeof(double))) << where;
      ASSERT_EQ(rf.terminated, rb.terminated) << where;
      ASSERT_EQ(rf.unstable, rb.unstable) << where;
      fast->get_state(q_fast.data(), v_fast.data());
      full->get_state(q_full.data(), v_full.data());
      ASSERT_EQ(0, std::memcmp(q_fast.data(), q_full.data(), sizeof(double) * nq)) << where;
      ASSERT_EQ(0, std::memcmp(v_fast.data(), v_full.data(), sizeof(double) * nv)) << where;
      std::vector<double> sf = fast->save_state(), sb = full->save_state();
      ASSERT_EQ(sf.size(), sb.size());
      ASSERT_EQ(0, std::memcmp(sf.data(), sb.data(), sizeof(double) * sf.size())) << where;
      if (rf.terminated || rf.unstable || ++since_reset >= kForcedReset) {
        reset_both("reset after " + where);
        ++resets, since_reset = 0;
      }
    }
    EXPECT_GE(resets, 1 + kSteps / kForcedReset);
    if (HasFailure()) return;
  }
}

}  // namespace
}  // namespace sac
