// test_update_shape.cpp: the shape of one SAC update, counted by a TracingBackend around the
// CPU backend (each device op is one launch on CUDA: GEMMs with their epilogues, fused kernels).
// One update at HalfCheetah shapes issues at most 40 launches, and its longest chain of launches
// that must run one after another (given the lanes the agent forks and joins, DESIGN.md section
// 3) is at most 25: the bounds a graph-replayed update's speed depends on, kept from creeping.
// Also: the lanes change no result (the traced agent's update equals the plain one bit for bit),
// and S seeds as members issue exactly the launches of one seed (the same graph, wider ops).
// Run: sac_tests --gtest_filter='UpdateShape*'
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "agent_state.h"
#include "cpu_backend.h"
#include "sac/agent.h"
#include "tracing_backend.h"

namespace sac {
namespace {

constexpr int kMaxLaunches = 40;
constexpr int kMaxCriticalPath = 25;

// HalfCheetah's sizes with smaller networks and batch (the counts follow the layers, not widths)
AgentSpec traced_spec(int critics) {
  AgentSpec spec = test::half_cheetah_spec(1);
  spec.hidden = {64, 64};
  spec.batch_size = 64;
  spec.num_critics = critics;
  return spec;
}

TEST(UpdateShape, OneUpdateIsAtMost40LaunchesWithACriticalPathOfAtMost25) {
  for (int critics : {2, 3}) {
    SCOPED_TRACE("num_critics " + std::to_string(critics));
    CpuBackend cpu(1);
    TracingBackend traced(cpu);
    AgentSpec spec = traced_spec(critics);
    auto replay = test::filled_replay(traced, spec, 500, 10);
    Agent agent(traced, spec);
    agent.update(*replay, 2);  // the eager first update and a recording
    traced.reset();
    agent.update(*replay, 1);
    std::printf("one update: %d launches, critical path %d\n", traced.launches(),
                traced.critical_path());
    EXPECT_LE(traced.launches(), kMaxLaunches);
    EXPECT_LE(traced.critical_path(), kMaxCriticalPath);
    EXPECT_GE(traced.critical_path(), 10) << "the trace missed the update's chain";
    EXPECT_EQ(traced.lane(), 0) << "the update must end on the main lane";
    // the counts follow the layers: one more hidden layer adds launches
    spec.hidden = {64, 64, 64};
    Agent deeper(traced, spec);
    deeper.update(*replay, 1);
    traced.reset();
    deeper.update(*replay, 1);
    EXPECT_GT(traced.launches(), kMaxLaunches - 10);
  }
}

TEST(UpdateShape, FourSeedsIssueTheLaunchesOfOne) {
  for (int critics : {2, 3}) {
    SCOPED_TRACE("num_critics " + std::to_string(critics));
    int launches[2], path[2], act_launches[2];
    for (int k = 0; k < 2; ++k) {
      CpuBackend cpu(1);
      TracingBackend traced(cpu);
      AgentSpec spec = traced_spec(critics);
      spec.max_act_batch = 4;
      if (k == 1) spec.seeds = {1, 2, 3, 4};
      std::vector<std::unique_ptr<ReplayBuffer>> rings;
      std::vector<const ReplayBuffer*> views;
      for (int s = 0; s < spec.num_seeds(); ++s) {
        rings.push_back(test::filled_replay(traced, spec, 300, 10 + s));
        views.push_back(rings.back().get());
      }
      Agent agent(traced, spec);
      agent.update(views, 2);
      traced.reset();
      agent.update(views, 1);
      launches[k] = traced.launches();
      path[k] = traced.critical_path();
      DeviceArray<float> obs(traced, (size_t)spec.num_seeds() * 4 * spec.obs_dim);
      DeviceArray<float> act(traced, (size_t)spec.num_seeds() * 4 * spec.act_dim);
      traced.reset();
      agent.act(4, obs.data(), false, act.data());
      act_launches[k] = traced.launches();
    }
    std::printf("one update: S = 1 %d launches (path %d), S = 4 %d launches (path %d)\n",
                launches[0], path[0], launches[1], path[1]);
    EXPECT_LE(launches[0], kMaxLaunches);
    EXPECT_EQ(launches[1], launches[0]);
    EXPECT_EQ(path[1], path[0]);
    EXPECT_EQ(act_launches[1], act_launches[0]);
  }
}

TEST(UpdateShape, TracingChangesNoResult) {
  CpuBackend cpu_a(1), cpu_b(1);
  TracingBackend traced(cpu_b);
  AgentSpec spec = test::half_cheetah_spec(8);
  spec.hidden = {32, 32};
  spec.batch_size = 32;
  auto replay_a = test::filled_replay(cpu_a, spec, 300, 20);
  auto replay_b = test::filled_replay(traced, spec, 300, 20);
  Agent a(cpu_a, spec), b(traced, spec);
  a.update(*replay_a, 5);
  b.update(*replay_b, 5);
  test::expect_identical_states(test::read_state(a), test::read_state(b), "plain vs traced");
}

// The lanes' bookkeeping: a fork starts the lane after the forking lane's chain, a join makes the
// joining lane wait for the other's.
TEST(UpdateShape, LanesFormTheLongestChain) {
  CpuBackend cpu(1);
  TracingBackend t(cpu);
  DeviceArray<int64_t> counter(t, 1);
  t.increment(counter.data());  // main: 1
  t.fork(1);
  t.set_lane(1);
  t.increment(counter.data());
  t.increment(counter.data());
  t.increment(counter.data());  // lane 1: 1 + 3
  t.set_lane(0);
  t.increment(counter.data());  // main: 2
  EXPECT_EQ(t.critical_path(), 4);
  t.join(1);
  t.increment(counter.data());  // main: 5
  EXPECT_EQ(t.critical_path(), 5);
  EXPECT_EQ(t.launches(), 6);
  EXPECT_THROW(t.fork(Backend::kMaxLanes), std::invalid_argument);
}

}  // namespace
}  // namespace sac
