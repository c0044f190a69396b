// optimizer.cpp: the CPU twins of the optimiser and target updates (see optimizer.h): plain
// loops over its SAC_HD bodies, split over the ThreadPool from 4096 elements; CpuBackend
// forwards to them. Tests: sac_tests --gtest_filter='*Adam*:*Polyak*'.
#include "optimizer.h"

namespace sac {

void adam_cpu(ThreadPool& pool, size_t n, float* params, const float* grads, float* m, float* v,
              float lr, float beta1, float beta2, float eps, const int64_t* d_step) {
  AdamScalars s = adam_scalars(lr, beta1, beta2, *d_step);
  int parts = n < 4096 ? 1 : pool.threads();
  pool.run(parts, [&](int k) {
    auto [i0, i1] = split_range((int)n, parts, k);
    for (int i = i0; i < i1; ++i)
      adam_step(params + i, m + i, v + i, grads[i], beta1, beta2, eps, s.step_size,
                s.sqrt_bias_correction2);
  });
}

void polyak_cpu(ThreadPool& pool, size_t n, float* target, const float* online, float tau) {
  int parts = n < 4096 ? 1 : pool.threads();
  pool.run(parts, [&](int k) {
    auto [i0, i1] = split_range((int)n, parts, k);
    for (int i = i0; i < i1; ++i) target[i] = polyak(target[i], online[i], tau);
  });
}

void adam_polyak_cpu(ThreadPool& pool, size_t n, float* online, const float* grads, float* m,
                     float* v, float lr, float beta1, float beta2, float eps,
                     const int64_t* d_step, float* target, float tau) {
  AdamScalars s = adam_scalars(lr, beta1, beta2, *d_step);
  int parts = n < 4096 ? 1 : pool.threads();
  pool.run(parts, [&](int k) {
    auto [i0, i1] = split_range((int)n, parts, k);
    for (int i = i0; i < i1; ++i) {
      adam_step(online + i, m + i, v + i, grads[i], beta1, beta2, eps, s.step_size,
                s.sqrt_bias_correction2);
      target[i] = polyak(target[i], online[i], tau);
    }
  });
}

void adam_multi_cpu(ThreadPool& pool, int count, const AdamTensor* tensors, float beta1,
                    float beta2, float eps, const int64_t* d_step) {
  for (int t = 0; t < count; ++t)
    adam_cpu(pool, tensors[t].n, tensors[t].params, tensors[t].grads, tensors[t].m, tensors[t].v,
             tensors[t].lr, beta1, beta2, eps, d_step);
}

}  // namespace sac
