// test_cuda_graph.cpp: the whole SAC update on the CUDA backend, recorded as a CUDA graph and
// replayed. Checks that
//   - replaying a recorded update gives the same bits as issuing the same ops eagerly, and as
//     recording the ten updates as one graph instead of one update ten times;
//   - ten GPU updates match ten CPU-reference updates (both backends draw the same Philox
//     indices and noise), within abs + rel tolerances;
//   - two GPU runs with the same seed give the same bits;
//   - the golden update (tests/golden/sac_update_golden.json, PyTorch) is reproduced on the GPU,
//     eagerly and from a recorded graph, to the CPU golden test's tolerances;
//   - an exception inside a recording, after a lane was forked, leaves the backend usable: the
//     capture ended, the lane joined, the current lane restored, the broken graph gone.
// Compiled only with the CUDA backend (SAC_HAVE_CUDA); every test skips on a machine without a
// usable CUDA device.
// Run: ./build/sac_tests --gtest_filter='*Graph*'
#ifdef SAC_HAVE_CUDA

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "cpu_backend.h"
#include "cuda_backend.h"
#include "golden_file.h"
#include "sac/agent.h"
#include "sac/backend.h"
#include "sac/replay_buffer.h"
#include "agent_state.h"
#include "gpu_test.h"
#include "test_util.h"

namespace {

using sac::Agent;
using sac::AgentSpec;
using sac::Backend;
using sac::DeviceArray;
using sac::ReplayBuffer;
using sac::test::AgentState;
using sac::test::download;
using sac::test::expect_close;
using sac::test::expect_close_states;
using sac::test::expect_identical;
using sac::test::expect_identical_states;
using sac::test::filled_replay;
using sac::test::half_cheetah_spec;
using sac::test::read_state;

constexpr int kUpdates = 10;

// Skips every test when this machine has no usable CUDA device (fails with SAC_REQUIRE_GPU).
class CudaGraphTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SAC_SKIP_WITHOUT_GPU();
    m_gpu = sac::make_backend("cuda");
  }

  std::unique_ptr<Backend> m_gpu;
};

// A recorded update replayed ten times (count 1) against one recording of ten updates
// (count 10): two different graphs of the same ops, so the same bits.
TEST_F(CudaGraphTest, CountOneTenTimesMatchesCountTenBitForBit) {
  const AgentSpec spec = half_cheetah_spec(7);
  auto replay = filled_replay(*m_gpu, spec, 3000, 100);
  Agent one(*m_gpu, spec), ten(*m_gpu, spec);
  AgentState before = read_state(one);
  for (int i = 0; i < kUpdates; ++i) one.update(*replay, 1);
  ten.update(*replay, kUpdates);
  AgentState a = read_state(one), b = read_state(ten);
  EXPECT_EQ(a.updates[0], kUpdates);
  // the updates did change the weights (so the comparison below is not of two idle agents)
  EXPECT_TRUE(before.critic != a.critic) << "critic weights unchanged by " << kUpdates << " updates";
  EXPECT_TRUE(before.actor != a.actor) << "actor weights unchanged by " << kUpdates << " updates";
  EXPECT_TRUE(before.target != a.target) << "target weights unchanged by " << kUpdates << " updates";
  for (float l : a.losses) EXPECT_TRUE(std::isfinite(l)) << "loss " << l;
  expect_identical_states(a, b, "count 1 x10 vs count 10");
}

// The same per-update sequence (replay sample, two noise fills, update_on) issued op by op and
// replayed from a recording: capture must not change a single bit.
TEST_F(CudaGraphTest, RecordedMatchesEagerBitForBit) {
  const AgentSpec spec = half_cheetah_spec(11);
  const int B = spec.batch_size, O = spec.obs_dim, A = spec.act_dim;
  auto replay = filled_replay(*m_gpu, spec, 3000, 200);
  Agent eager(*m_gpu, spec), recorded(*m_gpu, spec);

  // per-agent minibatch and noise buffers; draws are indexed by the agent's update counter
  struct Inputs {
    Inputs(Backend& be, int B, int O, int A)
        : idx(be, B), storage(be, sac::TransitionBatch::floats(B, O, A)),
          eps_next(be, (size_t)B * A), eps_cur(be, (size_t)B * A),
          batch(sac::TransitionBatch::over(storage.data(), B, O, A)) {}
    DeviceArray<int64_t> idx;
    DeviceArray<float> storage, eps_next, eps_cur;
    sac::TransitionBatch batch;
  };
  Inputs in_eager(*m_gpu, B, O, A), in_recorded(*m_gpu, B, O, A);
  auto step = [&](Agent& agent, Inputs& in) {
    const uint64_t key = agent.spec().seed;
    replay->sample(B, key, 21, agent.update_counter(), in.idx.data(), in.batch);
    m_gpu->fill_normal((size_t)B * A, key, 22, agent.update_counter(), in.eps_next.data());
    m_gpu->fill_normal((size_t)B * A, key, 23, agent.update_counter(), in.eps_cur.data());
    agent.update_on(in.batch, in.eps_next.data(), in.eps_cur.data());
  };

  std::unique_ptr<sac::RecordedOps> graph =
      m_gpu->record([&] { step(recorded, in_recorded); });
  // recording runs nothing
  EXPECT_EQ(read_state(recorded).updates[0], 0);
  for (int i = 0; i < kUpdates; ++i) {
    step(eager, in_eager);
    graph->replay();
  }
  AgentState e = read_state(eager), r = read_state(recorded);
  EXPECT_EQ(e.updates[0], kUpdates);
  expect_identical_states(e, r, "eager vs recorded");
  // the minibatch of the last update, too
  expect_identical(download(*m_gpu, in_eager.storage.data(), in_eager.storage.size()),
                   download(*m_gpu, in_recorded.storage.data(), in_recorded.storage.size()),
                   "last minibatch");
}

// Ten recorded GPU updates against ten CPU-reference updates from the same seed and replay
// contents: the same minibatches and noise (Philox on both), so only float rounding differs.
// A smaller network keeps the CPU side quick and the chance of an Adam step flipping sign on a
// gradient that is zero up to rounding (an lr-sized difference) negligible. Twin critics, and
// three (a members group beyond E = 2, as REDQ-style ensembles and many seeds use).
TEST_F(CudaGraphTest, GpuMatchesCpuReference) {
  for (int critics : {2, 3}) {
    SCOPED_TRACE("num_critics " + std::to_string(critics));
    AgentSpec spec = half_cheetah_spec(3);
    spec.hidden = {64, 64};
    spec.batch_size = 64;
    spec.num_critics = critics;
    sac::CpuBackend cpu(1);
    auto gpu_replay = filled_replay(*m_gpu, spec, 1000, 300);
    auto cpu_replay = filled_replay(cpu, spec, 1000, 300);
    Agent gpu_agent(*m_gpu, spec), cpu_agent(cpu, spec);
    // identical starting points (host-side init, uploaded)
    expect_identical_states(read_state(cpu_agent), read_state(gpu_agent), "initial state");
    for (int i = 0; i < kUpdates; ++i) {
      gpu_agent.update(*gpu_replay, 1);
      cpu_agent.update(*cpu_replay, 1);
    }
    expect_close_states(read_state(cpu_agent), read_state(gpu_agent));
  }
}

// The same in TF32: per GEMM ~3e-4 norm-relative (test_cuda_backend.cpp), which through the
// losses' sums of squares stays near 1e-3; 2e-2 relative on the losses of the tenth update
// leaves margin for the drift of ten updates, and a wrong op still fails by O(1). The weights
// are not compared: an Adam step of a gradient that is zero up to rounding may flip sign.
TEST_F(CudaGraphTest, Tf32LossesStayCloseToTheCpuReference) {
  AgentSpec spec = half_cheetah_spec(3);
  sac::CpuBackend cpu(1);
  auto gpu_replay = filled_replay(*m_gpu, spec, 1000, 300);
  auto cpu_replay = filled_replay(cpu, spec, 1000, 300);
  spec.matmul_precision = sac::MatmulPrecision::kTf32;
  Agent gpu_agent(*m_gpu, spec);
  spec.matmul_precision = sac::MatmulPrecision::kFp32;
  Agent cpu_agent(cpu, spec);
  for (int i = 0; i < kUpdates; ++i) {
    gpu_agent.update(*gpu_replay, 1);
    cpu_agent.update(*cpu_replay, 1);
  }
  AgentState g = read_state(gpu_agent), c = read_state(cpu_agent);
  expect_close(c.losses, g.losses, 1e-3, 2e-2, "losses after ten TF32 updates");
}

// work() throws after forking a lane and moving to it: record() rethrows, the current lane is
// the one record() was called on again, no stream is left capturing (synchronize() would fail),
// nothing recorded ran; then ops run eagerly (also on a forked lane), and a fresh recording
// with a fork and a join replays, as before.
TEST_F(CudaGraphTest, AnExceptionInsideARecordingLeavesTheBackendUsable) {
  DeviceArray<int64_t> counter(*m_gpu, 1);
  auto value = [&] {
    int64_t v = -1;
    counter.download(&v, 1);
    return v;
  };
  m_gpu->set_lane(0);
  EXPECT_THROW(m_gpu->record([&] {
    m_gpu->fork(2);
    m_gpu->set_lane(2);
    m_gpu->increment(counter.data());
    throw std::runtime_error("planted inside the recording");
  }),
               std::runtime_error);
  EXPECT_EQ(m_gpu->lane(), 0) << "the current lane was not restored";
  EXPECT_FALSE(m_gpu->recording());
  ASSERT_NO_THROW(m_gpu->synchronize()) << "a stream is still capturing";
  EXPECT_EQ(value(), 0) << "the abandoned recording ran";

  // eager ops on the main lane and on a forked one
  m_gpu->increment(counter.data());
  m_gpu->fork(2);
  m_gpu->set_lane(2);
  m_gpu->increment(counter.data());
  m_gpu->set_lane(0);
  m_gpu->join(2);
  EXPECT_EQ(value(), 2);

  // a fresh recording with a fork and a join, replayed twice
  std::unique_ptr<sac::RecordedOps> graph = m_gpu->record([&] {
    m_gpu->fork(1);
    m_gpu->set_lane(1);
    m_gpu->increment(counter.data());
    m_gpu->set_lane(0);
    m_gpu->join(1);
    m_gpu->increment(counter.data());
  });
  EXPECT_EQ(value(), 2) << "recording ran its ops";
  graph->replay();
  graph->replay();
  EXPECT_EQ(value(), 6);

  // and a whole update block records and replays after it
  const AgentSpec spec = half_cheetah_spec(5);
  auto replay = filled_replay(*m_gpu, spec, 1000, 50);
  Agent agent(*m_gpu, spec);
  agent.update(*replay, 3);
  AgentState a = read_state(agent);
  EXPECT_EQ(a.updates[0], 3);
  for (float l : a.losses) EXPECT_TRUE(std::isfinite(l)) << "loss " << l;
}

// Two runs from scratch (own backend, replay and agent each) with the same seed: same bits.
TEST_F(CudaGraphTest, SameSeedRunsAreBitIdentical) {
  auto run = [](const AgentSpec& spec) {
    std::unique_ptr<Backend> be = sac::make_backend("cuda");
    auto replay = filled_replay(*be, spec, 3000, 400);
    Agent agent(*be, spec);
    for (int i = 0; i < kUpdates / 2; ++i) agent.update(*replay, 1);
    agent.update(*replay, kUpdates / 2);
    return read_state(agent);
  };
  const AgentSpec spec = half_cheetah_spec(5);
  AgentState first = run(spec), second = run(spec);
  EXPECT_EQ(first.updates[0], kUpdates);
  expect_identical_states(first, second, "run 1 vs run 2");
}

// ---- the golden update (see test_golden_update.cpp) on the CUDA backend

using nlohmann::json;

using sac::test::flat_of;
using sac::test::floats;

// Param: false = update_on issued eagerly, true = update_on recorded once and replayed.
class CudaGraphGolden : public testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    SAC_SKIP_WITHOUT_GPU();
    golden = sac::test::load_golden();
    spec = sac::test::golden_spec(golden);
    backend = sac::make_backend("cuda");
    agent = std::make_unique<Agent>(*backend, spec);

    // start from the reference's initial weights
    const json& init = golden["init"];
    upload(agent->actor().params(), flat_of(init["actor"], agent->actor()));
    upload(agent->critic().params(), flat_of(init["critic"], agent->critic()));
    upload(agent->target().params(), flat_of(init["target"], agent->target()));
    upload(agent->log_alpha(), {init["log_alpha"].get<float>()});

    // the fixed minibatch and this update's noise, in device memory
    const json& b = golden["batch"];
    const char* keys[] = {"obs", "action", "reward", "next_obs", "terminated"};
    float** slots[] = {&batch.obs, &batch.action, &batch.reward, &batch.next_obs,
                       &batch.terminated};
    batch_storage.reserve(5);
    for (int i = 0; i < 5; ++i) {
      std::vector<float> v = floats(b[keys[i]]);
      batch_storage.emplace_back(*backend, v.size());
      batch_storage.back().upload(v.data(), v.size());
      *slots[i] = batch_storage.back().data();
    }
    const size_t noise = (size_t)spec.batch_size * spec.act_dim;
    eps_next = DeviceArray<float>(*backend, noise);
    eps_cur = DeviceArray<float>(*backend, noise);
    if (GetParam())
      recorded = backend->record(
          [this] { agent->update_on(batch, eps_next.data(), eps_cur.data()); });
  }

  void upload(float* d_dst, const std::vector<float>& v) {
    ASSERT_FALSE(v.empty());
    backend->upload(d_dst, v.data(), v.size() * sizeof(float));
  }

  // update k + 1 with the reference's noise of step k
  void run_step(int k) {
    std::vector<float> next = floats(golden["noise"][k]["next"]);
    std::vector<float> cur = floats(golden["noise"][k]["cur"]);
    ASSERT_EQ(next.size(), eps_next.size());
    ASSERT_EQ(cur.size(), eps_cur.size());
    eps_next.upload(next.data(), next.size());
    eps_cur.upload(cur.data(), cur.size());
    if (recorded)
      recorded->replay();
    else
      agent->update_on(batch, eps_next.data(), eps_cur.data());
  }

  std::vector<float> params(sac::MlpGroup& g) { return download(*backend, g.params(), g.num_params()); }
  std::vector<float> grads(sac::MlpGroup& g) { return download(*backend, g.grads(), g.num_params()); }

  json golden;
  AgentSpec spec;
  std::unique_ptr<Backend> backend;
  std::unique_ptr<Agent> agent;
  std::vector<DeviceArray<float>> batch_storage;
  sac::TransitionBatch batch;
  DeviceArray<float> eps_next, eps_cur;
  std::unique_ptr<sac::RecordedOps> recorded;
};

TEST_P(CudaGraphGolden, OneUpdateMatchesLossesGradientsAndWeights) {
  run_step(0);
  const json& ref = golden["steps"][0];
  sac::UpdateMetrics m = agent->read_metrics();
  EXPECT_EQ(m.updates, 1);
  expect_close(ref["critic_loss"].get<double>(), m.critic_loss, 1e-6, 1e-5, "critic_loss");
  expect_close(ref["actor_loss"].get<double>(), m.actor_loss, 1e-6, 1e-5, "actor_loss");
  expect_close(ref["alpha_loss"].get<double>(), m.alpha_loss, 1e-6, 1e-5, "alpha_loss");
  expect_close(ref["log_alpha"].get<double>(), std::log(m.alpha), 1e-7, 1e-5, "log_alpha");

  // gradients of the first update
  const json& g = golden["grads_step1"];
  expect_close(flat_of(g["actor"], agent->actor()), grads(agent->actor()), 1e-6, 1e-4,
               "actor grad");
  expect_close(flat_of(g["critic"], agent->critic()), grads(agent->critic()), 1e-6, 1e-4,
               "critic grad");
  expect_close(g["log_alpha"].get<double>(), download(*backend, agent->log_alpha_grad(), 1)[0],
               1e-6, 1e-5, "log_alpha grad");

  // new weights after one Adam step (lr 3e-4: tolerance well below one step)
  expect_close(flat_of(ref["actor"], agent->actor()), params(agent->actor()), 1e-6, 1e-5, "actor");
  expect_close(flat_of(ref["critic"], agent->critic()), params(agent->critic()), 1e-6, 1e-5,
               "critic");
  expect_close(flat_of(ref["target"], agent->target()), params(agent->target()), 1e-6, 1e-5,
               "target");
}

TEST_P(CudaGraphGolden, TenUpdatesInARowMatch) {
  ASSERT_EQ(golden["steps"].size(), (size_t)kUpdates);
  for (int k = 0; k < (int)golden["steps"].size(); ++k) {
    run_step(k);
    const json& ref = golden["steps"][k];
    sac::UpdateMetrics m = agent->read_metrics();
    std::string at = " at update " + std::to_string(k + 1);
    EXPECT_EQ(m.updates, k + 1);
    expect_close(ref["critic_loss"].get<double>(), m.critic_loss, 1e-5, 1e-4, "critic_loss" + at);
    expect_close(ref["actor_loss"].get<double>(), m.actor_loss, 1e-5, 1e-4, "actor_loss" + at);
    expect_close(ref["alpha_loss"].get<double>(), m.alpha_loss, 1e-6, 1e-4, "alpha_loss" + at);
    expect_close(ref["log_alpha"].get<double>(), std::log(m.alpha), 1e-7, 1e-4, "log_alpha" + at);
    if (ref.contains("actor")) {
      expect_close(flat_of(ref["actor"], agent->actor()), params(agent->actor()), 1e-5, 1e-4,
                   "actor" + at);
      expect_close(flat_of(ref["critic"], agent->critic()), params(agent->critic()), 1e-5, 1e-4,
                   "critic" + at);
      expect_close(flat_of(ref["target"], agent->target()), params(agent->target()), 1e-5, 1e-4,
                   "target" + at);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, CudaGraphGolden, testing::Values(false, true),
                         [](const testing::TestParamInfo<bool>& info) {
                           return info.param ? "Recorded" : "Eager";
                         });

}  // namespace

#endif  // SAC_HAVE_CUDA
