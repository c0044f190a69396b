// test_env_pool.cpp: tests of the threaded EnvPool: results identical for any thread count
// (with auto-resets), env i seeded seed + i and matching a lone env, the real final observation
// on auto-reset, the TimeLimit and terminated/truncated exclusivity, refusal of non-finite
// actions before any env moves, instability confined to its env, thread-count rules, and a
// 64-env stress run on 4 threads against 1 thread.
// Run: ./sac_tests --gtest_filter='*EnvPool*'
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "mujoco_env.h"
#include "sac/env.h"
#include "sac/env_pool.h"
#include "sac/philox.h"

namespace sac {
namespace {

// uniform random actions in [-1, 1] for a batch, from a test-owned stream
void fill_actions(HostRng& rng, std::vector<float>& actions) {
  for (float& a : actions) a = (float)rng.uniform(-1.0, 1.0);
}

// the pool's documented scaling of one action to the task's bounds
std::vector<double> scale_action(const EnvSpec& spec, const float* a) {
  std::vector<double> out(spec.act_dim);
  for (int j = 0; j < spec.act_dim; ++j) {
    double lo = spec.action_low[j], hi = spec.action_high[j];
    out[j] = lo + 0.5 * ((double)a[j] + 1.0) * (hi - lo);
  }
  return out;
}

// every output of two pools after the same step, compared bit for bit
void expect_same_outputs(const EnvPool& a, const EnvPool& b, const std::string& what) {
  const int N = a.size(), O = a.spec().obs_dim;
  ASSERT_EQ(N, b.size());
  EXPECT_EQ(0, std::memcmp(a.obs(), b.obs(), sizeof(float) * N * O)) << what << ": obs";
  EXPECT_EQ(0, std::memcmp(a.reward(), b.reward(), sizeof(float) * N)) << what << ": reward";
  EXPECT_EQ(0, std::memcmp(a.terminated(), b.terminated(), N)) << what << ": terminated";
  EXPECT_EQ(0, std::memcmp(a.truncated(), b.truncated(), N)) << what << ": truncated";
  EXPECT_EQ(0, std::memcmp(a.unstable(), b.unstable(), N)) << what << ": unstable";
  for (int i = 0; i < N; ++i)
    if (a.terminated()[i] || a.truncated()[i])
      EXPECT_EQ(0, std::memcmp(a.final_obs() + (size_t)i * O, b.final_obs() + (size_t)i * O,
                               sizeof(float) * O))
          << what << ": final_obs of env " << i;
  ASSERT_EQ(a.finished().size(), b.finished().size()) << what;
  for (size_t k = 0; k < a.finished().size(); ++k) {
    EXPECT_EQ(a.finished()[k].ret, b.finished()[k].ret) << what;
    EXPECT_EQ(a.finished()[k].length, b.finished()[k].length) << what;
  }
  EXPECT_EQ(a.unstable_episodes(), b.unstable_episodes()) << what;
}

std::vector<double> state_of(const Env& env) {
  std::vector<double> s(env.nq() + env.nv());
  env.get_state(s.data(), s.data() + env.nq());
  return s;
}

// ---------------------------------------------------------------------------------------------

TEST(EnvPool, ThreadCountRules) {
  EXPECT_EQ(EnvPool("Pendulum-v1", 3, 0, 1).threads(), 1);
  EXPECT_EQ(EnvPool("Pendulum-v1", 3, 0, 2).threads(), 2);
  EXPECT_EQ(EnvPool("Pendulum-v1", 3, 0, 8).threads(), 3);  // never more threads than envs
  EXPECT_GE(EnvPool("Pendulum-v1", 64, 0, 0).threads(), 1);  // 0 = one per core
  EXPECT_THROW(EnvPool("Pendulum-v1", 0, 0, 1), std::invalid_argument);
  EXPECT_THROW(EnvPool("Pendulum-v1", 2, 0, -1), std::invalid_argument);
  EXPECT_THROW(EnvPool("NoSuchTask-v0", 2, 0, 2), std::invalid_argument);
}

// Same outputs, bit for bit, on 1, 2 and 3 threads, over a few hundred steps with auto-resets.
class EnvPoolThreads : public ::testing::TestWithParam<const char*> {};

TEST_P(EnvPoolThreads, SameResultsForAnyThreadCount) {
  const std::string id = GetParam();
  const int N = 7, steps = 300;
  EnvPool p1(id, N, 11, 1), p2(id, N, 11, 2), p3(id, N, 11, 3);
  ASSERT_EQ(p2.threads(), 2);
  ASSERT_EQ(p3.threads(), 3);
  const int A = p1.spec().act_dim;
  std::vector<float> actions((size_t)N * A);
  HostRng rng(99, 5);
  p1.reset(), p2.reset(), p3.reset();
  ASSERT_EQ(0, std::memcmp(p1.obs(), p2.obs(), sizeof(float) * N * p1.spec().obs_dim));
  ASSERT_EQ(0, std::memcmp(p1.obs(), p3.obs(), sizeof(float) * N * p1.spec().obs_dim));
  int episodes = 0;
  for (int k = 0; k < steps; ++k) {
    fill_actions(rng, actions);
    p1.step(actions.data()), p2.step(actions.data()), p3.step(actions.data());
    expect_same_outputs(p1, p2, id + " T=1 vs 2, step " + std::to_string(k));
    expect_same_outputs(p1, p3, id + " T=1 vs 3, step " + std::to_string(k));
    if (HasFailure()) return;
    episodes += (int)p1.finished().size();
  }
  for (int i = 0; i < N; ++i) {
    EXPECT_EQ(state_of(p1.env(i)), state_of(p2.env(i))) << "env " << i;
    EXPECT_EQ(state_of(p1.env(i)), state_of(p3.env(i))) << "env " << i;
  }
  if (id != "HalfCheetah-v5") EXPECT_GE(episodes, N) << "the test should cover auto-resets";
}

INSTANTIATE_TEST_SUITE_P(Tasks, EnvPoolThreads,
                         ::testing::Values("Hopper-v5", "InvertedPendulum-v5", "HalfCheetah-v5",
                                           "Pendulum-v1"));

// Env i of the pool behaves as a lone env reset with HostRng(seed + i, 0): same first
// observation, same steps, and on auto-reset final_obs is the lone env's last observation and
// obs its next first observation (the same rng continues).
class EnvPoolLoneEnv : public ::testing::TestWithParam<const char*> {};

TEST_P(EnvPoolLoneEnv, EnvISeededSeedPlusIMatchesALoneEnv) {
  const std::string id = GetParam();
  const int N = 5, steps = 400;
  const uint64_t seed = 1234;
  EnvPool pool(id, N, seed, 2);
  const EnvSpec& spec = pool.spec();
  const int O = spec.obs_dim, A = spec.act_dim;
  std::vector<std::unique_ptr<Env>> lone;
  std::vector<HostRng> rngs;
  std::vector<std::vector<double>> lone_obs(N, std::vector<double>(O));
  for (int i = 0; i < N; ++i) {
    lone.push_back(make_env(id));
    rngs.emplace_back(seed + (uint64_t)i, 0);
  }
  auto expect_obs = [&](const float* got, const std::vector<double>& ref, const std::string& what) {
    for (int k = 0; k < O; ++k) ASSERT_EQ(got[k], (float)ref[k]) << what << " [" << k << "]";
  };
  pool.reset();
  for (int i = 0; i < N; ++i) {
    lone[i]->reset(rngs[i], lone_obs[i].data());
    expect_obs(pool.obs() + (size_t)i * O, lone_obs[i], "first obs of env " + std::to_string(i));
  }
  // different seeds give different starts
  EXPECT_NE(0, std::memcmp(pool.obs(), pool.obs() + O, sizeof(float) * O));

  std::vector<float> actions((size_t)N * A);
  std::vector<int> t(N, 0);
  std::vector<double> ret(N, 0.0);
  HostRng arng(7, 3);
  int resets = 0;
  for (int k = 0; k < steps; ++k) {
    fill_actions(arng, actions);
    pool.step(actions.data());
    size_t fin = 0;
    for (int i = 0; i < N; ++i) {
      std::string what = id + " env " + std::to_string(i) + " step " + std::to_string(k);
      std::vector<double> act = scale_action(spec, actions.data() + (size_t)i * A);
      StepResult r = lone[i]->step(act.data(), lone_obs[i].data());
      ++t[i];
      ret[i] += r.reward;
      bool term = r.terminated && !r.unstable;
      bool trunc = !term && (r.unstable || t[i] >= spec.max_episode_steps);
      ASSERT_EQ(pool.reward()[i], (float)r.reward) << what;
      ASSERT_EQ(pool.terminated()[i], term) << what;
      ASSERT_EQ(pool.truncated()[i], trunc) << what;
      if (term || trunc) {
        expect_obs(pool.final_obs() + (size_t)i * O, lone_obs[i], what + ": final_obs");
        ASSERT_LT(fin, pool.finished().size()) << what;
        EXPECT_EQ(pool.finished()[fin].length, t[i]) << what;
        EXPECT_EQ(pool.finished()[fin].ret, ret[i]) << what;
        ++fin;
        lone[i]->reset(rngs[i], lone_obs[i].data());
        t[i] = 0, ret[i] = 0.0;
        ++resets;
      }
      expect_obs(pool.obs() + (size_t)i * O, lone_obs[i], what + ": obs");
      ASSERT_EQ(state_of(pool.env(i)), state_of(*lone[i])) << what;
    }
    EXPECT_EQ(fin, pool.finished().size());
  }
  if (id != "HalfCheetah-v5") EXPECT_GT(resets, N) << "the test should cover auto-resets";
}

INSTANTIATE_TEST_SUITE_P(Tasks, EnvPoolLoneEnv,
                         ::testing::Values("Hopper-v5", "InvertedPendulum-v5", "HalfCheetah-v5",
                                           "Pendulum-v1"));

// Pendulum-v1 never terminates: every episode is truncated at exactly 200 steps.
TEST(EnvPool, TruncatesAtMaxEpisodeSteps) {
  const int N = 3;
  EnvPool pool("Pendulum-v1", N, 5, 2);
  ASSERT_EQ(pool.spec().max_episode_steps, 200);
  std::vector<float> actions(N);
  HostRng rng(1, 1);
  pool.reset();
  for (int k = 1; k <= 450; ++k) {
    fill_actions(rng, actions);
    pool.step(actions.data());
    bool boundary = k % 200 == 0;
    for (int i = 0; i < N; ++i) {
      EXPECT_EQ(pool.terminated()[i], 0) << "step " << k;
      EXPECT_EQ(pool.truncated()[i], boundary ? 1 : 0) << "step " << k << " env " << i;
    }
    ASSERT_EQ(pool.finished().size(), boundary ? (size_t)N : 0u) << "step " << k;
    for (const FinishedEpisode& ep : pool.finished()) EXPECT_EQ(ep.length, 200);
  }
}

// terminated and truncated are never both set; Hopper under random actions terminates long
// before its TimeLimit, so it shows terminations and no truncation.
TEST(EnvPool, TerminatedAndTruncatedAreExclusive) {
  const int N = 8;
  EnvPool pool("Hopper-v5", N, 3, 2);
  std::vector<float> actions((size_t)N * pool.spec().act_dim);
  HostRng rng(2, 2);
  pool.reset();
  int terminated = 0, truncated = 0;
  for (int k = 0; k < 300; ++k) {
    fill_actions(rng, actions);
    pool.step(actions.data());
    for (int i = 0; i < N; ++i) {
      EXPECT_FALSE(pool.terminated()[i] && pool.truncated()[i]);
      terminated += pool.terminated()[i];
      truncated += pool.truncated()[i];
    }
  }
  EXPECT_GT(terminated, N);
  EXPECT_EQ(truncated, 0);
}

// A non-finite action is refused with std::invalid_argument naming the env, and no env moves.
TEST(EnvPool, RefusesNonFiniteActionBeforeSteppingAnyEnv) {
  const int N = 4;
  EnvPool pool("HalfCheetah-v5", N, 8, 2);
  const int O = pool.spec().obs_dim, A = pool.spec().act_dim;
  pool.reset();
  std::vector<float> actions((size_t)N * A, 0.25f);
  pool.step(actions.data());
  std::vector<std::vector<double>> before;
  for (int i = 0; i < N; ++i) before.push_back(state_of(pool.env(i)));
  std::vector<float> obs_before(pool.obs(), pool.obs() + (size_t)N * O);
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity()}) {
    actions[(size_t)3 * A + 2] = bad;
    try {
      pool.step(actions.data());
      ADD_FAILURE() << "non-finite action accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("env 3"), std::string::npos) << e.what();
    }
    for (int i = 0; i < N; ++i) EXPECT_EQ(state_of(pool.env(i)), before[i]) << "env " << i;
    EXPECT_EQ(0, std::memcmp(obs_before.data(), pool.obs(), sizeof(float) * N * O));
  }
  // the pool still works afterwards
  actions[(size_t)3 * A + 2] = 0.0f;
  pool.step(actions.data());
  EXPECT_NE(state_of(pool.env(0)), before[0]);
}

// A blow-up in one env ends that env's episode as truncated, is flagged and counted, and leaves
// the other envs exactly as a pool without the blow-up.
TEST(EnvPool, InstabilityStaysInItsEnv) {
  const int N = 4, bad = 2;
  EnvPool pool("HalfCheetah-v5", N, 21, 2), ref("HalfCheetah-v5", N, 21, 2);
  const int O = pool.spec().obs_dim, A = pool.spec().act_dim;
  std::vector<float> actions((size_t)N * A);
  HostRng rng(4, 4);
  pool.reset(), ref.reset();
  for (int k = 0; k < 10; ++k) {
    fill_actions(rng, actions);
    pool.step(actions.data()), ref.step(actions.data());
  }
  // put env `bad` in a state MuJoCo refuses (qvel far beyond mjMAXVAL)
  auto& mj = const_cast<MujocoEnv&>(dynamic_cast<const MujocoEnv&>(pool.env(bad)));
  std::vector<double> s = state_of(mj);
  for (int j = 0; j < mj.nv(); ++j) s[mj.nq() + j] = 1e200;
  mj.set_state(s.data(), s.data() + mj.nq());
  fill_actions(rng, actions);
  pool.step(actions.data()), ref.step(actions.data());
  EXPECT_EQ(pool.unstable()[bad], 1);
  EXPECT_EQ(pool.truncated()[bad], 1);
  EXPECT_EQ(pool.terminated()[bad], 0);
  EXPECT_EQ(pool.unstable_episodes(), 1);
  ASSERT_EQ(pool.finished().size(), 1u);
  EXPECT_EQ(pool.finished()[0].length, 11);
  for (int k = 0; k < O; ++k) EXPECT_TRUE(std::isfinite(pool.obs()[(size_t)bad * O + k]));
  for (int i = 0; i < N; ++i) {
    if (i == bad) continue;
    EXPECT_EQ(pool.unstable()[i], 0);
    EXPECT_EQ(0, std::memcmp(pool.obs() + (size_t)i * O, ref.obs() + (size_t)i * O, sizeof(float) * O));
    EXPECT_EQ(pool.reward()[i], ref.reward()[i]);
    EXPECT_EQ(state_of(pool.env(i)), state_of(ref.env(i)));
  }
  // the flag clears on the next step; the reset env steps on normally
  fill_actions(rng, actions);
  pool.step(actions.data());
  EXPECT_EQ(pool.unstable()[bad], 0);
  EXPECT_EQ(pool.unstable_episodes(), 1);
}

// finished() is gathered into storage reserved at construction: it never reallocates.
TEST(EnvPool, FinishedListDoesNotReallocate) {
  const int N = 6;
  EnvPool pool("InvertedPendulum-v5", N, 2, 3);
  std::vector<float> actions((size_t)N * pool.spec().act_dim);
  HostRng rng(6, 6);
  pool.reset();
  const FinishedEpisode* data = nullptr;
  size_t most = 0;
  for (int k = 0; k < 300; ++k) {
    fill_actions(rng, actions);
    pool.step(actions.data());
    most = std::max(most, pool.finished().size());
    if (!pool.finished().empty()) {
      if (!data) data = pool.finished().data();
      EXPECT_EQ(pool.finished().data(), data);
    }
  }
  EXPECT_GT(most, 0u);
  EXPECT_GE(pool.finished().capacity(), (size_t)N);
}

// 64 envs on 4 threads for a few thousand steps, in lockstep with the same pool on 1 thread.
// Pendulum-v1 (microseconds per batch step: thousands of dispatches, the most demanding case for
// the hand-off between threads, truncations every 200 steps) and InvertedPendulum-v5 (MuJoCo,
// episodes of a few steps under random actions, so resets all the time).
void run_lockstep(const std::string& id, int N, int T, int steps) {
  EnvPool p1(id, N, 77, 1), pt(id, N, 77, T);
  ASSERT_EQ(pt.threads(), T);
  std::vector<float> actions((size_t)N * p1.spec().act_dim);
  HostRng rng(8, 8);
  p1.reset(), pt.reset();
  int64_t episodes = 0;
  for (int k = 0; k < steps; ++k) {
    fill_actions(rng, actions);
    p1.step(actions.data()), pt.step(actions.data());
    expect_same_outputs(p1, pt, id + " step " + std::to_string(k));
    if (::testing::Test::HasFailure()) return;
    episodes += (int64_t)p1.finished().size();
    if (k % 1000 == 500) {  // a reset in the middle, dispatched to the workers too
      p1.reset(), pt.reset();
      ASSERT_EQ(0, std::memcmp(p1.obs(), pt.obs(), sizeof(float) * N * p1.spec().obs_dim));
    }
  }
  for (int i = 0; i < N; ++i) EXPECT_EQ(state_of(p1.env(i)), state_of(pt.env(i))) << "env " << i;
  EXPECT_GE(episodes, N);
}

TEST(EnvPool, StressSixtyFourEnvsOnFourThreads) {
  run_lockstep("Pendulum-v1", 64, 4, 5000);
  run_lockstep("InvertedPendulum-v5", 64, 4, 400);
}

}  // namespace
}  // namespace sac
