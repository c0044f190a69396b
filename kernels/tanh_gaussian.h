// tanh_gaussian.h: the tanh-Gaussian policy head (Backend's tanh_gaussian_sample,
// tanh_gaussian_mean, tanh_gaussian_backward, tanh_gaussian_backward_critics, and
// sum_member_columns, the critics' action gradient that feeds the backward). The element-wise
// bodies below are SAC_HD, written once: the CPU twins (tanh_gaussian.cpp) call them from plain
// loops and the CUDA kernels (tanh_gaussian.cu, launchers declared below for .cu files only)
// from one thread per row or element, so the CPU tests cover the arithmetic the GPU runs.
// A head row holds [mean, raw log-std] (2A floats).
// Tests: sac_tests --gtest_filter='*TanhGaussian*:*SumMemberColumns*' (the CUDA ones skip
// without a GPU); timings: sac_bench_kernels.
#pragma once
#include "cuda_source.h"
#include <cmath>
#include <cstddef>

#include "sac/hd.h"

#ifdef SAC_CUDA_SOURCE
#include <cuda_runtime.h>
#endif

namespace sac {

constexpr float kLog2 = 0.69314718055994530942f;
constexpr float kHalfLog2Pi = 0.91893853320467274178f;

SAC_HD float softplus(float x) { return x > 20.0f ? x : log1pf(expf(x)); }

// log(1 - tanh(u)^2) in its stable form 2 (log 2 - u - softplus(-2u)).
SAC_HD float log1m_tanh_sq(float u) { return 2.0f * (kLog2 - u - softplus(-2.0f * u)); }

// smooth squash of the raw log-std output into [lo, hi].
SAC_HD float squash_log_std(float raw, float lo, float hi) {
  return lo + 0.5f * (hi - lo) * (tanhf(raw) + 1.0f);
}
SAC_HD float squash_log_std_grad(float raw, float lo, float hi) {
  float t = tanhf(raw);
  return 0.5f * (hi - lo) * (1.0f - t * t);
}

// one action dimension of the tanh-Gaussian policy: u = mean + exp(log_std) eps, a = tanh(u);
// returns a and adds this dimension's log-density term to *logp.
SAC_HD float tanh_gaussian_sample(float mean, float log_std, float eps, float* logp) {
  float u = mean + expf(log_std) * eps;
  *logp += -0.5f * eps * eps - log_std - kHalfLog2Pi - log1m_tanh_sq(u);
  return tanhf(u);
}

// gradients of one dimension through the reparameterised sample: given dL/da for this
// dimension and dL/dlogpi for the sample, returns dL/dmean and writes dL/dlog_std.
// d logpi / du = 2 tanh(u) = 2a, d logpi / d log_std (direct) = -1.
SAC_HD float tanh_gaussian_backward(float a, float log_std, float eps, float grad_a,
                                    float grad_logp, float* grad_log_std) {
  float grad_u = grad_a * (1.0f - a * a) + grad_logp * 2.0f * a;
  *grad_log_std = grad_u * expf(log_std) * eps - grad_logp;
  return grad_u;
}

// dL/daction[r][j] of the actor loss: column skip + j of row r of every critic's input gradient
// dX (E x B x width), summed in member order.
SAC_HD float member_column_sum(const float* dX, int E, int B, int width, int skip, size_t r,
                               int j) {
  float g = 0.0f;
  for (int e = 0; e < E; ++e) g += dX[((size_t)e * B + r) * width + skip + j];
  return g;
}

// ---- CPU twins (the reference; arguments as the Backend ops of the same name)

/// Backend::tanh_gaussian_sample: action rows action_ld floats apart, each seed's block written
/// `copies` times, logp summed over the action dimensions in order.
void tanh_gaussian_sample_cpu(int S, int B, int A, const float* head, const float* eps,
                              float log_std_min, float log_std_max, float* action, int action_ld,
                              int copies, float* logp);
/// Backend::tanh_gaussian_mean: action = tanh(mean).
void tanh_gaussian_mean_cpu(int B, int A, const float* head, float* action);
/// Backend::tanh_gaussian_backward; grad_action may be null (zero).
void tanh_gaussian_backward_cpu(int B, int A, const float* head, const float* eps,
                                const float* action, const float* grad_action,
                                const float* d_log_alpha, float logp_scale, float log_std_min,
                                float log_std_max, float* grad_head);
/// Backend::tanh_gaussian_backward_critics: per seed, tanh_gaussian_backward_cpu with dL/daction
/// the sum over its own C critics of their input gradient dX.
void tanh_gaussian_backward_critics_cpu(int S, int B, int A, const float* head, const float* eps,
                                        const float* action, int action_ld,
                                        size_t action_seed_stride, int C, int width,
                                        int skip, const float* dX, const float* d_log_alpha,
                                        float logp_scale, float log_std_min, float log_std_max,
                                        float* grad_head);
/// Backend::sum_member_columns: grad_action[b] = sum_e dX[e][b][skip:skip+A].
void sum_member_columns_cpu(int E, int B, int width, int skip, int A, const float* dX,
                            float* grad_action);

#ifdef SAC_CUDA_SOURCE
// ---- CUDA launchers: each checks its arguments (std::invalid_argument), then one launch on
// `stream`

void launch_tanh_gaussian_sample(cudaStream_t stream, int S, int B, int A, const float* head,
                                 const float* eps, float log_std_min, float log_std_max,
                                 float* action, int action_ld, int copies, float* logp);
void launch_tanh_gaussian_mean(cudaStream_t stream, int B, int A, const float* head,
                               float* action);
void launch_tanh_gaussian_backward(cudaStream_t stream, int B, int A, const float* head,
                                   const float* eps, const float* action,
                                   const float* grad_action, const float* d_log_alpha,
                                   float logp_scale, float log_std_min, float log_std_max,
                                   float* grad_head);
void launch_tanh_gaussian_backward_critics(cudaStream_t stream, int S, int B, int A,
                                           const float* head, const float* eps,
                                           const float* action, int action_ld,
                                           size_t action_seed_stride, int C, int width, int skip, const float* dX,
                                           const float* d_log_alpha, float logp_scale,
                                           float log_std_min, float log_std_max,
                                           float* grad_head);
void launch_sum_member_columns(cudaStream_t stream, int E, int B, int width, int skip, int A,
                               const float* dX, float* grad_action);
#endif

}  // namespace sac
