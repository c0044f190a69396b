// test_step_traffic.cpp: the host-device traffic of one batch step of the training loop
// (step_loop.h), counted by a TracingBackend around the CPU backend after the warm-up: one
// observation upload, one transition upload, one action download and one host wait (for the
// actions), queued; no blocking copy and no synchronize (a warm-up step: three uploads, with its
// random actions, and one wait for them). Any extra fails, in both loop shapes,
// with one and with several envs, with and without updates in the step. Also: the traced loop
// and the plain one end with the same weights (tracing and the transfers change no result).
// Run: sac_tests --gtest_filter='StepTraffic*'
#include <gtest/gtest.h>

#include <string>

#include "agent_state.h"
#include "cpu_backend.h"
#include "small_run.h"
#include "run/step_loop.h"
#include "run/training_run.h"
#include "tracing_backend.h"

namespace sac {
namespace {

struct Case {
  const char* pipeline;
  int envs;
  const char* ratio;
};

class StepTraffic : public testing::TestWithParam<Case> {};

TEST_P(StepTraffic, OneUploadOfEachAndOneActionDownloadPerStep) {
  const Case k = GetParam();
  Config c = test::small_config(400, {std::string("train.pipeline=") + k.pipeline,
                                      "env.num_envs=" + std::to_string(k.envs),
                                      std::string("train.updates_per_step=") + k.ratio,
                                      "train.warmup_steps=64"});
  CpuBackend cpu(1);
  TracingBackend traced(cpu);
  EnvPool pool(c.env_id, c.num_envs, c.seed, 1);
  const int O = pool.spec().obs_dim, A = pool.spec().act_dim;
  Agent agent(traced, AgentSpec::from_config(c, O, A, c.num_envs));
  ReplayBuffer replay(traced, replay_capacity(c), O, A);
  pool.reset();
  StepLoop loop(c, c.pipeline == "overlapped", traced, pool, agent, {&replay}, nullptr);
  // a warm-up step uploads its random actions too and waits for its own copies (the host
  // slots are rewritten two steps later, and no wait for actions covers them)
  for (int s = 0; s < 3; ++s) {
    traced.reset();
    loop.step();
    const Traffic& t = traced.traffic();
    EXPECT_EQ(t.async_uploads, 3) << "warm-up: observations, actions, transitions";
    EXPECT_EQ(t.async_downloads + t.uploads + t.downloads + t.synchronizes, 0) << "warm-up";
    EXPECT_EQ(t.lane_waits, 1) << "warm-up: the wait for the step's own copies";
  }
  while (loop.state().steps < c.warmup_steps + 4 * c.num_envs) loop.step();  // past the warm-up
  for (int s = 0; s < 6; ++s) {
    traced.reset();
    loop.step();
    const Traffic& t = traced.traffic();
    SCOPED_TRACE("step at " + std::to_string(loop.state().steps));
    EXPECT_EQ(t.async_uploads, 2) << "observations and transitions, one copy each";
    EXPECT_EQ(t.async_downloads, 1) << "the actions";
    EXPECT_EQ(t.lane_waits, 1) << "the one wait, for the actions";
    EXPECT_EQ(t.uploads, 0) << "no blocking upload";
    EXPECT_EQ(t.downloads, 0) << "no blocking download";
    EXPECT_EQ(t.synchronizes, 0) << "no synchronisation";
    EXPECT_GT(traced.launches(), 0);
  }
  loop.drain();

  // the same loop on the plain backend ends with the same weights
  CpuBackend plain(1);
  EnvPool pool2(c.env_id, c.num_envs, c.seed, 1);
  Agent agent2(plain, AgentSpec::from_config(c, O, A, c.num_envs));
  ReplayBuffer replay2(plain, replay_capacity(c), O, A);
  pool2.reset();
  StepLoop loop2(c, c.pipeline == "overlapped", plain, pool2, agent2, {&replay2}, nullptr);
  while (loop2.state().steps < loop.state().steps) loop2.step();
  loop2.drain();
  EXPECT_EQ(loop2.state().updates, loop.state().updates);
  EXPECT_GT(loop.state().updates, 0);
  test::expect_identical_states(test::read_state(agent2), test::read_state(agent), "weights");
}

INSTANTIATE_TEST_SUITE_P(
    Loops, StepTraffic,
    testing::Values(Case{"sequential", 1, "1"}, Case{"overlapped", 1, "1"},
                    Case{"sequential", 4, "0.5"}, Case{"overlapped", 4, "0.25"},
                    Case{"overlapped", 3, "0.5"}, Case{"sequential", 1, "0.5"}),
    [](const testing::TestParamInfo<Case>& i) {
      std::string r = i.param.ratio;
      for (char& ch : r)
        if (ch == '.') ch = '_';
      return std::string(i.param.pipeline) + "_" + std::to_string(i.param.envs) + "envs_ratio" + r;
    });

}  // namespace
}  // namespace sac
