// sac_math.h: the element-wise bodies of every SAC op, written once as SAC_HD functions.
// The CPU backend calls them from plain loops and the CUDA backend from kernels, so the CPU
// tests cover the arithmetic the GPU runs.
#pragma once
#include <cmath>
#include <cstddef>

#include "sac/hd.h"

namespace sac {

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
