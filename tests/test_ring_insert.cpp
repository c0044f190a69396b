// test_ring_insert.cpp: Backend::ring_insert, the step loop's ring insert on the device. On
// each backend (CUDA skipped without a GPU), batch steps inserted with keep flags through
// ReplayBuffer::insert_step leave the ring, its head and its size (host mirror and device copy)
// exactly as the same rows, compacted on the host, inserted with insert_host; across a wrap,
// with dropped rows, with a step larger than the free tail. Also Agent::act_snapshot: the
// actions of the snapshot, not of the live actor, until snapshot_actor().
// Run: sac_tests --gtest_filter='RingInsert*:ActSnapshot*'
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "agent_state.h"
#include "gpu_test.h"
#include "sac/agent.h"
#include "sac/replay_buffer.h"

namespace sac {
namespace {

class RingInsert : public testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (std::string(GetParam()) == "cuda") SAC_SKIP_WITHOUT_GPU();
    m_backend = make_backend(GetParam(), 1);
  }
  std::unique_ptr<Backend> m_backend;
};

std::vector<float> download(Backend& be, const float* src, size_t n) {
  std::vector<float> out(n);
  be.download(out.data(), src, n * sizeof(float));
  return out;
}

TEST_P(RingInsert, KeptRowsLandAsInsertHostPutsThem) {
  Backend& be = *m_backend;
  const int O = 3, A = 2, N = 5, capacity = 13;
  ReplayBuffer by_step(be, capacity, O, A), by_host(be, capacity, O, A);
  DeviceArray<float> d_obs(be, N * O), d_act(be, N * A), d_step(be, StepTransitions::floats(N, O));
  for (int step = 0; step < 7; ++step) {
    std::vector<float> obs(N * O), act(N * A), block(StepTransitions::floats(N, O));
    std::vector<float> h_obs, h_act, h_rew, h_next, h_term;  // the kept rows, compacted
    int kept = 0;
    for (int i = 0; i < N; ++i) {
      const float id = step * 100.0f + i;
      for (int j = 0; j < O; ++j) obs[i * O + j] = id + 0.25f * j;
      for (int j = 0; j < A; ++j) act[i * A + j] = -id - 0.5f * j;
      block[i] = id * 0.5f;                                   // reward
      block[N + i] = (float)((step + i) % 2);                 // terminated
      block[2 * N + i] = (step * 3 + i) % 4 == 1 ? 0.0f : 1.0f;  // keep
      for (int j = 0; j < O; ++j) block[3 * N + i * O + j] = id - 0.125f * j;  // next obs
      if (block[2 * N + i] == 0.0f) continue;
      ++kept;
      h_obs.insert(h_obs.end(), obs.begin() + i * O, obs.begin() + (i + 1) * O);
      h_act.insert(h_act.end(), act.begin() + i * A, act.begin() + (i + 1) * A);
      h_rew.push_back(block[i]);
      h_term.push_back(block[N + i]);
      h_next.insert(h_next.end(), block.begin() + 3 * N + i * O, block.begin() + 3 * N + (i + 1) * O);
    }
    d_obs.upload(obs.data(), obs.size());
    d_act.upload(act.data(), act.size());
    d_step.upload(block.data(), block.size());
    by_step.insert_step(N, kept, d_obs.data(), d_act.data(), d_step.data());
    if (kept > 0)
      by_host.insert_host(kept, h_obs.data(), h_act.data(), h_rew.data(), h_next.data(),
                          h_term.data());
    ASSERT_EQ(by_step.head(), by_host.head()) << "step " << step;
    ASSERT_EQ(by_step.size(), by_host.size()) << "step " << step;
    int64_t device_size = 0;
    be.download(&device_size, by_step.device_size(), sizeof device_size);
    ASSERT_EQ(device_size, by_host.size()) << "step " << step;
  }
  EXPECT_EQ(by_host.size(), capacity) << "the test must wrap the ring";
  const TransitionBatch &a = by_step.storage(), &b = by_host.storage();
  EXPECT_EQ(download(be, a.obs, capacity * O), download(be, b.obs, capacity * O));
  EXPECT_EQ(download(be, a.action, capacity * A), download(be, b.action, capacity * A));
  EXPECT_EQ(download(be, a.reward, capacity), download(be, b.reward, capacity));
  EXPECT_EQ(download(be, a.next_obs, capacity * O), download(be, b.next_obs, capacity * O));
  EXPECT_EQ(download(be, a.terminated, capacity), download(be, b.terminated, capacity));
}

TEST_P(RingInsert, RefusesMoreKeptRowsThanRows) {
  Backend& be = *m_backend;
  ReplayBuffer rb(be, 8, 2, 1);
  DeviceArray<float> d(be, 64);
  EXPECT_THROW(rb.insert_step(2, 3, d.data(), d.data(), d.data()), std::invalid_argument);
  EXPECT_THROW(rb.insert_step(9, 1, d.data(), d.data(), d.data()), std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Backends, RingInsert, testing::Values("cpu", "cuda"),
                         [](const testing::TestParamInfo<const char*>& i) { return i.param; });

class ActSnapshot : public RingInsert {};

TEST_P(ActSnapshot, ActsWithTheSnapshotUntilTheNextOne) {
  Backend& be = *m_backend;
  AgentSpec spec = test::half_cheetah_spec(3);
  spec.hidden = {32, 32};
  spec.batch_size = 32;
  spec.max_act_batch = 4;
  const int n = 4, O = spec.obs_dim, A = spec.act_dim;
  auto replay = test::filled_replay(be, spec, 200, 5);
  Agent live(be, spec), snap(be, spec);
  std::vector<float> obs(n * O);
  for (size_t i = 0; i < obs.size(); ++i) obs[i] = 0.01f * (float)(i % 37) - 0.2f;
  DeviceArray<float> d_obs(be, n * O), d_a(be, n * A), d_b(be, n * A);
  HostArray<float> h_b(be, n * A);
  d_obs.upload(obs.data(), obs.size());
  auto act_both = [&] {
    live.act(n, d_obs.data(), false, d_a.data());
    snap.act_snapshot(n, d_obs.data(), d_b.data(), h_b.data());
    be.wait_lane(Backend::kActLane);
    EXPECT_EQ(be.lane(), 0);
    std::vector<float> a = download(be, d_a.data(), n * A);
    EXPECT_EQ(std::vector<float>(h_b.begin(), h_b.end()), download(be, d_b.data(), n * A));
    return std::make_pair(a, std::vector<float>(h_b.begin(), h_b.end()));
  };
  // the first call (eager) and the recorded ones match act() on the same weights
  for (int k = 0; k < 3; ++k) {
    auto [a, b] = act_both();
    EXPECT_EQ(a, b) << "call " << k;
  }
  // after an update of both, the snapshot still holds the old weights: the noise draws stay in
  // step, so acting with the old weights is what a third agent without the update does
  Agent stale(be, spec);
  for (int k = 0; k < 3; ++k) stale.act(n, d_obs.data(), false, d_a.data());
  live.update(*replay, 2);
  snap.update(*replay, 2);
  stale.act(n, d_obs.data(), false, d_a.data());
  std::vector<float> old_weights = download(be, d_a.data(), n * A);
  snap.act_snapshot(n, d_obs.data(), d_b.data(), h_b.data());
  be.wait_lane(Backend::kActLane);
  EXPECT_EQ(std::vector<float>(h_b.begin(), h_b.end()), old_weights);
  live.act(n, d_obs.data(), false, d_a.data());  // keep the draws in step
  // after snapshot_actor, the new weights
  snap.snapshot_actor();
  auto [a, b] = act_both();
  EXPECT_EQ(a, b);
  EXPECT_NE(b, old_weights);
}

INSTANTIATE_TEST_SUITE_P(Backends, ActSnapshot, testing::Values("cpu", "cuda"),
                         [](const testing::TestParamInfo<const char*>& i) { return i.param; });

}  // namespace
}  // namespace sac
