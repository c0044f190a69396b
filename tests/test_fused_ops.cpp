// test_fused_ops.cpp: the update's fused ops (one launch each on CUDA) against the unfused ops
// they replace, composed on the CPU reference backend from the same inputs:
//   linear_forward with a ReLU mask, linear_grad_weights, linear_grad_input (the mask applied
//   for the layer below) vs linear_backward; critic_loss_soft_targets vs soft_targets +
//   critic_loss; actor_alpha_loss vs actor_loss + alpha_loss; tanh_gaussian_backward_critics
//   vs sum_member_columns + tanh_gaussian_backward; adam_polyak vs adam + polyak; adam_multi vs
//   adam per tensor; sample_minibatch vs sample_indices + gather_rows + fill_normal; and
//   tanh_gaussian_sample writing into the action columns of a critic input. And the seed-stacked
//   forms (S seeds in one launch: sample_minibatch with S rings and critic-input copies, the
//   fused losses, tanh_gaussian_sample into every copy, tanh_gaussian_backward_critics,
//   fill_normal_seeds) against each seed's op alone.
// On the CPU backend the results are the same bits (the fused ops do the same arithmetic in the
// same order). On the CUDA backend (skipped without a device; fails with SAC_REQUIRE_GPU) they
// are compared with the tolerances of test_cuda_backend.cpp: GEMM and reduction sums 1e-4
// abs + rel (summation order), element-wise transcendentals 1e-5, data movement and the
// integer draws exactly.
// Run: sac_tests --gtest_filter='*FusedOps*'
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cpu_backend.h"
#include "gpu_test.h"
#include "sac/backend.h"
#include "test_util.h"

namespace sac {
namespace {

using test::expect_close;
using test::expect_identical;
using test::random_normal;
using test::random_uniform;

constexpr double kGemmTol = 1e-4;
constexpr double kMathTol = 1e-5;

class FusedOps : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "cuda") SAC_SKIP_WITHOUT_GPU();
    m_be = make_backend(GetParam(), 1);  // the reference's thread count: the same GEMM blocks
  }

  // values on the backend under test and on the CPU reference
  struct Pair {
    DeviceArray<float> got, ref;
  };
  Pair pair(const std::vector<float>& v) {
    Pair p{DeviceArray<float>(*m_be, std::max<size_t>(v.size(), 1)),
           DeviceArray<float>(m_ref, std::max<size_t>(v.size(), 1))};
    if (!v.empty()) {
      p.got.upload(v.data(), v.size());
      p.ref.upload(v.data(), v.size());
    }
    return p;
  }
  Pair zeros(size_t n) { return pair(std::vector<float>(n, 0.0f)); }
  std::vector<float> host(const DeviceArray<float>& a, size_t n) {
    std::vector<float> h(n);
    a.download(h.data(), n);
    return h;
  }
  // the backend's result against the reference's: the same bits on the CPU, close on CUDA
  void expect_match(const DeviceArray<float>& got, const DeviceArray<float>& ref, size_t n,
                    double tol, const std::string& what) {
    std::vector<float> g = host(got, n), r = host(ref, n);
    if (GetParam() == "cpu")
      expect_identical(r, g, what);
    else
      expect_close(r, g, tol, tol, what);
  }

  std::unique_ptr<Backend> m_be;
  CpuBackend m_ref{1};
};

TEST_P(FusedOps, LinearGradientsEqualLinearBackward) {
  for (int E : {1, 2, 3})
    for (int in : {23, 256})
      for (int out : {1, 256})
        for (bool shared : {false, true}) {
          const int B = 64;
          std::string label = "E=" + std::to_string(E) + " in=" + std::to_string(in) +
                              " out=" + std::to_string(out) + (shared ? " shared" : "");
          SCOPED_TRACE(label);
          uint64_t seed = 100 * E + in + out + shared;
          size_t xs = shared ? 0 : (size_t)B * in;
          // X is the output of a ReLU layer below: non-negative, with exact zeros
          std::vector<float> x = random_uniform((shared ? 1 : E) * (size_t)B * in, seed, -1, 1);
          for (float& v : x) v = v < 0 ? 0.0f : v;
          Pair X = pair(x);
          Pair W = pair(random_uniform((size_t)E * out * in, seed + 1, -0.2, 0.2));
          Pair b = pair(random_uniform((size_t)E * out, seed + 2, -0.5, 0.5));
          Pair Y = zeros((size_t)E * B * out);
          std::vector<uint32_t> no_mask;
          DeviceArray<uint32_t> mask(*m_be, Backend::relu_mask_bytes(E, B, out) / 4);
          // forward with the mask written (CUDA epilogue) against the reference forward
          m_be->linear_forward(E, B, in, out, X.got.data(), xs, W.got.data(), b.got.data(),
                               Y.got.data(), Activation::kRelu, mask.data());
          m_ref.linear_forward(E, B, in, out, X.ref.data(), xs, W.ref.data(), b.ref.data(),
                               Y.ref.data(), Activation::kRelu, nullptr);
          expect_match(Y.got, Y.ref, (size_t)E * B * out, kGemmTol, "Y");

          // reference: linear_backward of a linear layer (no activation) on dZ
          std::vector<float> dz = random_uniform((size_t)E * B * out, seed + 3, -1, 1);
          Pair dZ = pair(dz), dW = zeros((size_t)E * out * in), db = zeros((size_t)E * out);
          Pair dX = zeros((size_t)E * B * in);
          m_be->linear_grad_weights(E, B, in, out, X.got.data(), xs, dZ.got.data(),
                                    dW.got.data(), db.got.data());
          m_ref.linear_backward(E, B, in, out, X.ref.data(), xs, W.ref.data(), nullptr,
                                dZ.ref.data(), dX.ref.data(), dW.ref.data(), db.ref.data(),
                                Activation::kNone);
          expect_match(dW.got, dW.ref, dW.got.size(), kGemmTol, "dW");
          expect_match(db.got, db.ref, db.got.size(), kGemmTol, "db");
          // the input gradient, plain and through the ReLU of the layer below (whose output
          // is X: the reference masks dX where X <= 0, as that layer's linear_backward would)
          Pair dX_plain = zeros((size_t)E * B * in);
          m_be->linear_grad_input(E, B, in, out, dZ.got.data(), W.got.data(), Activation::kNone,
                                  nullptr, nullptr, dX_plain.got.data());
          expect_match(dX_plain.got, dX.ref, (size_t)E * B * in, kGemmTol, "dX");
          if (shared) continue;  // a masked input gradient belongs to one member's own input
          // the mask of the layer below: its forward wrote X (here: a forward whose output is X)
          Pair below_in = pair(random_uniform((size_t)E * B * 8, seed + 4, -1, 1));
          Pair below_W = pair(random_uniform((size_t)E * in * 8, seed + 5, -0.5, 0.5));
          Pair below_b = pair(random_uniform((size_t)E * in, seed + 6, -0.3, 0.3));
          Pair below_out = zeros((size_t)E * B * in);
          DeviceArray<uint32_t> below_mask(*m_be, Backend::relu_mask_bytes(E, B, in) / 4);
          m_be->linear_forward(E, B, 8, in, below_in.got.data(), (size_t)B * 8,
                               below_W.got.data(), below_b.got.data(), below_out.got.data(),
                               Activation::kRelu, below_mask.data());
          m_ref.linear_forward(E, B, 8, in, below_in.ref.data(), (size_t)B * 8,
                               below_W.ref.data(), below_b.ref.data(), below_out.ref.data(),
                               Activation::kRelu, nullptr);
          expect_match(below_out.got, below_out.ref, (size_t)E * B * in, kGemmTol, "below Y");
          // both mask from the same layer-below output, the backend's own: a pre-activation
          // within rounding of 0 may be clamped on one backend and not on the other, and the
          // mask it wrote agrees with its own output (the same bits on the CPU)
          const std::vector<float> below_y = host(below_out.got, (size_t)E * B * in);
          below_out.ref.upload(below_y.data(), below_y.size());
          Pair dX_masked = zeros((size_t)E * B * in);
          m_be->linear_grad_input(E, B, in, out, dZ.got.data(), W.got.data(), Activation::kRelu,
                                  below_out.got.data(), below_mask.data(),
                                  dX_masked.got.data());
          // reference: dX of this layer, then the ReLU gradient of the layer below
          Pair dX_ref = zeros((size_t)E * B * in);
          m_ref.linear_backward(E, B, in, out, X.ref.data(), xs, W.ref.data(), nullptr,
                                dZ.ref.data(), dX_ref.ref.data(), nullptr, nullptr,
                                Activation::kNone);
          m_ref.linear_backward(E, B, 8, in, below_in.ref.data(), (size_t)B * 8,
                                below_W.ref.data(), below_out.ref.data(), dX_ref.ref.data(),
                                nullptr, nullptr, nullptr, Activation::kRelu);
          expect_match(dX_masked.got, dX_ref.ref, (size_t)E * B * in, kGemmTol, "masked dX");
        }
}

TEST_P(FusedOps, LossesEqualTheirUnfusedOps) {
  for (int E : {1, 2, 3}) {
    const int B = 100;
    SCOPED_TRACE("E=" + std::to_string(E));
    Pair q_target = pair(random_normal((size_t)E * B, 1 + E));
    Pair logp_next = pair(random_normal(B, 2 + E));
    Pair reward = pair(random_normal(B, 3 + E));
    std::vector<float> term = random_uniform(B, 4 + E, 0, 1);
    for (float& t : term) t = t < 0.1f ? 1.0f : 0.0f;
    Pair terminated = pair(term);
    Pair log_alpha = pair({-0.4f});
    Pair q = pair(random_normal((size_t)E * B, 5 + E));
    Pair y = zeros(B), dq = zeros((size_t)E * B), loss = zeros(1);
    m_be->critic_loss_soft_targets(1, E, B, q_target.got.data(), logp_next.got.data(),
                                   reward.got.data(), terminated.got.data(), 0.99f,
                                   log_alpha.got.data(), q.got.data(), y.got.data(),
                                   dq.got.data(), loss.got.data());
    m_ref.soft_targets(E, B, q_target.ref.data(), logp_next.ref.data(), reward.ref.data(),
                       terminated.ref.data(), 0.99f, log_alpha.ref.data(), y.ref.data());
    m_ref.critic_loss(E, B, q.ref.data(), y.ref.data(), dq.ref.data(), loss.ref.data());
    expect_match(y.got, y.ref, B, kMathTol, "y");
    expect_match(dq.got, dq.ref, (size_t)E * B, kMathTol, "critic dq");
    expect_match(loss.got, loss.ref, 1, kGemmTol, "critic loss");

    Pair logp = pair(random_normal(B, 6 + E));
    Pair adq = zeros((size_t)E * B), actor = zeros(1), grad = zeros(1), alpha = zeros(1);
    m_be->actor_alpha_loss(1, E, B, q.got.data(), logp.got.data(), log_alpha.got.data(), -6.0f,
                           adq.got.data(), actor.got.data(), grad.got.data(), alpha.got.data());
    m_ref.actor_loss(E, B, q.ref.data(), logp.ref.data(), log_alpha.ref.data(), adq.ref.data(),
                     actor.ref.data());
    m_ref.alpha_loss(B, logp.ref.data(), log_alpha.ref.data(), -6.0f, grad.ref.data(),
                     alpha.ref.data());
    expect_match(adq.got, adq.ref, (size_t)E * B, 0.0, "actor dq");
    expect_match(actor.got, actor.ref, 1, kGemmTol, "actor loss");
    expect_match(grad.got, grad.ref, 1, kGemmTol, "alpha grad");
    expect_match(alpha.got, alpha.ref, 1, kGemmTol, "alpha loss");
  }
}

TEST_P(FusedOps, TanhGaussianOpsIntoCriticInputs) {
  const int B = 50, A = 6, O = 17, W = O + A;
  for (int E : {1, 2, 3}) {
    SCOPED_TRACE("E=" + std::to_string(E));
    std::vector<float> h = random_uniform((size_t)B * 2 * A, 7 + E, -2, 2);
    Pair head = pair(h), eps = pair(random_normal((size_t)B * A, 8 + E));
    // the sample into the action columns of a critic input, against a packed sample
    Pair critic_in = pair(random_normal((size_t)B * W, 9 + E));
    Pair packed = zeros((size_t)B * A), logp = zeros(B), logp_packed = zeros(B);
    m_be->tanh_gaussian_sample(1, B, A, head.got.data(), eps.got.data(), -5, 2,
                               critic_in.got.data() + O, W, 1, logp.got.data());
    m_ref.tanh_gaussian_sample(1, B, A, head.ref.data(), eps.ref.data(), -5, 2, packed.ref.data(),
                               A, 1, logp_packed.ref.data());
    std::vector<float> in_got = host(critic_in.got, (size_t)B * W);
    std::vector<float> in_before = random_normal((size_t)B * W, 9 + E);
    std::vector<float> actions_got, actions_ref = host(packed.ref, (size_t)B * A);
    for (int r = 0; r < B; ++r)
      for (int c = 0; c < W; ++c) {
        float v = in_got[(size_t)r * W + c];
        if (c < O) ASSERT_EQ(v, in_before[(size_t)r * W + c]) << "state column overwritten";
        else actions_got.push_back(v);
      }
    if (GetParam() == "cpu") expect_identical(actions_ref, actions_got, "action columns");
    else expect_close(actions_ref, actions_got, kMathTol, kMathTol, "action columns");
    expect_match(logp.got, logp_packed.ref, B, kMathTol * A * 10, "logp");

    // the backward with the member sum inside
    Pair dX = pair(random_uniform((size_t)E * B * W, 10 + E, -1, 1));
    Pair log_alpha = pair({0.3f});
    Pair grad_head = zeros((size_t)B * 2 * A), grad_ref = zeros((size_t)B * 2 * A);
    Pair grad_action = zeros((size_t)B * A);
    // the same actions on both sides (the reference's packed sample)
    Pair act_in = pair(random_normal((size_t)B * W, 11 + E));
    std::vector<float> act_rows = host(act_in.ref, (size_t)B * W);
    for (int r = 0; r < B; ++r)
      for (int j = 0; j < A; ++j) act_rows[(size_t)r * W + O + j] = actions_ref[(size_t)r * A + j];
    act_in.got.upload(act_rows.data(), act_rows.size());
    m_be->tanh_gaussian_backward_critics(1, B, A, head.got.data(), eps.got.data(),
                                         act_in.got.data() + O, W, 0, E, W, O, dX.got.data(),
                                         log_alpha.got.data(), 1.0f / B, -5, 2,
                                         grad_head.got.data());
    m_ref.sum_member_columns(E, B, W, O, A, dX.ref.data(), grad_action.ref.data());
    m_ref.tanh_gaussian_backward(B, A, head.ref.data(), eps.ref.data(), packed.ref.data(),
                                 grad_action.ref.data(), log_alpha.ref.data(), 1.0f / B, -5, 2,
                                 grad_ref.ref.data());
    expect_match(grad_head.got, grad_ref.ref, (size_t)B * 2 * A, kMathTol, "grad head");
  }
}

TEST_P(FusedOps, OptimiserStepsEqualTheirUnfusedOps) {
  const size_t n = 5000;
  DeviceArray<int64_t> step(*m_be, 1), step_ref(m_ref, 1);
  int64_t t = 3;
  step.upload(&t, 1);
  step_ref.upload(&t, 1);
  Pair p = pair(random_normal(n, 20)), g = pair(random_normal(n, 21));
  Pair m = pair(random_normal(n, 22, 0.1)), v = pair(random_uniform(n, 23, 0, 0.1));
  Pair target = pair(random_normal(n, 24));
  m_be->adam_polyak(n, p.got.data(), g.got.data(), m.got.data(), v.got.data(), 3e-4f, 0.9f,
                    0.999f, 1e-8f, step.data(), target.got.data(), 0.005f);
  m_ref.adam(n, p.ref.data(), g.ref.data(), m.ref.data(), v.ref.data(), 3e-4f, 0.9f, 0.999f,
             1e-8f, step_ref.data());
  m_ref.polyak(n, target.ref.data(), p.ref.data(), 0.005f);
  expect_match(p.got, p.ref, n, kMathTol, "params");
  expect_match(m.got, m.ref, n, kMathTol, "adam m");
  expect_match(v.got, v.ref, n, kMathTol, "adam v");
  expect_match(target.got, target.ref, n, kMathTol, "target");

  // two tensors with their own learning rates in one launch
  Pair p2 = pair(random_normal(1, 25)), g2 = pair(random_normal(1, 26));
  Pair m2 = zeros(1), v2 = zeros(1);
  AdamTensor got[2] = {{n, p.got.data(), g.got.data(), m.got.data(), v.got.data(), 1e-3f},
                       {1, p2.got.data(), g2.got.data(), m2.got.data(), v2.got.data(), 3e-4f}};
  m_be->adam_multi(2, got, 0.9f, 0.999f, 1e-8f, step.data());
  m_ref.adam(n, p.ref.data(), g.ref.data(), m.ref.data(), v.ref.data(), 1e-3f, 0.9f, 0.999f,
             1e-8f, step_ref.data());
  m_ref.adam(1, p2.ref.data(), g2.ref.data(), m2.ref.data(), v2.ref.data(), 3e-4f, 0.9f, 0.999f,
             1e-8f, step_ref.data());
  expect_match(p.got, p.ref, n, kMathTol, "multi params 0");
  expect_match(p2.got, p2.ref, 1, kMathTol, "multi params 1");
  expect_match(v2.got, v2.ref, 1, kMathTol, "multi adam v 1");
}

TEST_P(FusedOps, SampleMinibatchEqualsIndicesGathersAndNoise) {
  const int B = 64, O = 11, A = 3, W = O + A, rows = 700;
  Pair obs = pair(random_normal((size_t)rows * O, 30)), act = pair(random_normal((size_t)rows * A, 31));
  Pair rew = pair(random_normal(rows, 32)), next = pair(random_normal((size_t)rows * O, 33));
  Pair term = pair(random_uniform(rows, 34, 0, 1));
  DeviceArray<int64_t> size(*m_be, 1), size_ref(m_ref, 1), counter(*m_be, 1), counter_ref(m_ref, 1);
  int64_t filled = 650, draw = 7;  // below the capacity: indices must stay under the size
  size.upload(&filled, 1), size_ref.upload(&filled, 1);
  counter.upload(&draw, 1), counter_ref.upload(&draw, 1);
  RingView ring{obs.got.data(), act.got.data(), rew.got.data(), next.got.data(), term.got.data(),
                size.data()};
  MinibatchDraws draws{42, 1, 2, 3, counter.data()};
  DeviceArray<int64_t> idx(*m_be, B), idx_ref(m_ref, B);
  Pair s = zeros((size_t)B * O), s2 = zeros((size_t)B * O), ci = zeros((size_t)B * W);
  Pair cpi = zeros((size_t)B * W), ti = zeros((size_t)B * W), r = zeros(B), d = zeros(B);
  Pair en = zeros((size_t)B * A), ec = zeros((size_t)B * A);
  MinibatchLayout out{idx.data(),    s.got.data(),  s2.got.data(), ci.got.data(), cpi.got.data(),
                      ti.got.data(), r.got.data(),  d.got.data(),  en.got.data(), ec.got.data()};
  m_be->sample_minibatch(1, B, O, A, 1, &ring, &draws, out);

  // reference: the unfused draws and gathers
  m_ref.sample_indices(B, 42, 1, counter_ref.data(), size_ref.data(), idx_ref.data());
  m_ref.gather_rows(B, O, obs.ref.data(), idx_ref.data(), s.ref.data());
  m_ref.gather_rows(B, O, next.ref.data(), idx_ref.data(), s2.ref.data());
  Pair a = zeros((size_t)B * A);
  m_ref.gather_rows(B, A, act.ref.data(), idx_ref.data(), a.ref.data());
  m_ref.concat_columns(B, O, s.ref.data(), A, a.ref.data(), ci.ref.data());
  m_ref.gather_rows(B, 1, rew.ref.data(), idx_ref.data(), r.ref.data());
  m_ref.gather_rows(B, 1, term.ref.data(), idx_ref.data(), d.ref.data());
  m_ref.fill_normal((size_t)B * A, 42, 2, counter_ref.data(), en.ref.data());
  m_ref.fill_normal((size_t)B * A, 42, 3, counter_ref.data(), ec.ref.data());

  std::vector<int64_t> i_got(B), i_ref(B);
  idx.download(i_got.data(), B);
  idx_ref.download(i_ref.data(), B);
  expect_identical(i_ref, i_got, "indices");
  for (int64_t i : i_got) ASSERT_LT(i, filled);
  expect_identical(host(s.ref, (size_t)B * O), host(s.got, (size_t)B * O), "s");
  expect_identical(host(s2.ref, (size_t)B * O), host(s2.got, (size_t)B * O), "s'");
  expect_identical(host(ci.ref, (size_t)B * W), host(ci.got, (size_t)B * W), "[s, a]");
  expect_identical(host(r.ref, B), host(r.got, B), "reward");
  expect_identical(host(d.ref, B), host(d.got, B), "terminated");
  std::vector<float> pi = host(cpi.got, (size_t)B * W), tg = host(ti.got, (size_t)B * W);
  std::vector<float> s_host = host(s.ref, (size_t)B * O), s2_host = host(s2.ref, (size_t)B * O);
  for (int row = 0; row < B; ++row)
    for (int c = 0; c < O; ++c) {
      ASSERT_EQ(pi[(size_t)row * W + c], s_host[(size_t)row * O + c]) << "[s, .] row " << row;
      ASSERT_EQ(tg[(size_t)row * W + c], s2_host[(size_t)row * O + c]) << "[s', .] row " << row;
    }
  expect_match(en.got, en.ref, (size_t)B * A, kMathTol, "noise next");
  expect_match(ec.got, ec.ref, (size_t)B * A, kMathTol, "noise cur");
}

// S seeds in one launch equal each seed's op alone (its rows, its members, its alpha and key)
TEST_P(FusedOps, SeedStackedOpsEqualEachSeedAlone) {
  const int S = 3, C = 2, B = 40, O = 5, A = 3, W = O + A, copies = C, rows = 200;
  const size_t SB = (size_t)S * B, SCB = (size_t)S * C * B;
  // losses: seed s reads its own C critics, rows and alpha
  Pair q_target = pair(random_normal(SCB, 41)), logp_next = pair(random_normal(SB, 42));
  Pair reward = pair(random_normal(SB, 43)), q = pair(random_normal(SCB, 45));
  std::vector<float> term = random_uniform(SB, 44, 0, 1);
  for (float& t : term) t = t < 0.1f ? 1.0f : 0.0f;
  Pair terminated = pair(term), log_alpha = pair({-0.4f, 0.2f, 0.7f});
  Pair y = zeros(SB), dq = zeros(SCB), loss = zeros(S);
  m_be->critic_loss_soft_targets(S, C, B, q_target.got.data(), logp_next.got.data(),
                                 reward.got.data(), terminated.got.data(), 0.99f,
                                 log_alpha.got.data(), q.got.data(), y.got.data(), dq.got.data(),
                                 loss.got.data());
  Pair logp = pair(random_normal(SB, 46));
  Pair adq = zeros(SCB), actor = zeros(S), grad = zeros(S), alpha = zeros(S);
  m_be->actor_alpha_loss(S, C, B, q.got.data(), logp.got.data(), log_alpha.got.data(), -3.0f,
                         adq.got.data(), actor.got.data(), grad.got.data(), alpha.got.data());
  for (int s = 0; s < S; ++s) {
    const size_t r = (size_t)s * B, m = (size_t)s * C * B;
    m_ref.critic_loss_soft_targets(1, C, B, q_target.ref.data() + m, logp_next.ref.data() + r,
                                   reward.ref.data() + r, terminated.ref.data() + r, 0.99f,
                                   log_alpha.ref.data() + s, q.ref.data() + m, y.ref.data() + r,
                                   dq.ref.data() + m, loss.ref.data() + s);
    m_ref.actor_alpha_loss(1, C, B, q.ref.data() + m, logp.ref.data() + r,
                           log_alpha.ref.data() + s, -3.0f, adq.ref.data() + m,
                           actor.ref.data() + s, grad.ref.data() + s, alpha.ref.data() + s);
  }
  expect_match(y.got, y.ref, SB, kMathTol, "y");
  expect_match(dq.got, dq.ref, SCB, kMathTol, "critic dq");
  expect_match(loss.got, loss.ref, S, kGemmTol, "critic loss");
  expect_match(adq.got, adq.ref, SCB, 0.0, "actor dq");
  expect_match(actor.got, actor.ref, S, kGemmTol, "actor loss");
  expect_match(grad.got, grad.ref, S, kGemmTol, "alpha grad");
  expect_match(alpha.got, alpha.ref, S, kGemmTol, "alpha loss");

  // the sample into every copy of each seed's critic input, against each seed's packed sample
  Pair head = pair(random_uniform(SB * 2 * A, 47, -2, 2)), eps = pair(random_normal(SB * A, 48));
  Pair critic_in = zeros(SB * copies * W), slogp = zeros(SB);
  Pair packed = zeros(SB * A), plogp = zeros(SB);
  m_be->tanh_gaussian_sample(S, B, A, head.got.data(), eps.got.data(), -5, 2,
                             critic_in.got.data() + O, W, copies, slogp.got.data());
  for (int s = 0; s < S; ++s)
    m_ref.tanh_gaussian_sample(1, B, A, head.ref.data() + (size_t)s * B * 2 * A,
                               eps.ref.data() + (size_t)s * B * A, -5, 2,
                               packed.ref.data() + (size_t)s * B * A, A, 1,
                               plogp.ref.data() + (size_t)s * B);
  std::vector<float> in = host(critic_in.got, SB * copies * W), want = host(packed.ref, SB * A);
  std::vector<float> got_actions, want_actions;
  for (int s = 0; s < S; ++s)
    for (int c = 0; c < copies; ++c)
      for (int r = 0; r < B; ++r)
        for (int j = 0; j < A; ++j) {
          got_actions.push_back(in[(((size_t)s * copies + c) * B + r) * W + O + j]);
          want_actions.push_back(want[((size_t)s * B + r) * A + j]);
        }
  if (GetParam() == "cpu") expect_identical(want_actions, got_actions, "action copies");
  else expect_close(want_actions, got_actions, kMathTol, kMathTol, "action copies");
  expect_match(slogp.got, plogp.ref, SB, kMathTol * A * 10, "logp");

  // the backward: seed s sums its own critics' dX and uses its own alpha
  Pair dX = pair(random_uniform(SCB * W, 49, -1, 1)), grad_head = zeros(SB * 2 * A);
  Pair grad_ref = zeros(SB * 2 * A), acts = zeros(SB * copies * W);
  acts.got.upload(in.data(), in.size());
  acts.ref.upload(in.data(), in.size());
  const size_t seed_stride = (size_t)copies * B * W;
  m_be->tanh_gaussian_backward_critics(S, B, A, head.got.data(), eps.got.data(),
                                       acts.got.data() + O, W, seed_stride, C, W, O,
                                       dX.got.data(), log_alpha.got.data(), 1.0f / B, -5, 2,
                                       grad_head.got.data());
  for (int s = 0; s < S; ++s)
    m_ref.tanh_gaussian_backward_critics(
        1, B, A, head.ref.data() + (size_t)s * B * 2 * A, eps.ref.data() + (size_t)s * B * A,
        acts.ref.data() + s * seed_stride + O, W, 0, C, W, O, dX.ref.data() + (size_t)s * C * B * W,
        log_alpha.ref.data() + s, 1.0f / B, -5, 2, grad_ref.ref.data() + (size_t)s * B * 2 * A);
  expect_match(grad_head.got, grad_ref.ref, SB * 2 * A, kMathTol, "grad head");

  // fill_normal_seeds: each seed's block from its own key
  const uint64_t keys[S] = {7, 8, 90};
  DeviceArray<int64_t> counter(*m_be, 1), counter_ref(m_ref, 1);
  int64_t draw = 5;
  counter.upload(&draw, 1), counter_ref.upload(&draw, 1);
  Pair noise = zeros(SB * A), noise_ref = zeros(SB * A);
  m_be->fill_normal_seeds(S, (size_t)B * A, keys, 4, counter.data(), noise.got.data());
  for (int s = 0; s < S; ++s)
    m_ref.fill_normal((size_t)B * A, keys[s], 4, counter_ref.data(),
                      noise_ref.ref.data() + (size_t)s * B * A);
  expect_match(noise.got, noise_ref.ref, SB * A, kMathTol, "fill_normal_seeds");

  // sample_minibatch: S rings and keys, seed-stacked layouts, critic inputs in `copies` copies
  std::vector<Pair> ring_data;
  std::vector<DeviceArray<int64_t>> sizes, sizes_ref;
  RingView rings[S], rings_ref[S];
  MinibatchDraws draws[S], draws_ref[S];
  for (int s = 0; s < S; ++s) {
    for (int k = 0; k < 5; ++k)
      ring_data.push_back(pair(random_normal((size_t)rows * (k == 0 || k == 3 ? O : k == 1 ? A : 1),
                                             60 + 10 * s + k)));
    const int64_t filled = 150 + 20 * s;
    sizes.emplace_back(*m_be, 1), sizes_ref.emplace_back(m_ref, 1);
    sizes.back().upload(&filled, 1), sizes_ref.back().upload(&filled, 1);
    Pair* d = &ring_data[(size_t)s * 5];
    rings[s] = {d[0].got.data(), d[1].got.data(), d[2].got.data(), d[3].got.data(),
                d[4].got.data(), sizes[s].data()};
    rings_ref[s] = {d[0].ref.data(), d[1].ref.data(), d[2].ref.data(), d[3].ref.data(),
                    d[4].ref.data(), sizes_ref[s].data()};
    draws[s] = {keys[s], 1, 2, 3, counter.data()};
    draws_ref[s] = {keys[s], 1, 2, 3, counter_ref.data()};
  }
  DeviceArray<int64_t> idx(*m_be, SB), idx_ref(m_ref, SB);
  const size_t CW = SB * copies * W;
  Pair o = zeros(SB * O), o2 = zeros(SB * O), ci = zeros(CW), cpi = zeros(CW), ti = zeros(CW);
  Pair rw = zeros(SB), tm = zeros(SB), en = zeros(SB * A), ec = zeros(SB * A);
  MinibatchLayout out{idx.data(),    o.got.data(),  o2.got.data(), ci.got.data(), cpi.got.data(),
                      ti.got.data(), rw.got.data(), tm.got.data(), en.got.data(), ec.got.data()};
  m_be->sample_minibatch(S, B, O, A, copies, rings, draws, out);
  // reference: each seed alone, one copy, into its own rows
  const size_t BW = (size_t)B * W;
  Pair ci1 = zeros(SB * W), cpi1 = zeros(SB * W), ti1 = zeros(SB * W);
  for (int s = 0; s < S; ++s) {
    const size_t r = (size_t)s * B;
    MinibatchLayout one{idx_ref.data() + r,       o.ref.data() + r * O,  o2.ref.data() + r * O,
                        ci1.ref.data() + s * BW,  cpi1.ref.data() + s * BW, ti1.ref.data() + s * BW,
                        rw.ref.data() + r,        tm.ref.data() + r,     en.ref.data() + r * A,
                        ec.ref.data() + r * A};
    m_ref.sample_minibatch(1, B, O, A, 1, &rings_ref[s], &draws_ref[s], one);
  }
  std::vector<int64_t> i_got(SB), i_ref(SB);
  idx.download(i_got.data(), SB);
  idx_ref.download(i_ref.data(), SB);
  expect_identical(i_ref, i_got, "indices");
  expect_identical(host(o.ref, SB * O), host(o.got, SB * O), "s");
  expect_identical(host(o2.ref, SB * O), host(o2.got, SB * O), "s'");
  expect_identical(host(rw.ref, SB), host(rw.got, SB), "reward");
  expect_identical(host(tm.ref, SB), host(tm.got, SB), "terminated");
  expect_match(en.got, en.ref, SB * A, kMathTol, "noise next");
  expect_match(ec.got, ec.ref, SB * A, kMathTol, "noise cur");
  // every copy of seed s's critic inputs holds its single-seed rows ([s, .] and [s', .]: the
  // state columns only)
  const std::vector<float> ci_got = host(ci.got, CW), cpi_got = host(cpi.got, CW),
                           ti_got = host(ti.got, CW);
  const std::vector<float> ci_ref = host(ci1.ref, SB * W), cpi_ref = host(cpi1.ref, SB * W),
                           ti_ref = host(ti1.ref, SB * W);
  for (int s = 0; s < S; ++s)
    for (int c = 0; c < copies; ++c)
      for (size_t i = 0; i < BW; ++i) {
        const size_t at = ((size_t)s * copies + c) * BW + i, one = s * BW + i;
        ASSERT_EQ(ci_got[at], ci_ref[one]) << "[s, a] seed " << s << " copy " << c;
        if ((int)(i % W) < O) {
          ASSERT_EQ(cpi_got[at], cpi_ref[one]) << "[s, .] seed " << s << " copy " << c;
          ASSERT_EQ(ti_got[at], ti_ref[one]) << "[s', .] seed " << s << " copy " << c;
        }
      }
}

INSTANTIATE_TEST_SUITE_P(Backends, FusedOps, testing::Values("cpu", "cuda"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace sac
