// test_mujoco_reset.cpp: a reset forgets the past. MuJoCo 4's mj_resetData clears only the
// fixed-size part of mjData (constraint and contact arrays live in its arena, which it leaves as
// it is), and the tasks reset through it. For every registered MuJoCo task, an env that has run
// hundreds of random-control steps (contacts, constraints, a filled arena and scratch stack) and a
// fresh env, reset with the same noise and given the same actions, must give bit-identical
// observations, rewards, flags, qpos/qvel and save_state() over 400 steps with several resets,
// also when the used env's arena is filled with NaN before each reset (so no result depends on
// what the arena held). A task that kept anything across a reset would fail here.
// Run: ./sac_tests --gtest_filter='MujocoReset*'
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

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

// random actions in the task's bounds
void fill_random(const EnvSpec& spec, HostRng& rng, std::vector<double>& act) {
  for (int j = 0; j < spec.act_dim; ++j) act[j] = rng.uniform(spec.action_low[j], spec.action_high[j]);
}

TEST(MujocoReset, AUsedEnvResetsToTheSameBitsAsAFreshOne) {
  constexpr int kUsedSteps = 600, kSteps = 400, kForcedReset = 70;
  for (const std::string& id : mujoco_task_ids()) {
    SCOPED_TRACE(id);
    std::unique_ptr<Env> used_env = make_env(id), fresh_env = make_env(id);
    auto* used = dynamic_cast<MujocoEnv*>(used_env.get());
    auto* fresh = dynamic_cast<MujocoEnv*>(fresh_env.get());
    const EnvSpec& spec = used->spec();
    const int O = spec.obs_dim, A = spec.act_dim, nq = used->nq(), nv = used->nv();
    std::vector<double> obs_used(O), obs_fresh(O), act(A);
    std::vector<double> q_used(nq), v_used(nv), q_fresh(nq), v_fresh(nv);

    // the used env runs a long episode first (its own noise and actions), past termination so
    // that limits and contacts are reached (a reset only when the physics blows up)
    HostRng history(5, 5);
    used->reset(history, obs_used.data());
    int constraints_seen = 0;
    for (int k = 0; k < kUsedSteps; ++k) {
      fill_random(spec, history, act);
      StepResult r = used->step(act.data(), obs_used.data());
      constraints_seen = std::max(constraints_seen, used->data()->nefc);
      if (r.unstable) used->reset(history, obs_used.data());
    }
    if (id != "Swimmer-v5") EXPECT_GT(constraints_seen, 0) << "no constraint was exercised";

    HostRng noise_used(21, 0), noise_fresh(21, 0), actions(22, 3);
    const mjData* d = used->data();
    auto reset_both = [&](const std::string& where) {
      // NaN everywhere in the used env's arena (stack and constraint arrays) before it resets
      std::memset(static_cast<char*>(d->arena), 0xff, d->narena);
      used->reset(noise_used, obs_used.data());
      fresh->reset(noise_fresh, obs_fresh.data());
      ASSERT_EQ(0, std::memcmp(obs_used.data(), obs_fresh.data(), sizeof(double) * O)) << where;
    };

    reset_both("first reset");
    int resets = 1, since_reset = 0;
    for (int k = 0; k < kSteps && !HasFailure(); ++k) {
      const std::string where = "step " + std::to_string(k);
      fill_random(spec, actions, act);
      StepResult ru = used->step(act.data(), obs_used.data());
      StepResult rf = fresh->step(act.data(), obs_fresh.data());
      ASSERT_EQ(0, std::memcmp(obs_used.data(), obs_fresh.data(), sizeof(double) * O)) << where;
      ASSERT_EQ(0, std::memcmp(&ru.reward, &rf.reward, sizeof(double))) << where;
      ASSERT_EQ(ru.terminated, rf.terminated) << where;
      ASSERT_EQ(ru.unstable, rf.unstable) << where;
      used->get_state(q_used.data(), v_used.data());
      fresh->get_state(q_fresh.data(), v_fresh.data());
      ASSERT_EQ(0, std::memcmp(q_used.data(), q_fresh.data(), sizeof(double) * nq)) << where;
      ASSERT_EQ(0, std::memcmp(v_used.data(), v_fresh.data(), sizeof(double) * nv)) << where;
      std::vector<double> su = used->save_state(), sf = fresh->save_state();
      ASSERT_EQ(su.size(), sf.size());
      ASSERT_EQ(0, std::memcmp(su.data(), sf.data(), sizeof(double) * su.size())) << where;
      if (ru.terminated || ru.unstable || ++since_reset >= kForcedReset) {
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
