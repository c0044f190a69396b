// agent_state.h: everything an SAC update writes, read back from any backend, and the two ways
// the tests compare it: bit for bit (same backend, same ops) and GPU against the CPU reference
// (abs + rel tolerances, see below). Also the test agents' shapes and a seeded replay buffer.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sac/agent.h"
#include "sac/backend.h"
#include "sac/replay_buffer.h"
#include "test_util.h"

namespace sac {
namespace test {

// ---- tolerances of the GPU-vs-CPU comparison after ten updates. Weights and losses use the
// golden ten-update test's atol + rtol (GEMM sums differ by ~1e-6 relative between cuBLAS and
// OpenBLAS; an indexing error gives O(1) differences). Gradients and Adam moments span many
// orders of magnitude inside one buffer, so their atol is relative to the buffer's largest
// magnitude.
constexpr double kWeightAtol = 1e-5;
constexpr double kWeightRtol = 1e-4;
constexpr double kMomentScaledAtol = 1e-4;  // times max |ref| of the buffer
constexpr double kMomentRtol = 1e-3;

inline std::vector<float> download(Backend& be, const float* d_src, size_t n) {
  std::vector<float> h(n);
  if (n) be.download(h.data(), d_src, n * sizeof(float));
  return h;
}

// HalfCheetah's sizes and the paper's network (the shapes the engine runs on the GPU)
inline AgentSpec half_cheetah_spec(uint64_t seed) {
  AgentSpec s;
  s.obs_dim = 17;
  s.act_dim = 6;
  s.hidden = {256, 256};
  s.num_critics = 2;
  s.batch_size = 256;
  s.target_entropy = -6.0f;
  s.seed = seed;
  return s;
}

// Everything an update writes, downloaded from the backend.
struct AgentState {
  std::vector<float> actor, actor_grad, actor_m, actor_v;
  std::vector<float> critic, critic_grad, critic_m, critic_v;
  std::vector<float> target;
  // log_alpha, its gradient, Adam m, Adam v (S values each, in that order)
  std::vector<float> alpha;
  // critic, actor, alpha losses of the latest update (S values each)
  std::vector<float> losses;
  std::vector<int64_t> updates;

  // the float buffers with their names
  std::vector<std::pair<std::string, const std::vector<float>*>> named() const {
    return {{"actor", &actor},       {"actor grad", &actor_grad}, {"actor adam m", &actor_m},
            {"actor adam v", &actor_v}, {"critic", &critic},     {"critic grad", &critic_grad},
            {"critic adam m", &critic_m}, {"critic adam v", &critic_v}, {"target", &target},
            {"log_alpha, grad, adam m, adam v", &alpha},        {"losses", &losses}};
  }
};

inline AgentState read_state(Agent& agent) {
  Backend& be = agent.backend();
  AgentState s;
  MlpGroup &a = agent.actor(), &c = agent.critic(), &t = agent.target();
  s.actor = download(be, a.params(), a.num_params());
  s.actor_grad = download(be, a.grads(), a.num_params());
  s.actor_m = download(be, a.adam_m(), a.num_params());
  s.actor_v = download(be, a.adam_v(), a.num_params());
  s.critic = download(be, c.params(), c.num_params());
  s.critic_grad = download(be, c.grads(), c.num_params());
  s.critic_m = download(be, c.adam_m(), c.num_params());
  s.critic_v = download(be, c.adam_v(), c.num_params());
  s.target = download(be, t.params(), t.num_params());
  const int S = agent.spec().num_seeds();
  for (const float* p : {agent.log_alpha(), agent.log_alpha_grad(), agent.log_alpha_adam_m(),
                         agent.log_alpha_adam_v()})
    for (float x : download(be, p, S)) s.alpha.push_back(x);
  s.losses = download(be, agent.losses(), 3 * (size_t)S);
  s.updates.resize(1);
  be.download(s.updates.data(), agent.update_counter(), sizeof(int64_t));
  return s;
}

inline void expect_identical_states(const AgentState& ref, const AgentState& got,
                             const std::string& what) {
  auto r = ref.named(), g = got.named();
  for (size_t i = 0; i < r.size(); ++i)
    expect_identical(*r[i].second, *g[i].second, what + ": " + r[i].first);
  expect_identical(ref.updates, got.updates, what + ": update counter");
}

// the largest magnitude in v (0 for an empty v)
inline double max_abs(const std::vector<float>& v) {
  double m = 0.0;
  for (float x : v) m = std::max(m, (double)std::fabs(x));
  return m;
}

// GPU (got) against the CPU reference (ref), with the tolerances above
inline void expect_close_states(const AgentState& ref, const AgentState& got) {
  expect_close(ref.actor, got.actor, kWeightAtol, kWeightRtol, "actor weights");
  expect_close(ref.critic, got.critic, kWeightAtol, kWeightRtol, "critic weights");
  expect_close(ref.target, got.target, kWeightAtol, kWeightRtol, "target weights");
  expect_close(ref.losses, got.losses, kWeightAtol, kWeightRtol, "losses");
  const size_t S = ref.alpha.size() / 4;
  for (size_t s = 0; s < S; ++s)
    expect_close(ref.alpha[s], got.alpha[s], 1e-6, kWeightRtol, "log_alpha");
  const std::pair<const char*, std::pair<const std::vector<float>*, const std::vector<float>*>>
      scaled[] = {{"actor grad", {&ref.actor_grad, &got.actor_grad}},
                  {"actor adam m", {&ref.actor_m, &got.actor_m}},
                  {"actor adam v", {&ref.actor_v, &got.actor_v}},
                  {"critic grad", {&ref.critic_grad, &got.critic_grad}},
                  {"critic adam m", {&ref.critic_m, &got.critic_m}},
                  {"critic adam v", {&ref.critic_v, &got.critic_v}}};
  for (const auto& [name, pair] : scaled)
    expect_close(*pair.first, *pair.second, kMomentScaledAtol * max_abs(*pair.first),
                 kMomentRtol, name);
  for (size_t i = S; i < 4 * S; ++i)  // log_alpha's gradient, Adam m, Adam v
    expect_close(ref.alpha[i], got.alpha[i], kMomentScaledAtol * std::fabs(ref.alpha[i]),
                 kMomentRtol, "log_alpha grad/m/v [" + std::to_string(i) + "]");
  expect_identical(ref.updates, got.updates, "update counter");
}

// Inserts `n` seeded random transitions (the same values on every backend) at the ring head.
inline void insert_random(ReplayBuffer& replay, int n, uint64_t seed) {
  const int O = replay.obs_dim(), A = replay.act_dim();
  std::vector<float> obs = random_normal((size_t)n * O, seed + 1);
  std::vector<float> action = random_uniform((size_t)n * A, seed + 2, -1.0, 1.0);
  std::vector<float> reward = random_normal(n, seed + 3);
  std::vector<float> next_obs = random_normal((size_t)n * O, seed + 4);
  std::vector<float> terminated = random_uniform(n, seed + 5, 0.0, 1.0);
  for (float& t : terminated) t = t < 0.05f ? 1.0f : 0.0f;
  replay.insert_host(n, obs.data(), action.data(), reward.data(), next_obs.data(),
                     terminated.data());
}

// A replay buffer of capacity 2n holding `n` seeded random transitions.
inline std::unique_ptr<ReplayBuffer> filled_replay(Backend& be, const AgentSpec& spec, int n,
                                                   uint64_t seed) {
  auto replay = std::make_unique<ReplayBuffer>(be, 2 * (int64_t)n, spec.obs_dim, spec.act_dim);
  insert_random(*replay, n, seed);
  return replay;
}

}  // namespace test
}  // namespace sac
