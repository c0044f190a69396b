// sac_math.h: the element-wise bodies of every SAC op, written once as SAC_HD functions.
// The CPU backend calls them from plain loops and the CUDA backend from kernels, so the CPU
// tests cover the arithmetic the GPU runs.
#pragma once
#include <cmath>
#include <cstddef>

#include "sac/hd.h"

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

// soft state value of one action sample: Q - alpha log pi (the soft Bellman backup's inner term).
SAC_HD float soft_value(float q, float alpha, float logp) { return q - alpha * logp; }

// clipped double-Q soft target y = r + gamma (1 - terminated) (min_i Q'_i - alpha logpi').
SAC_HD float soft_target(float reward, float gamma, float terminated, float q_min, float alpha,
                         float logp) {
  return reward + gamma * (1.0f - terminated) * soft_value(q_min, alpha, logp);
}

// Adam's per-launch scalars for step t >= 1, computed once per launch (in double, as PyTorch
// does on the host): step_size = lr / (1 - beta1^t), sqrt(1 - beta2^t).
struct AdamScalars {
  float step_size;
  float sqrt_bias_correction2;
};
SAC_HD AdamScalars adam_scalars(float lr, float beta1, float beta2, long long t) {
  double bc1 = 1.0 - pow((double)beta1, (double)t);
  double bc2 = 1.0 - pow((double)beta2, (double)t);
  return AdamScalars{(float)(lr / bc1), (float)sqrt(bc2)};
}

// Adam on one parameter, in PyTorch's operation order so golden runs match closely:
// p -= step_size * m / (sqrt(v) / sqrt_bias_correction2 + eps).
SAC_HD void adam_step(float* p, float* m, float* v, float g, float beta1, float beta2, float eps,
                      float step_size, float sqrt_bias_correction2) {
  *m = beta1 * *m + (1.0f - beta1) * g;
  *v = beta2 * *v + (1.0f - beta2) * g * g;
  *p -= step_size * (*m / (sqrtf(*v) / sqrt_bias_correction2 + eps));
}

// Polyak averaging: target = tau * online + (1 - tau) * target.
SAC_HD float polyak(float target, float online, float tau) {
  return tau * online + (1.0f - tau) * target;
}

}  // namespace sac
