// batch_renorm.cpp: the CPU twin of batch renormalisation (see batch_renorm.h): members, then
// features, in order, each summing its rows in the CUDA kernels' fixed tree with the same
// SAC_HD bodies, so both backends give the same bits; CpuBackend forwards to it.
// Tests: sac_tests --gtest_filter='*BatchRenorm*'.
#include "batch_renorm.h"

#include "tree_sum.h"

namespace sac {

void batch_renorm_forward_cpu(int E, int B, int F, bool training, const BatchRenormConfig& config,
                              const int64_t* d_steps, const float* x, const float* scale,
                              const float* bias, float* running_mean, float* running_var,
                              float* stats, float* y) {
  check_batch_renorm_shape("batch_renorm_forward", E, B, F, training, config);
  const bool renorm = training && *d_steps > config.warmup_steps;
  for (int e = 0; e < E; ++e)
    for (int f = 0; f < F; ++f) {
      const size_t feature = (size_t)e * F + f, column = (size_t)e * B * F + f;
      const float* xs = x + column;
      float* stat = stats + feature * kBatchRenormStats;
      // inference: the running statistics, uncorrected
      stat[0] = running_mean[feature];
      stat[1] = running_var[feature];
      stat[2] = 1.0f;
      stat[3] = 0.0f;
      if (training) {
        const float mean = tree_sum<kBatchRenormThreads>(B, [&](int r) { return xs[(size_t)r * F]; }) / (float)B;
        const float v = tree_sum<kBatchRenormThreads>(B, [&](int r) {
                          const float dev = xs[(size_t)r * F] - mean;
                          return mul_unfused(dev, dev);
                        }) / (float)(B - 1);
        if (renorm)
          renorm_correction(mean, v, stat[0], stat[1], config, &stat[2], &stat[3]);
        running_mean[feature] = renorm_running_update(stat[0], mean, config.momentum);
        running_var[feature] = renorm_running_update(stat[1], v, config.momentum);
        stat[0] = mean;
        stat[1] = v;
      }
      float c, divisor;
      renorm_shift_and_divisor(stat, config.eps, &c, &divisor);
      for (int r = 0; r < B; ++r)
        y[column + (size_t)r * F] =
            renorm_output(xs[(size_t)r * F], c, divisor, scale[feature], bias[feature]);
    }
}

void batch_renorm_backward_cpu(int E, int B, int F, bool training, float eps, const float* x,
                               const float* scale, const float* stats, const float* dy, float* dx,
                               float* dscale, float* dbias) {
  BatchRenormConfig config;
  config.eps = eps;
  check_batch_renorm_shape("batch_renorm_backward", E, B, F, training, config);
  for (int e = 0; e < E; ++e)
    for (int f = 0; f < F; ++f) {
      const size_t feature = (size_t)e * F + f, column = (size_t)e * B * F + f;
      const float* stat = stats + feature * kBatchRenormStats;
      float c, divisor;
      renorm_shift_and_divisor(stat, eps, &c, &divisor);
      const float g_sum = tree_sum<kBatchRenormThreads>(B, [&](int r) { return dy[column + (size_t)r * F]; });
      const float gx_sum = tree_sum<kBatchRenormThreads>(B, [&](int r) {
        const size_t i = column + (size_t)r * F;
        return mul_unfused(dy[i], (x[i] - c) / divisor);
      });
      dscale[feature] = gx_sum;
      dbias[feature] = g_sum;
      for (int r = 0; r < B; ++r) {
        const size_t i = column + (size_t)r * F;
        dx[i] = renorm_grad_input(training, B, x[i], dy[i], scale[feature], stat, divisor, g_sum,
                                  gx_sum);
      }
    }
}

}  // namespace sac
