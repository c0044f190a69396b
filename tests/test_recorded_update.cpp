// test_recorded_update.cpp: recorded updates, on the CPU backend and (when a device is usable)
// the CUDA backend, in the patterns the trainer uses them:
//   - ring inserts after the update was recorded are seen by its replays (record, insert,
//     replay, insert, replay): the same bits as the same ops issued eagerly, and on CUDA the
//     same result as the CPU backend;
//   - allocation, transfers and waits inside recorded ops are refused, naming the op;
//   - Agent::update runs its first update eagerly, records at most kMaxRecordedUpdates updates
//     per sequence (longer blocks are several launches, same bits), and records again for a
//     new replay buffer even at the same address.
// Run: sac_tests --gtest_filter='RecordedUpdate*'
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent_state.h"
#include "cpu_backend.h"
#include "gpu_test.h"
#include "sac/agent.h"
#include "sac/backend.h"
#include "sac/replay_buffer.h"

namespace sac {
namespace {

using test::AgentState;
using test::expect_identical_states;
using test::insert_random;
using test::read_state;

// small networks: the patterns matter here, not the shapes (the CUDA graph tests use the
// HalfCheetah shapes)
AgentSpec small_spec(uint64_t seed) {
  AgentSpec s = test::half_cheetah_spec(seed);
  s.hidden = {64, 64};
  s.batch_size = 64;
  return s;
}

class RecordedUpdate : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "cuda") SAC_SKIP_WITHOUT_GPU();
    m_backend = make_backend(GetParam(), 2);
  }
  std::unique_ptr<Backend> m_backend;
};

// One update as the test issues it (its own Philox streams), on its own minibatch buffers.
struct TestStep {
  TestStep(Backend& be, const AgentSpec& s)
      : idx(be, s.batch_size),
        storage(be, TransitionBatch::floats(s.batch_size, s.obs_dim, s.act_dim)),
        eps_next(be, (size_t)s.batch_size * s.act_dim),
        eps_cur(be, (size_t)s.batch_size * s.act_dim),
        batch(TransitionBatch::over(storage.data(), s.batch_size, s.obs_dim, s.act_dim)) {}
  void issue(Backend& be, Agent& agent, const ReplayBuffer& replay) {
    const int B = agent.spec().batch_size, A = agent.spec().act_dim;
    const uint64_t key = agent.spec().seed;
    replay.sample(B, key, 21, agent.update_counter(), idx.data(), batch);
    be.fill_normal((size_t)B * A, key, 22, agent.update_counter(), eps_next.data());
    be.fill_normal((size_t)B * A, key, 23, agent.update_counter(), eps_cur.data());
    agent.update_on(batch, eps_next.data(), eps_cur.data());
  }
  DeviceArray<int64_t> idx;
  DeviceArray<float> storage, eps_next, eps_cur;
  TransitionBatch batch;
};

TEST_P(RecordedUpdate, InsertsAfterRecordingAreSampledLikeEagerOps) {
  Backend& be = *m_backend;
  const AgentSpec spec = small_spec(9);
  ReplayBuffer replay(be, 20000, spec.obs_dim, spec.act_dim);
  insert_random(replay, 100, 500);
  Agent eager(be, spec), recorded(be, spec);
  TestStep eager_step(be, spec), recorded_step(be, spec);
  std::unique_ptr<RecordedOps> graph =
      be.record([&] { recorded_step.issue(be, recorded, replay); });

  int64_t max_index = 0;
  for (int round = 0; round < 4; ++round) {
    insert_random(replay, 3000, 600 + round);  // the ring grows under the recording
    eager_step.issue(be, eager, replay);
    graph->replay();
    std::vector<int64_t> idx(spec.batch_size);
    be.download(idx.data(), recorded_step.idx.data(), idx.size() * sizeof(int64_t));
    for (int64_t i : idx) {
      ASSERT_GE(i, 0);
      ASSERT_LT(i, replay.size()) << "round " << round;
      max_index = std::max(max_index, i);
    }
  }
  // the replays drew from the rows inserted after the recording, not only the first 100
  EXPECT_GT(max_index, 3100);
  expect_identical_states(read_state(eager), read_state(recorded), "eager vs recorded");
}

TEST_P(RecordedUpdate, HostOpsInsideRecordedOpsAreRefusedNamingTheOp) {
  Backend& be = *m_backend;
  DeviceArray<float> d(be, 4);
  float h[4] = {1, 2, 3, 4};
  const std::pair<const char*, std::function<void()>> ops[] = {
      {"upload", [&] { be.upload(d.data(), h, sizeof h); }},
      {"download", [&] { be.download(h, d.data(), sizeof h); }},
      {"allocate", [&] { be.release(be.allocate(16)); }},
      {"allocate_host", [&] { be.release_host(be.allocate_host(16)); }},
      {"synchronize", [&] { be.synchronize(); }},
  };
  for (const auto& [op, call] : ops) {
    SCOPED_TRACE(op);
    try {
      // CUDA refuses while capturing, the CPU while replaying the kept closure
      std::unique_ptr<RecordedOps> r = be.record(call);
      r->replay();
      ADD_FAILURE() << op << " inside recorded ops was accepted";
    } catch (const std::logic_error& e) {
      EXPECT_NE(std::string(e.what()).find(op), std::string::npos) << e.what();
    }
    EXPECT_FALSE(be.recording());
  }
  // the backend still works outside recorded ops
  be.upload(d.data(), h, sizeof h);
  float back[4] = {};
  be.download(back, d.data(), sizeof back);
  EXPECT_EQ(back[3], 4.0f);
}

TEST_P(RecordedUpdate, LongBlocksAreSeveralLaunchesWithTheSameBits) {
  Backend& be = *m_backend;
  const AgentSpec spec = small_spec(4);
  auto replay = test::filled_replay(be, spec, 2000, 700);
  const int count = 2 * Agent::kMaxRecordedUpdates + 6;
  Agent block(be, spec), single(be, spec);
  block.update(*replay, count);
  block.update(*replay, 0);  // nothing
  for (int i = 0; i < count; ++i) single.update(*replay, 1);
  AgentState a = read_state(block), b = read_state(single);
  EXPECT_EQ(a.updates[0], count);
  expect_identical_states(b, a, "one block vs single updates");
}

INSTANTIATE_TEST_SUITE_P(Backends, RecordedUpdate, testing::Values("cpu", "cuda"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// A CPU backend that watches its record() calls.
class WatchedCpuBackend final : public CpuBackend {
 public:
  WatchedCpuBackend() : CpuBackend(1) {}
  std::unique_ptr<RecordedOps> record(std::function<void()> work) override {
    if (on_record) on_record();
    ++records;
    return CpuBackend::record(std::move(work));
  }
  std::function<void()> on_record;
  int records = 0;
};

TEST(RecordedUpdateAgent, FirstUpdateIsEagerAndRecordingsAreBoundedAndPerBuffer) {
  WatchedCpuBackend be;
  const AgentSpec spec = small_spec(2);
  Agent agent(be, spec);
  std::vector<int64_t> updates_at_record;
  be.on_record = [&] {
    int64_t n = 0;
    be.download(&n, agent.update_counter(), sizeof n);
    updates_at_record.push_back(n);
  };
  {
    auto replay = test::filled_replay(be, spec, 500, 800);
    // 1 eager, then 69 = 32 + 32 + 5: two recordings (32 and 5), three launches
    agent.update(*replay, 70);
    EXPECT_EQ(be.records, 2);
    ASSERT_FALSE(updates_at_record.empty());
    EXPECT_EQ(updates_at_record[0], 1) << "the first update must run before any recording";
    agent.update(*replay, 5);  // recorded already
    EXPECT_EQ(be.records, 2);
  }
  // a new buffer (possibly at the old one's address) is recorded anew
  auto replay = test::filled_replay(be, spec, 500, 900);
  agent.update(*replay, 5);
  EXPECT_EQ(be.records, 3);
  EXPECT_EQ(read_state(agent).updates[0], 80);
}

// The trainer's pattern on both backends: Agent::update blocks with ring inserts between them.
TEST(RecordedUpdateCuda, TrainerPatternMatchesTheCpuBackend) {
  SAC_SKIP_WITHOUT_GPU();
  std::unique_ptr<Backend> gpu = make_backend("cuda");
  CpuBackend cpu(1);
  const AgentSpec spec = small_spec(6);
  ReplayBuffer gpu_replay(*gpu, 20000, spec.obs_dim, spec.act_dim);
  ReplayBuffer cpu_replay(cpu, 20000, spec.obs_dim, spec.act_dim);
  Agent gpu_agent(*gpu, spec), cpu_agent(cpu, spec);
  for (int round = 0; round < 4; ++round) {
    insert_random(gpu_replay, 700, 1000 + round);
    insert_random(cpu_replay, 700, 1000 + round);
    gpu_agent.update(gpu_replay, 3);
    cpu_agent.update(cpu_replay, 3);
  }
  test::expect_close_states(read_state(cpu_agent), read_state(gpu_agent));
}

}  // namespace
}  // namespace sac
