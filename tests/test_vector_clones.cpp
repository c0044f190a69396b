// test_vector_clones.cpp: the CPU backend's element-wise loops that run as vector clones
// (kernels/vector_clones.h: AVX-512, AVX2 or baseline, picked at load time) give the bits of a
// plain loop compiled here for the x86-64 baseline, so a result never depends on the CPU's vector
// units. Shapes with odd widths exercise the vector tails. The ops' other parts (the GEMMs) are
// taken from the same op run with the element-wise step made a no-op (zero bias, no ReLU), so
// only the cloned loop is compared; planted zeros, subnormals and huge values take every branch.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "cpu_backend.h"
#include "optimizer.h"

namespace sac {
namespace {

std::vector<float> random_values(size_t n, unsigned seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = normal(rng);
  return v;
}

// values that take every branch of a compare-and-select: zeros of both signs, exact ties with
// a bias, tiny (subnormal) and huge magnitudes
void plant_edge_values(std::vector<float>& v) {
  const float edge[] = {0.0f, -0.0f, 1e-40f, -1e-40f, 3e38f, -3e38f, 1.0f, -1.0f};
  for (size_t i = 0; i < v.size(); i += 7) v[i] = edge[(i / 7) % 8];
}

::testing::AssertionResult same_bits(const std::vector<float>& got,
                                     const std::vector<float>& want) {
  if (got.size() != want.size()) return ::testing::AssertionFailure() << "sizes differ";
  for (size_t i = 0; i < got.size(); ++i)
    if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0)
      return ::testing::AssertionFailure()
             << "element " << i << ": " << got[i] << " vs the plain loop's " << want[i];
  return ::testing::AssertionSuccess();
}

struct Shape {
  int E, B, in, out;
};
const Shape kShapes[] = {{1, 100, 3, 64}, {2, 133, 17, 37}, {1, 300, 64, 1}, {3, 5, 256, 259}};

TEST(VectorClones, BiasAndActivationMatchAPlainLoop) {
  CpuBackend cpu(1);
  for (Shape s : kShapes) {
    auto X = random_values((size_t)s.E * s.B * s.in, 1);
    auto W = random_values((size_t)s.E * s.out * s.in, 2);
    auto b = random_values((size_t)s.E * s.out, 3);
    plant_edge_values(b);
    // the GEMM alone: zero bias, no activation (g + 0 is g)
    std::vector<float> zero(b.size(), 0.0f), plain_gemm((size_t)s.E * s.B * s.out);
    cpu.linear_forward(s.E, s.B, s.in, s.out, X.data(), (size_t)s.B * s.in, W.data(), zero.data(),
                       plain_gemm.data(), Activation::kNone, nullptr);
    for (Activation act : {Activation::kNone, Activation::kRelu}) {
      std::vector<float> got(plain_gemm.size()), want(plain_gemm.size());
      cpu.linear_forward(s.E, s.B, s.in, s.out, X.data(), (size_t)s.B * s.in, W.data(), b.data(),
                         got.data(), act, nullptr);
      for (int e = 0; e < s.E; ++e)
        for (int r = 0; r < s.B; ++r)
          for (int o = 0; o < s.out; ++o) {
            size_t i = ((size_t)e * s.B + r) * s.out + o;
            float z = plain_gemm[i] + b[(size_t)e * s.out + o];
            want[i] = (act == Activation::kRelu && z < 0.0f) ? 0.0f : z;
          }
      EXPECT_TRUE(same_bits(got, want))
          << "E=" << s.E << " B=" << s.B << " in=" << s.in << " out=" << s.out
          << (act == Activation::kRelu ? " relu" : " identity");
    }
  }
}

TEST(VectorClones, ReluGradientAndBiasGradientMatchAPlainLoop) {
  CpuBackend cpu(1);
  for (Shape s : kShapes) {
    auto X = random_values((size_t)s.E * s.B * s.in, 4);
    plant_edge_values(X);
    auto W = random_values((size_t)s.E * s.out * s.in, 5);
    auto dZ = random_values((size_t)s.E * s.B * s.out, 6);
    plant_edge_values(dZ);
    // dX masked by X as a ReLU output, against the unmasked dX masked here
    std::vector<float> got((size_t)s.E * s.B * s.in), want(got.size());
    cpu.linear_grad_input(s.E, s.B, s.in, s.out, dZ.data(), W.data(), Activation::kRelu, X.data(),
                          nullptr, got.data());
    cpu.linear_grad_input(s.E, s.B, s.in, s.out, dZ.data(), W.data(), Activation::kNone, nullptr,
                          nullptr, want.data());
    for (size_t i = 0; i < want.size(); ++i) want[i] = X[i] > 0.0f ? want[i] : 0.0f;
    EXPECT_TRUE(same_bits(got, want)) << "dX, E=" << s.E << " B=" << s.B << " out=" << s.out;

    // db: each column summed over the rows in order
    std::vector<float> dW((size_t)s.E * s.out * s.in), db((size_t)s.E * s.out);
    std::vector<float> want_db(db.size(), 0.0f);
    cpu.linear_grad_weights(s.E, s.B, s.in, s.out, X.data(), (size_t)s.B * s.in, dZ.data(),
                            dW.data(), db.data());
    for (int e = 0; e < s.E; ++e)
      for (int r = 0; r < s.B; ++r)
        for (int o = 0; o < s.out; ++o)
          want_db[(size_t)e * s.out + o] += dZ[((size_t)e * s.B + r) * s.out + o];
    EXPECT_TRUE(same_bits(db, want_db)) << "db, E=" << s.E << " B=" << s.B << " out=" << s.out;
  }
}

TEST(VectorClones, AdamAndPolyakMatchAPlainLoop) {
  CpuBackend cpu(1);
  const float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-7f, tau = 0.005f;
  for (size_t n : {size_t(1), size_t(37), size_t(4545), size_t(70001)}) {
    auto params = random_values(n, 7), grads = random_values(n, 8, 0.1f);
    auto m = random_values(n, 9, 0.01f), v = random_values(n, 10, 0.001f);
    auto target = random_values(n, 11);
    plant_edge_values(grads);
    for (auto& x : v) x = std::fabs(x);
    for (int64_t step : {int64_t(1), int64_t(1234)}) {
      // the plain loop: adam_step and polyak one element at a time
      std::vector<float> p1 = params, m1 = m, v1 = v, t1 = target;
      const AdamScalars sc = adam_scalars(lr, beta1, beta2, step);
      for (size_t i = 0; i < n; ++i) {
        adam_step(&p1[i], &m1[i], &v1[i], grads[i], beta1, beta2, eps, sc.step_size,
                  sc.sqrt_bias_correction2);
        t1[i] = polyak(t1[i], p1[i], tau);
      }
      std::vector<float> p2 = params, m2 = m, v2 = v, t2 = target;
      cpu.adam_polyak(n, p2.data(), grads.data(), m2.data(), v2.data(), lr, beta1, beta2, eps,
                      &step, t2.data(), tau);
      EXPECT_TRUE(same_bits(p2, p1)) << "params, n=" << n << " step " << step;
      EXPECT_TRUE(same_bits(m2, m1)) << "m, n=" << n;
      EXPECT_TRUE(same_bits(v2, v1)) << "v, n=" << n;
      EXPECT_TRUE(same_bits(t2, t1)) << "target, n=" << n;

      std::vector<float> t3 = target;
      cpu.polyak(n, t3.data(), p1.data(), tau);
      std::vector<float> want = target;
      for (size_t i = 0; i < n; ++i) want[i] = polyak(want[i], p1[i], tau);
      EXPECT_TRUE(same_bits(t3, want)) << "polyak alone, n=" << n;
    }
  }
}

}  // namespace
}  // namespace sac
