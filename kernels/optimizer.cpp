// optimizer.cpp: the CPU twins of the optimiser and target updates (see optimizer.h): plain
// loops over its SAC_HD bodies, split over the ThreadPool from kHandoffElements elements;
// CpuBackend forwards to them. Element-wise, so any split gives the same bits.
// Tests: sac_tests --gtest_filter='*Adam*:*Polyak*'.
//
// The loops vectorise: the pointers of a block never alias and the scalars are values (this
// file is compiled with -fno-math-errno, so sqrtf needs no errno path). Vector lanes give the
// bits of one element at a time: sqrt and division are exactly rounded in every lane. Both run
// as vector clones of the CPU's width (vector_clones.h).
#include "optimizer.h"
#include "vector_clones.h"

namespace sac {
namespace {

// elements below which splitting a loop over threads costs more than it saves
constexpr size_t kHandoffElements = size_t(1) << 16;

template <typename Block>
void run_elements(ThreadPool& pool, size_t n, const Block& block) {
  if (n < kHandoffElements || pool.threads() == 1) {
    block(size_t(0), n);  // on this thread, without the pool's std::function (no allocation)
    return;
  }
  const int parts = pool.threads();
  pool.run(parts, [&](int k) {
    auto [i0, i1] = split_range((int)n, parts, k);
    block((size_t)i0, (size_t)i1);
  });
}

// Adam on [i0, i1), then (when `target` is set) Polyak of target towards the new values
SAC_VECTOR_CLONES void adam_polyak_block(size_t i0, size_t i1, float* __restrict params,
                       const float* __restrict grads, float* __restrict m, float* __restrict v,
                       float* __restrict target, AdamScalars s, float beta1, float beta2,
                       float eps, float tau) {
  for (size_t i = i0; i < i1; ++i)
    adam_step(params + i, m + i, v + i, grads[i], beta1, beta2, eps, s.step_size,
              s.sqrt_bias_correction2);
  if (target)
    for (size_t i = i0; i < i1; ++i) target[i] = polyak(target[i], params[i], tau);
}

SAC_VECTOR_CLONES void polyak_block(size_t i0, size_t i1, float* __restrict target,
                                    const float* __restrict online, float tau) {
  for (size_t i = i0; i < i1; ++i) target[i] = polyak(target[i], online[i], tau);
}

}  // namespace

void adam_cpu(ThreadPool& pool, size_t n, float* params, const float* grads, float* m, float* v,
              float lr, float beta1, float beta2, float eps, const int64_t* d_step) {
  adam_polyak_cpu(pool, n, params, grads, m, v, lr, beta1, beta2, eps, d_step, nullptr, 0.0f);
}

void polyak_cpu(ThreadPool& pool, size_t n, float* target, const float* online, float tau) {
  run_elements(pool, n, [=](size_t i0, size_t i1) { polyak_block(i0, i1, target, online, tau); });
}

void adam_polyak_cpu(ThreadPool& pool, size_t n, float* online, const float* grads, float* m,
                     float* v, float lr, float beta1, float beta2, float eps,
                     const int64_t* d_step, float* target, float tau) {
  const AdamScalars s = adam_scalars(lr, beta1, beta2, *d_step);
  run_elements(pool, n, [=](size_t i0, size_t i1) {
    adam_polyak_block(i0, i1, online, grads, m, v, target, s, beta1, beta2, eps, tau);
  });
}

void adam_multi_cpu(ThreadPool& pool, int count, const AdamTensor* tensors, float beta1,
                    float beta2, float eps, const int64_t* d_step) {
  for (int t = 0; t < count; ++t)
    adam_cpu(pool, tensors[t].n, tensors[t].params, tensors[t].grads, tensors[t].m, tensors[t].v,
             tensors[t].lr, beta1, beta2, eps, d_step);
}

}  // namespace sac
