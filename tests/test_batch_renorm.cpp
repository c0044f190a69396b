// test_batch_renorm.cpp: Backend::batch_renorm_forward and batch_renorm_backward, batch
// renormalisation with running statistics (kernels/batch_renorm.*). On the CPU against a plain
// double-precision reference computed here (sb3-contrib's BatchRenorm as its formulas read):
// during the warm-up it is batch norm with the unbiased batch variance, the running statistics
// move by momentum, r and d correct the batch statistics once the step count passes the warm-up
// and are clipped to r_max and d_max, inference uses the running statistics and leaves them;
// the backward against central finite differences of the reference with r and d held (warm-up,
// renormalising with and without clipping, inference); bad shapes are refused naming the op.
// On CUDA (skipped without a GPU; run on the CUDA simulator as sim:*): the same bits as the
// CPU, eager and replayed from a recording that counts the steps across the warm-up.
// Run: sac_tests --gtest_filter='*BatchRenorm*'
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "gpu_test.h"
#include "sac/backend.h"

namespace sac {
namespace {

constexpr int kStats = 4;  // floats per member and feature in `stats`

// the inputs of one call: x (E*B x F), per-feature scale, bias and running statistics (E x F)
struct RenormInputs {
  int E, B, F;
  std::vector<float> x, scale, bias, running_mean, running_var;
};

// features of different means and spreads, so r and d differ per feature
RenormInputs renorm_inputs(int E, int B, int F) {
  RenormInputs in{E, B, F, {}, {}, {}, {}, {}};
  in.x.resize((size_t)E * B * F);
  for (size_t i = 0; i < in.x.size(); ++i) {
    const int f = (int)(i % F);
    in.x[i] = (0.5f + 0.7f * f) * std::sin(1.3f * (float)i + 0.2f) + 0.4f * f - 0.6f;
  }
  for (int i = 0; i < E * F; ++i) {
    in.scale.push_back(0.8f + 0.1f * i);
    in.bias.push_back(0.05f * i - 0.2f);
    in.running_mean.push_back(0.0f);
    in.running_var.push_back(1.0f);
  }
  return in;
}

// what one forward and backward give back to the host
struct RenormRun {
  std::vector<float> y, stats, running_mean, running_var, dx, dscale, dbias;
};

// the forward at step count `steps`, then the backward of sum(y * dy)
RenormRun run_renorm(Backend& be, const RenormInputs& in, bool training,
                     const BatchRenormConfig& config, int64_t steps, const std::vector<float>& dy) {
  const size_t n = in.x.size(), features = (size_t)in.E * in.F;
  DeviceArray<float> x(be, n), scale(be, features), bias(be, features), rm(be, features),
      rv(be, features), stats(be, features * kStats), y(be, n), d_dy(be, n), dx(be, n),
      dscale(be, features), dbias(be, features);
  DeviceArray<int64_t> d_steps(be, 1);
  x.upload(in.x.data(), n);
  scale.upload(in.scale.data(), features);
  bias.upload(in.bias.data(), features);
  rm.upload(in.running_mean.data(), features);
  rv.upload(in.running_var.data(), features);
  d_dy.upload(dy.data(), n);
  d_steps.upload(&steps, 1);
  be.batch_renorm_forward(in.E, in.B, in.F, training, config, d_steps.data(), x.data(),
                          scale.data(), bias.data(), rm.data(), rv.data(), stats.data(), y.data());
  be.batch_renorm_backward(in.E, in.B, in.F, training, config.eps, x.data(), scale.data(),
                           stats.data(), d_dy.data(), dx.data(), dscale.data(), dbias.data());
  RenormRun run{std::vector<float>(n), std::vector<float>(features * kStats),
                std::vector<float>(features), std::vector<float>(features),
                std::vector<float>(n), std::vector<float>(features), std::vector<float>(features)};
  y.download(run.y.data(), n);
  stats.download(run.stats.data(), run.stats.size());
  rm.download(run.running_mean.data(), features);
  rv.download(run.running_var.data(), features);
  dx.download(run.dx.data(), n);
  dscale.download(run.dscale.data(), features);
  dbias.download(run.dbias.data(), features);
  return run;
}

std::vector<float> upstream_gradient(size_t n) {
  std::vector<float> dy(n);
  for (size_t i = 0; i < n; ++i) dy[i] = std::cos(0.9f * (float)i + 0.4f);
  return dy;
}

// ---- the plain reference, in double, one member's feature at a time

// one feature's column of B values and its settings
struct Column {
  std::vector<double> x;
  double scale, bias, ra_mean, ra_var;
};

Column column_of(const RenormInputs& in, int e, int f) {
  Column c{{}, in.scale[e * in.F + f], in.bias[e * in.F + f], in.running_mean[e * in.F + f],
           in.running_var[e * in.F + f]};
  for (int r = 0; r < in.B; ++r) c.x.push_back(in.x[((size_t)e * in.B + r) * in.F + f]);
  return c;
}

double mean_of(const std::vector<double>& x) {
  double s = 0;
  for (double v : x) s += v;
  return s / x.size();
}

double unbiased_var_of(const std::vector<double>& x) {
  const double m = mean_of(x);
  double s = 0;
  for (double v : x) s += (v - m) * (v - m);
  return s / (x.size() - 1);
}

// r and d of the reference (1 and 0 while warming up or in inference)
void reference_r_d(const Column& c, const BatchRenormConfig& config, bool renorm, double* r,
                   double* d) {
  *r = 1.0;
  *d = 0.0;
  if (!renorm) return;
  const double running_std = std::sqrt(c.ra_var + config.eps);
  *r = std::clamp(std::sqrt(unbiased_var_of(c.x) + config.eps) / running_std,
                  1.0 / config.r_max, (double)config.r_max);
  *d = std::clamp((mean_of(c.x) - c.ra_mean) / running_std, -(double)config.d_max,
                  (double)config.d_max);
}

// y of the reference with r and d given (training) or the running statistics (inference)
std::vector<double> reference_y(const Column& c, const std::vector<double>& x, bool training,
                                double eps, double r, double d) {
  double shift = c.ra_mean, var = c.ra_var;
  if (training) {
    const double m = mean_of(x), v = unbiased_var_of(x);
    shift = m - d * std::sqrt(v) / r;
    var = v / (r * r);
  }
  std::vector<double> y;
  for (double v : x) y.push_back(c.scale * (v - shift) / std::sqrt(var + eps) + c.bias);
  return y;
}

void expect_forward_matches_reference(const RenormInputs& in, const BatchRenormConfig& config,
                                      bool training, bool renorm, const RenormRun& run) {
  for (int e = 0; e < in.E; ++e)
    for (int f = 0; f < in.F; ++f) {
      SCOPED_TRACE("member " + std::to_string(e) + " feature " + std::to_string(f));
      const Column c = column_of(in, e, f);
      double r, d;
      reference_r_d(c, config, training && renorm, &r, &d);
      const float* stat = run.stats.data() + ((size_t)e * in.F + f) * kStats;
      EXPECT_NEAR(stat[2], r, 1e-5 * r);
      EXPECT_NEAR(stat[3], d, 1e-5 * (1 + std::fabs(d)));
      const std::vector<double> y = reference_y(c, c.x, training, config.eps, r, d);
      for (int b = 0; b < in.B; ++b)
        ASSERT_NEAR(run.y[((size_t)e * in.B + b) * in.F + f], y[b], 2e-5 * (1 + std::fabs(y[b])))
            << "row " << b;
      const size_t i = (size_t)e * in.F + f;
      const double m = training ? mean_of(c.x) : c.ra_mean, v = training ? unbiased_var_of(c.x) : c.ra_var;
      const double moved_mean = training ? c.ra_mean + config.momentum * (m - c.ra_mean) : c.ra_mean;
      const double moved_var = training ? c.ra_var + config.momentum * (v - c.ra_var) : c.ra_var;
      EXPECT_NEAR(run.running_mean[i], moved_mean, 1e-6 * (1 + std::fabs(moved_mean)));
      EXPECT_NEAR(run.running_var[i], moved_var, 1e-6 * (1 + moved_var));
    }
}

// the backward against central differences of sum(y * dy) in the reference, r and d held
void expect_backward_matches_finite_differences(const RenormInputs& in,
                                                const BatchRenormConfig& config, bool training,
                                                bool renorm, const std::vector<float>& dy,
                                                const RenormRun& run) {
  const double h = 1e-6;
  for (int e = 0; e < in.E; ++e)
    for (int f = 0; f < in.F; ++f) {
      SCOPED_TRACE("member " + std::to_string(e) + " feature " + std::to_string(f));
      const Column c = column_of(in, e, f);
      double r, d;
      reference_r_d(c, config, training && renorm, &r, &d);
      auto loss = [&](const std::vector<double>& x, double scale, double bias) {
        Column moved = c;
        moved.scale = scale;
        moved.bias = bias;
        const std::vector<double> y = reference_y(moved, x, training, config.eps, r, d);
        double l = 0;
        for (int b = 0; b < in.B; ++b) l += y[b] * dy[((size_t)e * in.B + b) * in.F + f];
        return l;
      };
      for (int b = 0; b < in.B; ++b) {
        std::vector<double> up = c.x, down = c.x;
        up[b] += h;
        down[b] -= h;
        const double numeric = (loss(up, c.scale, c.bias) - loss(down, c.scale, c.bias)) / (2 * h);
        ASSERT_NEAR(run.dx[((size_t)e * in.B + b) * in.F + f], numeric,
                    2e-4 * (1 + std::fabs(numeric)))
            << "row " << b;
      }
      const double dscale =
          (loss(c.x, c.scale + h, c.bias) - loss(c.x, c.scale - h, c.bias)) / (2 * h);
      const double dbias =
          (loss(c.x, c.scale, c.bias + h) - loss(c.x, c.scale, c.bias - h)) / (2 * h);
      EXPECT_NEAR(run.dscale[(size_t)e * in.F + f], dscale, 2e-4 * (1 + std::fabs(dscale)));
      EXPECT_NEAR(run.dbias[(size_t)e * in.F + f], dbias, 2e-4 * (1 + std::fabs(dbias)));
    }
}

BatchRenormConfig short_warm_up() {
  BatchRenormConfig config;
  config.warmup_steps = 10;
  return config;
}

TEST(BatchRenorm, DuringTheWarmUpItIsBatchNormAndMovesTheRunningStatistics) {
  auto be = make_backend("cpu", 1);
  const RenormInputs in = renorm_inputs(2, 37, 4);
  const BatchRenormConfig config = short_warm_up();
  const std::vector<float> dy = upstream_gradient(in.x.size());
  // step counts up to warmup_steps itself are warm-up steps (renormalising starts above it)
  for (int64_t steps : {int64_t{0}, config.warmup_steps}) {
    SCOPED_TRACE("steps " + std::to_string(steps));
    RenormRun run = run_renorm(*be, in, true, config, steps, dy);
    expect_forward_matches_reference(in, config, true, false, run);
    // each output feature: mean bias, unbiased variance scale^2 v / (v + eps)
    for (int e = 0; e < in.E; ++e)
      for (int f = 0; f < in.F; ++f) {
        std::vector<double> y;
        for (int b = 0; b < in.B; ++b) y.push_back(run.y[((size_t)e * in.B + b) * in.F + f]);
        const double v = unbiased_var_of(column_of(in, e, f).x), s = in.scale[e * in.F + f];
        EXPECT_NEAR(mean_of(y), in.bias[e * in.F + f], 1e-5);
        EXPECT_NEAR(unbiased_var_of(y), s * s * v / (v + config.eps), 1e-4);
      }
  }
}

TEST(BatchRenorm, AfterTheWarmUpRAndDCorrectTheBatchStatisticsClipped) {
  auto be = make_backend("cpu", 1);
  RenormInputs in = renorm_inputs(2, 37, 4);
  // running statistics that leave r and d inside their bounds (feature 0), clip r above and
  // below (1, 2) and clip d (3), so every branch of the clipping is taken
  const float means[4] = {0.1f, 0.0f, 0.0f, 40.0f}, vars[4] = {0.3f, 1e-3f, 400.0f, 1.0f};
  for (int e = 0; e < in.E; ++e)
    for (int f = 0; f < in.F; ++f) {
      in.running_mean[e * in.F + f] = means[f];
      in.running_var[e * in.F + f] = vars[f];
    }
  const BatchRenormConfig config = short_warm_up();
  RenormRun run = run_renorm(*be, in, true, config, config.warmup_steps + 1,
                             upstream_gradient(in.x.size()));
  expect_forward_matches_reference(in, config, true, true, run);
  const float r0 = run.stats[2], r1 = run.stats[kStats + 2], r2 = run.stats[2 * kStats + 2],
              d3 = run.stats[3 * kStats + 3];
  EXPECT_GT(r0, 1.0f / config.r_max);
  EXPECT_LT(r0, config.r_max);
  EXPECT_NE(r0, 1.0f);
  EXPECT_EQ(r1, config.r_max);
  EXPECT_EQ(r2, 1.0f / config.r_max);
  EXPECT_EQ(d3, -config.d_max);
}

TEST(BatchRenorm, InferenceUsesTheRunningStatisticsAndLeavesThem) {
  auto be = make_backend("cpu", 1);
  RenormInputs in = renorm_inputs(2, 5, 3);
  for (size_t i = 0; i < in.running_mean.size(); ++i) {
    in.running_mean[i] = 0.3f * (float)i - 0.5f;
    in.running_var[i] = 0.5f + 0.25f * (float)i;
  }
  const BatchRenormConfig config = short_warm_up();
  // steps are not read in inference: past the warm-up or not, the same result
  RenormRun run = run_renorm(*be, in, false, config, 0, upstream_gradient(in.x.size()));
  RenormRun later = run_renorm(*be, in, false, config, 1000, upstream_gradient(in.x.size()));
  EXPECT_EQ(run.y, later.y);
  expect_forward_matches_reference(in, config, false, false, run);
  EXPECT_EQ(run.running_mean, in.running_mean);
  EXPECT_EQ(run.running_var, in.running_var);
}

TEST(BatchRenorm, TheBackwardMatchesFiniteDifferencesWithRAndDHeld) {
  auto be = make_backend("cpu", 1);
  const BatchRenormConfig config = short_warm_up();
  RenormInputs in = renorm_inputs(2, 9, 3);
  const std::vector<float> dy = upstream_gradient(in.x.size());
  {
    SCOPED_TRACE("warm-up");
    RenormRun run = run_renorm(*be, in, true, config, 0, dy);
    expect_backward_matches_finite_differences(in, config, true, false, dy, run);
  }
  // renormalising: feature 0 unclipped, 1 with r clipped, 2 with d clipped
  const float means[3] = {0.2f, 0.0f, -30.0f}, vars[3] = {1.3f, 1e-3f, 1.0f};
  for (int e = 0; e < in.E; ++e)
    for (int f = 0; f < in.F; ++f) {
      in.running_mean[e * in.F + f] = means[f];
      in.running_var[e * in.F + f] = vars[f];
    }
  {
    SCOPED_TRACE("renormalising");
    RenormRun run = run_renorm(*be, in, true, config, config.warmup_steps + 1, dy);
    EXPECT_NE(run.stats[3], 0.0f) << "feature 0's d is in use";
    expect_backward_matches_finite_differences(in, config, true, true, dy, run);
  }
  {
    SCOPED_TRACE("inference");
    RenormRun run = run_renorm(*be, in, false, config, 0, dy);
    expect_backward_matches_finite_differences(in, config, false, false, dy, run);
  }
}

TEST(BatchRenorm, BadShapesAndSettingsAreRefusedNamingTheOp) {
  auto be = make_backend("cpu", 1);
  DeviceArray<float> buf(*be, 4096);
  DeviceArray<int64_t> steps(*be, 1);
  int64_t zero = 0;
  steps.upload(&zero, 1);
  auto forward = [&](int E, int B, int F, bool training, const BatchRenormConfig& config) {
    be->batch_renorm_forward(E, B, F, training, config, steps.data(), buf.data(), buf.data(),
                             buf.data(), buf.data(), buf.data(), buf.data(), buf.data());
  };
  auto expect_refused = [&](std::function<void()> call, const std::string& named) {
    try {
      call();
      ADD_FAILURE() << named << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("batch_renorm"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(named), std::string::npos) << e.what();
    }
  };
  const BatchRenormConfig ok;
  expect_refused([&] { forward(1, 1, 4, true, ok); }, "B=1");
  expect_refused([&] { forward(0, 8, 4, true, ok); }, "E=0");
  expect_refused([&] { forward(Backend::kMaxSeeds + 1, 2, 1, true, ok); }, "E=33");
  expect_refused([&] { forward(1, 8, 0, false, ok); }, "F=0");
  BatchRenormConfig bad = ok;
  bad.r_max = 0.5f;
  expect_refused([&] { forward(1, 8, 4, true, bad); }, "r_max=0.5");
  expect_refused(
      [&] {
        be->batch_renorm_backward(1, 1, 4, true, 1e-3f, buf.data(), buf.data(), buf.data(),
                                  buf.data(), buf.data(), buf.data(), buf.data());
      },
      "B=1");
  forward(1, 1, 4, false, ok);  // one row is fine in inference
}

TEST(CudaBatchRenorm, MatchesTheCpuBitForBitEagerAndReplayed) {
  SAC_SKIP_WITHOUT_GPU();
  auto cpu = make_backend("cpu", 1);
  auto gpu = make_backend("cuda");
  RenormInputs in = renorm_inputs(3, 300, 5);  // two rows per tree leaf for some leaves
  for (size_t i = 0; i < in.running_mean.size(); ++i) {
    in.running_mean[i] = 0.2f * (float)(i % 5) - 0.3f;
    in.running_var[i] = 0.2f + 0.6f * (float)(i % 3);
  }
  const BatchRenormConfig config = short_warm_up();
  const std::vector<float> dy = upstream_gradient(in.x.size());
  for (int64_t steps : {int64_t{0}, config.warmup_steps + 1}) {
    for (bool training : {true, false}) {
      SCOPED_TRACE(std::string(training ? "training" : "inference") + " at step " +
                   std::to_string(steps));
      RenormRun want = run_renorm(*cpu, in, training, config, steps, dy);
      RenormRun got = run_renorm(*gpu, in, training, config, steps, dy);
      EXPECT_EQ(got.y, want.y);
      EXPECT_EQ(got.stats, want.stats);
      EXPECT_EQ(got.running_mean, want.running_mean);
      EXPECT_EQ(got.running_var, want.running_var);
      EXPECT_EQ(got.dx, want.dx);
      EXPECT_EQ(got.dscale, want.dscale);
      EXPECT_EQ(got.dbias, want.dbias);
    }
  }
  // recorded with the step count's increment: the replays cross the warm-up (at 2 steps), the
  // running statistics carried from one replay to the next, as on the CPU
  BatchRenormConfig two = config;
  two.warmup_steps = 2;
  const size_t n = in.x.size(), features = (size_t)in.E * in.F;
  DeviceArray<float> x(*gpu, n), scale(*gpu, features), bias(*gpu, features), rm(*gpu, features),
      rv(*gpu, features), stats(*gpu, features * kStats), y(*gpu, n);
  DeviceArray<int64_t> d_steps(*gpu, 1);
  x.upload(in.x.data(), n);
  scale.upload(in.scale.data(), features);
  bias.upload(in.bias.data(), features);
  rm.upload(in.running_mean.data(), features);
  rv.upload(in.running_var.data(), features);
  int64_t zero = 0;
  d_steps.upload(&zero, 1);
  std::unique_ptr<RecordedOps> recorded = gpu->record([&] {
    gpu->increment(d_steps.data());
    gpu->batch_renorm_forward(in.E, in.B, in.F, true, two, d_steps.data(), x.data(), scale.data(),
                              bias.data(), rm.data(), rv.data(), stats.data(), y.data());
  });
  RenormInputs carried = in;
  for (int64_t step = 1; step <= 4; ++step) {
    recorded->replay();
    RenormRun want = run_renorm(*cpu, carried, true, two, step, dy);
    std::vector<float> got_y(n), got_stats(features * kStats);
    y.download(got_y.data(), n);
    stats.download(got_stats.data(), got_stats.size());
    EXPECT_EQ(got_y, want.y) << "replay " << step;
    EXPECT_EQ(got_stats, want.stats) << "replay " << step;
    carried.running_mean = want.running_mean;
    carried.running_var = want.running_var;
  }
  std::vector<float> got_rm(features);
  rm.download(got_rm.data(), features);
  EXPECT_EQ(got_rm, carried.running_mean);
}

}  // namespace
}  // namespace sac
