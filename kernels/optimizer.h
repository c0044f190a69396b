// optimizer.h: the optimiser and target updates over flat parameter buffers (Backend's adam,
// polyak, and the fused adam_polyak and adam_multi). Adam follows PyTorch's operation order, its
// bias corrections computed once per launch from the step count in device memory (so a
// recorded update replays correctly at every step). The element-wise bodies below are SAC_HD,
// written once: the CPU twins (optimizer.cpp) run them over a ThreadPool, the CUDA kernels
// (optimizer.cu, launchers declared below for .cu files only) one thread per element.
// Tests: sac_tests --gtest_filter='*Adam*:*Polyak*:*Optimiser*' (the CUDA ones skip without a
// GPU); timings: sac_bench_kernels.
#pragma once
#include "cuda_source.h"
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "sac/backend.h"
#include "sac/hd.h"
#include "thread_pool.h"

#ifdef SAC_CUDA_SOURCE
#include <cuda_runtime.h>
#endif

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

// ---- CPU twins (the reference; `pool` runs the tasks; arguments as the Backend ops of the
// same name)

/// Backend::adam: one Adam step with the step count t = *d_step >= 1.
void adam_cpu(ThreadPool& pool, size_t n, float* params, const float* grads, float* m, float* v,
              float lr, float beta1, float beta2, float eps, const int64_t* d_step);
/// Backend::polyak: target = tau * online + (1 - tau) * target.
void polyak_cpu(ThreadPool& pool, size_t n, float* target, const float* online, float tau);
/// Backend::adam_polyak: adam on `online`, then polyak of `target` towards the new values.
void adam_polyak_cpu(ThreadPool& pool, size_t n, float* online, const float* grads, float* m,
                     float* v, float lr, float beta1, float beta2, float eps,
                     const int64_t* d_step, float* target, float tau);
/// Backend::adam_multi: adam_cpu on each of `count` tensors, in order.
void adam_multi_cpu(ThreadPool& pool, int count, const AdamTensor* tensors, float beta1,
                    float beta2, float eps, const int64_t* d_step);

#ifdef SAC_CUDA_SOURCE
// ---- CUDA launchers: each checks its arguments (std::invalid_argument), then one launch on
// `stream`

/// Adam, then Polyak of `target` (null: Adam alone, Backend::adam).
void launch_adam_polyak(cudaStream_t stream, size_t n, float* online, const float* grads,
                        float* m, float* v, float lr, float beta1, float beta2, float eps,
                        const int64_t* d_step, float* target, float tau);
/// Backend::polyak.
void launch_polyak(cudaStream_t stream, size_t n, float* target, const float* online, float tau);
/// Backend::adam_multi (count <= 4).
void launch_adam_multi(cudaStream_t stream, int count, const AdamTensor* tensors, float beta1,
                       float beta2, float eps, const int64_t* d_step);
#endif

}  // namespace sac
