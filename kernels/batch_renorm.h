// batch_renorm.h: batch renormalisation with running statistics (Backend's batch_renorm_forward
// and batch_renorm_backward; Ioffe 2017, "Batch Renormalization", as CrossQ uses it and
// sb3-contrib's BatchRenorm defines it). Over E members x B rows x F features (x[e][b][f],
// members' rows stacked): per member and feature, the batch mean and the unbiased batch
// variance v; while the step count is at most warmup_steps it is batch norm; after, the batch
// statistics are corrected by r = clip(sqrt(v + eps) / sqrt(ra_var + eps), 1/r_max, r_max) and
// d = clip((mean - ra_mean) / sqrt(ra_var + eps), -d_max, d_max), held constant in the
// backward: y = scale * (x - c) / sqrt(w + eps) + bias with c = mean - d sqrt(v) / r and
// w = v / r^2. Training updates ra += momentum (batch - ra) for mean and v; inference normalises
// with ra_mean and ra_var (c, w) and leaves them alone.
// Every sum over rows is one fixed tree (kBatchRenormThreads leaves, leaf t summing rows t,
// t + kBatchRenormThreads, ... in order, then halving pairwise), the same on both backends: no
// float atomics, the same bits on every run, and the CPU twin (batch_renorm.cpp) gives the
// CUDA kernels' (batch_renorm.cu, one block per member and feature) bits. The products that
// feed a sum are rounded apart (mul_unfused) so nvcc cannot contract them into FMAs.
// Tests: sac_tests --gtest_filter='*BatchRenorm*' (the CUDA one skips without a GPU; sim:* runs
// it on the CUDA simulator); timings: sac_bench_kernels --filter batch_renorm.
#pragma once
#include "cuda_source.h"
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "sac/backend.h"
#include "sac/hd.h"
#include "unfused_mul.h"

#ifdef SAC_CUDA_SOURCE
#include <cuda_runtime.h>
#endif

namespace sac {

/// Leaves of the fixed summation tree over rows (the CUDA block's threads; a power of two).
constexpr int kBatchRenormThreads = 256;

/// Floats saved per member and feature by the forward for the backward: the mean, the variance
/// and r and d it normalised with (training: the batch's, corrected; inference: the running
/// mean and variance, r = 1, d = 0).
constexpr int kBatchRenormStats = 4;

// the shift c and the divisor sqrt(w + eps) of one member's feature from its saved statistics
// (mean, v, r, d): c = mean - d sqrt(v) / r, w = v / r^2
SAC_HD void renorm_shift_and_divisor(const float* stat, float eps, float* c, float* divisor) {
  const float mean = stat[0], v = stat[1], r = stat[2], d = stat[3];
  *c = mean - mul_unfused(d, sqrtf(v)) / r;
  *divisor = sqrtf(v / mul_unfused(r, r) + eps);
}

// r and d from the batch statistics and the running ones (before this step's update), clipped
SAC_HD void renorm_correction(float mean, float v, float ra_mean, float ra_var,
                              const BatchRenormConfig& config, float* r, float* d) {
  const float running_std = sqrtf(ra_var + config.eps);
  *r = fminf(fmaxf(sqrtf(v + config.eps) / running_std, 1.0f / config.r_max), config.r_max);
  *d = fminf(fmaxf((mean - ra_mean) / running_std, -config.d_max), config.d_max);
}

// the running statistic after one training step: ra + momentum (batch - ra)
SAC_HD float renorm_running_update(float ra, float batch, float momentum) {
  return ra + mul_unfused(momentum, batch - ra);
}

// y of one element: scale (x - c) / divisor + bias
SAC_HD float renorm_output(float x, float c, float divisor, float scale, float bias) {
  return mul_unfused(scale, (x - c) / divisor) + bias;
}

// dx of one element from the per-feature sums g_sum = sum_b dy and gx_sum = sum_b dy xhat.
// Inference: scale dy / divisor (the running statistics are constants). Training: through the
// batch mean and variance in c and w, r and d held: with h = scale dy and inv = 1 / divisor,
// dx = h inv - inv sum(h) / B + (x - mean) / (B - 1) (inv sum(h) d / (r sqrt(v))
// - inv^2 sum(h xhat) / r^2); the d term is 0 where v is 0 (then x - mean is 0 too).
SAC_HD float renorm_grad_input(bool training, int B, float x, float dy, float scale,
                               const float* stat, float divisor, float g_sum, float gx_sum) {
  const float inv = 1.0f / divisor, h = mul_unfused(scale, dy);
  if (!training) return mul_unfused(h, inv);
  const float mean = stat[0], v = stat[1], r = stat[2], d = stat[3];
  const float h_sum = mul_unfused(scale, g_sum), hx_sum = mul_unfused(scale, gx_sum);
  const float d_term = v > 0.0f ? mul_unfused(mul_unfused(inv, h_sum), d / mul_unfused(r, sqrtf(v)))
                                : 0.0f;
  const float w_term = mul_unfused(mul_unfused(inv, inv), hx_sum) / mul_unfused(r, r);
  const float through_stats = mul_unfused((x - mean) / (float)(B - 1), d_term - w_term);
  return (mul_unfused(h, inv) - mul_unfused(inv, h_sum) / (float)B) + through_stats;
}

/// Throws std::invalid_argument naming the op and the values unless 1 <= E <=
/// Backend::kMaxSeeds, F >= 1, B >= 2 in training (B >= 1 in inference), and the config holds
/// momentum in [0, 1], eps > 0, r_max >= 1 and d_max >= 0 (both backends check alike).
inline void check_batch_renorm_shape(const char* op, int E, int B, int F, bool training,
                                     const BatchRenormConfig& config) {
  const bool shape_ok = E >= 1 && E <= Backend::kMaxSeeds && F >= 1 && B >= (training ? 2 : 1);
  const bool config_ok = config.momentum >= 0.0f && config.momentum <= 1.0f && config.eps > 0.0f &&
                         config.r_max >= 1.0f && config.d_max >= 0.0f;
  if (!shape_ok)
    throw std::invalid_argument(std::string(op) + ": need 1 <= E <= " +
                                std::to_string(Backend::kMaxSeeds) + ", F >= 1 and B >= " +
                                (training ? "2 in training (batch variance)" : "1") + ", got E=" +
                                std::to_string(E) + " B=" + std::to_string(B) +
                                " F=" + std::to_string(F));
  if (!config_ok)
    throw std::invalid_argument(std::string(op) + ": need momentum in [0, 1], eps > 0, r_max >= 1 "
                                "and d_max >= 0, got momentum=" + std::to_string(config.momentum) +
                                " eps=" + std::to_string(config.eps) + " r_max=" +
                                std::to_string(config.r_max) + " d_max=" +
                                std::to_string(config.d_max));
}

// ---- CPU twin (the reference; arguments as Backend::batch_renorm_forward / _backward)

/// Backend::batch_renorm_forward on the CPU, summing in the kernels' tree.
void batch_renorm_forward_cpu(int E, int B, int F, bool training, const BatchRenormConfig& config,
                              const int64_t* d_steps, const float* x, const float* scale,
                              const float* bias, float* running_mean, float* running_var,
                              float* stats, float* y);

/// Backend::batch_renorm_backward on the CPU, summing in the kernels' tree.
void batch_renorm_backward_cpu(int E, int B, int F, bool training, float eps, const float* x,
                               const float* scale, const float* stats, const float* dy, float* dx,
                               float* dscale, float* dbias);

#ifdef SAC_CUDA_SOURCE
// ---- CUDA launchers: check their arguments (std::invalid_argument), then one launch on `stream`

/// Backend::batch_renorm_forward: one block of kBatchRenormThreads per member and feature.
void launch_batch_renorm_forward(cudaStream_t stream, int E, int B, int F, bool training,
                                 const BatchRenormConfig& config, const int64_t* d_steps,
                                 const float* x, const float* scale, const float* bias,
                                 float* running_mean, float* running_var, float* stats, float* y);

/// Backend::batch_renorm_backward: one block of kBatchRenormThreads per member and feature.
void launch_batch_renorm_backward(cudaStream_t stream, int E, int B, int F, bool training,
                                  float eps, const float* x, const float* scale,
                                  const float* stats, const float* dy, float* dx, float* dscale,
                                  float* dbias);
#endif

}  // namespace sac
