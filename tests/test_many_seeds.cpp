// test_many_seeds.cpp: S seeds trained as members of one agent (DESIGN.md section 12). On the
// CPU backend each seed's result is byte-identical to its own single-seed agent's: weights,
// gradients, Adam moments, targets, log alpha with its gradient and Adam state, losses, and the
// actions of act (stochastic and deterministic) and act_snapshot; a NaN in one seed leaves the
// others' bytes unchanged. On a GPU, the S-seed CUDA agent matches the S-seed CPU agent within
// the CUDA-vs-CPU tolerances of agent_state.h (skips without a GPU).
// Run: sac_tests --gtest_filter='ManySeeds*'
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "agent_state.h"
#include "cpu_backend.h"
#include "gpu_test.h"
#include "sac/agent.h"

namespace sac {
namespace {

using test::AgentState;

const std::vector<uint64_t> kSeeds = {1, 2, 3};

AgentSpec small_spec(int critics) {
  AgentSpec s;
  s.obs_dim = 11;
  s.act_dim = 3;
  s.hidden = {32, 32};
  s.num_critics = critics;
  s.batch_size = 32;
  s.max_act_batch = 5;
  s.target_entropy = -3.0f;
  return s;
}

// Seed s's members of one of `group`'s flat buffers, laid out as a single-seed group of
// members / S members lays out its own: per layer the block's weights, then its biases.
std::vector<float> seed_slice(const MlpGroup& group, const std::vector<float>& flat, int S,
                              int s) {
  const size_t per = (size_t)group.members() / S;
  std::vector<float> out;
  for (int l = 0; l < group.spec().num_layers(); ++l) {
    const LayerOffsets& lo = group.layer(l);
    const size_t nw = per * lo.out * lo.in, nb = per * lo.out;
    auto w = flat.begin() + (ptrdiff_t)(lo.weight + s * nw);
    out.insert(out.end(), w, w + (ptrdiff_t)nw);
    auto b = flat.begin() + (ptrdiff_t)(lo.bias + s * nb);
    out.insert(out.end(), b, b + (ptrdiff_t)nb);
  }
  return out;
}

// Seed s's part of a multi-seed agent's state, shaped as a single-seed agent's state.
AgentState seed_state(Agent& agent, const AgentState& all, int s) {
  const int S = agent.spec().num_seeds();
  AgentState o;
  const MlpGroup &a = agent.actor(), &c = agent.critic(), &t = agent.target();
  o.actor = seed_slice(a, all.actor, S, s);
  o.actor_grad = seed_slice(a, all.actor_grad, S, s);
  o.actor_m = seed_slice(a, all.actor_m, S, s);
  o.actor_v = seed_slice(a, all.actor_v, S, s);
  o.critic = seed_slice(c, all.critic, S, s);
  o.critic_grad = seed_slice(c, all.critic_grad, S, s);
  o.critic_m = seed_slice(c, all.critic_m, S, s);
  o.critic_v = seed_slice(c, all.critic_v, S, s);
  o.target = seed_slice(t, all.target, S, s);
  for (int i = 0; i < 4; ++i) o.alpha.push_back(all.alpha[(size_t)i * S + s]);
  for (int i = 0; i < 3; ++i) o.losses.push_back(all.losses[(size_t)i * S + s]);
  o.updates = all.updates;
  return o;
}

// One ring per seed, each with its own transitions.
std::vector<std::unique_ptr<ReplayBuffer>> seed_rings(Backend& be, const AgentSpec& spec, int S) {
  std::vector<std::unique_ptr<ReplayBuffer>> rings;
  for (int s = 0; s < S; ++s) rings.push_back(test::filled_replay(be, spec, 300, 100 + 10 * s));
  return rings;
}

std::vector<const ReplayBuffer*> pointers(const std::vector<std::unique_ptr<ReplayBuffer>>& v) {
  std::vector<const ReplayBuffer*> p;
  for (const auto& r : v) p.push_back(r.get());
  return p;
}

// The eager first update, then a recorded block.
void train(Agent& agent, const std::vector<const ReplayBuffer*>& rings) {
  agent.update(rings, 1);
  agent.update(rings, 5);
}

class ManySeedsCpu : public ::testing::TestWithParam<std::tuple<int, int>> {};

// threads change the CPU backend's task split by E (rows per GEMM call): the results must not
TEST_P(ManySeedsCpu, EachSeedEqualsItsSingleSeedAgentByteForByte) {
  const auto [threads, critics] = GetParam();
  CpuBackend be(threads);
  const int S = (int)kSeeds.size();
  AgentSpec spec = small_spec(critics);
  auto rings = seed_rings(be, spec, S);
  AgentSpec multi_spec = spec;
  multi_spec.seeds = kSeeds;
  Agent multi(be, multi_spec);
  train(multi, pointers(rings));
  const AgentState all = test::read_state(multi);

  const int O = spec.obs_dim, A = spec.act_dim, n = spec.max_act_batch;
  std::vector<float> obs = test::random_normal((size_t)S * n * O, 77);
  DeviceArray<float> d_obs(be, obs.size()), d_act(be, (size_t)S * n * A);
  d_obs.upload(obs.data(), obs.size());
  // act: twice stochastic (two draw blocks), then deterministic; act_snapshot eager, recorded
  std::vector<std::vector<float>> multi_actions;
  auto run_acts = [&](Agent& agent, float* obs_rows, float* actions, size_t count) {
    std::vector<std::vector<float>> out;
    for (int k = 0; k < 3; ++k) {
      agent.act(n, obs_rows, k == 2, actions);
      out.push_back(test::download(be, actions, count));
    }
    agent.snapshot_actor();
    HostArray<float> h(be, count);
    for (int k = 0; k < 2; ++k) {
      agent.act_snapshot(n, obs_rows, actions, h.begin());
      be.wait_lane(Backend::kActLane);
      out.emplace_back(h.begin(), h.end());
    }
    return out;
  };
  multi_actions = run_acts(multi, d_obs.data(), d_act.data(), (size_t)S * n * A);

  for (int s = 0; s < S; ++s) {
    SCOPED_TRACE("seed " + std::to_string(kSeeds[s]));
    AgentSpec single_spec = spec;
    single_spec.seed = kSeeds[s];
    Agent single(be, single_spec);
    train(single, {rings[s].get()});
    test::expect_identical_states(test::read_state(single), seed_state(multi, all, s),
                                  "seed " + std::to_string(kSeeds[s]));
    DeviceArray<float> one_act(be, (size_t)n * A);
    auto single_actions =
        run_acts(single, d_obs.data() + (size_t)s * n * O, one_act.data(), (size_t)n * A);
    const char* what[] = {"act", "act (second draw)", "act deterministic", "act_snapshot",
                          "act_snapshot (recorded)"};
    for (size_t k = 0; k < single_actions.size(); ++k) {
      std::vector<float> rows(multi_actions[k].begin() + (ptrdiff_t)s * n * A,
                              multi_actions[k].begin() + (ptrdiff_t)(s + 1) * n * A);
      test::expect_identical(single_actions[k], rows, what[k]);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(ThreadsAndCritics, ManySeedsCpu,
                         ::testing::Combine(::testing::Values(1, 2, 4), ::testing::Values(2, 3)));

bool all_finite(const std::vector<float>& v) {
  for (float x : v)
    if (!std::isfinite(x)) return false;
  return true;
}

// A NaN in seed 2's log alpha or in one of its critic weights reaches that seed's losses and
// nothing of seeds 1 and 3.
TEST(ManySeeds, ANanInOneSeedLeavesTheOthersUnchanged) {
  CpuBackend be(2);
  const int S = (int)kSeeds.size();
  AgentSpec spec = small_spec(2);
  spec.seeds = kSeeds;
  auto rings = seed_rings(be, spec, S);
  Agent clean(be, spec);
  train(clean, pointers(rings));
  const AgentState ref = test::read_state(clean);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int where = 0; where < 2; ++where) {
    SCOPED_TRACE(where == 0 ? "NaN log alpha" : "NaN critic weight");
    Agent poisoned(be, spec);
    if (where == 0) {
      be.upload(poisoned.log_alpha() + 1, &nan, sizeof nan);
    } else {
      // the first weight of seed 2's second critic (member 1 * C + 1)
      const LayerOffsets& lo = poisoned.critic().layer(0);
      float* w = poisoned.critic().params() + lo.weight + (size_t)3 * lo.out * lo.in;
      be.upload(w, &nan, sizeof nan);
    }
    train(poisoned, pointers(rings));
    const AgentState got = test::read_state(poisoned);
    for (int s : {0, 2})
      test::expect_identical_states(seed_state(clean, ref, s), seed_state(poisoned, got, s),
                                    "seed " + std::to_string(kSeeds[s]));
    EXPECT_FALSE(all_finite(seed_state(poisoned, got, 1).losses)) << "the NaN did not take";
  }
}

TEST(ManySeeds, UpdateChecksTheRingCount) {
  CpuBackend be(1);
  AgentSpec spec = small_spec(2);
  spec.seeds = kSeeds;
  auto rings = seed_rings(be, spec, 2);
  Agent agent(be, spec);
  EXPECT_THROW(agent.update(pointers(rings), 1), std::invalid_argument);
  EXPECT_THROW(agent.update(*rings[0], 1), std::invalid_argument);
}

// The S-seed CUDA agent against the S-seed CPU agent, HalfCheetah shapes, ten updates.
TEST(ManySeeds, CudaAgentMatchesCpuAgent) {
  SAC_SKIP_WITHOUT_GPU();
  auto gpu = make_backend("cuda");
  CpuBackend cpu(2);
  for (int critics : {2, 3}) {
    SCOPED_TRACE("critics " + std::to_string(critics));
    AgentSpec spec = test::half_cheetah_spec(1);
    spec.num_critics = critics;
    spec.seeds = kSeeds;
    const int S = (int)kSeeds.size();
    auto cpu_rings = seed_rings(cpu, spec, S);
    auto gpu_rings = seed_rings(*gpu, spec, S);
    Agent on_cpu(cpu, spec), on_gpu(*gpu, spec);
    on_cpu.update(pointers(cpu_rings), 1);
    on_cpu.update(pointers(cpu_rings), 9);
    on_gpu.update(pointers(gpu_rings), 1);
    on_gpu.update(pointers(gpu_rings), 9);
    gpu->synchronize();
    test::expect_close_states(test::read_state(on_cpu), test::read_state(on_gpu));
  }
}

}  // namespace
}  // namespace sac
