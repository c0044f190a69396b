// test_cpu_ops.cpp: the CPU reference backend (sac::CpuBackend) op by op, against independent
// references: finite differences of scalar losses for every backward, hand formulas for the
// targets, Polyak and Adam, a numerical density integral and a histogram for the tanh-Gaussian
// head, and statistical and known-answer checks for the Philox generator.
// Run: ./build-cpu/sac_tests --gtest_filter='CpuOps*'
//
// Finite differences (FD) and their tolerances. Every FD evaluates the float op on perturbed
// float inputs and forms the loss in double from the op's float outputs.
//  * Inputs that get perturbed are quantised to multiples of 2^-10 and the steps are powers of
//    two (2^-7 .. 2^-4), so x +- k h is exact in float: the step the op sees is the step we
//    divide by.
//  * Piecewise-linear losses (linear layers, ReLU MLPs, critic/actor/alpha losses) are exactly
//    linear or quadratic in any single input inside one linear region, so the central difference
//    (f(x+h) - f(x-h)) / 2h has no truncation error. What remains is float rounding of the
//    outputs that the perturbed input touches: <= ~1e-6 absolute in the loss, divided by 2h
//    >= 2^-5 gives <= ~3e-5. ReLU kinks are detected (the activation pattern changes between
//    x - h and x + h) and those entries are skipped, with a cap on how many may be skipped.
//    Tolerances there: atol 1e-4 + rtol 1e-4 (observed errors stay below 5e-6) and far below
//    the O(0.1..1) errors of a wrong index, factor or sign.
//  * The tanh-Gaussian loss is smooth but curved (d u / d raw log-std reaches ~7), so it uses the
//    five-point stencil (-f(x+2h) + 8f(x+h) - 8f(x-h) + f(x-2h)) / 12h with h = 2^-7: truncation
//    h^4 f^(5) / 30 ~ 1e-4 for |f^(5)| ~ 1e6, rounding 1.5 / h * ~1e-6 (ulp of a logp of ~10)
//    ~ 2e-4. Tolerance atol 2e-3 + rtol 2e-3 against gradients of O(0.1..5) (observed errors
//    stay below 4e-4).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cpu_backend.h"
#include "sac/backend.h"
#include "sac/mlp.h"
#include "sac/philox.h"
#include "test_util.h"

namespace {

using sac::Activation;
using sac::CpuBackend;
using sac::DeviceArray;
using sac::test::expect_close;
using sac::test::expect_identical;
using sac::test::random_normal;
using sac::test::random_uniform;

constexpr double kQuantum = 1.0 / 1024.0;  // perturbed inputs lie on this grid (2^-10)

// piecewise-linear FD (see the file comment)
constexpr double kLinStep = 1.0 / 64.0;
constexpr double kLinAtol = 1e-4;
constexpr double kLinRtol = 1e-4;
// smooth (tanh-Gaussian) FD
constexpr double kSmoothStep = 1.0 / 128.0;
constexpr double kSmoothAtol = 2e-3;
constexpr double kSmoothRtol = 2e-3;

constexpr float kLogStdMin = -5.0f;
constexpr float kLogStdMax = 2.0f;

template <typename T>
DeviceArray<T> to_device(sac::Backend& be, const std::vector<T>& host) {
  DeviceArray<T> d(be, std::max<size_t>(host.size(), 1));
  if (!host.empty()) d.upload(host.data(), host.size());
  return d;
}

template <typename T>
std::vector<T> to_host(const DeviceArray<T>& d, size_t n) {
  std::vector<T> h(n);
  if (n) d.download(h.data(), n);
  return h;
}

// CpuBackend's ThreadPool can hang in its destructor when a worker thread starts after the
// pool began shutting down (see BackendConstructDestroyDoesNotHang), so the tests share one
// backend per thread count and never destroy it.
CpuBackend& backend(int threads) {
  static CpuBackend* backends[4] = {};
  if (!backends[threads]) backends[threads] = new CpuBackend(threads);
  return *backends[threads];
}

// five-point derivative of f at x0 with step h (x0 +- 2h exact in float by construction)
double five_point(const std::function<double(float)>& f, float x0, double h) {
  double x = x0;
  return (-f((float)(x + 2 * h)) + 8 * f((float)(x + h)) - 8 * f((float)(x - h)) +
          f((float)(x - 2 * h))) /
         (12 * h);
}

// ------------------------------------------------------------------------------------------
// linear_forward / linear_backward

struct LinearProblem {
  int E, B, in, out;
  bool shared;  // member stride 0
  Activation act;
  std::vector<float> X, W, b, G;  // G: dL/dY of the loss L = sum G * Y

  size_t stride() const { return shared ? 0 : (size_t)B * in; }
  std::string label() const {
    return "E=" + std::to_string(E) + (shared ? " shared" : " strided") +
           (act == Activation::kRelu ? " relu" : " none");
  }
};

LinearProblem make_linear(int E, int B, int in, int out, bool shared, Activation act,
                          uint64_t seed) {
  LinearProblem p{E, B, in, out, shared, act, {}, {}, {}, {}};
  p.X = random_uniform((shared ? 1 : E) * (size_t)B * in, seed, -1, 1, kQuantum);
  p.W = random_uniform((size_t)E * out * in, seed + 1, -1, 1, kQuantum);
  p.b = random_uniform((size_t)E * out, seed + 2, -0.5, 0.5, kQuantum);
  p.G = random_uniform((size_t)E * B * out, seed + 3, -1, 1);
  return p;
}

struct LinearResult {
  std::vector<float> Y, dX, dW, db;
};

std::vector<float> linear_forward(CpuBackend& be, const LinearProblem& p) {
  auto X = to_device(be, p.X), W = to_device(be, p.W), b = to_device(be, p.b);
  DeviceArray<float> Y(be, (size_t)p.E * p.B * p.out);
  be.linear_forward(p.E, p.B, p.in, p.out, X.data(), p.stride(), W.data(), b.data(), Y.data(),
                    p.act, nullptr);
  return to_host(Y, Y.size());
}

LinearResult linear_run(CpuBackend& be, const LinearProblem& p) {
  auto X = to_device(be, p.X), W = to_device(be, p.W), b = to_device(be, p.b);
  DeviceArray<float> Y(be, (size_t)p.E * p.B * p.out);
  be.linear_forward(p.E, p.B, p.in, p.out, X.data(), p.stride(), W.data(), b.data(), Y.data(),
                    p.act, nullptr);
  auto dY = to_device(be, p.G);
  DeviceArray<float> dX(be, (size_t)p.E * p.B * p.in), dW(be, p.W.size()), db(be, p.b.size());
  be.linear_backward(p.E, p.B, p.in, p.out, X.data(), p.stride(), W.data(), Y.data(), dY.data(),
                     dX.data(), dW.data(), db.data(), p.act);
  return {to_host(Y, Y.size()), to_host(dX, dX.size()), to_host(dW, dW.size()),
          to_host(db, db.size())};
}

// per-member losses L_e = sum_{b,o} G[e,b,o] Y[e,b,o], in double
std::vector<double> member_losses(const std::vector<float>& G, const std::vector<float>& Y, int E) {
  size_t per = Y.size() / E;
  std::vector<double> L(E, 0.0);
  for (int e = 0; e < E; ++e)
    for (size_t i = 0; i < per; ++i) L[e] += (double)G[e * per + i] * Y[e * per + i];
  return L;
}

std::vector<bool> positive_mask(const std::vector<float>& Y) {
  std::vector<bool> m(Y.size());
  for (size_t i = 0; i < Y.size(); ++i) m[i] = Y[i] > 0.0f;
  return m;
}

// Forward against a double reference, then dX, dW, db against central differences of L_e.
void check_linear_gradients(CpuBackend& be, const LinearProblem& p, const LinearResult& r) {
  const std::string label = p.label() + " threads=" + std::to_string(be.threads());
  // forward: y = act(x W^T + b) in double
  std::vector<double> y_ref(r.Y.size());
  for (int e = 0; e < p.E; ++e)
    for (int i = 0; i < p.B; ++i)
      for (int o = 0; o < p.out; ++o) {
        double z = p.b[(size_t)e * p.out + o];
        for (int k = 0; k < p.in; ++k)
          z += (double)p.X[e * p.stride() + (size_t)i * p.in + k] *
               p.W[((size_t)e * p.out + o) * p.in + k];
        if (p.act == Activation::kRelu && z < 0) z = 0;
        y_ref[((size_t)e * p.B + i) * p.out + o] = z;
      }
  expect_close(y_ref, r.Y, 1e-5, 1e-5, "Y " + label);

  size_t skipped = 0, checked = 0;
  // d L_e / d v[k] for every member whose output v[k] feeds; analytic value from `got(e, k)`
  auto fd_array = [&](std::vector<float> LinearProblem::*field, const char* name,
                      const std::function<std::vector<int>(size_t)>& members_of,
                      const std::function<float(int, size_t)>& got) {
    std::vector<double> ref;
    std::vector<float> analytic;
    LinearProblem q = p;
    for (size_t k = 0; k < (p.*field).size(); ++k) {
      float x0 = (p.*field)[k];
      (q.*field)[k] = (float)(x0 + kLinStep);
      std::vector<float> y_plus = linear_forward(be, q);
      (q.*field)[k] = (float)(x0 - kLinStep);
      std::vector<float> y_minus = linear_forward(be, q);
      (q.*field)[k] = x0;
      std::vector<double> lp = member_losses(p.G, y_plus, p.E), lm = member_losses(p.G, y_minus, p.E);
      const size_t y_per = (size_t)p.B * p.out;
      for (int e : members_of(k)) {
        // skip a member whose ReLU pattern changes inside [x - h, x + h] (a kink)
        auto member_part = [&](const std::vector<float>& y) {
          return std::vector<float>(y.begin() + e * y_per, y.begin() + (e + 1) * y_per);
        };
        if (p.act == Activation::kRelu &&
            positive_mask(member_part(y_plus)) != positive_mask(member_part(y_minus))) {
          ++skipped;
          continue;
        }
        ++checked;
        ref.push_back((lp[e] - lm[e]) / (2 * kLinStep));
        analytic.push_back(got(e, k));
      }
    }
    expect_close(ref, analytic, kLinAtol, kLinRtol, std::string(name) + " " + label);
  };

  const size_t w_per = (size_t)p.out * p.in, x_per = (size_t)p.B * p.in;
  fd_array(&LinearProblem::W, "dW", [&](size_t k) { return std::vector<int>{(int)(k / w_per)}; },
           [&](int, size_t k) { return r.dW[k]; });
  fd_array(&LinearProblem::b, "db", [&](size_t k) { return std::vector<int>{(int)(k / p.out)}; },
           [&](int, size_t k) { return r.db[k]; });
  fd_array(
      &LinearProblem::X, "dX",
      [&](size_t k) {
        if (!p.shared) return std::vector<int>{(int)(k / x_per)};
        std::vector<int> all(p.E);
        for (int e = 0; e < p.E; ++e) all[e] = e;
        return all;  // a shared input feeds every member; dX holds one gradient per member
      },
      [&](int e, size_t k) { return p.shared ? r.dX[e * x_per + k] : r.dX[k]; });
  // kinks are rare with these sizes; most entries must have been checked
  EXPECT_LE(skipped * 5, checked + skipped) << label << ": too many ReLU kinks skipped";
}

TEST(CpuOps, LinearGradientsMatchFiniteDifferences) {
  CpuBackend &be1 = backend(1), &be2 = backend(2);
  uint64_t seed = 100;
  for (Activation act : {Activation::kNone, Activation::kRelu})
    for (int E : {1, 2})
      for (bool shared : {false, true}) {
        if (shared && E == 1) continue;  // stride 0 only differs with several members
        LinearProblem p = make_linear(E, 7, 5, 4, shared, act, seed += 10);
        LinearResult r1 = linear_run(be1, p), r2 = linear_run(be2, p);
        check_linear_gradients(be1, p, r1);
        check_linear_gradients(be2, p, r2);
        // the forward pass is the same bits whatever the thread count
        expect_identical(r1.Y, r2.Y, "Y threads 1 vs 2 " + p.label());
        expect_close(r1.dX, r2.dX, 1e-6, 1e-6, "dX threads 1 vs 2 " + p.label());
        expect_close(r1.dW, r2.dW, 1e-6, 1e-6, "dW threads 1 vs 2 " + p.label());
        expect_close(r1.db, r2.db, 1e-6, 1e-6, "db threads 1 vs 2 " + p.label());
      }
}

TEST(CpuOps, LinearForwardIdenticalAcrossThreadCounts) {
  // larger, odd sizes so row blocks are uneven and GEMM tiles have edges
  CpuBackend &be1 = backend(1), &be2 = backend(2), &be3 = backend(3);
  uint64_t seed = 900;
  for (Activation act : {Activation::kNone, Activation::kRelu})
    for (int E : {1, 2, 3})
      for (bool shared : {false, true}) {
        LinearProblem p = make_linear(E, 37, 19, 11, shared, act, seed += 10);
        std::vector<float> y1 = linear_forward(be1, p);
        expect_identical(y1, linear_forward(be2, p), "threads 1 vs 2 " + p.label());
        expect_identical(y1, linear_forward(be3, p), "threads 1 vs 3 " + p.label());
      }
}

TEST(CpuOps, LinearBackwardNullOutputsAreSkipped) {
  // dW/db only, then dX only: each must equal the full call
  CpuBackend& be = backend(2);
  LinearProblem p = make_linear(2, 6, 3, 4, true, Activation::kRelu, 77);
  LinearResult full = linear_run(be, p);
  auto X = to_device(be, p.X), W = to_device(be, p.W), Y = to_device(be, full.Y);
  auto dY = to_device(be, p.G);
  DeviceArray<float> dW(be, p.W.size()), db(be, p.b.size()), dX(be, (size_t)p.E * p.B * p.in);
  be.linear_backward(p.E, p.B, p.in, p.out, X.data(), 0, W.data(), Y.data(), dY.data(), nullptr,
                     dW.data(), db.data(), p.act);
  expect_identical(full.dW, to_host(dW, dW.size()), "dW without dX");
  expect_identical(full.db, to_host(db, db.size()), "db without dX");
  dY.upload(p.G.data(), p.G.size());
  be.linear_backward(p.E, p.B, p.in, p.out, X.data(), 0, W.data(), Y.data(), dY.data(), dX.data(),
                     nullptr, nullptr, p.act);
  expect_identical(full.dX, to_host(dX, dX.size()), "dX without dW, db");
}

TEST(CpuOps, BackendConstructDestroyDoesNotHang) {
  // A backend made and dropped at once (a tool, a test) must shut its pool down. Runs on a
  // helper thread so that a hang fails the test after 2 s instead of blocking the suite; a hung
  // helper is left detached (the process exit ends it).
  auto done = std::make_shared<std::atomic<int>>(0);
  std::thread worker([done] {
    for (int k = 0; k < 200; ++k) {
      { CpuBackend be(2); }
      done->fetch_add(1);  // counted once the destructor has returned
    }
  });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (done->load() < 200 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (done->load() == 200) {
    worker.join();
    return;
  }
  worker.detach();
  FAIL() << "CpuBackend(2) construct + destroy hung after " << done->load()
         << " of 200 rounds: a ThreadPool worker that first loads m_generation after the "
            "destructor's increment waits forever (kernels/thread_pool.cpp worker_loop)";
}

// ------------------------------------------------------------------------------------------
// MlpGroup forward / backward (2 hidden ReLU layers, linear output)

void check_mlp(bool shared) {
  CpuBackend& be = backend(2);
  const sac::MlpSpec spec{3, {8, 6}, 2};
  const int E = 2, B = 5, L = spec.num_layers();
  const std::string label = shared ? "shared input" : "per-member input";
  sac::MlpGroup group(be, spec, E, true);
  sac::HostRng rng(2024);
  group.init_uniform(rng);
  // quantise the weights so that +- h is exact
  std::vector<float> params(group.num_params());
  be.download(params.data(), group.params(), params.size() * sizeof(float));
  for (float& w : params) w = (float)(std::round(w / kQuantum) * kQuantum);
  be.upload(group.params(), params.data(), params.size() * sizeof(float));

  const size_t x_per = (size_t)B * spec.input, stride = shared ? 0 : x_per;
  std::vector<float> x_host = random_uniform((shared ? 1 : E) * x_per, 31, -1.5, 1.5, kQuantum);
  std::vector<float> G = random_uniform((size_t)E * B * spec.output, 32, -1, 1);
  auto X = to_device(be, x_host);
  sac::MlpActivations acts(be, spec, E, B);

  // forward returns the output; `mask` gets the activation pattern of the hidden layers
  auto forward = [&](std::vector<bool>* mask) {
    sac::mlp_forward(be, group, group.params(), B, X.data(), stride, acts);
    if (mask) {
      mask->clear();
      for (int l = 0; l + 1 < L; ++l) {
        std::vector<float> h((size_t)E * B * spec.layer_out(l));
        be.download(h.data(), acts.out(l), h.size() * sizeof(float));
        for (float v : h) mask->push_back(v > 0.0f);
      }
    }
    std::vector<float> y((size_t)E * B * spec.output);
    be.download(y.data(), acts.result(), y.size() * sizeof(float));
    return y;
  };

  forward(nullptr);
  be.upload(acts.grad(L - 1), G.data(), G.size() * sizeof(float));
  sac::mlp_backward(be, group, B, X.data(), stride, acts, true, true, -1);
  std::vector<float> grads(group.num_params()), dx((size_t)E * x_per);
  be.download(grads.data(), group.grads(), grads.size() * sizeof(float));
  be.download(dx.data(), acts.input_grad(), dx.size() * sizeof(float));

  size_t skipped = 0, checked = 0;
  // perturbs one float at `where` (host copy `value`) and returns member losses at +-h, or
  // false when a ReLU kink was crossed
  auto central = [&](float* where, float value, std::vector<double>* d) {
    std::vector<bool> mp, mm;
    float v = (float)(value + kLinStep);
    be.upload(where, &v, sizeof(float));
    std::vector<double> lp = member_losses(G, forward(&mp), E);
    v = (float)(value - kLinStep);
    be.upload(where, &v, sizeof(float));
    std::vector<double> lm = member_losses(G, forward(&mm), E);
    be.upload(where, &value, sizeof(float));
    if (mp != mm) return ++skipped, false;
    ++checked;
    d->resize(E);
    for (int e = 0; e < E; ++e) (*d)[e] = (lp[e] - lm[e]) / (2 * kLinStep);
    return true;
  };

  // weights and biases: L = sum_e L_e (a parameter only feeds its own member)
  std::vector<double> ref;
  std::vector<float> got;
  for (size_t k = 0; k < params.size(); ++k) {
    std::vector<double> d;
    if (!central(group.params() + k, params[k], &d)) continue;
    ref.push_back(d[0] + d[1]);
    got.push_back(grads[k]);
  }
  expect_close(ref, got, kLinAtol, kLinRtol, "MLP weight grads, " + label);

  // inputs: per member (a shared input has one gradient per member)
  ref.clear();
  got.clear();
  for (size_t k = 0; k < x_host.size(); ++k) {
    std::vector<double> d;
    if (!central(X.data() + k, x_host[k], &d)) continue;
    for (int e = 0; e < E; ++e) {
      if (!shared && (size_t)e != k / x_per) continue;
      ref.push_back(d[e]);
      got.push_back(shared ? dx[e * x_per + k] : dx[k]);
    }
  }
  expect_close(ref, got, kLinAtol, kLinRtol, "MLP input grads, " + label);
  EXPECT_LE(skipped * 10, checked + skipped) << label << ": too many ReLU kinks skipped";
  // the gradient must not be trivially zero
  double norm = 0;
  for (float g : grads) norm += std::fabs(g);
  EXPECT_GT(norm, 1.0) << label;
}

TEST(CpuOps, MlpGroupGradientsMatchFiniteDifferences) {
  check_mlp(false);
  check_mlp(true);
}

// ------------------------------------------------------------------------------------------
// tanh-Gaussian head

// log(1 - tanh(u)^2) in double, stable for large |u|
double log1m_tanh_sq_ref(double u) {
  double a = std::fabs(u);
  return 2.0 * (std::log(2.0) - a - std::log1p(std::exp(-2.0 * a)));
}

double squash_ref(double raw) {
  return kLogStdMin + 0.5 * (kLogStdMax - kLogStdMin) * (std::tanh(raw) + 1.0);
}

struct TanhSampleOut {
  std::vector<float> action, logp;
};

TanhSampleOut tanh_sample(CpuBackend& be, int B, int A, const std::vector<float>& head,
                          const std::vector<float>& eps) {
  auto h = to_device(be, head), e = to_device(be, eps);
  DeviceArray<float> action(be, (size_t)B * A), logp(be, B);
  be.tanh_gaussian_sample(1, B, A, h.data(), e.data(), kLogStdMin, kLogStdMax, action.data(), A,
                          1, logp.data());
  return {to_host(action, (size_t)B * A), to_host(logp, B)};
}

// head rows [mean, raw log-std] with a few saturated means (|u| ~ 8 and 15)
std::vector<float> make_head(int B, int A, uint64_t seed) {
  std::vector<float> head = random_uniform((size_t)B * 2 * A, seed, -1.5, 1.5, kQuantum);
  std::vector<float> raw = random_uniform((size_t)B * A, seed + 1, -1.0, 0.5, kQuantum);
  for (int r = 0; r < B; ++r)
    for (int j = 0; j < A; ++j) head[(size_t)r * 2 * A + A + j] = raw[(size_t)r * A + j];
  head[0] = 8.0f;                      // row 0, dim 0
  head[(size_t)1 * 2 * A + 1] = -8.0f;  // row 1, dim 1
  head[(size_t)2 * 2 * A + 2] = 15.0f;  // row 2, dim 2
  return head;
}

TEST(CpuOpsTanhGaussian, SampleMatchesDoubleReferenceAndStaysFiniteWhenSaturated) {
  CpuBackend& be = backend(1);
  const int A = 2;
  std::vector<float> head, eps;
  // means far into saturation, where 1 - tanh(u)^2 underflows in float
  for (float mean : {-30.0f, -15.0f, -8.0f, -1.0f, 0.0f, 0.7f, 8.0f, 15.0f, 30.0f})
    for (float raw : {-1.0f, 0.0f, 0.9f}) {
      head.insert(head.end(), {mean, -mean / 3, raw, -raw});
      eps.insert(eps.end(), {1.3f, -0.6f});
    }
  const int B = (int)eps.size() / A;
  TanhSampleOut s = tanh_sample(be, B, A, head, eps);
  std::vector<double> a_ref, lp_ref;
  for (int r = 0; r < B; ++r) {
    double lp = 0;
    for (int j = 0; j < A; ++j) {
      double mean = head[r * 2 * A + j], ls = squash_ref(head[r * 2 * A + A + j]);
      double e = eps[r * A + j], u = mean + std::exp(ls) * e;
      a_ref.push_back(std::tanh(u));
      lp += -0.5 * e * e - ls - 0.5 * std::log(2 * M_PI) - log1m_tanh_sq_ref(u);
    }
    lp_ref.push_back(lp);
    EXPECT_TRUE(std::isfinite(s.logp[r])) << "row " << r << " mean " << head[r * 2 * A];
  }
  expect_close(a_ref, s.action, 1e-6, 1e-6, "action");
  // |logp| reaches ~120 here; float rounding of u (~ulp(30)) times d logp / du = 2
  expect_close(lp_ref, s.logp, 2e-5, 2e-6, "logp");

  DeviceArray<float> h = to_device(be, head), mean_action(be, (size_t)B * A);
  be.tanh_gaussian_mean(B, A, h.data(), mean_action.data());
  std::vector<double> m_ref;
  for (int r = 0; r < B; ++r)
    for (int j = 0; j < A; ++j) m_ref.push_back(std::tanh((double)head[r * 2 * A + j]));
  expect_close(m_ref, to_host(mean_action, (size_t)B * A), 1e-7, 1e-6, "tanh_gaussian_mean");
}

// d L / d head by five-point differences, L = sum Ga * action + c * sum logp with
// c = logp_scale * exp(log_alpha), against tanh_gaussian_backward.
void check_tanh_backward(bool with_grad_action, float logp_scale, float log_alpha,
                         uint64_t seed) {
  CpuBackend& be = backend(1);
  const int B = 5, A = 3;
  const std::string label = std::string(with_grad_action ? "Ga" : "no Ga") +
                            " logp_scale=" + std::to_string(logp_scale);
  std::vector<float> head = make_head(B, A, seed);
  std::vector<float> eps = random_normal((size_t)B * A, seed + 2);
  std::vector<float> Ga = with_grad_action ? random_normal((size_t)B * A, seed + 3)
                                           : std::vector<float>((size_t)B * A, 0.0f);
  // the op forms dL/dlogp in float this same way
  const double c = (double)(logp_scale * std::exp(log_alpha));

  TanhSampleOut base = tanh_sample(be, B, A, head, eps);
  for (float lp : base.logp) ASSERT_TRUE(std::isfinite(lp)) << label;
  auto d_head = to_device(be, head), d_eps = to_device(be, eps), d_action = to_device(be, base.action);
  auto d_ga = to_device(be, Ga);
  auto d_log_alpha = to_device(be, std::vector<float>{log_alpha});
  DeviceArray<float> grad_head(be, head.size());
  be.tanh_gaussian_backward(B, A, d_head.data(), d_eps.data(), d_action.data(),
                            with_grad_action ? d_ga.data() : nullptr, d_log_alpha.data(),
                            logp_scale, kLogStdMin, kLogStdMax, grad_head.data());
  std::vector<float> got = to_host(grad_head, head.size());

  std::vector<double> ref(head.size());
  for (size_t k = 0; k < head.size(); ++k) {
    std::vector<float> h = head;
    auto loss = [&](float v) {
      h[k] = v;
      TanhSampleOut s = tanh_sample(be, B, A, h, eps);
      double L = 0;
      for (size_t i = 0; i < s.action.size(); ++i) L += (double)Ga[i] * s.action[i];
      for (float lp : s.logp) L += c * lp;
      return L;
    };
    ref[k] = five_point(loss, head[k], kSmoothStep);
  }
  expect_close(ref, got, kSmoothAtol, kSmoothRtol, "grad head, " + label);
}

TEST(CpuOpsTanhGaussian, BackwardMatchesFiniteDifferences) {
  check_tanh_backward(true, 0.75f, -1.25f, 500);   // both terms
  check_tanh_backward(false, 1.0f, 0.5f, 600);     // grad_action null: logp term only
  check_tanh_backward(true, 0.0f, 0.0f, 700);      // action term only
  check_tanh_backward(true, -2.0f, -0.25f, 800);   // negative dL/dlogp
}

struct DensityCase {
  float mean, raw;
};
constexpr DensityCase kDensityCases[] = {{0.0f, 0.0f}, {0.5f, 0.8f}, {-1.2f, 0.2f},
                                         {2.0f, 0.3f}};

// Trapezoid integral of the op's density over the a-interval tanh([u0, u1]), in u space:
// int p(a) da = int exp(logp(u)) (1 - tanh(u)^2) du, where logp is the op's value for the eps
// that maps to u. One op call per interval list; returns one integral per interval.
std::vector<double> integrate_density(CpuBackend& be, const DensityCase& c,
                                      const std::vector<std::pair<double, double>>& intervals,
                                      int points) {
  const double sd = std::exp(squash_ref(c.raw));
  std::vector<float> head, eps;
  std::vector<double> u_grid;
  for (auto [u0, u1] : intervals)
    for (int k = 0; k < points; ++k) {
      double u = u0 + (u1 - u0) * k / (points - 1);
      u_grid.push_back(u);
      head.insert(head.end(), {c.mean, c.raw});
      eps.push_back((float)((u - c.mean) / sd));
    }
  TanhSampleOut s = tanh_sample(be, (int)eps.size(), 1, head, eps);
  std::vector<double> out;
  for (size_t i = 0; i < intervals.size(); ++i) {
    double sum = 0, du = (intervals[i].second - intervals[i].first) / (points - 1);
    for (int k = 0; k < points; ++k) {
      size_t n = i * points + k;
      double f = std::exp((double)s.logp[n] + log1m_tanh_sq_ref(u_grid[n]));
      sum += (k == 0 || k == points - 1) ? 0.5 * f : f;
    }
    out.push_back(sum * du);
  }
  return out;
}

TEST(CpuOpsTanhGaussian, DensityIntegratesToOne) {
  // +-12 std in u covers all but ~4e-33 of the mass; 4001 points resolve the Gaussian in u to
  // far below 1e-6, so the integral is 1 up to float rounding of logp (~1e-6 relative)
  CpuBackend& be = backend(1);
  for (const DensityCase& c : kDensityCases) {
    double sd = std::exp(squash_ref(c.raw));
    double total = integrate_density(be, c, {{c.mean - 12 * sd, c.mean + 12 * sd}}, 4001)[0];
    EXPECT_NEAR(total, 1.0, 1e-3) << "mean " << c.mean << " raw " << c.raw;
  }
}

TEST(CpuOpsTanhGaussian, SampleHistogramMatchesDensity) {
  // 200k actions drawn with fill_normal noise, binned into 40 equal bins of (-1, 1), against the
  // bin probabilities from integrating the op's own density. Pearson chi-square over bins with
  // >= 5 expected counts (the rest pooled) must stay below dof + 6 sqrt(2 dof) (~6 sigma of the
  // normal approximation; the noise is deterministic, so this never flakes). The largest bin
  // error must be below 0.005 (>= 4.5 binomial sigmas for any p with N = 200k).
  CpuBackend& be = backend(2);
  const int N = 200000, kBins = 40;
  DeviceArray<int64_t> counter = to_device(be, std::vector<int64_t>{3});
  DeviceArray<float> eps(be, N);
  int case_id = 0;
  for (const DensityCase& c : kDensityCases) {
    const std::string label = "mean " + std::to_string(c.mean) + " raw " + std::to_string(c.raw);
    be.fill_normal(N, 42, 100 + case_id++, counter.data(), eps.data());
    std::vector<float> head;
    for (int i = 0; i < N; ++i) head.insert(head.end(), {c.mean, c.raw});
    TanhSampleOut s = tanh_sample(be, N, 1, head, to_host(eps, N));
    std::vector<double> count(kBins, 0.0);
    for (float a : s.action) {
      ASSERT_TRUE(a >= -1.0f && a <= 1.0f) << label;
      int bin = std::min(kBins - 1, std::max(0, (int)std::floor((a + 1.0) / 2.0 * kBins)));
      count[bin] += 1;
    }
    const double sd = std::exp(squash_ref(c.raw));
    const double u_lo = c.mean - 12 * sd, u_hi = c.mean + 12 * sd;
    std::vector<std::pair<double, double>> intervals;
    for (int k = 0; k < kBins; ++k) {
      double a0 = -1.0 + 2.0 * k / kBins, a1 = -1.0 + 2.0 * (k + 1) / kBins;
      double u0 = k == 0 ? u_lo : std::max(u_lo, std::atanh(a0));
      double u1 = k == kBins - 1 ? u_hi : std::min(u_hi, std::atanh(a1));
      intervals.push_back({u0, std::max(u0, u1)});
    }
    std::vector<double> p = integrate_density(be, c, intervals, 2001);
    double chi2 = 0, pooled_obs = 0, pooled_exp = 0, max_err = 0, p_total = 0;
    int dof = -1;
    for (int k = 0; k < kBins; ++k) {
      p_total += p[k];
      max_err = std::max(max_err, std::fabs(count[k] / N - p[k]));
      double expected = p[k] * N;
      if (expected >= 5) {
        chi2 += (count[k] - expected) * (count[k] - expected) / expected;
        ++dof;
      } else {
        pooled_obs += count[k];
        pooled_exp += expected;
      }
    }
    if (pooled_exp >= 5) {
      chi2 += (pooled_obs - pooled_exp) * (pooled_obs - pooled_exp) / pooled_exp;
      ++dof;
    } else {
      EXPECT_LE(pooled_obs, 20) << label << ": samples where the density has almost no mass";
    }
    ASSERT_GE(dof, 5) << label;
    EXPECT_NEAR(p_total, 1.0, 1e-3) << label;
    EXPECT_LT(chi2, dof + 6 * std::sqrt(2.0 * dof)) << label << " dof " << dof;
    EXPECT_LT(max_err, 0.005) << label;
  }
}

// ------------------------------------------------------------------------------------------
// losses and targets

TEST(CpuOps, CriticLossGradientMatchesFiniteDifferences) {
  CpuBackend& be = backend(1);
  const double h = 1.0 / 16;  // the loss is quadratic in q: no truncation error
  for (int E : {1, 2}) {
    const int B = 8;
    std::vector<float> q = random_uniform((size_t)E * B, 11 + E, -2, 2, kQuantum);
    std::vector<float> y = random_uniform(B, 21 + E, -2, 2, kQuantum);
    auto d_y = to_device(be, y);
    DeviceArray<float> dq(be, q.size()), loss(be, 1);
    auto run = [&](const std::vector<float>& qv) {
      auto d_q = to_device(be, qv);
      be.critic_loss(E, B, d_q.data(), d_y.data(), dq.data(), loss.data());
      return (double)to_host(loss, 1)[0];
    };
    double L = run(q);
    std::vector<float> got = to_host(dq, q.size());
    double L_ref = 0;
    for (int e = 0; e < E; ++e) {
      double s = 0;
      for (int r = 0; r < B; ++r) s += std::pow((double)q[e * B + r] - y[r], 2);
      L_ref += s / B;
    }
    expect_close(L_ref, L, 1e-6, 1e-6, "critic loss E=" + std::to_string(E));
    std::vector<double> ref;
    for (size_t k = 0; k < q.size(); ++k) {
      std::vector<float> qp = q, qm = q;
      qp[k] = (float)(q[k] + h);
      qm[k] = (float)(q[k] - h);
      ref.push_back((run(qp) - run(qm)) / (2 * h));
    }
    expect_close(ref, got, kLinAtol, kLinRtol, "critic dq E=" + std::to_string(E));
  }
}

TEST(CpuOps, ActorLossGradientMatchesFiniteDifferences) {
  CpuBackend& be = backend(1);
  const double h = 1.0 / 16;  // the loss is linear in q away from ties of the min
  const float log_alpha = -1.5f;
  for (int E : {1, 2, 3}) {
    const int B = 8;
    // q[e][r] = base[r] + 0.5 * rank + jitter in [0, 0.125]: neighbours differ by >= 0.375,
    // so +- h never changes which member is the minimum
    std::vector<float> base = random_uniform(B, 41, -3, 3, kQuantum);
    std::vector<float> jitter = random_uniform((size_t)E * B, 42, 0, 0.125, kQuantum);
    std::vector<float> q((size_t)E * B);
    for (int r = 0; r < B; ++r)
      for (int e = 0; e < E; ++e) {
        int rank = (e + r) % E;  // the minimising member changes from row to row
        q[(size_t)e * B + r] = base[r] + 0.5f * rank + jitter[(size_t)e * B + r];
      }
    std::vector<float> logp = random_uniform(B, 43, -4, 2, kQuantum);
    auto d_logp = to_device(be, logp), d_la = to_device(be, std::vector<float>{log_alpha});
    DeviceArray<float> dq(be, q.size()), loss(be, 1);
    auto run = [&](const std::vector<float>& qv) {
      auto d_q = to_device(be, qv);
      be.actor_loss(E, B, d_q.data(), d_logp.data(), d_la.data(), dq.data(), loss.data());
      return (double)to_host(loss, 1)[0];
    };
    const std::string label = "E=" + std::to_string(E);
    double L = run(q);
    std::vector<float> got = to_host(dq, q.size());
    double alpha = std::exp((double)log_alpha), L_ref = 0;
    for (int r = 0; r < B; ++r) {
      double qmin = q[r];
      for (int e = 1; e < E; ++e) qmin = std::min(qmin, (double)q[(size_t)e * B + r]);
      L_ref += (alpha * logp[r] - qmin) / B;
    }
    expect_close(L_ref, L, 1e-6, 1e-6, "actor loss " + label);
    std::vector<double> ref;
    for (size_t k = 0; k < q.size(); ++k) {
      std::vector<float> qp = q, qm = q;
      qp[k] = (float)(q[k] + h);
      qm[k] = (float)(q[k] - h);
      ref.push_back((run(qp) - run(qm)) / (2 * h));
    }
    expect_close(ref, got, kLinAtol, kLinRtol, "actor dq " + label);
  }
}

TEST(CpuOps, AlphaLossGradientMatchesFiniteDifferences) {
  CpuBackend& be = backend(1);
  const int B = 16;
  const double h = 1.0 / 16;  // the loss is linear in log_alpha
  const float target_entropy = -3.0f;
  std::vector<float> logp = random_uniform(B, 51, -6, 4);
  auto d_logp = to_device(be, logp);
  DeviceArray<float> grad(be, 1), loss(be, 1);
  auto run = [&](float log_alpha) {
    auto d_la = to_device(be, std::vector<float>{log_alpha});
    be.alpha_loss(B, d_logp.data(), d_la.data(), target_entropy, grad.data(), loss.data());
    return (double)to_host(loss, 1)[0];
  };
  for (float log_alpha : {-2.0f, -0.25f, 0.5f}) {
    double L = run(log_alpha);
    double g = to_host(grad, 1)[0];
    double mean = 0;
    for (float lp : logp) mean += ((double)lp + target_entropy) / B;
    expect_close(-log_alpha * mean, L, 1e-6, 1e-5, "alpha loss");
    double fd = (run((float)(log_alpha + h)) - run((float)(log_alpha - h))) / (2 * h);
    expect_close(fd, g, kLinAtol, kLinRtol, "alpha grad at " + std::to_string(log_alpha));
  }
}

TEST(CpuOps, SoftTargetsMatchHandValues) {
  CpuBackend& be = backend(1);
  // y = r + gamma (1 - d) (min(q0, q1) - alpha logp'), alpha = 0.2, gamma = 0.99
  const std::vector<float> reward = {1.0f, -0.5f, 2.0f, 0.25f};
  const std::vector<float> terminated = {0.0f, 1.0f, 0.0f, 1.0f};
  const std::vector<float> q_target = {10.0f, 3.0f, -1.0f, 5.0f,   // member 0
                                       9.5f, 4.0f, -2.0f, 6.0f};   // member 1
  const std::vector<float> logp_next = {-1.0f, 2.0f, 0.5f, -3.0f};
  // row 0: 1 + 0.99 (9.5 + 0.2)  = 10.603;   row 1: terminated, y = r = -0.5
  // row 2: 2 + 0.99 (-2 - 0.1)   = -0.079;   row 3: terminated, y = r = 0.25
  const std::vector<double> expected = {10.603, -0.5, -0.079, 0.25};
  auto d_r = to_device(be, reward), d_d = to_device(be, terminated), d_q = to_device(be, q_target);
  auto d_lp = to_device(be, logp_next);
  auto d_la = to_device(be, std::vector<float>{std::log(0.2f)});
  DeviceArray<float> y(be, 4);
  be.soft_targets(2, 4, d_q.data(), d_lp.data(), d_r.data(), d_d.data(), 0.99f, d_la.data(),
                  y.data());
  expect_close(expected, to_host(y, 4), 2e-6, 1e-6, "soft targets (hand values)");

  // random rows, E = 2 and 3, against the formula in double
  for (int E : {2, 3}) {
    const int B = 32;
    std::vector<float> q = random_uniform((size_t)E * B, 61 + E, -10, 10);
    std::vector<float> lp = random_uniform(B, 62, -5, 3), r = random_uniform(B, 63, -1, 1);
    std::vector<float> d = random_uniform(B, 64, 0, 1);
    for (float& x : d) x = x < 0.3f ? 1.0f : 0.0f;
    const float log_alpha = -0.7f, gamma = 0.97f;
    auto dq = to_device(be, q), dlp = to_device(be, lp), dr = to_device(be, r), dd = to_device(be, d);
    auto dla = to_device(be, std::vector<float>{log_alpha});
    DeviceArray<float> yy(be, B);
    be.soft_targets(E, B, dq.data(), dlp.data(), dr.data(), dd.data(), gamma, dla.data(), yy.data());
    std::vector<double> ref(B);
    for (int b = 0; b < B; ++b) {
      double qmin = q[b];
      for (int e = 1; e < E; ++e) qmin = std::min(qmin, (double)q[(size_t)e * B + b]);
      ref[b] = r[b] + (double)gamma * (1.0 - d[b]) * (qmin - std::exp((double)log_alpha) * lp[b]);
    }
    expect_close(ref, to_host(yy, B), 1e-5, 1e-6, "soft targets E=" + std::to_string(E));
  }
}

// ------------------------------------------------------------------------------------------
// Polyak and Adam

TEST(CpuOpsPolyak, MatchesHandValues) {
  CpuBackend& be = backend(1);
  // target <- 0.005 online + 0.995 target
  const std::vector<float> target = {1.0f, -2.0f, 0.5f, 100.0f, 0.0f};
  const std::vector<float> online = {3.0f, 2.0f, 0.5f, 0.0f, -4.0f};
  const std::vector<double> expected = {1.01, -1.98, 0.5, 99.5, -0.02};
  auto d_t = to_device(be, target), d_o = to_device(be, online);
  be.polyak(target.size(), d_t.data(), d_o.data(), 0.005f);
  expect_close(expected, to_host(d_t, target.size()), 1e-7, 1e-6, "polyak tau=0.005");
  expect_identical(online, to_host(d_o, online.size()), "polyak leaves online alone");
  // tau = 1 copies, tau = 0 keeps
  auto d_t1 = to_device(be, target);
  be.polyak(target.size(), d_t1.data(), d_o.data(), 1.0f);
  expect_identical(online, to_host(d_t1, target.size()), "polyak tau=1");
  be.polyak(target.size(), d_t1.data(), d_t.data(), 0.0f);
  expect_identical(online, to_host(d_t1, target.size()), "polyak tau=0");

  // a buffer large enough to be split over threads, against the formula in double
  CpuBackend& be2 = backend(2);
  const size_t n = 10007;
  std::vector<float> t_big = random_uniform(n, 81, -5, 5), o_big = random_uniform(n, 82, -5, 5);
  auto d_tb = to_device(be2, t_big), d_ob = to_device(be2, o_big);
  be2.polyak(n, d_tb.data(), d_ob.data(), 0.005f);
  std::vector<double> ref(n);
  for (size_t i = 0; i < n; ++i) ref[i] = 0.005 * o_big[i] + 0.995 * t_big[i];
  expect_close(ref, to_host(d_tb, n), 1e-6, 1e-6, "polyak n=10007, 2 threads");
}

// PyTorch's Adam (torch.optim.Adam, non-fused, no weight decay) in double.
struct AdamRef {
  std::vector<double> p, m, v;
  void step(const std::vector<float>& g, double lr, double b1, double b2, double eps, int64_t t) {
    double bc1 = 1.0 - std::pow(b1, (double)t), bc2 = 1.0 - std::pow(b2, (double)t);
    for (size_t i = 0; i < p.size(); ++i) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * (double)g[i] * g[i];
      double denom = std::sqrt(v[i]) / std::sqrt(bc2) + eps;
      p[i] -= lr / bc1 * m[i] / denom;
    }
  }
};

TEST(CpuOpsAdam, ThreeStepsMatchPyTorchFormulas) {
  CpuBackend& be = backend(1);
  const float lr = 0.01f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
  const std::vector<float> p0 = {1.0f, -0.5f, 0.25f, 2.0f, 0.0f};
  // includes a zero gradient, a gradient at the scale of eps, and a sign flip
  const std::vector<std::vector<float>> grads = {{0.1f, -0.2f, 0.0f, 1e-9f, 5.0f},
                                                 {-0.3f, 0.1f, 0.0f, 1e-9f, 4.0f},
                                                 {0.2f, 0.2f, 1.0f, -1e-9f, -3.0f}};
  const size_t n = p0.size();
  auto d_p = to_device(be, p0);
  DeviceArray<float> d_m(be, n), d_v(be, n), d_g(be, n);  // zero-initialised
  auto d_step = to_device(be, std::vector<int64_t>{0});
  AdamRef ref{std::vector<double>(p0.begin(), p0.end()), std::vector<double>(n, 0.0),
              std::vector<double>(n, 0.0)};
  for (size_t s = 0; s < grads.size(); ++s) {
    be.increment(d_step.data());  // t = s + 1, read by the op from memory
    d_g.upload(grads[s].data(), n);
    be.adam(n, d_p.data(), d_g.data(), d_m.data(), d_v.data(), lr, b1, b2, eps, d_step.data());
    ref.step(grads[s], lr, b1, b2, eps, (int64_t)s + 1);
    const std::string label = "step " + std::to_string(s + 1);
    expect_close(ref.m, to_host(d_m, n), 1e-12, 1e-6, "m " + label);
    expect_close(ref.v, to_host(d_v, n), 1e-20, 1e-6, "v " + label);
    // updates are ~1e-2; 1e-7 absolute is ~1e-5 of an update
    expect_close(ref.p, to_host(d_p, n), 1e-7, 1e-6, "params " + label);
  }
  EXPECT_EQ(to_host(d_step, 1)[0], 3);
  // step 1 moves every parameter with a nonzero gradient by about lr (m / sqrt(v) = sign g)
  EXPECT_NEAR(ref.p[0], p0[0] - lr * 1.0, 0.05);

  // the bias corrections follow the step count in memory: a first update at t = 10
  auto d_p2 = to_device(be, p0);
  DeviceArray<float> d_m2(be, n), d_v2(be, n);
  auto d_step10 = to_device(be, std::vector<int64_t>{10});
  d_g.upload(grads[0].data(), n);
  be.adam(n, d_p2.data(), d_g.data(), d_m2.data(), d_v2.data(), lr, b1, b2, eps, d_step10.data());
  AdamRef ref10{std::vector<double>(p0.begin(), p0.end()), std::vector<double>(n, 0.0),
                std::vector<double>(n, 0.0)};
  ref10.step(grads[0], lr, b1, b2, eps, 10);
  expect_close(ref10.p, to_host(d_p2, n), 1e-7, 1e-6, "params, first update at t=10");
}

TEST(CpuOpsAdam, LargeBufferOnTwoThreadsMatchesFormulas) {
  // large enough for the backend to split the buffer over its threads
  CpuBackend& be = backend(2);
  const size_t n = 10007;
  const float lr = 3e-4f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
  std::vector<float> p0 = random_uniform(n, 71, -1, 1);
  auto d_p = to_device(be, p0);
  DeviceArray<float> d_m(be, n), d_v(be, n), d_g(be, n);
  auto d_step = to_device(be, std::vector<int64_t>{0});
  AdamRef ref{std::vector<double>(p0.begin(), p0.end()), std::vector<double>(n, 0.0),
              std::vector<double>(n, 0.0)};
  for (int s = 0; s < 3; ++s) {
    std::vector<float> g = random_normal(n, 72 + s);
    be.increment(d_step.data());
    d_g.upload(g.data(), n);
    be.adam(n, d_p.data(), d_g.data(), d_m.data(), d_v.data(), lr, b1, b2, eps, d_step.data());
    ref.step(g, lr, b1, b2, eps, s + 1);
  }
  // m sums gradients of both signs: its float rounding is absolute, ~ulp(0.1 |g|) per step
  expect_close(ref.m, to_host(d_m, n), 1e-7, 1e-5, "m");
  expect_close(ref.v, to_host(d_v, n), 1e-10, 1e-5, "v");
  expect_close(ref.p, to_host(d_p, n), 1e-7, 1e-6, "params");
}

// ------------------------------------------------------------------------------------------
// Philox

TEST(CpuOpsPhilox, KnownAnswersFromRandom123) {
  // Random123 tests/kat_vectors, "philox4x32 10" lines: counter words c0..c3, key k0 k1
  struct Kat {
    uint32_t ctr[4], key[2], out[4];
  };
  const Kat kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const Kat& k : kats) {
    uint64_t lo = ((uint64_t)k.ctr[1] << 32) | k.ctr[0], hi = ((uint64_t)k.ctr[3] << 32) | k.ctr[2];
    uint64_t key = ((uint64_t)k.key[1] << 32) | k.key[0];
    sac::Philox4 r = sac::philox4x32(key, lo, hi);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(r.v[i], k.out[i]) << "word " << i;
  }
}

TEST(CpuOpsPhilox, FillNormalIsDeterministicAndCounterAddressed) {
  CpuBackend& be = backend(1);
  const size_t n = 4096;
  DeviceArray<float> a(be, n), b(be, n), wide(be, 2 * n);
  auto c0 = to_device(be, std::vector<int64_t>{0}), c1 = to_device(be, std::vector<int64_t>{1});
  be.fill_normal(n, 7, 3, c1.data(), a.data());
  be.fill_normal(n, 7, 3, c1.data(), b.data());
  std::vector<float> va = to_host(a, n);
  expect_identical(va, to_host(b, n), "same key/stream/counter");
  // out[i] is draw (counter * n + i): counter 1 of width n is the second half of counter 0 of 2n
  be.fill_normal(2 * n, 7, 3, c0.data(), wide.data());
  std::vector<float> vw = to_host(wide, 2 * n);
  expect_identical(va, std::vector<float>(vw.begin() + n, vw.end()), "counter addressing");
  std::vector<float> philox(n);
  for (size_t i = 0; i < n; ++i) philox[i] = sac::philox_normal(7, 3, n + i);
  expect_identical(philox, va, "philox_normal");

  auto count_equal = [&](const std::vector<float>& x, const std::vector<float>& y) {
    size_t same = 0;
    for (size_t i = 0; i < x.size(); ++i) same += x[i] == y[i];
    return same;
  };
  // another counter, stream or key gives other numbers
  be.fill_normal(n, 7, 3, c0.data(), b.data());
  EXPECT_LE(count_equal(va, to_host(b, n)), 2u) << "counter 0 vs 1";
  be.fill_normal(n, 7, 4, c1.data(), b.data());
  EXPECT_LE(count_equal(va, to_host(b, n)), 2u) << "stream 3 vs 4";
  be.fill_normal(n, 8, 3, c1.data(), b.data());
  EXPECT_LE(count_equal(va, to_host(b, n)), 2u) << "key 7 vs 8";
  be.increment(c1.data());
  be.fill_normal(n, 7, 3, c1.data(), b.data());
  EXPECT_LE(count_equal(va, to_host(b, n)), 2u) << "after increment";
}

TEST(CpuOpsPhilox, FillNormalMoments) {
  // 100k draws: 5-sigma bounds for the mean (1/sqrt(N)), variance (sqrt(2/N)), and the share
  // within one sigma (0.6827, binomial sd 0.0015)
  CpuBackend& be = backend(1);
  const size_t N = 100000;
  DeviceArray<float> out(be, N);
  auto c = to_device(be, std::vector<int64_t>{5});
  be.fill_normal(N, 12345, 9, c.data(), out.data());
  std::vector<float> x = to_host(out, N);
  double sum = 0, sum2 = 0, within = 0, sum3 = 0, sum4 = 0;
  for (float v : x) {
    ASSERT_TRUE(std::isfinite(v));
    sum += v;
    sum2 += (double)v * v;
    sum3 += (double)v * v * v;
    sum4 += (double)v * v * v * v;
    within += std::fabs(v) < 1.0f;
  }
  double mean = sum / N, var = sum2 / N - mean * mean;
  EXPECT_LT(std::fabs(mean), 5.0 / std::sqrt((double)N)) << mean;
  EXPECT_LT(std::fabs(var - 1.0), 5.0 * std::sqrt(2.0 / N)) << var;
  EXPECT_LT(std::fabs(within / N - 0.682689), 0.0075) << within / N;
  // skewness sd sqrt(6/N), kurtosis sd sqrt(96/N)
  EXPECT_LT(std::fabs(sum3 / N), 5.0 * std::sqrt(6.0 / N));
  EXPECT_LT(std::fabs(sum4 / N - 3.0), 5.0 * std::sqrt(96.0 / N));
}

TEST(CpuOpsPhilox, SampleIndicesDeterministicInRangeAndUniform) {
  CpuBackend& be = backend(1);
  const int n = 100000;
  DeviceArray<int64_t> a(be, n), b(be, n), wide(be, 2 * n);
  auto c0 = to_device(be, std::vector<int64_t>{0}), c1 = to_device(be, std::vector<int64_t>{1});
  for (int64_t bound : {int64_t{1}, int64_t{7}, int64_t{1000}, int64_t{3000000000},
                        int64_t{1} << 40}) {
    const std::string label = "bound " + std::to_string(bound);
    auto d_bound = to_device(be, std::vector<int64_t>{bound});
    be.sample_indices(n, 99, 2, c1.data(), d_bound.data(), a.data());
    be.sample_indices(n, 99, 2, c1.data(), d_bound.data(), b.data());
    std::vector<int64_t> va = to_host(a, n);
    expect_identical(va, to_host(b, n), "same counter, " + label);
    int64_t lo = bound, hi = -1;
    for (int64_t i : va) lo = std::min(lo, i), hi = std::max(hi, i);
    EXPECT_GE(lo, 0) << label;
    EXPECT_LT(hi, bound) << label;
    if (bound >= 1000) {
      EXPECT_GT(hi, bound - bound / 100) << label << ": range not covered";
    }
    // counter addressing, as for fill_normal
    be.sample_indices(2 * n, 99, 2, c0.data(), d_bound.data(), wide.data());
    std::vector<int64_t> vw = to_host(wide, 2 * n);
    expect_identical(va, std::vector<int64_t>(vw.begin() + n, vw.end()), "counter, " + label);
    if (bound >= 1000) {
      be.sample_indices(n, 99, 2, c0.data(), d_bound.data(), b.data());
      std::vector<int64_t> vb = to_host(b, n);
      size_t same = 0;
      for (int i = 0; i < n; ++i) same += va[i] == vb[i];
      EXPECT_LT(same, (size_t)(3.0 * n / bound + 20)) << "counter 0 vs 1, " + label;
    }
    if (bound == 7) {
      // chi-square with 6 dof below 6 + 6 sqrt(12)
      std::vector<double> count(7, 0);
      for (int64_t i : va) count[i] += 1;
      double chi2 = 0, e = (double)n / 7;
      for (double c : count) chi2 += (c - e) * (c - e) / e;
      EXPECT_LT(chi2, 6 + 6 * std::sqrt(12.0)) << "uniformity";
    }
  }
}

}  // namespace
