// test_batch_stepper.cpp: the env pool on MuJoCo's batch API (StepEngine::mjbatch,
// envs/batch_stepper.h) against the pool's own threads: the same observations, rewards, reward
// terms, info values, terminations, truncations, final observations and finished episodes, bit
// for bit, step after step with auto-resets, for HalfCheetah-v5, Hopper-v5 and Ant-v5 with
// several envs and 1 or 3 batch threads, and with a model that blows up (unstable episodes
// reset alike); and the refusals (a task that does not split its step,
// a task without MuJoCo, an unknown engine name, state access through env()).
// Run: ./sac_tests --gtest_filter='*MjBatch*'
#include <gtest/gtest.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sac/env.h"
#include "sac/env_pool.h"
#include "sac/errors.h"
#include "sac/philox.h"
#include "test_files.h"

namespace sac {
namespace {

// a time step at which HalfCheetah's physics blows up within a few steps of random actions
constexpr const char* kBlowUpTimestep = "0.5";

// every output of the two pools after the same step, compared bit for bit
void expect_same_outputs(const EnvPool& a, const EnvPool& b, const std::string& what) {
  const int N = a.size(), O = a.spec().obs_dim;
  const size_t R = StepResult::max_reward_terms, I = StepResult::max_info_terms;
  ASSERT_EQ(N, b.size());
  EXPECT_EQ(0, std::memcmp(a.obs(), b.obs(), sizeof(float) * N * O)) << what << ": obs";
  EXPECT_EQ(0, std::memcmp(a.reward(), b.reward(), sizeof(float) * N)) << what << ": reward";
  EXPECT_EQ(0, std::memcmp(a.reward_terms(), b.reward_terms(), sizeof(double) * N * R))
      << what << ": reward terms";
  EXPECT_EQ(0, std::memcmp(a.info(), b.info(), sizeof(double) * N * I)) << what << ": info";
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
    EXPECT_EQ(a.finished()[k].env, b.finished()[k].env) << what;
  }
}

struct BatchCase {
  const char* id;
  int max_episode_steps;  // short for HalfCheetah-v5, which never terminates: truncations reset
};

class MjBatchPool : public ::testing::TestWithParam<BatchCase> {};

// 6 envs, 300 steps of uniform random actions: the pool on 2 threads, the batch on 1 and on 3
TEST_P(MjBatchPool, SameResultsAsThePoolBitForBit) {
  const std::string id = GetParam().id;
  const nlohmann::json kwargs = {{"max_episode_steps", GetParam().max_episode_steps}};
  const std::vector<uint64_t> seeds = seeded_envs({17}, 6);
  const int N = (int)seeds.size(), steps = 300;
  EnvPool pool(id, kwargs, seeds, 2, StepEngine::pool);
  EnvPool batch1(id, kwargs, seeds, 1, StepEngine::mjbatch);
  EnvPool batch3(id, kwargs, seeds, 3, StepEngine::mjbatch);
  ASSERT_EQ(batch1.engine(), StepEngine::mjbatch);
  ASSERT_EQ(batch1.threads(), 1);
  ASSERT_EQ(batch3.threads(), 3);
  std::vector<float> actions((size_t)N * pool.spec().act_dim);
  HostRng rng(5, 9);
  pool.reset(), batch1.reset(), batch3.reset();
  ASSERT_EQ(0, std::memcmp(pool.obs(), batch1.obs(), sizeof(float) * N * pool.spec().obs_dim));
  ASSERT_EQ(0, std::memcmp(pool.obs(), batch3.obs(), sizeof(float) * N * pool.spec().obs_dim));
  int terminated = 0, truncated = 0;
  for (int k = 0; k < steps; ++k) {
    for (float& a : actions) a = (float)rng.uniform(-1.0, 1.0);
    pool.step(actions.data()), batch1.step(actions.data()), batch3.step(actions.data());
    expect_same_outputs(pool, batch1, id + " mjbatch T=1, step " + std::to_string(k));
    expect_same_outputs(pool, batch3, id + " mjbatch T=3, step " + std::to_string(k));
    if (HasFailure()) return;
    for (int i = 0; i < N; ++i) {
      terminated += pool.terminated()[i];
      truncated += pool.truncated()[i];
    }
  }
  // the run covers auto-resets: Hopper and Ant fall under random actions, HalfCheetah is cut
  EXPECT_GE(terminated + truncated, N) << "the test should cover auto-resets";
  if (id != "HalfCheetah-v5") EXPECT_GT(terminated, 0) << "the test should cover terminations";
  EXPECT_EQ(pool.unstable_episodes(), 0);
}

INSTANTIATE_TEST_SUITE_P(Tasks, MjBatchPool,
                         ::testing::Values(BatchCase{"HalfCheetah-v5", 100},
                                           BatchCase{"Hopper-v5", 1000},
                                           BatchCase{"Ant-v5", 1000}),
                         [](const ::testing::TestParamInfo<BatchCase>& info) {
                           std::string name = info.param.id;
                           return name.substr(0, name.find('-'));
                         });

// a HalfCheetah model whose time step is far too long: its physics blows up under random
// actions, so MuJoCo's warnings end episodes as unstable, on both engines at the same steps
TEST(MjBatchEngine, BlowUpsEndTheSameEpisodesAsOnThePool) {
  test::TempDir dir("sac_mjbatch");
  std::string model = test::read_file(SAC_SOURCE_DIR "/envs/models/half_cheetah.xml");
  const std::string step = "timestep=\"0.01\"";
  ASSERT_NE(model.find(step), std::string::npos);
  model.replace(model.find(step), step.size(), "timestep=\"" + std::string(kBlowUpTimestep) + "\"");
  const std::string path = std::string(dir) + "/half_cheetah_long_step.xml";
  test::write_file(path, model);
  const nlohmann::json kwargs = {{"xml_file", path}};
  const std::vector<uint64_t> seeds = seeded_envs({3}, 4);
  EnvPool pool("HalfCheetah-v5", kwargs, seeds, 2, StepEngine::pool);
  EnvPool batch("HalfCheetah-v5", kwargs, seeds, 2, StepEngine::mjbatch);
  std::vector<float> actions((size_t)pool.size() * pool.spec().act_dim);
  HostRng rng(8, 1);
  pool.reset(), batch.reset();
  for (int k = 0; k < 200; ++k) {
    for (float& a : actions) a = (float)rng.uniform(-1.0, 1.0);
    pool.step(actions.data()), batch.step(actions.data());
    expect_same_outputs(pool, batch, "long time step, step " + std::to_string(k));
    if (HasFailure()) return;
  }
  EXPECT_GE(pool.unstable_episodes(), 2) << "the model should blow up";
  EXPECT_EQ(batch.unstable_episodes(), pool.unstable_episodes());
}

TEST(MjBatchEngine, RefusesTasksItCannotStep) {
  const std::vector<uint64_t> seeds = seeded_envs({1}, 2);
  const nlohmann::json none = nlohmann::json::object();
  // a MuJoCo task whose step is one function: the engine cannot run its code around the physics
  try {
    EnvPool("Walker2d-v5", none, seeds, 1, StepEngine::mjbatch);
    ADD_FAILURE() << "Walker2d-v5 accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("Walker2d-v5 does not split its step"), std::string::npos)
        << e.what();
  }
  // a task without MuJoCo
  try {
    EnvPool("Pendulum-v1", none, seeds, 1, StepEngine::mjbatch);
    ADD_FAILURE() << "Pendulum-v1 accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("Pendulum-v1 has no MuJoCo model"), std::string::npos)
        << e.what();
  }
  EXPECT_NO_THROW(EnvPool("Walker2d-v5", none, seeds, 1, StepEngine::pool));
}

TEST(MjBatchEngine, EngineNames) {
  EXPECT_EQ(step_engine_from_name("pool"), StepEngine::pool);
  EXPECT_EQ(step_engine_from_name("mjbatch"), StepEngine::mjbatch);
  EXPECT_STREQ(step_engine_name(StepEngine::mjbatch), "mjbatch");
  EXPECT_STREQ(step_engine_name(StepEngine::pool), "pool");
  try {
    step_engine_from_name("warp");
    ADD_FAILURE() << "warp accepted";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "unknown step engine \"warp\" (known: pool, mjbatch)");
  }
}

// the physics state lives in the batch: the envs' own data would be stale, so no access
TEST(MjBatchEngine, EnvStateAccessIsRefused) {
  EnvPool pool("Hopper-v5", nlohmann::json::object(), seeded_envs({1}, 2), 1, StepEngine::mjbatch);
  pool.reset();
  EXPECT_THROW(pool.env(0), std::logic_error);
  EXPECT_THROW(pool.mutable_env(1), std::logic_error);
}

}  // namespace
}  // namespace sac
