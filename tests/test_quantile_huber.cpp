// test_quantile_huber.cpp: Backend::quantile_huber_loss, TQC's quantile Huber loss and its
// gradient (kernels/quantile_huber.*). On the CPU against a plain double-precision reference
// written here from the formula (mean over rows, critics, quantiles and target atoms of
// |tau - 1{u < 0}| huber_kappa(u) / kappa, tau_m = (m + 0.5) / M): the loss, each row's loss
// and each member's for kappa 1 and 2; the gradient against central finite differences of the
// reference; the asymmetry of the quantile fractions; members independent; bad shapes refused
// naming the op. On CUDA (skipped without a GPU; run on the CUDA simulator as sim:*): the same
// bits as the CPU.
// Run: sac_tests --gtest_filter='*QuantileHuber*'
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "gpu_test.h"
#include "sac/backend.h"

namespace sac {
namespace {

struct QuantileShape {
  int E, B, N, M, K;
  size_t rows() const { return (size_t)E * B; }
  size_t quantiles() const { return rows() * N * M; }
  size_t atoms() const { return rows() * K; }
};

std::vector<float> wave(size_t n, float frequency, float phase, float amplitude) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = amplitude * std::sin(frequency * (float)i + phase);
  return v;
}

struct QuantileRun {
  std::vector<float> dcurrent, row_loss, loss;
};

QuantileRun run_quantile_huber(Backend& be, const QuantileShape& s, float kappa,
                               const std::vector<float>& current, const std::vector<float>& target) {
  DeviceArray<float> d_current(be, s.quantiles()), d_target(be, s.atoms()),
      dcurrent(be, s.quantiles()), row_loss(be, s.rows()), loss(be, s.E);
  d_current.upload(current.data(), current.size());
  d_target.upload(target.data(), target.size());
  be.quantile_huber_loss(s.E, s.B, s.N, s.M, s.K, kappa, d_current.data(), d_target.data(),
                         dcurrent.data(), row_loss.data(), loss.data());
  QuantileRun run{std::vector<float>(s.quantiles()), std::vector<float>(s.rows()),
                  std::vector<float>(s.E)};
  dcurrent.download(run.dcurrent.data(), run.dcurrent.size());
  row_loss.download(run.row_loss.data(), run.row_loss.size());
  loss.download(run.loss.data(), run.loss.size());
  return run;
}

// the reference loss of one row: mean over its N*M quantiles and K atoms
double reference_row_loss(const QuantileShape& s, double kappa, const double* current,
                          const float* target) {
  double sum = 0;
  for (int n = 0; n < s.N; ++n)
    for (int m = 0; m < s.M; ++m) {
      const double tau = (m + 0.5) / s.M;
      for (int k = 0; k < s.K; ++k) {
        const double u = target[k] - current[n * s.M + m];
        const double huber = std::fabs(u) <= kappa ? 0.5 * u * u : kappa * (std::fabs(u) - 0.5 * kappa);
        sum += std::fabs(tau - (u < 0 ? 1.0 : 0.0)) * huber / kappa;
      }
    }
  return sum / ((double)s.N * s.M * s.K);
}

std::vector<double> row_of(const std::vector<float>& current, const QuantileShape& s, size_t row) {
  return std::vector<double>(current.begin() + row * s.N * s.M,
                             current.begin() + (row + 1) * s.N * s.M);
}

TEST(QuantileHuber, LossesMatchThePlainMeanForKappaOneAndTwo) {
  auto be = make_backend("cpu", 1);
  const QuantileShape s{2, 6, 3, 5, 11};
  const std::vector<float> current = wave(s.quantiles(), 0.7f, 0.1f, 3.0f);
  const std::vector<float> target = wave(s.atoms(), 1.1f, 0.5f, 3.5f);
  for (float kappa : {1.0f, 2.0f}) {
    SCOPED_TRACE("kappa " + std::to_string(kappa));
    QuantileRun run = run_quantile_huber(*be, s, kappa, current, target);
    for (int e = 0; e < s.E; ++e) {
      double member = 0;
      for (int b = 0; b < s.B; ++b) {
        const size_t row = (size_t)e * s.B + b;
        const std::vector<double> z = row_of(current, s, row);
        const double want = reference_row_loss(s, kappa, z.data(), target.data() + row * s.K);
        EXPECT_NEAR(run.row_loss[row], want, 1e-5 * (1 + want)) << "row " << row;
        member += want / s.B;
      }
      EXPECT_NEAR(run.loss[e], member, 1e-5 * (1 + member)) << "member " << e;
    }
  }
}

TEST(QuantileHuber, TheGradientMatchesFiniteDifferences) {
  auto be = make_backend("cpu", 1);
  const QuantileShape s{2, 3, 2, 4, 7};
  const std::vector<float> current = wave(s.quantiles(), 0.9f, 0.3f, 2.5f);
  const std::vector<float> target = wave(s.atoms(), 1.3f, 0.2f, 2.5f);
  for (float kappa : {1.0f, 0.5f}) {
    SCOPED_TRACE("kappa " + std::to_string(kappa));
    QuantileRun run = run_quantile_huber(*be, s, kappa, current, target);
    const double h = 1e-6;
    for (size_t row = 0; row < s.rows(); ++row) {
      std::vector<double> z = row_of(current, s, row);
      for (int q = 0; q < s.N * s.M; ++q) {
        const double saved = z[q];
        z[q] = saved + h;
        const double up = reference_row_loss(s, kappa, z.data(), target.data() + row * s.K);
        z[q] = saved - h;
        const double down = reference_row_loss(s, kappa, z.data(), target.data() + row * s.K);
        z[q] = saved;
        // the member's loss is the mean of its B rows
        const double numeric = (up - down) / (2 * h) / s.B;
        ASSERT_NEAR(run.dcurrent[row * s.N * s.M + q], numeric, 1e-5 + 1e-4 * std::fabs(numeric))
            << "row " << row << " quantile " << q;
      }
    }
  }
}

TEST(QuantileHuber, LowQuantilesPayMoreForTargetsBelowThem) {
  // one critic, quantile m of 4 at fraction (m + 0.5) / 4, all 1 above a single target 0:
  // every pair has u = -1, weight 1 - tau, huber 0.5 (kappa 1): row loss mean of (1 - tau) / 2
  auto be = make_backend("cpu", 1);
  const QuantileShape s{1, 1, 1, 4, 1};
  QuantileRun run = run_quantile_huber(*be, s, 1.0f, {1, 1, 1, 1}, {0});
  EXPECT_FLOAT_EQ(run.loss[0], (0.875f + 0.625f + 0.375f + 0.125f) * 0.5f / 4);
  // the gradient pushes each quantile down by its weight 1 - tau (times the mean's 1/4)
  EXPECT_FLOAT_EQ(run.dcurrent[0], 0.875f / 4);
  EXPECT_FLOAT_EQ(run.dcurrent[3], 0.125f / 4);
}

TEST(QuantileHuber, MembersAreIndependent) {
  auto be = make_backend("cpu", 1);
  const QuantileShape s{2, 4, 2, 3, 5};
  std::vector<float> current = wave(s.quantiles(), 0.4f, 0.0f, 2.0f);
  std::vector<float> target = wave(s.atoms(), 0.8f, 1.0f, 2.0f);
  QuantileRun a = run_quantile_huber(*be, s, 1.0f, current, target);
  for (size_t i = s.quantiles() / 2; i < s.quantiles(); ++i) current[i] += 1.0f;
  for (size_t i = s.atoms() / 2; i < s.atoms(); ++i) target[i] -= 2.0f;
  QuantileRun b = run_quantile_huber(*be, s, 1.0f, current, target);
  EXPECT_EQ(a.loss[0], b.loss[0]);
  EXPECT_NE(a.loss[1], b.loss[1]);
  EXPECT_EQ(std::vector<float>(a.dcurrent.begin(), a.dcurrent.begin() + s.quantiles() / 2),
            std::vector<float>(b.dcurrent.begin(), b.dcurrent.begin() + s.quantiles() / 2));
}

TEST(QuantileHuber, BadShapesAreRefusedNamingTheOp) {
  auto be = make_backend("cpu", 1);
  DeviceArray<float> buf(*be, 1024);
  struct Bad {
    int E, B, N, M, K;
    float kappa;
    std::string named;
  };
  for (const Bad& bad : {Bad{0, 1, 1, 1, 1, 1.0f, "E=0"}, Bad{1, 0, 1, 1, 1, 1.0f, "B=0"},
                         Bad{1, 1, 0, 1, 1, 1.0f, "N=0"}, Bad{1, 1, 1, 0, 1, 1.0f, "M=0"},
                         Bad{1, 1, 1, 1, 0, 1.0f, "K=0"}, Bad{1, 1, 1, 1, 1, 0.0f, "kappa=0"}}) {
    try {
      be->quantile_huber_loss(bad.E, bad.B, bad.N, bad.M, bad.K, bad.kappa, buf.data(),
                              buf.data(), buf.data(), buf.data(), buf.data());
      ADD_FAILURE() << bad.named << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("quantile_huber_loss"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(bad.named), std::string::npos) << e.what();
    }
  }
}

TEST(CudaQuantileHuber, MatchesTheCpuBitForBit) {
  SAC_SKIP_WITHOUT_GPU();
  auto cpu = make_backend("cpu", 1);
  auto gpu = make_backend("cuda");
  // TQC's 5 x 25 quantiles against 115 atoms; 150 rows per member: two leaves for some threads
  const QuantileShape s{2, 150, 5, 25, 115};
  const std::vector<float> current = wave(s.quantiles(), 0.37f, 0.1f, 4.0f);
  const std::vector<float> target = wave(s.atoms(), 0.53f, 0.7f, 5.0f);
  for (float kappa : {1.0f, 0.5f}) {
    SCOPED_TRACE("kappa " + std::to_string(kappa));
    QuantileRun want = run_quantile_huber(*cpu, s, kappa, current, target);
    QuantileRun got = run_quantile_huber(*gpu, s, kappa, current, target);
    EXPECT_EQ(got.loss, want.loss);
    EXPECT_EQ(got.row_loss, want.row_loss);
    EXPECT_EQ(got.dcurrent, want.dcurrent);
  }
}

}  // namespace
}  // namespace sac
